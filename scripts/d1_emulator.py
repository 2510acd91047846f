#!/usr/bin/env python3
"""A Cloudflare D1 HTTP API emulator for Backstream's tests (stdlib + sqlite3 only).

Serves the v4 endpoints a backup tool uses, under /accounts/{account}/d1/database: list (with
the `name` filter and page/per_page), /{id}/query and /{id}/raw (one statement, statements joined
by ';', or a `batch`; each request runs as one transaction), /{id}/time_travel/bookmark and
/{id}/export (polling; refuses virtual tables, as the real endpoint does), /{id}/import (init →
PUT of the file to its upload URL, checked against the MD5 given at init → ingest → poll; the
file runs in one transaction, so a failed import leaves the database as it was, under D1's
refusals: no BEGIN/COMMIT/SAVEPOINT, no PRAGMA but defer_foreign_keys and foreign_keys, no
ANALYZE or sqlite_stat1 writes, no `_cf_*` writes, statements ≤ 100,000 bytes) and
/{id}/time_travel/restore (to the bookmark an import started from). Every answer is the
v4 envelope. Values come back as JSON numbers where SQLite has numbers, so integers above 2^53
really lose precision, as they do on Cloudflare.

Each database is `<folder>/<name>.sqlite3`; its id is uuid5 of the name, so a test creates a
database by writing a file and learns its id from the list call. `_cf_KV` is created in each.

Faults for tests: `--rate-limit-after N --rate-limit-burst B` answers 429 (with Retry-After)
to B requests after every N; `--drop-at K,...` cuts the K-th query/raw answer mid-body;
`--write-after K --write-sql SQL [--write-repeat]` commits SQL (through the same counter that
drives bookmarks) after the K-th query/raw request, once or after every K.

Prints `port <n>` on stdout once listening (bind port 0 for a free one).
"""
import argparse
import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

