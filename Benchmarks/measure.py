"""Timing, medians and peak RSS of shell commands, and the lines Benchmarks/bench.py prints.

A case is a bash command in which every process to measure is prefixed with `$T`, which
expands to `/usr/bin/time -f %M,%U,%S -a -o FILE`: one line of peak RSS (KiB), user and system
seconds per process. A pipeline's CPU time is the sum over its processes, its "RSS" the sum of
their peaks (they run at the same time), its "max proc" the largest one; for backstream, one
process, both are its own peak RSS. `$OUT` is the case's output path, removed before each run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

TIME = "/usr/bin/time"
MIB = 1048576


def loud(*lines: str) -> None:
    """A message nobody can miss, on stderr (and so in the report)."""
    bar = "!" * 82
    print(f"\n{bar}", file=sys.stderr)
    for line in lines:
        print(f"!!! {line}", file=sys.stderr)
    print(f"{bar}\n", file=sys.stderr)


class CaseFailed(Exception):
    pass


@dataclass
class Sample:
    wall: float
    cpu: float
    output: int
    rss_sum: int  # KiB
    rss_max: int  # KiB
    load: float


@dataclass
class Case:
    label: str
    command: str
    out: str
    backstream: bool = False
    # Called before / after each run, outside the timing (a fresh server, a size check).
    prepare: Optional[Callable[[], None]] = None
    check: Optional[Callable[[], None]] = None
    samples: list[Sample] = field(default_factory=list)
    skipped: bool = False

    def median(self, name: str) -> float:
        return statistics.median(getattr(s, name) for s in self.samples)


class Runner:
    """Runs cases `runs` times each, alternating between them so that a burst of load from the
    other users of a shared machine falls on every case alike, and keeps medians."""

    def __init__(self, runs: int, env: dict[str, str], work: str, backstream_ok: bool):
        self.runs = runs
        self.env = env
        self.work = work
        self.backstream_ok = backstream_ok

    def case(self, label: str, command: str, out: str, backstream: bool = False, **hooks) -> Case:
        case = Case(label, command, out, backstream, **hooks)
        if backstream and not self.backstream_ok:
            case.skipped = True
            print(f"  SKIPPED (no usable backstream binary): {label}", file=sys.stderr)
        return case

    def run(self, *cases: Case) -> None:
        live = [c for c in cases if not c.skipped]
        for run in range(1, self.runs + 1):
            for case in live:
                sample = self.once(case)
                case.samples.append(sample)
                print(f"  {case.label:<44} run {run}/{self.runs}: {sample.wall:8.2f} s wall {sample.cpu:8.2f} s CPU"
                      f"  (load before: {sample.load:.2f})", file=sys.stderr)

    def once(self, case: Case) -> Sample:
        if case.prepare:
            case.prepare()
        rss_file = os.path.join(self.work, "rss")
        open(rss_file, "w").close()
        if os.path.exists(case.out):
            os.remove(case.out)
        load = os.getloadavg()[0]
        env = dict(self.env, T=f"{TIME} -f %M,%U,%S -a -o {rss_file}", OUT=case.out)
        start = time.monotonic()
        result = subprocess.run(["bash", "-c", "set -euo pipefail; " + case.command], env=env)
        wall = time.monotonic() - start
        if result.returncode != 0:
            loud(f"FAILED: {case.label}: {case.command}")
            raise CaseFailed(case.label)
        if case.check:
            case.check()
        procs = []
        with open(rss_file) as f:
            for line in f:  # `time` adds a line of its own when a process exits non-zero
                parts = line.strip().split(",")
                if len(parts) == 3:
                    procs.append((int(parts[0]), float(parts[1]) + float(parts[2])))
        return Sample(wall=wall, cpu=sum(p[1] for p in procs), output=os.stat(case.out).st_size,
                      rss_sum=sum(p[0] for p in procs), rss_max=max((p[0] for p in procs), default=0), load=load)


# --- What is printed ------------------------------------------------------------------------------

def table(runs: int, *cases: Case) -> None:
    print(f"{f'case (median of {runs})':<44} {'wall s':>9} {'CPU s':>9} {'output MiB':>11} {'RSS MiB':>9} {'max proc MiB':>13} {'load':>6}")
    for c in cases:
        if c.skipped:
            print(f"{c.label:<44} {'SKIPPED':>10}")
            continue
        print(f"{c.label:<44} {c.median('wall'):9.2f} {c.median('cpu'):9.2f} {c.median('output') / MIB:11.1f}"
              f" {c.median('rss_sum') / 1024:9.1f} {c.median('rss_max') / 1024:13.1f} {c.median('load'):6.2f}")


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _skipped(name: str, *cases: Case) -> bool:
    if any(c.skipped or not c.samples for c in cases):
        print(f"  {name:<66} n/a (skipped)")
        return True
    return False


def speed(subject: Case, baseline: Case, target: float, bar: Optional[tuple[float, str]] = None) -> None:
    """baseline time / subject time, at least `target`; `bar` is a later issue's target, shown beside."""
    name = f"{subject.label} vs {baseline.label}"
    if _skipped(name, subject, baseline):
        return
    ratio = baseline.median("wall") / subject.median("wall")
    cpu = subject.median("cpu")
    line = (f"  {name:<66} {ratio:6.2f}x faster  target >= {target:g}x  {_verdict(ratio >= target)}"
            f"   (CPU time {baseline.median('cpu') / cpu if cpu > 0 else 0:.2f}x less)")
    if bar:
        line += f"   [{bar[1]}: >= {bar[0]:g}x {_verdict(ratio >= bar[0])}]"
    print(line)


def size(subject: Case, baseline: Case, target: float) -> None:
    """subject output / baseline output, at most `target`."""
    name = f"{subject.label} vs {baseline.label}"
    if _skipped(name, subject, baseline):
        return
    ratio = subject.median("output") / baseline.median("output")
    print(f"  {name:<66} {ratio:6.3f}x size    target <= {target:g}    {_verdict(ratio <= target)}")


def slowdown(subject: Case, baseline: Case, target: float) -> None:
    """subject time / baseline time, at most `target` (the cost of an added stage)."""
    name = f"{subject.label} vs {baseline.label}"
    if _skipped(name, subject, baseline):
        return
    ratio = subject.median("wall") / baseline.median("wall")
    print(f"  {name:<66} {ratio:6.2f}x time    target <= {target:g}x  {_verdict(ratio <= target)}")


def rss(case: Case, limit_mib: float) -> None:
    """backstream's own peak RSS against an absolute limit."""
    if _skipped(f"{case.label} peak RSS", case):
        return
    mib = case.median("rss_max") / 1024
    print(f"  {case.label + ' peak RSS (backstream alone)':<66} {mib:6.1f} MiB       target < {limit_mib:g} MiB   {_verdict(mib < limit_mib)}")


def throughput(case: Case, nbytes: int) -> None:
    """MiB/s of `nbytes` moved, and every run's time."""
    if case.skipped or not case.samples:
        return
    wall = case.median("wall")
    runs = " ".join(f"{s.wall:.2f}" for s in case.samples)
    print(f"  {case.label:<44} {nbytes / MIB / wall:8.1f} MiB/s   (runs: {runs})")
