"""Machine formats of a run (JSON + schema, JUnit XML, CSV, OSCAL) on runs built here: every
status, Swedish text, a valid and an expired waiver, an error with its reason."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from formatkit import check_csv, check_junit, validate_oscal, validate_run

from driftvakt.audit import apply_waivers
from driftvakt.cli import main
from driftvakt.formats import csv_export, json_schema, junit, oscal
from driftvakt.inventory import Target
from driftvakt.results import Result, Run, Status, write_json_atomic
from driftvakt.waivers import Waiver

TODAY = dt.date(2026, 11, 23)


def _waiver(control: str, expires: dt.date) -> Waiver:
    return Waiver(
        control,
        ("vm-01",),
        "ersätts av central åtkomstkontroll",
        "RA-2026-014",
        "Åsa Öberg, CISO",
        expires,
        "waivers.yml:3",
    )


def _target(name: str) -> Target:
    return Target(name, name, 22, "ops", None, "ssh", True, "", None, "debian", {}, ("region",))


def _run(run_id: str = "5b7c9a3e-2f1d-4c6b-9a8e-1d2c3b4a5f60") -> dict[str, Any]:
    results = [
        Result("vm-01", "ssh_root_login_disabled", Status.PASS, ["permitrootlogin no"], "", 0.01),
        Result(
            "vm-01",
            "ssh_password_auth_disabled",
            Status.FAIL,
            ['passwordauthentication yes (förväntat "no")'],
            "lösenordsinloggning är påslagen",
            0.02,
        ),
        Result(
            "vm-01", "auditd_running", Status.FAIL, ["auditd: inactive"], "auditd körs inte", 0.0
        ),
        Result(
            "vm-01", "ssh_crypto_nist", Status.FAIL, ["ciphers chacha20"], "svag kryptering", 0.0
        ),
        Result(
            "vm-02",
            "ssh_root_login_disabled",
            Status.ERROR,
            [],
            "vm-02: unreachable at 10.0.0.2:22 (timed out)",
            0.0,
        ),
        Result(
            "vm-02", "ssh_password_auth_disabled", Status.NOT_APPLICABLE, [], "Windows only", 0.0
        ),
    ]
    hosts = [_target("vm-01"), _target("vm-02")]
    waivers = [
        _waiver("auditd_running", dt.date(2027, 6, 30)),
        _waiver("ssh_crypto_nist", dt.date(2026, 1, 31)),  # expired
    ]
    apply_waivers(results, waivers, hosts, TODAY)
    run = Run(
        id=run_id,
        started="2026-11-23T08:00:00+00:00",
        finished="2026-11-23T08:00:07+00:00",
        user="driftvakt",
        driftvakt_version="0.1.0",
        baseline_revision="3300ef1",
        inventory="inventories/region",
        limit=None,
        hosts=["vm-01", "vm-02"],
        results=results,
    )
    return run.to_json()


def test_the_built_run_has_every_status_and_both_waiver_outcomes() -> None:
    run = _run()
    assert {r["status"] for r in run["results"]} == {s.value for s in Status}
    crypto = next(r for r in run["results"] if r["control"] == "ssh_crypto_nist")
    assert crypto["status"] == "fail", "an expired waiver must not waive"
    assert "expired on 2026-01-31" in crypto["reason"]


def test_run_json_matches_its_schema(tmp_path: Path) -> None:
    run = _run()
    validate_run(run)
    validate_run(json.loads(json_schema.render(run)))
    path = tmp_path / "r.json"
    write_json_atomic(path, run)  # what driftvakt audit -o writes
    validate_run(json.loads(path.read_text()))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("results", 0, "status"), "passed"),  # not a status
        (("results", 4, "reason"), ""),  # an error without its reason
        (("results", 2, "reason"), "ok"),  # waived without the waiver's wording
        (("summary", "waived"), -1),
        (("results", 0, "duration"), "fast"),
        (("started",), "yesterday"),
    ],
)
def test_the_schema_rejects_a_wrong_run(path: tuple[Any, ...], value: Any) -> None:
    run = _run()
    node = run
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        validate_run(run)


def test_the_schema_rejects_a_missing_or_extra_field() -> None:
    run = _run()
    del run["results"][0]["evidence"]
    with pytest.raises(jsonschema.ValidationError):
        validate_run(run)
    run = _run()
    run["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        validate_run(run)


def test_junit_maps_statuses_and_keeps_swedish_text() -> None:
    run = _run()
    text = junit.render(run, "sv")
    root = check_junit(text, run)
    vm1 = root.find("testsuite[@name='vm-01']")
    assert vm1 is not None
    assert (vm1.get("tests"), vm1.get("failures"), vm1.get("skipped")) == ("4", "2", "1")
    failure = vm1.find("testcase[@name='ssh_password_auth_disabled']/failure")
    assert failure is not None and failure.get("message") == "lösenordsinloggning är påslagen"
    skipped = vm1.find("testcase[@name='auditd_running']/skipped")
    assert skipped is not None
    assert "waived until 2027-06-30" in (skipped.get("message") or "")
    assert "Åsa Öberg" in (skipped.get("message") or "")
    error = root.find("testsuite[@name='vm-02']/testcase[@name='ssh_root_login_disabled']/error")
    assert error is not None and "unreachable" in (error.get("message") or "")
    na = root.find("testsuite[@name='vm-02']/testcase[@name='ssh_password_auth_disabled']/skipped")
    assert na is not None and na.get("message") == "not_applicable: Windows only"


def test_junit_survives_control_characters_in_evidence() -> None:
    run = _run()
    run["results"][0]["evidence"] = ["banner\x1b[0m\x00 end"]
    root = check_junit_loose(junit.render(run))
    out = root.findtext("testsuite/testcase/system-out") or ""
    assert "banner\ufffd[0m\ufffd end" in out


def check_junit_loose(text: str) -> Any:
    import xml.etree.ElementTree as ET

    return ET.fromstring(text)  # noqa: S314 - our own output


def test_csv_round_trips_every_result(tmp_path: Path) -> None:
    run = _run()
    text = csv_export.render(run, "sv")
    rows = check_csv(text, run)
    waived = next(r for r in rows if r["control"] == "auditd_running")
    assert waived["status"] == "waived" and "Åsa Öberg" in waived["reason"]
    assert waived["requirements"]
    assert rows[1]["evidence"] == 'passwordauthentication yes (förväntat "no")'


def test_csv_bom_is_opt_in() -> None:
    run = _run()
    assert not csv_export.render(run).startswith("\ufeff")
    with_bom = csv_export.render(run, bom=True)
    assert with_bom.startswith("\ufeff")
    encoded = with_bom.encode("utf-8")
    assert encoded.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(encoded.decode("utf-8-sig"))))
    assert tuple(header) == csv_export.COLUMNS


def test_oscal_is_valid_against_nists_schema() -> None:
    validate_oscal(oscal.document(_run(), "sv"))


def test_oscal_maps_statuses_to_findings() -> None:
    doc = oscal.document(_run())["assessment-results"]
    result = doc["results"][0]
    findings = {
        (f["title"], f["target"]["status"]["state"], f["target"]["status"].get("reason"))
        for f in result["findings"]
    }
    assert findings == {
        ("ssh_root_login_disabled on vm-01", "satisfied", None),
        ("ssh_password_auth_disabled on vm-01", "not-satisfied", "fail"),
        ("auditd_running on vm-01", "not-satisfied", "other"),
        ("ssh_crypto_nist on vm-01", "not-satisfied", "fail"),
        ("ssh_root_login_disabled on vm-02", "not-satisfied", "other"),
    }, "not_applicable gets no finding; error and waived are explicit"
    status_of = {
        f["target"]["target-id"] + "@" + f["title"].split()[-1]: next(
            p["value"] for p in f["target"]["props"] if p["name"] == "status"
        )
        for f in result["findings"]
    }
    assert status_of["ssh_root_login_disabled@vm-02"] == "error"
    assert status_of["auditd_running@vm-01"] == "waived"
    assert len(result["observations"]) == len(_run()["results"])
    hosts = {i["uuid"]: i["description"] for i in result["local-definitions"]["inventory-items"]}
    assert set(hosts.values()) == {"vm-01", "vm-02"}
    for obs in result["observations"]:
        assert hosts[obs["subjects"][0]["subject-uuid"]] == obs["title"].split(":")[0]
    reqs = {
        p["value"]
        for f in result["findings"]
        for p in f["target"]["props"]
        if p["name"] == "requirement"
    }
    selected = {
        c["control-id"]
        for c in result["reviewed-controls"]["control-selections"][0]["include-controls"]
    }
    assert reqs and reqs <= selected


def test_oscal_uuids_are_stable_per_run_and_differ_between_runs() -> None:
    assert oscal.render(_run()) == oscal.render(_run())
    other = oscal.document(_run(str(uuid.UUID(int=7))))
    first = oscal.document(_run())
    assert other["assessment-results"]["uuid"] != first["assessment-results"]["uuid"]
    text = json.dumps(first)
    uuids = [v for v in json.loads(text)["assessment-results"]["results"][0]["findings"]]
    assert len({f["uuid"] for f in uuids}) == len(uuids)


def test_report_command_writes_each_format_from_a_file_and_from_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from driftvakt.store import Store

    run = _run()
    result_file = tmp_path / "run.json"
    write_json_atomic(result_file, run)
    store = tmp_path / "runs.db"
    with Store(store) as s:
        s.save(run)
    for fmt in ("json", "junit", "csv", "oscal"):
        out = tmp_path / f"out.{fmt}"
        assert main(["report", str(result_file), "--format", fmt, "-o", str(out)]) == 0
        from_store = tmp_path / f"store.{fmt}"
        args = ["report", run["id"][:8], "--store", str(store), "--format", fmt]
        assert main([*args, "-o", str(from_store)]) == 0
        if fmt == "json":  # the store keeps canonical JSON (sorted keys): same data
            assert json.loads(out.read_text()) == json.loads(from_store.read_text())
        else:
            assert out.read_bytes() == from_store.read_bytes()
    validate_run(json.loads((tmp_path / "out.json").read_text()))
    validate_oscal(json.loads((tmp_path / "out.oscal").read_text()))
    check_junit((tmp_path / "out.junit").read_text(), run)
    check_csv((tmp_path / "out.csv").read_bytes().decode("utf-8"), run)
    capsys.readouterr()
    assert main(["report", "--store", str(store), "--format", "csv", "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith("run_id,")


def test_report_command_names_a_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["report", str(bad), "--format", "junit"]) == 3
    assert "bad.json: not a driftvakt result file" in capsys.readouterr().err
    assert main(["report", "abc", "--store", str(tmp_path / "none.db"), "--format", "csv"]) == 3
    assert "no run store" in capsys.readouterr().err


def test_a_results_json_has_every_member_and_omits_only_empty_optionals() -> None:
    # to_json is written by hand (speed): a member added to Result must not be left out.
    from dataclasses import fields

    from driftvakt.results import ErrorKind, Result, Status

    full = Result(
        "h", "c", Status.ERROR, ["$ x"], "why", 1.5, {"f": [1]}, ErrorKind.CHECK, {"id": "w"}
    )
    assert full.to_json() == {f.name: getattr(full, f.name) for f in fields(Result)}
    bare = Result("h", "c", Status.PASS)
    assert set(bare.to_json()) == {"host", "control", "status", "evidence", "reason", "duration"}
