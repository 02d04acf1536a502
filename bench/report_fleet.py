"""Benchmark: the HTML report of a simulated fleet's run, measured in headless Chromium.

Run:  .venv/bin/python bench/report_fleet.py --hosts 5000 --nights 3 --work /tmp/dv-report
      .venv/bin/python bench/report_fleet.py --work /tmp/dv-report --report-only

Audits a simulated fleet in host groups ``--nights`` times into WORK/runs.db (real
``driftvakt audit`` runs, audit/tests/fleetreport.py), then writes the report of the last run
with ``driftvakt report`` (timed) and measures it in Chromium: the file's size, the first
paint, each filter's time to its layout and a host's detail. The numbers go in docs/reports.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "audit" / "tests"))

from fleetreport import audit_nights, measure_in_chromium  # noqa: E402

PREFIX = 31  # 127.31.x.y: beside fleet_scale.py's 127.30 and the tests' 127.100-199


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hosts", type=int, default=5000)
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/driftvakt-report-fleet"))
    parser.add_argument("--report-only", action="store_true", help="use the runs in WORK")
    parser.add_argument("--lang", default="sv")
    args = parser.parse_args()
    work: Path = args.work
    if not args.report_only:
        audit_nights(args.hosts, args.nights, work, PREFIX)
    page = work / f"report-{args.lang}.html"
    driftvakt = str(Path(sys.executable).parent / "driftvakt")
    begun = time.perf_counter()
    subprocess.run(
        [driftvakt, "report", "latest", "--store", str(work / "runs.db"), "--lang", args.lang,
         "-o", str(page)],
        check=True,
    )  # fmt: skip
    written = time.perf_counter() - begun
    measured = measure_in_chromium(page)
    print(f"report written in {written:.1f} s: {measured.size_bytes / 1e6:.2f} MB")
    for name, value in measured.numbers.items():
        print(f"  {name}: {value:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
