"""On a real lab host: ``driftvakt gate`` lets a converged host through, stops it when one control
drifts (naming host and control), lets it through under a valid waiver and stops it again when the
waiver has expired. Every run it makes is exported in each machine format and validated (the run
schema, JUnit structure, CSV, NIST's OSCAL schema).

It reuses the session's ``ci`` lab (already converged). To run it alone on a lab of your own:
``driftvakt lab up --name NAME --hosts 1``, converge it with site.yml, then
``DRIFTVAKT_TEST_LAB=NAME pytest audit/tests/test_lab_gate.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from formatkit import check_csv, check_junit, validate_oscal, validate_run
from labkit import console, driftvakt, inject, lab_possible, playbook, shared_lab

from driftvakt.catalog import controls

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
HOST = "lab-01"
DRIFT = "ssh_root_login_disabled"


@pytest.fixture(scope="module")
def inventory(request: pytest.FixtureRequest) -> Path:
    return shared_lab(request)[1]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gate")


def _gate(inventory: Path, work: Path, *extra: str) -> tuple[int, str, dict[str, Any]]:
    out = work / "gate.json"
    done = driftvakt(
        "gate",
        HOST,
        "-i",
        str(inventory),
        "--store",
        str(work / "runs.db"),
        "-o",
        str(out),
        *extra,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, json.loads(out.read_text())


def _all_formats(work: Path, run: dict[str, Any]) -> None:
    """Export the stored run by its id in every format and validate each file."""
    outputs = {}
    for fmt in ("json", "junit", "csv", "oscal"):
        out = work / f"{run['id'][:8]}.{fmt}"
        driftvakt(
            "report",
            run["id"][:8],
            "--store",
            str(work / "runs.db"),
            "--format",
            fmt,
            "-o",
            str(out),
        )
        outputs[fmt] = out.read_bytes().decode("utf-8")
    assert json.loads(outputs["json"]) == run
    validate_run(json.loads(outputs["json"]))
    check_junit(outputs["junit"], run)
    check_csv(outputs["csv"], run)
    validate_oscal(json.loads(outputs["oscal"]))


def _waivers(inventory: Path, work: Path, expires: str) -> Path:
    """The lab's own waivers plus one for the drifted control."""
    lab = inventory.with_name(inventory.name + ".waivers.yml")
    data = yaml.safe_load(lab.read_text()) if lab.exists() else {"waivers": []}
    data["waivers"].append(
        {
            "control": DRIFT,
            "hosts": [HOST],
            "reason": "leverantörens felsökning kräver root-inloggning tills vidare",
            "risk_analysis": "RA-2026-099",
            "approver": "Åsa Öberg, CISO",
            "expires": expires,
        }
    )
    path = work / f"waivers-{expires}.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_a_converged_host_passes_the_gate(inventory: Path, work: Path) -> None:
    code, output, run = _gate(inventory, work)
    assert code == 0, output
    assert "gate ACCEPTED: 1 host(s), 0 problem(s)" in output
    assert {r["control"] for r in run["results"]} == set(controls())
    _all_formats(work, run)


def test_drift_fails_the_gate_a_waiver_passes_it_until_it_expires(
    inventory: Path, work: Path
) -> None:
    lab = inventory.name.removeprefix("lab-")
    inject(lab, HOST, controls()[DRIFT].drift["linux"].inject)
    try:
        code, output, _ = _gate(inventory, work)
        assert code == 1, output
        problems = [line for line in output.splitlines() if line.startswith(("FAIL", "ERROR"))]
        assert len(problems) == 1 and problems[0].startswith(f"FAIL  {HOST} {DRIFT}: "), output
        assert "gate REJECTED" in output

        code, output, waived = _gate(
            inventory, work, "--waivers", str(_waivers(inventory, work, "2099-12-31"))
        )
        assert code == 0, output
        result = next(r for r in waived["results"] if r["control"] == DRIFT)
        assert result["status"] == "waived" and "Åsa Öberg" in result["reason"]
        _all_formats(work, waived)

        code, output, expired = _gate(
            inventory, work, "--waivers", str(_waivers(inventory, work, "2020-01-31"))
        )
        assert code == 1, output
        result = next(r for r in expired["results"] if r["control"] == DRIFT)
        assert result["status"] == "fail" and "expired on 2020-01-31" in result["reason"]
        assert f"FAIL  {HOST} {DRIFT}: " in output
    finally:
        repair = playbook(inventory, "--tags", DRIFT, "--limit", HOST)
        assert repair.rc == 0, repair.output[-4000:]


def test_a_host_that_does_not_answer_is_unreachable(inventory: Path, work: Path) -> None:
    lab = inventory.name.removeprefix("lab-")
    console(lab, HOST, "systemctl stop ssh.socket 2>/dev/null; systemctl stop ssh")
    try:
        code, output, _ = _gate(inventory, work, "--timeout", "5")
    finally:
        console(lab, HOST, "systemctl start ssh")
    assert code == 5, output
    assert f"UNREACHABLE {HOST}: unreachable at " in output
    assert "gate REJECTED: 1 host(s), 1 problem(s)" in output


def test_an_unknown_host_is_bad_input(inventory: Path, work: Path) -> None:
    done = driftvakt(
        "gate", "no-such-vm", "-i", str(inventory), "--store", str(work / "runs.db"), check=False
    )
    assert done.returncode == 3
    assert "no-such-vm" in done.stderr
