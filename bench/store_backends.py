"""Benchmark: the run store's write cost per host, SQLite against PostgreSQL, and 4 controllers
writing into one PostgreSQL at once.

Run:  .venv/bin/python bench/store_backends.py [--hosts 1000] [--controls 40] [--write]

What an audit asks of the store, without the audit: begin the run, stage each host's results
as the host finishes (one transaction per host), then chain the run (one transaction that
moves the staged rows, hashes them and links the run). Results are the size of real ones
(40 controls, a few lines of evidence). Three setups, each on a fresh store:

- ``sqlite``: one controller, the embedded store (WAL, synchronous=FULL, on this machine's disk);
- ``postgresql``: one controller, one PostgreSQL (a throwaway cluster on 127.0.0.1, fsync=off,
  as in the tests: what is measured is the store's own cost, not the disk's);
- ``postgresql x4``: 4 controller processes at once, each auditing a disjoint quarter of the
  hosts (AWX's slices ``[k::4]``) and chaining its own run into the one store.

After each, ``Store.verify`` must find the chain intact (0 forks). ``--write`` puts the table in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "audit" / "tests"))

from pgcluster import cluster  # noqa: E402

from driftvakt.store import Store  # noqa: E402

BEGIN, END = "<!-- store-bench:begin -->", "<!-- store-bench:end -->"


def _results(host: str, controls: int) -> list[dict[str, Any]]:
    return [
        {
            "host": host,
            "control": f"control_{n:03d}",
            "status": "pass" if n % 7 else "fail",
            "evidence": [f"/etc/ssh/sshd_config: PermitRootLogin no ({n})", "sshd -T: ok"],
            "reason": "" if n % 7 else "expected no, found yes",
            "duration": 0.012,
        }
        for n in range(controls)
    ]


def audit_into(location: str, hosts: list[str], controls: int) -> tuple[float, float]:
    """One controller's run: (seconds staging all hosts, seconds chaining the run)."""
    with Store(Path(location) if "://" not in location else location) as store:
        meta = {"id": str(uuid.uuid4()), "started": "2026-12-07T02:30:00+00:00",
                "finished": "", "hosts": hosts}  # fmt: skip
        store.begin(meta)
        start = time.perf_counter()
        for host in hosts:
            store.stage(meta["id"], _results(host, controls))
        staged = time.perf_counter()
        store.save_staged(meta)
        return staged - start, time.perf_counter() - staged


def _worker(args: tuple[str, list[str], int]) -> tuple[float, float]:
    return audit_into(*args)


def measure(location: str, hosts: list[str], controls: int, writers: int) -> dict[str, Any]:
    Store(Path(location) if "://" not in location else location).close()  # the schema first
    slices = [hosts[k::writers] for k in range(writers)]
    start = time.perf_counter()
    if writers == 1:
        parts = [audit_into(location, hosts, controls)]
    else:
        with multiprocessing.get_context("spawn").Pool(writers) as pool:
            parts = pool.map(_worker, [(location, s, controls) for s in slices])
    wall = time.perf_counter() - start
    with Store(Path(location) if "://" not in location else location) as store:
        problems = store.verify()
        runs = store.runs()
    return {
        "wall": wall,
        "per_host_ms": 1000 * sum(p[0] for p in parts) / len(hosts),
        "chain_s": max(p[1] for p in parts),
        "runs": len(runs),
        "forks": len(runs) - len({r.prev_hash for r in runs}),
        "intact": not problems,
    }


def table(rows: list[tuple[str, dict[str, Any]]], hosts: int, controls: int) -> str:
    lines = [
        f"{hosts} hosts x {controls} results, staged host by host, then chained "
        f"(`bench/store_backends.py`, {time.strftime('%Y-%m-%d')}):",
        "",
        "| store | writers | wall time | staging, per host | chaining the run | runs | forks "
        "| verify |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        writers = name.split(" x")[1] if " x" in name else "1"
        lines.append(
            f"| {name.split(' x')[0]} | {writers} | {r['wall']:.1f} s | "
            f"{r['per_host_ms']:.1f} ms | {r['chain_s']:.2f} s | {r['runs']} | {r['forks']} | "
            f"{'intact' if r['intact'] else 'BROKEN'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--controls", type=int, default=40)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    hosts = [f"host{n:05d}" for n in range(args.hosts)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("sqlite", measure(str(Path(tmp) / "s.db"), hosts, args.controls, 1)))
    with cluster() as server:
        rows.append(("postgresql", measure(server.new_database(), hosts, args.controls, 1)))
        rows.append(("postgresql x4", measure(server.new_database(), hosts, args.controls, 4)))
    text = table(rows, args.hosts, args.controls)
    print(text)
    if args.write:
        doc = PROJECT / "docs" / "performance.md"
        current = doc.read_text("utf-8")
        block = f"{BEGIN}\n{text}\n{END}"
        if BEGIN in current:
            head, rest = current.split(BEGIN, 1)
            current = head + block + rest.split(END, 1)[1]
        else:
            current = current.rstrip("\n") + "\n\n" + block + "\n"
        doc.write_text(current, "utf-8")


if __name__ == "__main__":
    main()
