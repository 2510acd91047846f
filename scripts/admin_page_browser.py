#!/usr/bin/env python3
"""Drives the /admin/backups page in headless Chromium with Playwright and prints what happened
as one JSON object (the last stdout line), which AdminPageBrowserTests checks.

usage: admin_page_browser.py BASE_URL TOKEN STORE_FOLDER WORK_DIR
Playwright's clicks are real mouse events at the element, after it is visible and enabled, so the
test exercises the page as a user would. It uses the system Chromium (no browser download:
scripts/setup.sh --test installs it with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
Exits 1 with "error" in the JSON when a step fails, 3 when Chromium is missing.
"""
import json, os, sys

from playwright.sync_api import sync_playwright

from browser_page import TIMEOUT, chromium_path, launch, wait

base, token, store, work = sys.argv[1:5]
chromium_path()
downloads = os.path.join(work, "downloads")
os.makedirs(downloads, exist_ok=True)


result = {}
with sync_playwright() as playwright:
    browser = launch(playwright)
    try:
        page = browser.new_page(accept_downloads=True)
        page.set_default_timeout(TIMEOUT)
        ev = page.evaluate

        # 1. Not signed in: the sign-in form.
        page.goto(base + "/admin/backups")
        result["signin_form"] = ev("!!document.getElementById('signin')")
        # 2. Type the token and click "Sign in".
        page.click("#token")
        page.keyboard.insert_text(token)
        page.click("#signin button")
        wait(page, "!!document.getElementById('backups')", "the backup list after signing in")
        result["rows_before"] = ev("document.querySelectorAll('#backups tbody tr').length")
        result["next_run"] = ev("document.getElementById('next-run').textContent")
        # 3. "Create Backup Now".
        page.click("#create")
        wait(page, f"document.getElementById('backups') && document.querySelectorAll('#backups tbody tr').length > {result['rows_before']}",
             "a new row after Create Backup Now")
        result["create_message"] = wait(page, "document.getElementById('message').textContent", "the create message")
        result["rows_after_create"] = ev("document.querySelectorAll('#backups tbody tr').length")
        result["first_key"] = ev("document.querySelector('#backups tbody tr .key').textContent")
        result["last_run"] = ev("document.getElementById('last-run').textContent")
        result["first_size"] = ev("document.querySelector('#backups tbody tr td:nth-child(2)').textContent")
        # 4. "Verify" on the first row.
        page.click("#backups tbody tr .verify")
        result["verify_result"] = wait(page,
            "(() => { const t = document.querySelector('#backups tbody tr .result').textContent; return t.startsWith('verif') && t !== 'verifying…' ? t : null; })()",
            "the verification result")
        # 5. "Download" on the first row: saved under the server's file name, which the test compares with the key.
        with page.expect_download(timeout=TIMEOUT) as download_info:
            page.click("#backups tbody tr .download")
        download = download_info.value
        saved = os.path.join(downloads, download.suggested_filename)
        download.save_as(saved)
        result["downloaded"] = download.suggested_filename
        result["downloaded_size"] = os.path.getsize(saved)
        # 6. An old backup appears in the store; "Clean up old backups" deletes it.
        old = os.path.join(store, "backups", "database-2020-01-01-00-00-00.sql.gz")
        with open(old, "wb") as f:
            f.write(b"old")
        page.goto(base + "/admin/backups")
        page.click("#cleanup")
        result["cleanup_message"] = wait(page,
            "(() => { const t = document.getElementById('message').textContent; return t.startsWith('Deleted') ? t : null; })()",
            "the clean-up message")
        result["old_backup_left"] = os.path.exists(old)
        # 7. Sign out: back to the form.
        page.click("#signout")
        wait(page, "!!document.getElementById('signin')", "the sign-in form after signing out")
        result["signed_out"] = True
    except Exception as error:  # reported to the Swift test, which fails on it
        result["error"] = str(error)
    finally:
        browser.close()
print(json.dumps(result))
sys.exit(1 if "error" in result else 0)
