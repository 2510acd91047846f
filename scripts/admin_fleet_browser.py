#!/usr/bin/env python3
"""Drives /admin/backups of a fleet server in headless Chromium with Playwright and prints what
happened as one JSON object (the last stdout line), which FleetServerTests checks.

usage: admin_fleet_browser.py BASE_URL TOKEN DATABASE
Signs in, reads the databases table, opens DATABASE from it, clicks "Create Backup Now" there,
and reads the table again. Exits 1 with "error" in the JSON when a step fails, 3 without Chromium.
"""
import json, sys

from playwright.sync_api import sync_playwright

from browser_page import TIMEOUT, chromium_path, launch, wait

base, token, chosen = sys.argv[1:4]
chromium_path()


ROWS = """Array.from(document.querySelectorAll('#databases tbody tr')).map(r =>
    ({name: r.dataset.database, last: r.querySelector('.last').textContent, ok: r.querySelector('.last').classList.contains('ok')}))"""

result = {}
with sync_playwright() as playwright:
    browser = launch(playwright)
    try:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(base + "/admin/backups")
        page.click("#token")
        page.keyboard.insert_text(token)
        page.click("#signin button")
        wait(page, "!!document.getElementById('databases')", "the databases table after signing in")
        result["databases_before"] = page.evaluate(ROWS)
        page.click(f"#databases tr[data-database='{chosen}'] a")
        wait(page, f"document.getElementById('database') && document.getElementById('database').textContent === '{chosen}'",
             "the chosen database's page")
        result["rows_before"] = page.evaluate("document.querySelectorAll('#backups tbody tr').length")
        page.click("#create")
        wait(page, f"document.getElementById('backups') && document.querySelectorAll('#backups tbody tr').length > {result['rows_before']}",
             "a new row after Create Backup Now")
        result["create_message"] = wait(page, "document.getElementById('message').textContent", "the create message")
        result["first_key"] = page.evaluate("document.querySelector('#backups tbody tr .key').textContent")
        page.click("#backups tbody tr .verify")
        result["verify_result"] = wait(page,
            "(() => { const t = document.querySelector('#backups tbody tr .result').textContent; return t.startsWith('verif') && t !== 'verifying…' ? t : null; })()",
            "the verification result")
        result["databases_after"] = page.evaluate(ROWS)
    except Exception as error:
        result["error"] = str(error)
    finally:
        browser.close()
print(json.dumps(result))
sys.exit(1 if "error" in result else 0)
