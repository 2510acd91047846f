#!/usr/bin/env python3
"""Backstream against the tools it replaces, on a generated "client portal" database, in one run.

    python3 Benchmarks/bench.py [--size MB[,MB...]] [--runs N] [--db PATH] [--threads N]
                                [--sections LIST] [--upload-mib N] [--no-build]

Sections (default: all but upload):
  gzip            dump --gzip (default level 4, as small as gzip -6; to a file and to stdout) vs sqlite3 .dump | gzip -6 / pigz -6
  plain           dump (to a file and to stdout) vs sqlite3 .dump
  verify          backstream's gzip output restores with sqlite3 with every table's row count
  backup          backup to moto vs sqlite3 .dump | gzip -6 | aws s3 cp -
  restore         restore from moto vs aws s3 cp - | gunzip | sqlite3
  restore-folder  restore from a folder store vs gunzip -c | sqlite3 new.db
  zstd            (issue 12) dump/backup --compression zstd vs sqlite3 .dump | zstd -3 -T2 and the
                  gzip backup pipeline; restore of a zstd backup
  encrypt         (issue 14) backup --encrypt-to (an age-keygen key) vs the same backup without
  upload          upload - of --upload-mib random MiB vs aws s3 cp -, a fresh moto per run

Each case runs --runs times (default 3), the cases of a section alternating, and the tables show
medians. Sections that need a flag the binary lacks print "not supported by this build" and
measure nothing. Generated databases are cached in Benchmarks/data/, and the report is also
written to Benchmarks/results/ (both gitignored). The binary is $BACKSTREAM_BIN, else
.build/release/backstream of the package root, built when missing (not with --no-build).

Longer than 300 lines on purpose: one method per section, each a screen or less, so that what a
section measures reads in one place; timing lives in measure.py, the S3 server in moto.py.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile

import measure
from measure import Case, loud
from moto import Moto

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
DATA_DIR = os.path.join(BENCH_DIR, "data")
RESULTS_DIR = os.path.join(BENCH_DIR, "results")
SECTIONS = ["gzip", "plain", "verify", "backup", "restore", "restore-folder", "zstd", "encrypt", "upload"]
DEFAULT_SECTIONS = [s for s in SECTIONS if s != "upload"]
# What find_backstream reads from the binary's --help, and where.
FEATURES = {"zstd-dump": "dump --compression", "zstd-backup": "backup --compression", "encrypt": "backup --encrypt-to",
            "no-checks": "dump --no-source-checks"}
RSS_LIMIT = 64
BUCKETS = itertools.count(1)
ISSUE12 = "issue 12"


def sh(command: str, env: dict[str, str] | None = None, capture: bool = False) -> str:
    result = subprocess.run(["bash", "-c", "set -euo pipefail; " + command], env=env, check=True, text=True,
                            stdout=subprocess.PIPE if capture else None)
    return result.stdout or ""


class Bench:
    """One database's run: the runner, the work folder, and what the sections share."""

    def __init__(self, args, binary: str, features: set[str], moto: Moto, db: str):
        self.args = args
        self.bin = binary
        self.features = features
        self.moto = moto
        self.db = db
        self.work = tempfile.mkdtemp(dir=DATA_DIR, prefix="work.")
        self.env = dict(os.environ, BIN=binary, DB=db)
        self.run = measure.Runner(args.runs, self.env, self.work, "dump" in features)
        self.cases: dict[str, Case] = {}
        self.bucket = ""
        self.verify_failed = False

    def sh(self, command: str, capture: bool = False) -> str:
        return sh(command, self.env, capture)

    def w(self, name: str) -> str:
        return os.path.join(self.work, name)

    def case(self, label: str, command: str, out: str, backstream: bool = False, **hooks) -> Case:
        self.cases[label] = self.run.case(label, command, out, backstream, **hooks)
        return self.cases[label]

    def measure(self, *cases: Case) -> None:
        """Runs the cases alternately, then prints their table and the heading of the ratios."""
        self.run.run(*cases)
        print()
        measure.table(self.args.runs, *cases)
        print("\nratios:")

    def dump_args(self) -> str:
        return '"$BIN" dump "$DB"' + (f" --threads {self.args.threads}" if self.args.threads else "")

    def s3(self) -> None:
        """The one moto_server of the whole run, and a bucket for it; started on first use."""
        if not self.moto.pid:
            self.moto.start()
        if not self.bucket:
            self.bucket = self.moto.make_bucket(f"bench-{os.getpid()}-{next(BUCKETS)}")  # one per database
        # $AWS is the AWS CLI aimed at moto, $S3 the bucket's URL.
        self.env.update(self.moto.env, S3=f"s3://{self.bucket}", AWS=f"aws --endpoint-url {self.moto.env['AWS_ENDPOINT_URL']}")

    def verify_restore(self, name: str, compressed: str, decompress: str = 'gzip -dc "$1"') -> None:
        """`decompress` (reading "$1") | sqlite3 new.db, then the same row count in every table as the source."""
        restored = self.w("verify.db")
        if os.path.exists(restored):
            os.remove(restored)
        if subprocess.run(["bash", "-c", f'{decompress} | sqlite3 -bail "$2"', "-", compressed, restored]).returncode:
            print(f"  FAIL: {name} does not restore with sqlite3")
            self.verify_failed = True
            return
        count = 'SELECT count(*) FROM "{}"'
        tables = self.sh(f"sqlite3 '{self.db}' \"SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name\"",
                    capture=True).split()
        bad = False
        for table in tables:
            a = self.sh(f"sqlite3 '{self.db}' '{count.format(table)}'", capture=True).strip()
            b = subprocess.run(["sqlite3", restored, count.format(table)], capture_output=True, text=True).stdout.strip() or "missing"
            if a != b:
                print(f"  {table:<28} source {a:>10}  restored {b:>10}  MISMATCH")
                bad = True
        if bad:
            print(f"  FAIL: {name}: row counts differ (see above)")
            self.verify_failed = True
        else:
            print(f"  PASS: {name} decompresses, restores with sqlite3, and has the same row count in all {len(tables)} tables")
        for pragma in ("user_version", "application_id"):
            src = self.sh(f"sqlite3 '{self.db}' 'PRAGMA {pragma}'", capture=True).strip()
            dst = self.sh(f"sqlite3 '{restored}' 'PRAGMA {pragma}'", capture=True).strip()
            print(f"  info: PRAGMA {pragma} source {src} restored {dst}")
        os.remove(restored)

    def unsupported(self, section: str, needs: str) -> bool:
        if needs in self.features:
            return False
        print(f"section {section}: not supported by this build ({FEATURES[needs]} not in its --help)")
        print()
        return True

    # --- Sections ---------------------------------------------------------------------------------

    def gzip(self) -> None:
        print("== gzip'd dump ==")
        bs = self.case("backstream dump --gzip", f'$T {self.dump_args()} --gzip -o "$OUT"', self.w("bs.sql.gz"), True)
        # -o writes a temporary file, fsyncs it and renames it into place; `> file` does neither,
        # like the baselines: the stdout row shows what the durability costs.
        out = self.case("backstream dump --gzip > stdout", f'$T {self.dump_args()} --gzip > "$OUT"',
                        self.w("bs-stdout.sql.gz"), True)
        gz = self.case("sqlite3 .dump | gzip -6", '$T sqlite3 "$DB" .dump | $T gzip -6 > "$OUT"', self.w("sqlite-gzip.sql.gz"))
        pz = self.case("sqlite3 .dump | pigz -6", '$T sqlite3 "$DB" .dump | $T pigz -6 > "$OUT"', self.w("sqlite-pigz.sql.gz"))
        self.measure(bs, out, gz, pz)
        measure.speed(bs, gz, 3, (4.5, ISSUE12))
        measure.speed(bs, pz, 1.5)
        measure.size(bs, gz, 1.0)
        measure.speed(out, gz, 3, (4.5, ISSUE12))
        measure.speed(out, pz, 1.5)
        measure.rss(bs, RSS_LIMIT)
        print()

    def plain(self) -> None:
        print("== plain dump ==")
        bs = self.case("backstream dump", f'$T {self.dump_args()} -o "$OUT"', self.w("bs.sql"), True)
        out = self.case("backstream dump > stdout", f'$T {self.dump_args()} > "$OUT"', self.w("bs-stdout.sql"), True)
        base = self.case("sqlite3 .dump", '$T sqlite3 "$DB" .dump > "$OUT"', self.w("sqlite.sql"))
        self.measure(bs, out, base)
        measure.speed(bs, base, 1.3)
        measure.speed(out, base, 1.3)
        measure.rss(bs, RSS_LIMIT)
        for c in (bs, out, base):
            if os.path.exists(c.out):
                os.remove(c.out)
        print()

    def verify(self) -> None:
        print("== correctness spot check ==")
        label = "backstream dump --gzip"
        if self.run.backstream_ok:
            case = self.cases.get(label)
            if case is None or not os.path.exists(case.out):
                case = self.case(label, f'$T {self.dump_args()} --gzip -o "$OUT"', self.w("bs.sql.gz"), True)
                self.run.run(case)
            self.verify_restore("backstream gz output", case.out)
        else:
            loud("backstream output NOT VERIFIED (no usable binary); checking the check on the gzip baseline instead.")
            base = self.cases.get("sqlite3 .dump | gzip -6")
            if base is None or not os.path.exists(base.out):
                base = self.case("sqlite3 .dump | gzip -6", '$T sqlite3 "$DB" .dump | $T gzip -6 > "$OUT"', self.w("sqlite-gzip.sql.gz"))
                self.run.run(base)
            self.verify_restore("baseline (sqlite3 .dump | gzip -6) output, self-test of the check", base.out)
        print()

    def aws_upload_case(self) -> Case:
        return self.case("sqlite3 .dump | gzip -6 | aws s3 cp -",
                         '$T sqlite3 "$DB" .dump | $T gzip -6 | $T $AWS s3 cp - "$S3/base/dump.sql.gz" > "$OUT"', self.w("baseline-upload.txt"))

    def backup(self) -> None:
        print("== backup to S3 (moto_server on loopback) ==")
        self.s3()
        bs = self.case("backstream backup", '$T "$BIN" backup "$DB" --store "$S3/bs/" --no-prune --no-activity-log --json > "$OUT"',
                       self.w("backup.json"), True)
        base = self.aws_upload_case()
        self.measure(bs, base)
        measure.speed(bs, base, 3)
        measure.rss(bs, RSS_LIMIT)
        print()

    def restore(self) -> None:
        print("== restore from S3 (moto_server on loopback) ==")
        self.s3()
        # Objects to restore: the newest backstream backup, and the baseline's gzip'd .dump.
        if self.run.backstream_ok and '"total":0' in self.sh('"$BIN" list --store "$S3/bs/" --json', capture=True):
            self.sh('"$BIN" backup "$DB" --store "$S3/bs/" --no-prune --no-activity-log > /dev/null')
        if subprocess.run(["bash", "-c", f"$AWS s3api head-object --bucket {self.bucket} --key base/dump.sql.gz"], env=self.env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
            self.sh('sqlite3 "$DB" .dump | gzip -6 | $AWS s3 cp - "$S3/base/dump.sql.gz"')
        bs = self.case("backstream restore", '$T "$BIN" restore latest --store "$S3/bs/" --into "$OUT" > /dev/null',
                       self.w("bs-restored.db"), True)
        base = self.case("aws s3 cp - | gunzip | sqlite3", '$T $AWS s3 cp "$S3/base/dump.sql.gz" - | $T gunzip | $T sqlite3 -bail "$OUT"',
                         self.w("base-restored.db"))
        self.measure(bs, base)
        measure.speed(bs, base, 2, (4, ISSUE12))
        measure.rss(bs, RSS_LIMIT)
        self.remove(bs, base)
        print()

    def restore_folder(self) -> None:
        print("== restore from a folder store ==")
        store = self.w("store")
        if self.run.backstream_ok:
            self.sh(f'"$BIN" backup "$DB" --store "{store}/gzip" --no-prune --no-activity-log > /dev/null')
        self.sh(f'sqlite3 "$DB" .dump | gzip -6 > "{self.w("base.sql.gz")}"')
        bs = self.case("backstream restore (folder)", f'$T "$BIN" restore latest --store "{store}/gzip" --into "$OUT" > /dev/null',
                       self.w("bs-restored.db"), True)
        cases = [bs]
        if "zstd-backup" in self.features:
            self.sh(f'"$BIN" backup "$DB" --store "{store}/zstd" --compression zstd --no-prune --no-activity-log > /dev/null')
            cases.append(self.case("backstream restore (folder, zstd backup)",
                                   f'$T "$BIN" restore latest --store "{store}/zstd" --into "$OUT" > /dev/null', self.w("bs-zstd-restored.db"), True))
        base = self.case("gunzip -c | sqlite3", f'$T gunzip -c "{self.w("base.sql.gz")}" | $T sqlite3 -bail "$OUT"', self.w("base-restored.db"))
        self.measure(*cases, base)
        for c in cases:
            measure.speed(c, base, 4)
        for c in cases:
            measure.rss(c, RSS_LIMIT)
        self.remove(*cases, base)
        shutil.rmtree(store, ignore_errors=True)
        print()

    def zstd(self) -> None:
        print("== zstd (issue 12) ==")
        if self.unsupported("zstd", "zstd-dump"):
            return
        dump = self.case("backstream dump --compression zstd", f'$T {self.dump_args()} --compression zstd -o "$OUT"', self.w("bs.sql.zst"), True)
        base = self.case("sqlite3 .dump | zstd -3 -T2", '$T sqlite3 "$DB" .dump | $T zstd -q -3 -T2 > "$OUT"', self.w("sqlite.sql.zst"))
        # Without the source's integrity and foreign-key checks, which sqlite3 .dump does not run.
        unchecked = [self.case("backstream dump --compression zstd --no-source-checks",
                               f'$T {self.dump_args()} --compression zstd --no-source-checks -o "$OUT"', self.w("bs-nc.sql.zst"), True)
                     ] if "no-checks" in self.features else []
        self.run.run(dump, *unchecked, base)
        backup = []
        if "zstd-backup" in self.features:
            self.s3()
            backup = [self.case("backstream backup --compression zstd",
                                '$T "$BIN" backup "$DB" --store "$S3/zstd/" --compression zstd --no-prune --no-activity-log --json > "$OUT"',
                                self.w("backup-zstd.json"), True),
                      self.aws_upload_case()]
            self.run.run(*backup)
        print()
        measure.table(self.args.runs, dump, *unchecked, base, *backup)
        print("\nratios:")
        for case in [dump, *unchecked]:
            measure.speed(case, base, 2)
            measure.size(case, base, 1.0)
            measure.rss(case, RSS_LIMIT)
        if backup:
            measure.speed(backup[0], backup[1], 6)
            measure.rss(backup[0], RSS_LIMIT)
        else:
            print(f"section zstd: backup --compression zstd not supported by this build ({FEATURES['zstd-backup']} not in its --help)")
        self.verify_restore("backstream zstd output", dump.out, 'zstd -dcq "$1"')
        print()

    def encrypt(self) -> None:
        print("== encrypted backup to S3 (issue 14) ==")
        if self.unsupported("encrypt", "encrypt"):
            return
        self.s3()
        key = self.w("age-key.txt")
        if not os.path.exists(key):
            self.sh(f'age-keygen -o "{key}" 2> /dev/null')
        recipient = self.sh(f'age-keygen -y "{key}"', capture=True).strip()
        common = '--no-prune --no-activity-log --json > "$OUT"'
        enc = self.case("backstream backup --encrypt-to", f'$T "$BIN" backup "$DB" --store "$S3/enc/" --encrypt-to {recipient} {common}',
                        self.w("backup-enc.json"), True)
        plain = self.case("backstream backup (not encrypted)", f'$T "$BIN" backup "$DB" --store "$S3/plain/" {common}',
                          self.w("backup-plain.json"), True)
        self.measure(enc, plain)
        measure.slowdown(enc, plain, 1.1)
        measure.rss(enc, RSS_LIMIT)
        # The last encrypted object decrypts with the real age CLI and restores.
        stored = json.loads(open(enc.out).read()).get("key", "")
        self.sh(f'$AWS s3 cp "$S3/{stored}" "{self.w("enc.age")}" --only-show-errors')
        self.verify_restore("backstream encrypted backup (age -d)", self.w("enc.age"), f'age -d -i "{key}" "$1" | gzip -dc')
        print()

    def upload(self) -> None:
        mib = self.args.upload_mib
        print(f"== upload of {mib} MiB of random bytes from a pipe (a fresh moto_server per run) ==")
        source = self.w("input.bin")
        self.sh(f'head -c {mib}M /dev/urandom > "{source}"')
        nbytes = os.stat(source).st_size

        def fresh() -> None:
            self.moto.restart()
            self.bucket = ""
            self.s3()

        def stored(key: str):
            def check() -> None:
                length = self.moto.aws("s3api", "head-object", "--bucket", self.bucket, "--key", key,
                                       "--query", "ContentLength", "--output", "text", capture=True).strip()
                if length != str(nbytes):
                    raise measure.CaseFailed(f"{key} holds {length} bytes, not {nbytes}")
            return check

        aws = self.case("cat | aws s3 cp -", f'cat "{source}" | $T $AWS s3 cp - "$S3/aws.bin" > "$OUT"', self.w("aws.txt"),
                        prepare=fresh, check=stored("aws.bin"))
        bs = self.case("cat | backstream upload -", f'cat "{source}" | $T "$BIN" upload backstream.bin - --store "$S3/" > "$OUT"',
                       self.w("bs-upload.txt"), True, prepare=fresh, check=stored("backstream.bin"))
        self.run.run(aws, bs)
        print()
        parts = f"parts {os.environ.get('BACKSTREAM_UPLOAD_PARTS', 'default')} x {os.environ.get('BACKSTREAM_PART_SIZE_MIB', 'default')} MiB"
        print(f"upload of {nbytes} bytes ({parts})")
        measure.table(self.args.runs, aws, bs)
        measure.throughput(aws, nbytes)
        measure.throughput(bs, nbytes)
        print("\nratios:")
        measure.speed(bs, aws, 1.0)
        measure.rss(bs, RSS_LIMIT)
        os.remove(source)
        print()

    def remove(self, *cases: Case) -> None:
        for c in cases:
            if os.path.exists(c.out):
                os.remove(c.out)


# --- Main ------------------------------------------------------------------------------------------

class Tee:
    """stdout and stderr into the report as well: the file holds what the terminal showed."""

    def __init__(self, stream, report):
        self.stream, self.report = stream, report

    def write(self, text: str) -> None:
        self.stream.write(text)
        self.report.write(text)
        self.stream.flush()
        self.report.flush()

    def flush(self) -> None:
        self.stream.flush()


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return int(text)


def parse(argv: list[str]):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, usage=argparse.SUPPRESS)
    parser.add_argument("--size", default="200", help="database size in MiB (default 200); a comma list runs every size")
    parser.add_argument("--runs", type=positive, default=3, help="runs per case (default 3)")
    parser.add_argument("--db", help="use this database instead of a generated one")
    parser.add_argument("--threads", type=positive, help="passed to `backstream dump --threads`")
    parser.add_argument("--sections", default=",".join(DEFAULT_SECTIONS), help="comma list of sections")
    parser.add_argument("--upload-mib", type=positive, default=1024, help="MiB piped by the upload section (default 1024)")
    parser.add_argument("--no-build", dest="build", action="store_false", help="do not build a missing binary")
    args = parser.parse_args(argv)
    args.sizes = [positive(s) for s in args.size.split(",")] if not args.db else []
    args.sections = args.sections.split(",")
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r} (known: {' '.join(SECTIONS)})")
    if args.db and not os.path.isfile(args.db):
        parser.error(f"--db {args.db}: no such file")
    return args


