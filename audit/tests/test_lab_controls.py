"""For every control, on real lab hosts: harden -> pass; inject its drift -> exactly that control
fails on exactly that host; ``--check --diff`` leaves the drift in place; harden -> pass again."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from labkit import CI_LAB, audit, inject, lab_possible, not_passing, playbook

from driftvakt.catalog import controls
from driftvakt.lab.inventory_writer import LAB_LIMITED_CONTROLS

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = CI_LAB
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
    inject(LAB, host, controls()[cid].drift["linux"].inject)
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


ROLLBACK_HOST = "lab-01"


def _passes_again(inventory: Path, out: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _, data = audit(inventory, out, "--limit", ROLLBACK_HOST)
        if not_passing(data) == {}:
            return True
        time.sleep(5)
    return False


def test_an_sshd_change_that_locks_ansible_out_is_rolled_back(ci_lab: Path, tmp_path: Path) -> None:
    """The guarded change (roles/guarded_change) for real: sshd is told to accept only ECDSA user
    keys, the lab's key is Ed25519, so the proof with a new connection fails; the play fails saying
    the host rolls back, and the host restores its last proved configuration by itself."""
    lockout = {
        "ssh_pubkey_accepted_algorithms": ["ecdsa-sha2-nistp256"],
        "ssh_rollback_seconds": 20,
        "ssh_verify_timeout": 5,
    }
    run = playbook(
        ci_lab, "--tags", "ssh_crypto_nist", "--limit", ROLLBACK_HOST, "-e", json.dumps(lockout)
    )
    assert run.rc != 0, run.output[-4000:]
    assert "restores its previous sshd configuration" in run.output, run.output[-4000:]
    assert "driftvakt-ssh-rollback.timer" in run.output, run.output[-4000:]

    assert _passes_again(ci_lab, tmp_path / "rolled-back.json", 120), "the host did not roll back"
    again = playbook(ci_lab, "--limit", ROLLBACK_HOST)
    assert again.rc == 0, again.output[-4000:]
    assert again.total("changed") == 0, "the rollback must restore the proved configuration"
