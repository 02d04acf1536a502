"""Checks called directly (directcall.py) give exactly what pytest's run protocol gives.

The same simulated hosts (a recording of a real Debian 12, so every status appears: pass,
fail, not applicable; and a host where no file can be read, so testinfra's own command
failures appear too) are read and judged both ways; every
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
    hosts = plan(4, 101, {"garbage": 1, "unreadable": 1})
    with fleet(hosts, tmp_path) as sim:
        warm(sim, tmp_path)
        inventory = str(sim.inventory)
        found = targets(inventory)
        runs = {
            direct: collect_module.collect(
                found, inventory, PROJECT, (), tmp_path / "runs.prefetch.json", direct=direct
            ).results
            for direct in (True, False)
        }
    direct, through_pytest = _comparable(runs[True]), _comparable(runs[False])
    statuses = {r["status"] for r in through_pytest}
    assert {"pass", "fail", "not_applicable", "error"} <= {str(s) for s in statuses}, statuses
    reasons = " ".join(str(r["reason"]) for r in through_pytest)
    # testinfra's own failures (check_output's assertion, a file's content's RuntimeError) are
    # the host's: one readable line, no object addresses (they differed between the runs)
    assert (
        "command failed on the host: `sudo /bin/sh -c 'id -nu'` exited 1 stderr: id: cannot "
        "find name for user ID 1000" in reasons
    )
    assert (
        "command failed on the host: `sudo /bin/sh -c 'cat -- /etc/os-release'` exited 1 "
        "stderr: cat: Permission denied" in reasons
    )
    assert " object at 0x" not in reasons
    assert len(direct) == len(through_pytest)
    for mine, theirs in zip(direct, through_pytest, strict=True):
        assert mine == theirs