def need_tools() -> None:
    """The baselines' tools from Debian, installed only when missing."""
    wanted = {"/usr/bin/time": "time", "sqlite3": "sqlite3", "gzip": "gzip", "pigz": "pigz", "zstd": "zstd", "age": "age"}
    missing = [pkg for tool, pkg in wanted.items() if shutil.which(tool) is None]
    if missing:
        print(f"installing {' '.join(missing)}", file=sys.stderr)
        sudo = [] if os.getuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", *missing], check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def find_backstream(build: bool) -> tuple[str, set[str]]:
    """The binary and what it supports, read from its --help (never guessed)."""
    binary = os.environ.get("BACKSTREAM_BIN") or os.path.join(ROOT, ".build/release/backstream")
    if not os.access(binary, os.X_OK) and "BACKSTREAM_BIN" not in os.environ and build:
        print("building backstream (swift build -c release) ...", file=sys.stderr)
        if subprocess.run(["swift", "build", "-c", "release", "--product", "backstream"], cwd=ROOT, stdout=sys.stderr).returncode:
            loud("swift build -c release failed: see above.")
    if not os.access(binary, os.X_OK):
        loud(f"NO BACKSTREAM BINARY at {binary} — every backstream row is SKIPPED.", "Build it (swift build -c release) or set BACKSTREAM_BIN.")
        return binary, set()

    def help_of(command: str) -> str | None:
        result = subprocess.run([binary, command, "--help"], capture_output=True, text=True)
        return result.stdout + result.stderr if result.returncode == 0 else None

    dump, backup = help_of("dump"), help_of("backup")
    if dump is None:
        loud(f"{binary} has no 'dump' subcommand yet — every backstream row is SKIPPED.")
        return binary, set()
    features = {"dump"}
    if "--compression" in dump:
        features.add("zstd-dump")
    if backup and "--compression" in backup:
        features.add("zstd-backup")
    if backup and "--encrypt-to" in backup:
        features.add("encrypt")
    if "--no-source-checks" in dump:
        features.add("no-checks")
    return binary, features


