"""On real lab hosts: a hardening run leaves a change record naming the task that changed each
host, linked to the audits before and after it; a waived control is not enforced on the host the
waiver covers (and still is where the waiver expired); production needs a change reference and a
recordable change.

Runs on the session's hardened lab (``ci_lab``) with a waiver file and a run store of its own,
restoring the drift it leaves before it ends. ``DRIFTVAKT_TEST_LAB=<name>`` runs it on a lab
that is already up and hardened instead (a developer's own).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from labkit import (
    audit,
    driftvakt,
    inject,
    lab_possible,
    playbook,
    shared_lab,
    statuses,
)

from driftvakt.catalog import controls

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
CID = "session_shell_idle_timeout"  # its drift is undone only by its own tasks
WAIVED, ENFORCED = "lab-02", "lab-01"


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest) -> tuple[str, Path]:
    return shared_lab(request)


@pytest.fixture
def waivers(lab: tuple[str, Path], tmp_path: Path) -> Iterator[Path]:
    """The lab's own waivers plus: CID waived on lab-02, and an expired waiver on lab-01."""
    _, inventory = lab
    data = yaml.safe_load(inventory.with_name(inventory.name + ".waivers.yml").read_text())
    entry = {"control": CID, "reason": "kiosk", "approver": "Anna Andersson, CISO"}
    data["waivers"] += [
        {**entry, "hosts": [WAIVED], "risk_analysis": "RA-2026-101", "expires": "2099-12-31"},
        {**entry, "hosts": [ENFORCED], "risk_analysis": "RA-2020-001", "expires": "2021-01-31"},
    ]
    path = tmp_path / "waivers.yml"
    path.write_text(yaml.safe_dump(data))
    yield path
    # Leave the shared lab hardened: repair what the waiver kept in place.
    repaired = playbook(inventory, "--tags", CID, "--limit", WAIVED)
    assert repaired.rc == 0, repaired.output[-3000:]


def test_change_record_and_waiver_enforcement(
    lab: tuple[str, Path], waivers: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, inventory = lab
    store = tmp_path / "runs.db"
    both = f"{ENFORCED},{WAIVED}"
    for host in (ENFORCED, WAIVED):
        inject(name, host, controls()[CID].drift["linux"].inject)
    _, before = audit(inventory, tmp_path / "b.json", "--waivers", str(waivers), "--limit", both)
    assert statuses(before)[(ENFORCED, CID)] == "fail"  # the expired waiver does not count
    assert statuses(before)[(WAIVED, CID)] == "waived"

    monkeypatch.setenv("DRIFTVAKT_STORE", str(store))
    monkeypatch.setenv("DRIFTVAKT_CHANGE_REF", "CHG0042")
    # As production: the gate, in a forked worker, must find the record the callback began.
    run = playbook(
        inventory,
        *("--tags", CID, "--limit", both, "-e", "driftvakt_environment=production"),
        *("-e", f"driftvakt_waivers_file={waivers}"),
    )
    assert run.rc == 0, run.output[-4000:]
    assert f"NOT ENFORCED {CID}: waiver {waivers}:" in run.output
    assert f"ENFORCED {CID}: waiver {waivers}:" in run.output  # the expired one, named
    assert run.recap[ENFORCED]["changed"] > 0
    assert run.recap[WAIVED]["changed"] == 0

    _, after = audit(inventory, tmp_path / "a.json", "--waivers", str(waivers), "--limit", both)
    assert statuses(after)[(ENFORCED, CID)] == "pass"
    assert statuses(after)[(WAIVED, CID)] == "waived"  # not repaired: the waiver is honoured

    listed = driftvakt("changes", "--store", str(store), "--host", WAIVED).stdout
    change_id = listed.split()[0]
    shown = driftvakt("changes", change_id, "--store", str(store)).stdout
    assert "change ref CHG0042" in shown and "environment production" in shown
    assert f"changed     {ENFORCED:<10} [{CID}] session_lock : {CID} |" in shown
    assert f"changed     {WAIVED:<10} [{CID}]" not in shown
    assert f"waived      {WAIVED:<10} [{CID}] not enforced: waived" in shown
    assert f"audit before: run {before['id'][:8]}" in shown
    assert f"audit after:  run {after['id'][:8]}" in shown
    assert f"{ENFORCED} {CID}: fail -> pass" in shown


def test_production_needs_a_change_reference_and_a_recordable_change(
    lab: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, inventory = lab
    monkeypatch.delenv("DRIFTVAKT_CHANGE_REF", raising=False)
    monkeypatch.setenv("DRIFTVAKT_STORE", str(tmp_path / "runs.db"))
    production = ("--tags", CID, "--limit", ENFORCED, "-e", "driftvakt_environment=production")
    refused = playbook(inventory, *production)
    assert refused.rc != 0
    assert "give a change reference: -e change_ref=CHG..." in refused.output
    assert refused.recap[ENFORCED]["changed"] == 0

    unrecordable = tmp_path / "not-a-store.db"
    unrecordable.write_text("not a database")
    monkeypatch.setenv("DRIFTVAKT_STORE", str(unrecordable))
    refused = playbook(inventory, *production, "-e", "change_ref=CHG0043")
    assert refused.rc != 0
    assert "not a usable run store" in refused.output and "nothing was changed" in refused.output
    assert refused.recap[ENFORCED]["changed"] == 0