MAX_STATEMENT_BYTES = 100_000
MAX_PARAMS = 100
MAX_RESULT_BYTES = 50_000_000
CF_KV = "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID"


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class State:
    def __init__(self, args):
        self.args = args
        self.folder = args.folder
        self.lock = threading.Lock()
        self.requests = 0
        self.data_requests = 0
        self.limited = 0
        self.writes = {}  # database name -> write counter (the bookmark)
        self.exports = {}
        self.uploads = {}  # filename -> md5 hex of the uploaded bytes
        self.imports = {}  # at_bookmark -> {"thread", "outcome", "polled"}
        self.snapshots = {}  # (database name, bookmark) -> snapshot path
        self.drop_at = {int(k) for k in args.drop_at.split(",") if k} if args.drop_at else set()

    def databases(self):
        out = []
        for entry in sorted(os.listdir(self.folder)):
            if entry.endswith(".sqlite3"):
                name = entry[: -len(".sqlite3")]
                out.append({"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "d1:" + name)), "name": name})
        return out

    def resolve(self, ident):
        for db in self.databases():
            if ident == db["uuid"]:
                return db["name"]
        raise ApiError(404, 7404, "The database %s could not be found" % ident)

    def connect(self, name):
        conn = sqlite3.connect(os.path.join(self.folder, name + ".sqlite3"), isolation_level=None,
                               check_same_thread=False, timeout=30)
        # Text that is not UTF-8 reaches a Worker as replacement characters, not an error.
        conn.text_factory = lambda b: b.decode("utf-8", "replace")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(CF_KV)
        return conn

    def bookmark(self, name):
        with self.lock:
            count = self.writes.get(name, 0)
        digest = hashlib.md5(name.encode()).hexdigest()
        return "%08x-00000000-00004c6d-%s" % (count, digest)

    def wrote(self, name):
        with self.lock:
            self.writes[name] = self.writes.get(name, 0) + 1


def number(value):
    """SQLite integers become JSON numbers through float, as in JavaScript."""
    if isinstance(value, int) and not isinstance(value, bool):
        as_float = float(value)
        return int(as_float) if as_float.is_integer() and abs(as_float) < 1e300 else as_float
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None  # JSON.stringify writes null for them
    return value


def split_statements(sql):
    """Statements of a `;`-joined string, by sqlite3.complete_statement."""
    out, current = [], ""
    for piece in sql.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \t\r\n;"):
                out.append(current)
            current = ""
    if current.strip(" \t\r\n;"):
        out.append(current)
    return out


def run_queries(state, name, queries, raw):
    """Runs every statement of `queries` in one transaction; returns one result per statement."""
    conn = state.connect(name)
    results, size = [], 0
    try:
        before = conn.total_changes
        conn.execute("BEGIN IMMEDIATE" if state.args.write_lock else "BEGIN")
        for query in queries:
            sql, params = query.get("sql"), query.get("params") or []
            if not isinstance(sql, str):
                raise ApiError(400, 7400, "The request is malformed: sql must be a string")
            if len(params) > MAX_PARAMS:
                raise ApiError(400, 7500, "too many SQL variables: SQLITE_ERROR")
            statements = split_statements(sql)
            if params and len(statements) > 1:
                # How D1 spreads one params list over several statements is not documented.
                raise ApiError(400, 7400, "The request is malformed: params with several statements; use a batch")
            for statement in statements:
                if len(statement.encode()) > MAX_STATEMENT_BYTES:
                    raise ApiError(400, 7500, "statement too long: SQLITE_TOOBIG")
                started = time.time()
                changes = conn.total_changes
                try:
                    cursor = conn.execute(statement, params)
                    rows = cursor.fetchall()
                except sqlite3.Error as e:
                    raise ApiError(400, 7500, "%s: SQLITE_ERROR" % e)
                columns = [d[0] for d in cursor.description or []]
                rows = [[number(v) for v in row] for row in rows]
                size += len(json.dumps(rows))
                if size > MAX_RESULT_BYTES:
                    raise ApiError(400, 7500, "result too large: SQLITE_TOOBIG")
                meta = {"changed_db": conn.total_changes != changes, "changes": conn.total_changes - changes,
                        "duration": (time.time() - started) * 1000, "last_row_id": cursor.lastrowid or 0,
                        "rows_read": len(rows), "rows_written": conn.total_changes - changes,
                        "served_by_primary": True, "served_by_region": "WEUR",
                        "size_after": os.path.getsize(os.path.join(state.folder, name + ".sqlite3")),
                        "timings": {"sql_duration_ms": (time.time() - started) * 1000}}
                if raw:
                    shaped = {"columns": columns, "rows": rows}
                else:
                    shaped = [dict(zip(columns, row)) for row in rows]
                results.append({"results": shaped, "success": True, "meta": meta})
        conn.execute("COMMIT")
        if conn.total_changes != before:
            state.wrote(name)
        return results
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "d1-emulator"

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("[d1] " + fmt % args + "\n")

    def do_GET(self):
        self.handle_api("GET")

    def do_POST(self):
        self.handle_api("POST")

    def do_PUT(self):
        """The presigned upload URL of an import (no bearer token, as on R2): streams the body to
        a file and answers its MD5 as the ETag; refuses a body whose MD5 is not the one init named."""
        state = self.server.state
        filename = os.path.basename(urlparse(self.path).path)
        expected = state.uploads.get(filename)
        if not self.path.startswith("/uploads/") or expected is None:
            return self.send_xml(404, "NoSuchUpload", "no import was initialised for this URL")
        length = int(self.headers.get("Content-Length") or 0)
        digest = hashlib.md5()
        path = os.path.join(state.folder, "uploads", filename)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".part", "wb") as out:
            left = length
            while left > 0:
                piece = self.rfile.read(min(left, 1 << 20))
                if not piece:
                    break
                out.write(piece)
                digest.update(piece)
                left -= len(piece)
        if left > 0:
            os.unlink(path + ".part")
            self.close_connection = True
            return
        if digest.hexdigest() != expected:
            os.unlink(path + ".part")
            return self.send_xml(400, "BadDigest", "The MD5 of the body is not the etag given at init")
        os.replace(path + ".part", path)
        self.send_response(200)
        self.send_header("ETag", '"%s"' % expected)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_xml(self, status, code, message):
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code><Message>%s</Message></Error>"
                % (code, message)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, payload, headers=None, cut=False):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if cut:
            # Half the promised body, then the connection goes away.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def send_export(self, filename):
        path = os.path.join(self.server.state.folder, "exports", os.path.basename(filename))
        if not os.path.isfile(path):
            return self.send_json(404, {"success": False, "errors": [{"code": 7404, "message": "no such export"}],
                                        "messages": [], "result": None})
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/sql")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_api(self, method):
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        if method == "GET" and self.path.startswith("/exports/"):
            return self.send_export(self.path[len("/exports/"):])
        try:
            result, extra, cut = self.route(state, method, raw_body)
            payload = {"success": True, "errors": [], "messages": [], "result": result}
            payload.update(extra)
            self.send_json(200, payload, cut=cut)
        except ApiError as e:
            self.send_json(e.status, {"success": False, "errors": [{"code": e.code, "message": e.message}],
                                      "messages": [], "result": None}, headers=e.headers)

    def route(self, state, method, raw_body):
        args = state.args
        if self.headers.get("Authorization", "") != "Bearer " + args.token:
            raise ApiError(403, 10000, "Authentication error")
        with state.lock:
            state.requests += 1
            if args.rate_limit_after and state.requests > args.rate_limit_after:
                state.limited += 1
                if state.limited <= args.rate_limit_burst:
                    raise ApiError(429, 971, "Please wait and consider throttling your request speed",
                                   {"Retry-After": str(args.retry_after)})
                state.requests, state.limited = 1, 0
        url = urlparse(self.path)
        parts = [p for p in url.path.split("/") if p]
        prefix = [p for p in args.prefix.split("/") if p]
        if parts[: len(prefix)] != prefix:
            raise ApiError(404, 7000, "No route for that URI")
        parts = parts[len(prefix):]
        if len(parts) < 4 or parts[0] != "accounts" or parts[2:4] != ["d1", "database"]:
            raise ApiError(404, 7000, "No route for that URI")
        if args.account and parts[1] != args.account:
            raise ApiError(403, 7003, "Could not route to /accounts/%s, perhaps your object identifier is invalid?" % parts[1])
        rest = parts[4:]
        query = parse_qs(url.query)
        if not rest and method == "GET":
            return self.list(state, query)
        if not rest:
            raise ApiError(405, 10405, "Method not allowed")
        name = state.resolve(rest[0])
        action = rest[1:]
        if action == ["time_travel", "bookmark"] and method == "GET":
            return {"bookmark": state.bookmark(name)}, {}, False
        if action == ["time_travel", "restore"] and method == "POST":
            return self.restore(state, name, (query.get("bookmark") or [""])[0]), {}, False
        if method != "POST" or action not in (["query"], ["raw"], ["export"], ["import"]):
            raise ApiError(404, 7000, "No route for that URI")
        try:
            body = json.loads(raw_body or b"{}")
        except ValueError:
            raise ApiError(400, 7400, "The request is malformed: body is not JSON")
        if action == ["export"]:
            return self.export(state, name, body), {}, False
        if action == ["import"]:
            return self.import_(state, rest[0], name, body), {}, False
        if isinstance(body.get("batch"), list):
            queries = body["batch"]
        elif "sql" in body:
            queries = [body]
        else:
            raise ApiError(400, 7400, "The request is malformed: give sql or batch")
        with state.lock:
            state.data_requests += 1
            number_ = state.data_requests
        results = run_queries(state, name, queries, raw=action == ["raw"])
        self.inject_write(state, name, number_)
        return results, {}, number_ in state.drop_at

    def inject_write(self, state, name, number_):
        args = state.args
        if not args.write_after or not args.write_sql:
            return
        if number_ == args.write_after or (args.write_repeat and number_ % args.write_after == 0):
            run_queries(state, name, [{"sql": args.write_sql}], raw=True)

    def list(self, state, query):
        dbs = state.databases()
        if "name" in query:
            dbs = [d for d in dbs if d["name"] == query["name"][0]]
        page = int(float(query.get("page", ["1"])[0]))
        per_page = int(float(query.get("per_page", ["1000"])[0]))
        chosen = dbs[(page - 1) * per_page: page * per_page]
        out = []
        for d in chosen:
            path = os.path.join(state.folder, d["name"] + ".sqlite3")
            out.append({"uuid": d["uuid"], "name": d["name"], "version": "production",
                        "created_at": "2026-01-01T00:00:00.000Z", "file_size": os.path.getsize(path),
                        "num_tables": 0})
        info = {"page": page, "per_page": per_page, "count": len(out), "total_count": len(dbs)}
        return out, {"result_info": info}, False

    def export(self, state, name, body):
        """Polling export: the first call starts it, the next one answers complete."""
        conn = state.connect(name)
        try:
            virtual = conn.execute("SELECT name FROM sqlite_schema WHERE sql LIKE 'CREATE VIRTUAL TABLE%'").fetchall()
        finally:
            conn.close()
        if virtual:
            raise ApiError(400, 7500, "Cannot export databases with Virtual Tables (fts5)")
        bookmark = state.bookmark(name)
        if not body.get("current_bookmark"):
            return {"success": True, "type": "export", "at_bookmark": bookmark, "status": "active",
                    "messages": ["Generating %s.sql" % name]}
        path = os.path.join(state.folder, "exports", name + ".sql")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        conn = state.connect(name)
        try:
            with open(path, "w") as out:
                for line in conn.iterdump():
                    if "_cf_KV" not in line:
                        out.write(line + "\n")
        finally:
            conn.close()
        host = self.headers.get("Host", "127.0.0.1")
        return {"success": True, "type": "export", "at_bookmark": bookmark, "status": "complete",
                "messages": [], "result": {"filename": name + ".sql",
                                           "signed_url": "http://%s/exports/%s.sql" % (host, name)}}

    def import_(self, state, ident, name, body):
        """init → upload_url; ingest → starts the import (status active); poll → active, then
        complete or error. One import answer per call, as the SDK's DatabaseImportResponse."""
        action = body.get("action")
        etag = body.get("etag")
        if action in ("init", "ingest") and not (isinstance(etag, str) and len(etag) == 32
                                                 and all(c in "0123456789abcdef" for c in etag)):
            raise ApiError(400, 7400, "The request is malformed: etag must be the md5 hex of the file")
        if action == "init":
            filename = "%s-%s.sql" % (ident, etag)
            with state.lock:
                state.uploads[filename] = etag
            host = self.headers.get("Host", "127.0.0.1")
            return {"success": True, "type": "import", "filename": filename,
                    "upload_url": "http://%s/uploads/%s" % (host, filename)}
        if action == "ingest":
            filename = body.get("filename")
            path = os.path.join(state.folder, "uploads", os.path.basename(filename or ""))
            if state.uploads.get(filename) != etag or not os.path.isfile(path):
                raise ApiError(400, 7400, "The request is malformed: no upload of %s with that etag" % filename)
            at = state.bookmark(name)
            snapshot = os.path.join(state.folder, "snapshots", "%s-%s.sqlite3" % (name, at))
            os.makedirs(os.path.dirname(snapshot), exist_ok=True)
            source = state.connect(name)
            target = sqlite3.connect(snapshot)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
            job = {"outcome": None, "polled": 0}
            job["thread"] = threading.Thread(target=self.ingest, args=(state, name, path, job), daemon=True)
            with state.lock:
                state.imports[at] = job
                state.snapshots[(name, at)] = snapshot
            job["thread"].start()
            return {"success": True, "type": "import", "at_bookmark": at, "status": "active",
                    "messages": ["Uploaded %s, ingesting" % filename]}
        if action == "poll":
            at = body.get("current_bookmark")
            job = state.imports.get(at)
            if job is None:
                raise ApiError(400, 7400, "The request is malformed: no import at bookmark %s" % at)
            job["polled"] += 1
            if job["polled"] > 1:
                job["thread"].join(5)
            outcome = job["outcome"]
            if job["polled"] == 1 or outcome is None:
                return {"success": True, "type": "import", "at_bookmark": at, "status": "active",
                        "messages": ["Importing"]}
            if "error" in outcome:
                return {"success": False, "type": "import", "at_bookmark": at, "status": "error",
                        "error": outcome["error"], "messages": []}
            return {"success": True, "type": "import", "at_bookmark": at, "status": "complete", "messages": [],
                    "result": outcome}
        raise ApiError(400, 7400, "The request is malformed: action must be init, ingest or poll")

    @staticmethod
    def ingest(state, name, path, job):
        """Runs the uploaded file in one transaction under D1's refusals; rolls back on failure."""
        conn = state.connect(name)
        started, count, statement = time.time(), 0, ""
        before = conn.total_changes
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.set_authorizer(d1_authorizer)
            with open(path, encoding="utf-8") as f:
                for statement in file_statements(f):
                    if len(statement.encode()) > MAX_STATEMENT_BYTES:
                        raise sqlite3.DataError("statement too long: SQLITE_TOOBIG")
                    conn.execute(statement)
                    count += 1
            conn.set_authorizer(None)
            conn.execute("COMMIT")
            changes = conn.total_changes - before
            if count:
                # DDL moves the bookmark too, though total_changes does not count it.
                state.wrote(name)
            size = os.path.getsize(os.path.join(state.folder, name + ".sqlite3"))
            duration = (time.time() - started) * 1000
            job["outcome"] = {"final_bookmark": state.bookmark(name), "num_queries": count,
                              "meta": {"changed_db": changes > 0, "changes": changes, "duration": duration,
                                       "rows_read": 0, "rows_written": changes, "size_after": size,
                                       "served_by_primary": True, "served_by_region": "WEUR",
                                       "timings": {"sql_duration_ms": duration}}}
        except (sqlite3.Error, UnicodeDecodeError) as e:
            conn.set_authorizer(None)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            code = "SQLITE_AUTH" if "not authorized" in str(e) else "SQLITE_ERROR"
            job["outcome"] = {"error": "Statement %d failed: %s: %s (%s)" % (count + 1, e, code, statement.strip()[:80])}
        finally:
            conn.close()

    def restore(self, state, name, bookmark):
        """Time Travel restore, to a bookmark an import started from (the emulator keeps no other history)."""
        snapshot = state.snapshots.get((name, bookmark))
        if snapshot is None:
            raise ApiError(400, 7400, "The request is malformed: the emulator can restore only to a bookmark an import started from")
        previous = state.bookmark(name)
        source = sqlite3.connect(snapshot)
        target = sqlite3.connect(os.path.join(state.folder, name + ".sqlite3"))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        state.wrote(name)
        return {"bookmark": state.bookmark(name), "previous_bookmark": previous,
                "message": "Restored database %s to bookmark %s" % (name, bookmark)}


