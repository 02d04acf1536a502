"""The first-real-host kit's recorder (record_windows.py): a real collection becomes a fixture
in the repo's format, with the region's identifying values replaced and its shape unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from record_windows import as_fixture, main, redact_collection, shape_report
from windowskit import FIXTURES, HOSTVARS, load

from driftvakt_checks import windows_accounts, windows_firewall


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


def test_redaction_replaces_names_domains_addresses_and_sids_and_keeps_the_shape() -> None:
    facts = load("compliant-2022.json")
    redacted = redact_collection(facts, ["win01"], ["region.example"])
    text = json.dumps(redacted)
    before = json.dumps(facts)
    for gone in ("win01", "region.example", "REGION\\\\", "10.20.0.0", "1004336348"):
        assert gone in before and gone not in text, gone
    assert _shape(redacted) == _shape(facts)
    # The same value always becomes the same placeholder; RIDs the checks read stay.
    users = redacted["accounts"]["Users"]
    assert {u["SID"].rsplit("-", 1)[1] for u in users} == {
        u["SID"].rsplit("-", 1)[1] for u in facts["accounts"]["Users"]
    }
    assert len({u["SID"].rsplit("-", 1)[0] for u in users}) == 1
    # Netmasks and versions are not addresses.
    assert "255.255.255.224" in text
    assert redacted["os"]["Version"] == facts["os"]["Version"]


def test_a_redacted_recording_is_still_judged() -> None:
    redacted = redact_collection(load("drifted.json"), ["win01"], ["region.example"])
    assert windows_accounts.judge_win_builtin_accounts(redacted, HOSTVARS)
    assert windows_firewall.judge_firewall_inbound_default_deny(redacted, HOSTVARS)


def test_the_recording_reports_every_section_the_judges_would_refuse() -> None:
    facts = load("compliant-2022.json")
    assert shape_report(facts) == []
    facts["updates"] = facts["updates"][0]  # PowerShell's one-item shape
    facts["errors"]["defender"] = "Get-MpComputerStatus: not found"
    report = shape_report(facts)
    assert any(
        line.startswith("updates: the collection's 'updates' is an object") for line in report
    )
    assert "defender: Get-MpComputerStatus: not found" in report


@pytest.mark.fault(
    "input",
    "the first-real-host recorder given a collection with an unrolled list, or not JSON",
    "the fixture written, each refused section on one line, exit 1 (nothing silently accepted)",
)
def test_recording_from_a_saved_collection_writes_the_fixture_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = load("compliant-2025.json")
    for meta in ("_documentation", "_about"):
        raw.pop(meta)
    saved = tmp_path / "raw.json"
    saved.write_text("\ufeff" + json.dumps(raw), "utf-8")  # PowerShell 5.1 writes a BOM
    out = tmp_path / "recorded.json"
    assert (
        main(
            [
                "--host",
                "win01",
                "--from-file",
                str(saved),
                "--redact",
                "region.example",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    fixture = json.loads(out.read_text())
    assert list(fixture)[:3] == ["_documentation", "_about", "_recorded"]
    assert set(fixture["_documentation"]) == {
        k for k in raw if k not in ("schema", "collected", "errors")
    }
    raw["certificates"] = raw["certificates"][0]
    saved.write_text(json.dumps(raw), "utf-8")
    assert main(["--host", "win01", "--from-file", str(saved), "--out", str(out)]) == 1
    assert (
        "error: certificates: the collection's 'certificates' is an object"
        in capsys.readouterr().out
    )
    saved.write_text("Get-MpComputerStatus : not recognized", "utf-8")
    assert main(["--host", "win01", "--from-file", str(saved), "--out", str(out)]) == 1
    assert "is not JSON" in capsys.readouterr().out


def test_the_fixture_format_matches_the_repo_fixtures() -> None:
    shipped = json.loads((FIXTURES / "compliant-2022.json").read_text())
    made = as_fixture({k: v for k, v in shipped.items() if not k.startswith("_")}, "x", {})
    assert made["_documentation"] == shipped["_documentation"]


def test_recording_over_winrm_uses_the_audits_transport_for_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    from driftvakt import collect as collect_module
    from driftvakt.transport import Output, Unreachable
    from driftvakt.windows import collect_command

    inventory = tmp_path / "hosts.yml"
    hosts = {
        "win01": {"ansible_host": "192.0.2.10", "ansible_connection": "winrm"},
        "deb01": {"ansible_host": "192.0.2.11"},
    }
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    batches: list[list[str]] = []
    answer = (FIXTURES / "compliant-2022.json").read_bytes()

    class FakeWinRm:
        fail = False

        def run_batch(self, commands: list[str]) -> dict[str, Output]:
            batches.append(commands)
            if self.fail:
                raise Unreachable("win01: unreachable at 192.0.2.10:5986 over WinRM (timed out)")
            return {c: Output(0, answer, b"") for c in commands}

        def close(self) -> None:
            pass

    fake = FakeWinRm()
    monkeypatch.setattr(collect_module, "_transport", lambda target, timeout: fake)
    out = tmp_path / "recorded.json"
    assert main(["-i", str(inventory), "--host", "win01", "--out", str(out)]) == 0
    assert batches == [[collect_command()]]
    assert json.loads(out.read_text())["_recorded"]["how"].endswith("WinRM transport")
    with pytest.raises(SystemExit, match="deb01 is not a WinRM host"):
        main(["-i", str(inventory), "--host", "deb01", "--out", str(out)])
    fake.fail = True
    with pytest.raises(SystemExit, match=r"unreachable at .* \(or record with --from-file\)"):
        main(["-i", str(inventory), "--host", "win01", "--out", str(out)])
