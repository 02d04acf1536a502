"""Benchmark: the auditor (the controller) against a simulated fleet of 100 to 5000 hosts.

Run:  .venv/bin/python bench/fleet_scale.py [--sizes 100,1000,5000] [--rtt-ms 20]
                                            [--faults] [--write]

The hosts are audit/tests/fleetsim.py's: one process on loopback replaying a recording of a
real Debian 12 (this development machine, not hardened), so what this measures is the
controller alone: inventory, host keys, scheduling, evaluation, the store, drift and the JSON,
end to end as ``driftvakt audit`` does them. A simulated host answers at once; a real one
takes its own time for its reads. Each size is audited warm (every host's commands in the
prefetch cache, as on a nightly run) and in its own process, measured from outside it (CPU
time and peak memory from wait4). --faults adds 1 % hanging and 1 % refusing hosts, one with a
changed host key and one answering garbage. --write puts the table in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "audit" / "tests"))

from fleetsim import AuditRun, audit, fleet, plan, warm  # noqa: E402

WORK = Path("/tmp/driftvakt-fleet-bench")  # this benchmark's own stores and outputs only
BEGIN, END = "<!-- fleet-bench:begin -->", "<!-- fleet-bench:end -->"
PREFIX = 30  # the fleet's addresses: 127.30.x.y (the scale test picks 127.100-199)


def _faults(size: int, on: bool) -> dict[str, int]:
    if not on:
        return {}
    one_percent = max(1, size // 100)
    return {"hanging": one_percent, "refusing": one_percent, "changed-key": 1, "garbage": 1}


def measure(size: int, rtt_ms: float, faults: bool) -> tuple[AuditRun, float]:
    work = WORK / f"{size}-{time.time_ns()}"
    hosts = plan(size, PREFIX, _faults(size, faults))
    with fleet(hosts, work, rtt_s=rtt_ms / 1000, lifetime_s=3600) as sim:
        warm(sim, work)
        run = audit(sim, work, timeout_s=20)
    errors = sum(1 for r in run.run["results"] if r["status"] == "error")
    print(
        f"{size} hosts: {run.wall_s:.1f} s wall, {run.cpu_s:.1f} s CPU "
        f"({run.cpu_s / size * 1000:.1f} ms per host), first host contacted after "
        f"{run.first_contact_s or -1:.2f} s, peak {run.peak_rss_mib:.0f} MiB, "
        f"{errors} error results, exit {run.returncode}",
        flush=True,
    )
    return run, os.getloadavg()[0]


def table(rows: list[tuple[int, float, AuditRun, float]]) -> str:
    lines = [
        "| hosts | added round trip (ms) | wall (s) | controller CPU (s) | CPU per host (ms) "
        "| first host contacted (s) | auditor peak memory (MiB) | load average |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, rtt, run, load in rows:
        first = f"{run.first_contact_s:.2f}" if run.first_contact_s is not None else "-"
        lines.append(
            f"| {size} | {rtt:.0f} | {run.wall_s:.1f} | {run.cpu_s:.1f} | "
            f"{run.cpu_s / size * 1000:.1f} | {first} | {run.peak_rss_mib:.0f} | {load:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--rtt-ms", type=float, default=0.0)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):  # small first: memory is per process
        run, load = measure(size, args.rtt_ms, args.faults)
        rows.append((size, args.rtt_ms, run, load))
    text = table(rows)
    print(text)
    if args.write:
        doc = PROJECT / "docs" / "performance.md"
        old = doc.read_text()
        start, end = old.index(BEGIN) + len(BEGIN), old.index(END)
        doc.write_text(old[:start] + "\n" + text + "\n" + old[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