def d1_authorizer(action, arg1, arg2, _db, _trigger):
    if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT, sqlite3.SQLITE_ANALYZE, sqlite3.SQLITE_ATTACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA:
        # Reads are allowed (virtual table constructors read page_size, for one).
        pragma = (arg1 or "").lower()
        allowed = pragma == "defer_foreign_keys" or arg2 is None
        return sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY
    if action in (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE, sqlite3.SQLITE_CREATE_TABLE,
                  sqlite3.SQLITE_DROP_TABLE):
        table = (arg1 or "").lower()
        if table.startswith("_cf_") or table in ("sqlite_stat1", "sqlite_stat4"):
            return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def file_statements(f):
    """The statements of a SQL file, one at a time (comments go with the statement they precede)."""
    current = ""
    for line in f:
        pieces = line.split(";")
        for i, piece in enumerate(pieces):
            current += piece
            if i < len(pieces) - 1:
                current += ";"
                if sqlite3.complete_statement(current):
                    yield current
                    current = ""
    if any(line.strip() and not line.lstrip().startswith("--") for line in current.splitlines()):
        yield current


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--account", default="")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--prefix", default="/client/v4")
    parser.add_argument("--rate-limit-after", type=int, default=0)
    parser.add_argument("--rate-limit-burst", type=int, default=3)
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--drop-at", default="")
    parser.add_argument("--write-after", type=int, default=0)
    parser.add_argument("--write-sql", default="")
    parser.add_argument("--write-repeat", action="store_true")
    parser.add_argument("--write-lock", action="store_true", help="take the write lock in every request")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    for entry in os.listdir(args.folder):
        if entry.endswith(".sqlite3"):
            conn = sqlite3.connect(os.path.join(args.folder, entry))
            conn.execute(CF_KV)
            conn.commit()
            conn.close()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print("port %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