def database(size: int) -> str:
    db = os.path.join(DATA_DIR, f"portal-{size}mb.db")
    if not os.path.exists(db):
        print(f"generating {db} ...")
        subprocess.run(["bash", os.path.join(BENCH_DIR, "generate-portal-db.sh"), str(size), db + ".tmp"], check=True)
        os.rename(db + ".tmp", db)
    return db


def main(argv: list[str]) -> int:
    args = parse(argv)
    os.makedirs(DATA_DIR, exist_ok=True)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    results = os.path.join(RESULTS_DIR, f"bench-{stamp}.txt")
    report = open(results, "w")
    sys.stdout, sys.stderr = Tee(sys.stdout, report), Tee(sys.stderr, report)

    need_tools()
    binary, features = find_backstream(args.build)
    tools = "; ".join(sh(cmd, capture=True).strip() for cmd in
                      ("echo sqlite3 $(sqlite3 --version | cut -d' ' -f1)", "gzip --version | head -1", "pigz --version 2>&1", "echo zstd $(zstd -V | grep -o 'v[0-9.]*')"))
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "unknown"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"backstream bench — {stamp}")
    print(f"host: {os.cpu_count()} cores, {mem:.0f} GiB; {tools}")
    print(f"backstream: {binary} ({'usable' if features else 'SKIPPED'}; supports: {', '.join(sorted(features)) or 'nothing'}); "
          f"commit {commit}{f'; --threads {args.threads}' if args.threads else ''}")
    print(f"runs per case: {args.runs}; sections: {','.join(args.sections)}")
    print()

    moto = Moto(ROOT)
    status = 0
    peaks: dict[str, dict[str, float]] = {}
    try:
        for db in ([args.db] if args.db else [database(s) for s in args.sizes]):
            with open(db, "rb") as f:  # the page cache holds the database for every case alike
                while f.read(1 << 20):
                    pass
            print(f"################ database: {db} ({os.stat(db).st_size / measure.MIB:.1f} MiB)")
            print()
            bench = Bench(args, binary, features, moto, db)
            try:
                for section in args.sections:
                    getattr(bench, section.replace("-", "_"))()
            finally:
                shutil.rmtree(bench.work, ignore_errors=True)
            status |= bench.verify_failed
            for label in ("backstream dump --gzip", "backstream dump", "backstream backup", "backstream restore"):
                case = bench.cases.get(label)
                if case and case.samples:
                    peaks.setdefault(label, {})[os.path.basename(db)] = case.median("rss_max")
    except measure.CaseFailed:
        status = 1
    finally:
        moto.stop()

    if len(args.sizes) > 1:
        print("== backstream peak RSS across database sizes (target: within ±10% of each other) ==")
        for label, by_db in peaks.items():
            for name, kib in by_db.items():
                print(f"  {label:<40} {name:<36} {kib / 1024:8.1f} MiB")
            if len(by_db) > 1:
                lo, hi = min(by_db.values()), max(by_db.values())
                spread = (hi - lo) / lo * 100
                print(f"  {label:<40} spread {spread:.1f}%   target <= 10%   {'PASS' if spread <= 10 else 'FAIL'}")
        print()
    print(f"report written to {results}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
