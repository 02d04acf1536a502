"""Benchmark: lab boot time and memory per host as the lab grows.

Run as root:  .venv/bin/python bench/lab_boot.py [--sizes 1,5,10]
Brings up a lab named "bench" at each size from scratch, measures wall time of `lab up`
(images cached), per-host resident memory, then takes it down. Prints a table and writes it to
docs/performance.md between the lab markers.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
DRIFTVAKT = str(Path(sys.executable).parent / "driftvakt")
BEGIN, END = "<!-- lab-bench:begin -->", "<!-- lab-bench:end -->"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [DRIFTVAKT, *args], cwd=PROJECT, capture_output=True, text=True, check=False, timeout=1800
    )
    if done.returncode != 0:
        raise SystemExit(f"driftvakt {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done


def measure(size: int) -> tuple[float, float, float]:
    _run("lab", "down", "--name", "bench")
    start = time.monotonic()
    _run("lab", "up", "--name", "bench", "--hosts", str(size))
    took = time.monotonic() - start
    status = _run("lab", "status", "--name", "bench").stdout
    mems = [float(m) for m in re.findall(r"lab-\d+\s+\S+\s+up\s+([\d.]+) MiB", status)]
    _run("lab", "down", "--name", "bench")
    return took, took / size, sum(mems) / len(mems)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,5,10")
    args = parser.parse_args()
    rows = [
        "| target hosts | `lab up` wall time (s) | per host (s) | memory per host (MiB) |",
        "|---:|---:|---:|---:|",
    ]
    for size in (int(s) for s in args.sizes.split(",")):
        took, per_host, mem = measure(size)
        rows.append(f"| {size} | {took:.1f} | {per_host:.2f} | {mem:.0f} |")
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    doc = PROJECT / "docs" / "performance.md"
    text = doc.read_text() if doc.exists() else "# Performance\n"
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), block, text, flags=re.S)
    else:
        text += "\n## Lab\n\nMeasured by `bench/lab_boot.py` (images cached; includes the "
        text += f"services host).\n\n{block}\n"
    doc.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
