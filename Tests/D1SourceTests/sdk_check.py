"""Drives the D1 emulator with Cloudflare's official Python SDK: every answer must parse as the
SDK's own types. Usage: sdk_check.py BASE_URL TOKEN ACCOUNT DATABASE_NAME. Exits non-zero on a mismatch."""
import hashlib
import sys
import urllib.error
import urllib.request

import cloudflare
from cloudflare import Cloudflare

base, token, account, name = sys.argv[1:5]
client = Cloudflare(api_token=token, base_url=base, max_retries=0)


def check(condition, what):
    if not condition:
        sys.exit("sdk check failed: " + what)


databases = list(client.d1.database.list(account_id=account))
check(any(d.name == name and isinstance(d.uuid, str) for d in databases), "list names %r" % [d.name for d in databases])
only = list(client.d1.database.list(account_id=account, name=name))
check(len(only) == 1 and only[0].name == name, "name filter")
db = only[0].uuid

before = client.d1.database.time_travel.get_bookmark(db, account_id=account)
check(isinstance(before.bookmark, str) and before.bookmark, "bookmark %r" % before)

inserted = list(client.d1.database.query(db, account_id=account, sql="INSERT INTO t(v) VALUES (?)", params=["x"]))
check(len(inserted) == 1 and inserted[0].success and inserted[0].meta.changes == 1 and inserted[0].meta.changed_db, "insert %r" % inserted)
results = list(client.d1.database.query(db, account_id=account, sql="SELECT count(*) AS n FROM t; SELECT max(id) AS m FROM t"))
check([r.results for r in results] == [[{"n": 2}], [{"m": 2}]], "two statements %r" % results)

batch = list(client.d1.database.query(db, account_id=account, batch=[{"sql": "SELECT 1 AS a"}, {"sql": "SELECT ?1 AS b", "params": ["p"]}]))
check([r.results for r in batch] == [[{"a": 1}], [{"b": "p"}]], "batch %r" % batch)

raw = list(client.d1.database.raw(db, account_id=account, sql="SELECT id, v FROM t ORDER BY id"))
check(raw[0].results.columns == ["id", "v"] and raw[0].results.rows == [[1, "a"], [2, "x"]], "raw %r" % raw)
check(isinstance(raw[0].meta.duration, float), "raw meta")

big = list(client.d1.database.raw(db, account_id=account, sql="SELECT 9007199254740993 AS big"))
check(big[0].results.rows[0][0] != 9007199254740993, "an integer above 2^53 survived JSON, the emulator is too kind")

after = client.d1.database.time_travel.get_bookmark(db, account_id=account)
check(after.bookmark != before.bookmark, "bookmark did not move after a write")
check(client.d1.database.time_travel.get_bookmark(db, account_id=account).bookmark == after.bookmark, "bookmark moved without a write")

try:
    client.d1.database.raw(db, account_id=account, sql="SELECT nosuchcolumn FROM t")
    sys.exit("sdk check failed: a bad query succeeded")
except cloudflare.BadRequestError as e:
    check("no such column" in str(e), "error text %s" % e)

try:
    Cloudflare(api_token="wrong", base_url=base, max_retries=0).d1.database.list(account_id=account)
    sys.exit("sdk check failed: a wrong token was accepted")
except cloudflare.PermissionDeniedError:
    pass

long_sql = "SELECT '" + "x" * 100_001 + "'"
try:
    client.d1.database.raw(db, account_id=account, sql=long_sql)
    sys.exit("sdk check failed: a statement over 100 KB was accepted")
except cloudflare.BadRequestError:
    pass


def run_import(sql):
    """init → PUT → ingest → poll until done, through the SDK; returns (ingest answer, final answer)."""
    data = sql.encode()
    etag = hashlib.md5(data).hexdigest()
    init = client.d1.database.import_(db, account_id=account, action="init", etag=etag)
    check(init.upload_url and init.filename, "import init %r" % init)
    put = urllib.request.urlopen(urllib.request.Request(init.upload_url, data=data, method="PUT"))
    check(put.headers["ETag"].strip('"') == etag, "upload etag %r" % put.headers["ETag"])
    ingest = client.d1.database.import_(db, account_id=account, action="ingest", etag=etag, filename=init.filename)
    check(ingest.at_bookmark and ingest.success, "ingest %r" % ingest)
    for _ in range(50):
        polled = client.d1.database.import_(db, account_id=account, action="poll", current_bookmark=ingest.at_bookmark)
        if polled.status in ("complete", "error"):
            return ingest, polled
    sys.exit("sdk check failed: the import never finished")


try:
    urllib.request.urlopen(urllib.request.Request(
        client.d1.database.import_(db, account_id=account, action="init", etag="0" * 32).upload_url, data=b"x", method="PUT"))
    sys.exit("sdk check failed: an upload whose MD5 is not the init etag was accepted")
except urllib.error.HTTPError as e:
    check(e.code == 400, "wrong md5 upload answered %d" % e.code)

ingest, done = run_import("PRAGMA defer_foreign_keys=TRUE;\nCREATE TABLE imported(a);\nINSERT INTO imported VALUES (1), (2);\n-- trailer comment\n")
check(done.status == "complete" and isinstance(done.result.final_bookmark, str) and done.result.num_queries == 3
      and done.result.meta.changes == 2, "import complete %r" % done)
check(client.d1.database.time_travel.get_bookmark(db, account_id=account).bookmark == done.result.final_bookmark, "final bookmark")

_, failed = run_import("CREATE TABLE half(a);\nINSERT INTO half VALUES (1);\nBEGIN TRANSACTION;\n")
check(failed.status == "error" and "not authorized" in (failed.error or ""), "import of BEGIN %r" % failed)
_, failed = run_import("INSERT INTO imported VALUES (3);\nINSERT INTO nosuchtable VALUES (1);\n")
check(failed.status == "error" and "no such table" in (failed.error or ""), "failed import %r" % failed)
counted = list(client.d1.database.raw(db, account_id=account, sql="SELECT count(*) FROM imported; SELECT count(*) FROM sqlite_schema WHERE name = 'half'"))
check([r.results.rows for r in counted] == [[[2]], [[0]]], "a failed import was not rolled back %r" % counted)

restored = client.d1.database.time_travel.restore(db, account_id=account, bookmark=ingest.at_bookmark)
check(isinstance(restored.bookmark, str) and restored.previous_bookmark, "restore %r" % restored)
gone = list(client.d1.database.raw(db, account_id=account, sql="SELECT count(*) FROM sqlite_schema WHERE name = 'imported'"))
check(gone[0].results.rows == [[0]], "time travel restore left the imported table")
print("sdk check ok")
