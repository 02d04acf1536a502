"""Checks called directly (directcall.py) give exactly what pytest's run protocol gives.

The same simulated hosts (recordings of a hardened and a drifted lab host, so every status
appears: pass, fail, not applicable; and a host where no file can be read, so testinfra's own
command failures appear too) are read and judged both ways; every
result must be the same in every field but the time it took.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from fleetsim import fleet, plan, warm

from driftvakt import collect as collect_module
from driftvakt.inventory import targets
from driftvakt.results import Result

PROJECT = Path(__file__).resolve().parents[2]


def _comparable(results: list[Result]) -> list[dict[str, Any]]:
    rows = [dataclasses.asdict(r) | {"duration": None} for r in results]
    return sorted(rows, key=lambda r: (r["host"], r["control"], str(r["reason"])))


@pytest.mark.fault(
    "run",
    "checks evaluated without pytest's run protocol (the engine's default since #13)",
    "the same status, reason, evidence and facts as through pytest, on every check",
)
def test_direct_calls_give_what_pytest_gives(tmp_path: Path) -> None:
    hosts = plan(6, 101, {"garbage": 1, "unreadable": 1, "drifted": 1})  # host 0 healthy
    with fleet(hosts, tmp_path) as sim:
        warm(sim, tmp_path)
        inventory = str(sim.inventory)
        found = targets(inventory)
        # Each way from the same prefetch cache, so both need the same round trips (a second
        # round re-reads system_info on a fresh host, and that shows in a check's evidence).
        warmed = (tmp_path / "runs.prefetch.json").read_bytes()
        runs: dict[bool, list[Result]] = {}
        for way in (True, False):
            cache = tmp_path / f"{way}.prefetch.json"
            cache.write_bytes(warmed)
            runs[way] = collect_module.collect(
                found, inventory, PROJECT, (), cache, direct=way
            ).results
    direct, through_pytest = _comparable(runs[True]), _comparable(runs[False])
    statuses = {r["status"] for r in through_pytest}
    assert {"pass", "fail", "not_applicable", "error"} <= {str(s) for s in statuses}, statuses
    reasons = " ".join(str(r["reason"]) for r in through_pytest)
    # testinfra's own failures (here a file's content: RuntimeError with a CommandResult) are
    # the host's: one readable line, no object addresses (they differed between the runs)
    assert (
        "command failed on the host: `sudo /bin/sh -c 'cat -- /etc/os-release'` exited 1 "
        "stderr: cat: Permission denied" in reasons
    )
    assert " object at 0x" not in reasons
    assert len(direct) == len(through_pytest)
    for mine, theirs in zip(direct, through_pytest, strict=True):
        assert mine == theirs
