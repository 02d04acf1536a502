"""The Windows checks' judgements on collections shaped after the cmdlets' documented output.

Fixtures in fixtures/windows/ are whole collections as collect.ps1 would return them; each cites
the documentation page of every section it imitates (``_documentation``). Nothing here talks to
Windows: the fixtures are synthetic, the judges are the ones the audit runs.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from windowskit import FIXTURES, HOSTVARS, PROJECT, load

import driftvakt_checks
from driftvakt.catalog import controls
from driftvakt.transport.winrm import _BOOTSTRAP, driver
from driftvakt.windows import collect_command, collect_script, expand
from driftvakt_checks.conftest import is_windows
from driftvakt_checks.windows_facts import FactsUnavailable, windows_facts

# What the drifted fixture must be failed for: a fragment of the evidence, per control.
DRIFT_EVIDENCE = {
    "ntp_region_servers": "time.windows.com",
    "ntp_service_enabled": "W32Time is Stopped",
    "ntp_source_selected": "Local CMOS Clock",
    "win_updates_critical_48h": "KB5060526",
    "win_antivirus_active": "RealTimeProtectionEnabled is False",
    "win_spooler_disabled": "Print Spooler is Running/Auto",
    "win_smb1_removed": "EnableSMB1Protocol is True",
    "win_app_services_least_privilege": "runs as LocalSystem",
    "firewall_inbound_default_deny": "profile Public is off",
    "firewall_approved_paths_only": "RemoteDesktop-UserMode-In-TCP",
    "win_local_admins_approved": "WIN01\\helpdesk",
    "win_builtin_accounts": "Guest account (Guest) is enabled",
    "win_password_policy": "MinimumPasswordLength is 7",
    "win_no_blank_passwords": "'helpdesk'",
    "win_rdp_nla_tls": "UserAuthentication (NLA) is 0",
    "win_rdp_idle_limit": "MaxIdleTime) is None",
    "win_winrm_https_only": "no HTTPS listener",
    "win_schannel_protocols": "TLS 1.0 Server is not disabled",
    "win_schannel_ciphers": "RC4 128/128 is not disabled",
    "win_audit_policy": "Logon audits 1",
    "win_security_log_size": "20971520 bytes",
    "win_event_forwarding": "loghost.region.example",
    "win_session_lock": "InactivityTimeoutSecs) is None",
    "win_browser_plugins_absent": "Microsoft Silverlight",
    "win_os_supported": "build 17763",
    "crypto_certificates_valid": "within the 30-day threshold",
    "backup_agent_running": "VeeamEndpointBackupSvc is Stopped/Manual",
    "win_system_locale_swedish": "ANSI code page is 1251",
    "win_unapproved_remote_software_absent": "(teamviewer): installed TeamViewer",
}


def windows_controls() -> list[str]:
    return [cid for cid, c in controls().items() if "windows" in c.platforms]


def windows_checks() -> dict[str, Callable[..., None]]:
    """Every check marked ``windows`` in the suites, by its control: what the audit runs."""
    found: dict[str, Callable[..., None]] = {}
    for info in pkgutil.iter_modules(driftvakt_checks.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"driftvakt_checks.{info.name}")
        for name, check in vars(module).items():
            marks = {m.name: m for m in getattr(check, "pytestmark", [])}
            if name.startswith("test_") and "windows" in marks:
                assert str(marks["control"].args[0]) not in found, f"two Windows checks: {name}"
                found[str(marks["control"].args[0])] = check
    return found


CHECKS = windows_checks()


def collected(facts: dict[str, Any]) -> Any:
    """A host whose Windows collection answers with ``facts``."""
    answer = SimpleNamespace(rc=0, stdout=json.dumps(facts), stderr="")
    return SimpleNamespace(run=lambda command: answer)


def test_every_windows_control_has_a_check_and_a_drift_expectation() -> None:
    assert sorted(CHECKS) == sorted(windows_controls())
    assert sorted(DRIFT_EVIDENCE) == sorted(windows_controls())


def test_fixtures_cite_the_documentation_of_every_section() -> None:
    for name in ("compliant-2022.json", "compliant-2025.json", "drifted.json"):
        data = load(name)
        sections = {
            k
            for k in data
            if k not in ("_documentation", "_about", "schema", "collected", "errors")
        }
        assert sections <= set(data["_documentation"]), name
        assert all(
            u.startswith("https://learn.microsoft.com/") for u in data["_documentation"].values()
        )


@pytest.mark.parametrize("fixture", ["compliant-2022.json", "compliant-2025.json"])
@pytest.mark.parametrize("cid", sorted(DRIFT_EVIDENCE))
def test_compliant_host_passes(cid: str, fixture: str) -> None:
    CHECKS[cid](collected(load(fixture)), HOSTVARS)


@pytest.mark.parametrize("cid", sorted(DRIFT_EVIDENCE))
def test_drifted_host_fails_with_evidence(cid: str) -> None:
    with pytest.raises(AssertionError) as failed:
        CHECKS[cid](collected(load("drifted.json")), HOSTVARS)
    assert DRIFT_EVIDENCE[cid] in str(failed.value)


@pytest.mark.parametrize("cid", sorted(DRIFT_EVIDENCE))
def test_an_unreadable_section_is_an_error_not_a_verdict(cid: str) -> None:
    facts = load("compliant-2022.json")
    for name in list(facts):
        if name not in ("_documentation", "_about", "schema", "collected", "errors"):
            facts["errors"][name] = "Access is denied"
    with pytest.raises((FactsUnavailable, LookupError)):
        CHECKS[cid](collected(facts), HOSTVARS)


def test_windows_facts_reads_the_collect_command_once_per_answer() -> None:
    text = (FIXTURES / "compliant-2022.json").read_text()
    calls: list[str] = []

    def run(command: str) -> SimpleNamespace:
        calls.append(command)
        return SimpleNamespace(rc=0, stdout=text, stderr="")

    host = SimpleNamespace(run=run)
    assert windows_facts(host) is windows_facts(host)
    assert calls == [collect_command(), collect_command()]
    failing = SimpleNamespace(run=lambda c: SimpleNamespace(rc=1, stdout="", stderr="boom"))
    with pytest.raises(FactsUnavailable, match="rc 1"):
        windows_facts(failing)


def test_hosts_are_windows_by_connection_or_os_family() -> None:
    assert is_windows({"ansible_connection": "winrm"})
    assert is_windows({"ansible_connection": "psrp"})
    assert is_windows({"ansible_os_family": "Windows"})
    assert not is_windows({"ansible_connection": "ssh", "ansible_os_family": "Debian"})


def test_the_collect_command_is_short_and_expands_to_the_script() -> None:
    assert len(collect_command()) < 60
    assert expand(collect_command()) == collect_script()
    assert expand("Get-Date") == "Get-Date"


def _syntax_errors(source: str) -> list[str]:
    ts = pytest.importorskip("tree_sitter")
    grammar = pytest.importorskip("tree_sitter_powershell")
    tree = ts.Parser(ts.Language(grammar.language())).parse(source.encode())
    found: list[str] = []

    def walk(node: Any) -> None:
        if node.type == "ERROR" or node.is_missing:
            found.append(f"line {node.start_point[0] + 1}: {node.type}")
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    return found


def test_the_parser_finds_errors_at_all() -> None:
    assert _syntax_errors("if ($a -eq 1) { Write-Output 'x'")


def test_collect_script_parses_and_is_ascii() -> None:
    script = collect_script()
    assert script.isascii(), "collect.ps1 travels in the OEM code page: keep it ASCII"
    assert _syntax_errors(script) == []


def test_the_transport_driver_and_bootstrap_parse() -> None:
    assert _syntax_errors(_BOOTSTRAP) == []
    text = driver([collect_command(), "Get-Date", "w32tm /query /source"])
    assert text.isascii()
    assert _syntax_errors(text) == []
    assert text.count("\nInvoke-DvCommand ") == 3


def test_an_audit_of_a_windows_host_judges_its_one_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """collect() + the real checks in tests/, with a fake WinRM transport answering the one
    collect command from the drifted fixture: Windows checks judge it, Linux checks skip."""
    import yaml

    from driftvakt import collect as collect_module
    from driftvakt.inventory import targets
    from driftvakt.results import Status
    from driftvakt.transport import Output

    hostvars = {k: v for k, v in HOSTVARS.items() if k not in ("inventory_hostname", "group_names")}
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "windows": {
                            "hosts": {
                                "win01": {
                                    "ansible_host": "192.0.2.10",
                                    "ansible_connection": "winrm",
                                    **hostvars,
                                }
                            }
                        }
                    }
                }
            }
        )
    )
    answer = (FIXTURES / "drifted.json").read_bytes()
    batches: list[list[str]] = []

    class FakeWinRm:
        def connect(self) -> None:
            pass

        def run_batch(self, commands: list[str]) -> dict[str, Output]:
            batches.append(commands)
            return {c: Output(0, answer, b"") for c in commands}

        def close(self) -> None:
            pass

    monkeypatch.setattr(collect_module, "_transport", lambda target, timeout: FakeWinRm())
    result = collect_module.collect(
        targets(str(inventory)), str(inventory), PROJECT, (), tmp_path / "cache.json"
    )
    status = {r.control: r.status for r in result.results}
    assert batches == [[collect_command()]]  # one read, one round trip
    for cid in windows_controls():
        assert status[cid] == Status.FAIL, cid
    linux_only = [c for c, ctl in controls().items() if "windows" not in ctl.platforms]
    assert all(status[c] == Status.NOT_APPLICABLE for c in linux_only)
