"""For every control, on real lab hosts: harden -> pass; inject its drift -> exactly that control
fails on exactly that host; ``--check --diff`` leaves the drift in place; harden -> pass again."""

from __future__ import annotations

from pathlib import Path

import pytest
from labkit import audit, inject, lab_possible, not_passing, playbook

from driftvakt.catalog import controls
from driftvakt.lab.inventory_writer import LAB_LIMITED_CONTROLS

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = "ci"
HOSTS = 3
NFT_HOST, FIREWALLD_HOST = "lab-02", "lab-03"  # lab-03 runs firewalld (every third host)


def test_hardened_lab_passes_every_control(ci_lab: Path, tmp_path: Path) -> None:
    code, data = audit(ci_lab, tmp_path / "r.json")
    assert not_passing(data) == {}
    assert code == 0
    assert {r["host"] for r in data["results"]} == {f"lab-{i:02d}" for i in range(1, HOSTS + 1)}
    assert {r["control"] for r in data["results"]} == set(controls())


def test_second_run_changes_nothing(ci_lab: Path) -> None:
    second = playbook(ci_lab)
    assert second.rc == 0, second.output[-4000:]
    assert second.total("changed") == 0, second.output[-6000:]


def _cases() -> list[tuple[str, str]]:
    cases = []
    for cid, control in controls().items():
        if "debian" not in control.platforms or cid in LAB_LIMITED_CONTROLS:
            continue  # waived in the lab: the facility is the machine kernel's (docs/lab.md)
        if control.concern == "firewall":
            cases += [(cid, NFT_HOST), (cid, FIREWALLD_HOST)]
        else:
            cases.append((cid, "lab-01"))
    return cases


@pytest.mark.parametrize(("cid", "host"), _cases())
def test_drift_is_caught_on_that_host_only_and_repaired(
    ci_lab: Path, tmp_path: Path, cid: str, host: str
) -> None:
    inject(LAB, host, controls()[cid].drift.inject)
    code, data = audit(ci_lab, tmp_path / "drift.json")
    assert not_passing(data) == {(host, cid): "fail"}, "the drift must fail exactly one control"
    assert code == 1

    dry = playbook(ci_lab, "--check", "--diff", "--tags", cid, "--limit", host)
    assert dry.rc == 0, dry.output[-4000:]
    assert dry.total("changed") > 0, "check mode must show the repair it would make"
    _, still = audit(ci_lab, tmp_path / "dry.json", "--limit", host)
    assert not_passing(still) == {(host, cid): "fail"}, "--check must change nothing"

    repair = playbook(ci_lab, "--tags", cid, "--limit", host)
    assert repair.rc == 0, repair.output[-4000:]
    _, after = audit(ci_lab, tmp_path / "after.json")
    assert not_passing(after) == {}, "the role must repair the drift"
