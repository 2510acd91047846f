"""Drives the D1 emulator with Cloudflare's official Python SDK: every answer must parse as the
SDK's own types. Usage: sdk_check.py BASE_URL TOKEN ACCOUNT DATABASE_NAME. Exits non-zero on a mismatch."""
import sys

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
print("sdk check ok")
