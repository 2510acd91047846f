#!/usr/bin/env python3
"""Drives the /admin/backups page in headless Chromium over the DevTools protocol (a minimal
websocket client, standard library only) and prints what happened as one JSON object.

usage: admin_page_browser.py BASE_URL TOKEN STORE_FOLDER WORK_DIR
Clicks are real mouse events (Input.dispatchMouseEvent) at the element's position; the token
is typed with Input.insertText. Exits non-zero with a message when a step fails.
"""
import base64, json, os, shutil, socket, struct, subprocess, sys, time, urllib.request

base, token, store, work = sys.argv[1:5]
browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
if not browser:
    print("CHROMIUM NOT INSTALLED: install the `chromium` Debian package (scripts/test.sh does)", file=sys.stderr)
    sys.exit(3)


class WebSocket:
    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("websocket handshake: connection closed")
            response += chunk
        head, self.buffer = response.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("websocket handshake refused: " + head.decode(errors="replace"))

    def send(self, text):
        payload = text.encode()
        header = bytes([0x81])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("websocket closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 8:
                raise RuntimeError("websocket closed by the browser")
            if opcode in (0, 1, 2):
                message += payload
                if b0 & 0x80:
                    return message.decode()


class Page:
    def __init__(self, ws):
        self.ws, self.next_id = ws, 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            try:
                message = json.loads(self.ws.receive())
            except socket.timeout:
                raise RuntimeError(f"{method} {json.dumps(params)[:120]}: no answer from Chromium in 30 s")
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def eval(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate {expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression, what, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                value = self.eval(expression)
                if value:
                    return value
            except RuntimeError:
                pass  # the page is reloading
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}; page text: {self.eval('document.body && document.body.innerText')!r}")

    def click(self, selector):
        box = self.wait(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null; "
                        f"e.scrollIntoView(); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
                        f"element {selector}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def load(self, url):
        self.call("Page.navigate", url=url)
        self.wait("document.readyState === 'complete'", "page load")


profile = os.path.join(work, "chromium-profile")
downloads = os.path.join(work, "downloads")
os.makedirs(downloads, exist_ok=True)
chromium = subprocess.Popen([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--no-first-run", "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "chromium.log"), "w"))
result = {}
try:
    port_file = os.path.join(profile, "DevToolsActivePort")
    for _ in range(300):
        if os.path.exists(port_file) and open(port_file).read().strip():
            break
        time.sleep(0.1)
    devtools_port = int(open(port_file).read().split()[0])
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{devtools_port}/json/list"))
    page = Page(WebSocket(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]))
    page.call("Page.enable")
    page.call("Runtime.enable")
    page.call("Page.setDownloadBehavior", behavior="allow", downloadPath=downloads)

    # 1. Not signed in: the sign-in form.
    page.load(base + "/admin/backups")
    result["signin_form"] = page.eval("!!document.getElementById('signin')")
    # 2. Type the token and click "Sign in".
    page.click("#token")
    page.call("Input.insertText", text=token)
    page.click("#signin button")
    page.wait("!!document.getElementById('backups')", "the backup list after signing in")
    result["rows_before"] = page.eval("document.querySelectorAll('#backups tbody tr').length")
    result["next_run"] = page.eval("document.getElementById('next-run').textContent")
    # 3. "Create Backup Now".
    page.click("#create")
    page.wait(f"document.getElementById('backups') && document.querySelectorAll('#backups tbody tr').length > {result['rows_before']}",
              "a new row after Create Backup Now")
    result["create_message"] = page.wait("document.getElementById('message').textContent", "the create message")
    result["rows_after_create"] = page.eval("document.querySelectorAll('#backups tbody tr').length")
    result["first_key"] = page.eval("document.querySelector('#backups tbody tr .key').textContent")
    result["last_run"] = page.eval("document.getElementById('last-run').textContent")
    result["first_size"] = page.eval("document.querySelector('#backups tbody tr td:nth-child(2)').textContent")
    # 4. "Verify" on the first row.
    page.click("#backups tbody tr .verify")
    result["verify_result"] = page.wait(
        "(() => { const t = document.querySelector('#backups tbody tr .result').textContent; return t.startsWith('verif') && t !== 'verifying…' ? t : null; })()",
        "the verification result")
    # 5. "Download" on the first row: the file arrives in the download folder.
    page.click("#backups tbody tr .download")
    deadline = time.time() + 30
    while time.time() < deadline:
        done = [f for f in os.listdir(downloads) if f.endswith(".sql.gz")]
        if done:
            result["downloaded"] = done[0]
            result["downloaded_size"] = os.path.getsize(os.path.join(downloads, done[0]))
            break
        time.sleep(0.1)
    # 6. An old backup appears in the store; "Clean up old backups" deletes it.
    old = os.path.join(store, "backups", "database-2020-01-01-00-00-00.sql.gz")
    with open(old, "wb") as f:
        f.write(b"old")
    page.load(base + "/admin/backups")
    page.click("#cleanup")
    result["cleanup_message"] = page.wait(
        "(() => { const t = document.getElementById('message').textContent; return t.startsWith('Deleted') ? t : null; })()",
        "the clean-up message")
    result["old_backup_left"] = os.path.exists(old)
    # 7. Sign out: back to the form.
    page.click("#signout")
    page.wait("!!document.getElementById('signin')", "the sign-in form after signing out")
    result["signed_out"] = True
except Exception as error:  # reported to the Swift test, which fails on it
    result["error"] = str(error)
finally:
    chromium.terminate()
    try:
        chromium.wait(10)
    except subprocess.TimeoutExpired:
        chromium.kill()
print(json.dumps(result))
sys.exit(1 if "error" in result else 0)
