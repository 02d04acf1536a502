"""For every control, on real lab hosts: harden -> pass; inject its drift -> exactly that control
fails on exactly that host; ``--check --diff`` leaves the drift in place; harden -> pass again.
The drift cases run in rounds, one case per lab host at a time (see _rounds)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from labkit import CI_LAB, PlaybookRun, audit, inject, lab_possible, not_passing, playbook

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


def _rounds() -> list[list[tuple[str, str]]]:
    """Every control's drift case, as rounds of at most one case per lab host.

    Firewall controls run on both backends (lab-02 nftables, lab-03 firewalld); the others
    fill whichever hosts are free. The hosts of a round are drifted, audited, dry-run and
    repaired together, so the drift cases cost about a third of one case after another."""
    firewall: dict[str, list[str]] = {NFT_HOST: [], FIREWALLD_HOST: []}
    others: list[str] = []
    for cid, control in controls().items():
        if "debian" not in control.platforms or cid in LAB_LIMITED_CONTROLS:
            continue  # waived in the lab: the facility is the machine kernel's (docs/lab.md)
        if control.concern == "firewall":
            for backend_host in firewall.values():
                backend_host.append(cid)
        else:
            others.append(cid)
    rounds: list[list[tuple[str, str]]] = []
    while others or any(firewall.values()):
        batch = []
        for host in (f"lab-{n:02d}" for n in range(1, HOSTS + 1)):
            pinned = firewall.get(host)
            if pinned:
                batch.append((pinned.pop(0), host))
            elif others:
                batch.append((others.pop(0), host))
        rounds.append(batch)
    return rounds


ROUNDS = _rounds()


@dataclass
class RoundSeen:
    """What one round of drifts did: the audits' non-passing results and the playbook runs."""

    drifted_code: int
    drifted: dict[tuple[str, str], str]
    dry: PlaybookRun
    still: dict[tuple[str, str], str]
    repair: PlaybookRun
    after: dict[tuple[str, str], str]


class DriftRounds:
    """Runs each round once, when the first of its cases asks for it."""

    def __init__(self, inventory: Path, work: Path) -> None:
        self.inventory, self.work, self.seen = inventory, work, dict[int, RoundSeen]()

    def of(self, case: tuple[str, str]) -> RoundSeen:
        number = next(n for n, batch in enumerate(ROUNDS) if case in batch)
        if number not in self.seen:
            self.seen[number] = self._run(ROUNDS[number])
        return self.seen[number]

    def _run(self, batch: list[tuple[str, str]]) -> RoundSeen:
        for cid, host in batch:
            inject(LAB, host, controls()[cid].drift["linux"].inject)
        code, drifted = audit(self.inventory, self.work / "drift.json")
        tags = ",".join(sorted({cid for cid, _ in batch}))
        hosts = ",".join(host for _, host in batch)
        dry = playbook(self.inventory, "--check", "--diff", "--tags", tags, "--limit", hosts)
        _, still = audit(self.inventory, self.work / "dry.json", "--limit", hosts)
        repair = playbook(self.inventory, "--tags", tags, "--limit", hosts)
        _, after = audit(self.inventory, self.work / "after.json")
        return RoundSeen(
            code, not_passing(drifted), dry, not_passing(still), repair, not_passing(after)
        )


@pytest.fixture(scope="module")
def drift_rounds(ci_lab: Path, tmp_path_factory: pytest.TempPathFactory) -> DriftRounds:
    return DriftRounds(ci_lab, tmp_path_factory.mktemp("drift-rounds"))


def _on(host: str, results: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    return {k: v for k, v in results.items() if k[0] == host}


@pytest.mark.parametrize(("cid", "host"), [case for batch in ROUNDS for case in batch])
def test_drift_is_caught_on_that_host_only_and_repaired(
    drift_rounds: DriftRounds, cid: str, host: str
) -> None:
    seen = drift_rounds.of((cid, host))
    batch = next(b for b in ROUNDS if (cid, host) in b)
    expected = {(host, cid): "fail"}
    assert _on(host, seen.drifted) == expected, "the drift must fail exactly one control"
    drifted_here = {(h, c) for c, h in batch}
    assert set(seen.drifted) <= drifted_here, "a drift failed a control on another host"
    assert seen.drifted_code == 1

    assert seen.dry.rc == 0, seen.dry.output[-4000:]
    changed = seen.dry.recap.get(host, {}).get("changed", 0)
    assert changed > 0, "check mode must show the repair it would make"
    assert _on(host, seen.still) == expected, "--check must change nothing"

    assert seen.repair.rc == 0, seen.repair.output[-4000:]
    assert _on(host, seen.after) == {}, "the role must repair the drift"
    assert seen.after == {}, f"a host of this round stayed drifted: {seen.after}"


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
