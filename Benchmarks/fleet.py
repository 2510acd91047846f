#!/usr/bin/env python3
"""A fleet of small databases backed up by one `backstream serve --config` process, against
backing them up one by one in a shell loop (`for db in …; do backstream backup "$db"; done`).

    python3 Benchmarks/fleet.py [--databases 500] [--rows 2000] [--store folder|moto]

Both write to the same kind of store (a local folder, or moto_server started here). The fleet
runs every database on the next minute's schedule with the default --max-concurrent (2); its
time is from that minute to the last backup's end, read from /api/admin/databases. Prints the
two times, their ratio, the fleet process's peak RSS (VmHWM) and the budget 64 MiB × 2.
The binary is $BACKSTREAM_BIN, else .build/release/backstream.
"""
import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "bench-admin-token"


def make_databases(folder, count, rows):
    os.makedirs(folder)
    for i in range(count):
        db = sqlite3.connect(os.path.join(folder, f"tenant-{i:04d}.db"))
        db.executescript("""
            CREATE TABLE notes(id INTEGER PRIMARY KEY, author TEXT, body TEXT, created_at TEXT);
            CREATE INDEX notes_author ON notes(author);
        """)
        db.executemany("INSERT INTO notes(author, body, created_at) VALUES (?, ?, datetime('now'))",
                       [(f"user{j % 37}", f"note {j} of tenant {i}: " + "lorem ipsum " * (j % 9)) for j in range(rows)])
        db.commit()
        db.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(url):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", type=int, default=500)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--store", choices=["folder", "moto"], default="folder")
    args = parser.parse_args()
    binary = os.environ.get("BACKSTREAM_BIN") or os.path.join(ROOT, ".build/release/backstream")
    work = tempfile.mkdtemp(prefix="backstream-fleet-bench.")
    env = dict(os.environ, BACKSTREAM_ADMIN_TOKENS=TOKEN, BACKSTREAM_STORE="")
    moto = None
    try:
        tenants = os.path.join(work, "tenants")
        make_databases(tenants, args.databases, args.rows)
        size = sum(os.path.getsize(os.path.join(tenants, f)) for f in os.listdir(tenants))
        print(f"{args.databases} databases, {size / 1048576:.1f} MiB in all, store {args.store}")
        if args.store == "moto":
            import moto as moto_helper  # Benchmarks/moto.py
            moto = moto_helper.Moto(ROOT)
            moto.start()
            env.update(moto.env)
            bucket = moto.make_bucket("fleet-bench")
            loop_store, fleet_store = f"s3://{bucket}/loop/", f"s3://{bucket}/fleet/"
        else:
            loop_store, fleet_store = os.path.join(work, "loop-store"), os.path.join(work, "fleet-store")

        names = sorted(os.listdir(tenants))
        start = time.monotonic()
        for name in names:
            store = f"{loop_store.rstrip('/')}/{name[:-3]}/"
            subprocess.run([binary, "backup", os.path.join(tenants, name), "--store", store],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        loop = time.monotonic() - start
        print(f"shell loop of `backstream backup`: {loop:.1f} s")

        moto_log = os.path.join(moto.dir, "moto.log") if moto else None
        log_start = sum(1 for _ in open(moto_log)) if moto_log else 0
        config = os.path.join(work, "fleet.toml")
        with open(config, "w") as f:
            f.write(f'store = "{fleet_store}"\nschedule = "* * * * *"\n[[database]]\nfolder = "{tenants}"\n')
        port = free_port()
        log = open(os.path.join(work, "serve.log"), "w")
        serve = subprocess.Popen([binary, "serve", "--config", config, "--port", str(port), "--log-level", "warning"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    get(base + "/api/admin/databases")
                    break
                except OSError:
                    time.sleep(0.1)
            minute = (int(time.time()) // 60 + 1) * 60
            print(f"fleet waits for the minute ({minute - time.time():.0f} s)")
            while True:
                time.sleep(1)
                databases = get(base + "/api/admin/databases")["databases"]
                finished = [d["last_backup"] for d in databases if d["last_backup"] and d["last_backup"]["ok"]]
                if len(finished) == len(databases):
                    break
                if time.time() > minute + 1800:
                    raise SystemExit("the fleet did not finish in 30 minutes")
            last = max(datetime.fromisoformat(r["finished"].replace("Z", "+00:00")).timestamp() for r in finished)
            fleet = last - minute
            with open(f"/proc/{serve.pid}/status") as f:
                peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
        finally:
            serve.terminate()
            serve.wait(60)
        print(f"one `serve --config` process (max_concurrent 2): {fleet:.1f} s, peak RSS {peak:.1f} MiB (budget 128 MiB)")
        if moto_log:
            # Requests the fleet made, per database, by method, and how many were lease traffic.
            counts, leases = {}, 0
            with open(moto_log) as f:
                for line in list(f)[log_start:]:
                    parts = line.split('"')
                    if len(parts) < 2 or " /fleet-bench" not in parts[1]:
                        continue
                    method = parts[1].split(" ")[0]
                    counts[method] = counts.get(method, 0) + 1
                    leases += "/leases/" in parts[1]
            n = args.databases
            print("requests per database backup: " + ", ".join(f"{m} {c / n:.2f}" for m, c in sorted(counts.items()))
                  + f"; of which lease requests {leases / n:.2f}")
        print(f"ratio: the fleet takes {fleet / loop:.2f}x the loop's time ({loop / fleet:.1f}x faster)")
    finally:
        if moto:
            moto.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
