"""What the admin-page browser scripts share: the system Chromium and a wait that survives reloads."""
import shutil, sys, time

TIMEOUT = 30_000  # ms; the machine running the tests may be loaded


def chromium_path():
    """The system Chromium (no Playwright browser download); exits 3 without one."""
    path = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not path:
        print("CHROMIUM NOT INSTALLED: install the `chromium` Debian package (scripts/test.sh does)", file=sys.stderr)
        sys.exit(3)
    return path


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                      args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])


def wait(page, expression, what):
    """The value of `expression` once truthy. Polled by hand rather than wait_for_function, because
    signing in/out reloads the page and a destroyed context must mean "try again", not fail."""
    deadline = time.time() + TIMEOUT / 1000
    while time.time() < deadline:
        try:
            value = page.evaluate(expression)
            if value:
                return value
        except Exception:
            pass  # the page is reloading
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}; page text: {page.evaluate('document.body && document.body.innerText')!r}")
