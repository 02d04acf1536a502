"""The Windows checks' judgements on collections shaped after the cmdlets' documented output.

Fixtures in fixtures/windows/ are whole collections as collect.ps1 would return them; each cites
the documentation page of every section it imitates (``_documentation``). Nothing here talks to
Windows: the fixtures are synthetic, the judges are the ones the audit runs.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from driftvakt.catalog import controls
from driftvakt.transport.winrm import _BOOTSTRAP, driver
from driftvakt.windows import collect_command, collect_script, expand

PROJECT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT / "tests"))

import windows_facts as wf  # noqa: E402

_spec = importlib.util.spec_from_file_location("checks_conftest", PROJECT / "tests" / "conftest.py")
assert _spec is not None and _spec.loader is not None
checks_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checks_conftest)
is_windows = checks_conftest.is_windows

FIXTURES = Path(__file__).parent / "fixtures" / "windows"
HOSTVARS: dict[str, Any] = {
    "inventory_hostname": "win01.region.example",
    "group_names": ["windows"],
    "timesync_ntp_servers": ["ntp1.region.example", "ntp2.region.example"],
    "firewall_approved_paths": [
        {
            "name": "management-winrm",
            "source": "10.20.0.0/27",
            "destination": "all",
            "proto": "tcp",
            "port": 5986,
        },
        {
            "name": "app-https",
            "source": "10.10.0.0/16",
            "destination": "windows",
            "proto": "tcp",
            "port": 443,
        },
        {
            "name": "db-from-app",
            "source": "10.20.30.11/32",
            "destination": "db01",
            "proto": "tcp",
            "port": 5432,
        },
    ],
    "windows_firewall_exceptions": ["CoreNet-ICMP6-NDA-In"],
    "windows_local_admins": ["svc-ansible", "REGION\\adm-anna"],
    "windows_app_services": ["DriftvaktDemoApp"],
    "logging_central_host": "loghost.region.example",
    "session_lock_tmout": 900,
    "backup_required": True,
    "backup_agent": "veeam",
    "windows_remote_software_allowed": ["forticlient"],
    # crypto_certificates_valid: the host's TLS certificate by thumbprint; the region's issuing
    # CA approved by its SHA-256 fingerprint (the fixtures' chain element 1).
    "crypto_certificates": [{"thumbprint": "8D3F2A61C0E94B7A5D1E2F3C4B5A69788796A5B4"}],
    "crypto_approved_cas": ["5b8e2f0c7d6a41e39b2c8f4a1d0e7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b"],
}
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


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def windows_controls() -> list[str]:
    return [cid for cid, c in controls().items() if "windows" in c.platforms]


def test_every_windows_control_has_a_judge_and_a_drift_expectation() -> None:
    assert sorted(wf.JUDGES) == sorted(windows_controls())
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
    assert wf.JUDGES[cid](load(fixture), HOSTVARS) == []


@pytest.mark.parametrize("cid", sorted(DRIFT_EVIDENCE))
def test_drifted_host_fails_with_evidence(cid: str) -> None:
    problems = wf.JUDGES[cid](load("drifted.json"), HOSTVARS)
    assert problems, f"{cid} passed a drifted host"
    assert DRIFT_EVIDENCE[cid] in "; ".join(problems)


@pytest.mark.parametrize("cid", sorted(DRIFT_EVIDENCE))
def test_an_unreadable_section_is_an_error_not_a_verdict(cid: str) -> None:
    facts = load("compliant-2022.json")
    for name in list(facts):
        if name not in ("_documentation", "_about", "schema", "collected", "errors"):
            facts["errors"][name] = "Access is denied"
    with pytest.raises((wf.FactsUnavailable, LookupError)):
        wf.JUDGES[cid](facts, HOSTVARS)


def test_a_missing_inventory_value_is_an_error() -> None:
    with pytest.raises(LookupError, match="timesync_ntp_servers"):
        wf.judge_ntp_region_servers(load("compliant-2022.json"), {})


def test_update_age_counts_from_release_date() -> None:
    facts = load("compliant-2022.json")  # released 2025-06-10T17:00, collected 39 h later
    assert wf.judge_win_updates_critical_48h(facts, HOSTVARS) == []
    facts["collected"] = "2025-06-12T17:00:01.0000000Z"  # 48 h and a second
    assert wf.judge_win_updates_critical_48h(facts, HOSTVARS)
    assert wf.judge_win_updates_critical_48h(facts, {"windows_patch_max_age_hours": 72}) == []


def test_other_antivirus_vendors_are_judged_by_their_services() -> None:
    facts = load("drifted.json")  # Defender drifted, but the region uses another vendor
    facts["services"].append(
        {"Name": "fsdevcon", "State": "Running", "StartMode": "Auto", "StartName": "LocalSystem"}
    )
    assert wf.judge_win_antivirus_active(facts, {"windows_antivirus_services": ["fsdevcon"]}) == []
    assert wf.judge_win_antivirus_active(facts, {"windows_antivirus_services": ["ntrtscan"]}) == [
        "antivirus service ntrtscan: missing"
    ]


def _service(
    name: str, display: str = "", state: str = "Running", mode: str = "Auto"
) -> dict[str, Any]:
    return {"Name": name, "DisplayName": display or name, "State": state, "StartMode": mode}


@pytest.mark.parametrize(
    ("agent", "service", "installed"),
    [
        ("commvault", _service("GxCVD(Instance001)", "Commvault Communications Service"), True),
        ("commvault", _service("GxCVD", "Commvault Communications Service"), False),
        ("rubrik", _service("RBS", "Rubrik Backup Service"), True),
        ("netbackup", _service("bpinetd", "NetBackup Client Service"), True),
        ("spectrum_protect", _service("TSM Client Acceptor"), True),
        ("spectrum_protect", _service("TSM Client Acceptor 2"), False),
        ("veeam", _service("VeeamDeploySvc", "Veeam Installer Service"), False),
    ],
)
def test_backup_agents_are_found_by_service_name_or_display_name(
    agent: str, service: dict[str, Any], installed: bool
) -> None:
    facts = {"services": [service], "errors": {}}
    problems = wf.judge_backup_agent_running(facts, {"backup_agent": agent})
    assert (problems == []) is installed, problems
    if not installed:
        assert "backup agent is not installed" in problems[0]


def test_every_present_backup_service_must_run_automatically() -> None:
    facts = {
        "services": [
            _service("GxCVD(Instance001)"),
            _service("GxClMgrS(Instance001)", state="Stopped", mode="Disabled"),
        ],
        "errors": {},
    }
    assert wf.judge_backup_agent_running(facts, {"backup_agent": "commvault"}) == [
        "commvault backup agent service GxClMgrS(Instance001) is Stopped/Disabled, "
        "expected Running/Auto"
    ]


def test_backup_services_named_at_install_replace_the_defaults() -> None:
    facts = {"services": [_service("IBM SP Scheduler (db01)")], "errors": {}}
    hostvars = {"backup_agent": "spectrum_protect"}
    assert wf.judge_backup_agent_running(facts, hostvars)
    hostvars["backup_windows_services"] = ["IBM SP Scheduler (db01)"]  # literal, not a pattern
    assert wf.judge_backup_agent_running(facts, hostvars) == []


def test_backup_applies_only_where_required_and_an_unknown_agent_is_an_error() -> None:
    assert wf.backup_applies({"backup_required": "true"})
    assert not wf.backup_applies({})
    with pytest.raises(LookupError, match="'arcserve' is not one of"):
        wf.judge_backup_agent_running(load("compliant-2022.json"), {"backup_agent": "arcserve"})


@pytest.mark.parametrize(
    ("code_page", "swedish"),
    [(1252, True), (850, True), (437, True), (65001, True), (1250, False), (1251, False)],
)
def test_code_pages_are_judged_by_the_swedish_letters_they_encode(
    code_page: int, swedish: bool
) -> None:
    assert wf.holds_swedish(code_page) is swedish


def test_a_pending_locale_change_is_judged_by_the_code_page_in_effect() -> None:
    facts = load("compliant-2022.json")
    facts["locale"]["ActiveAnsiCodePage"] = 1250  # pl-PL until the host reboots
    assert wf.judge_win_system_locale_swedish(facts, HOSTVARS) == [
        "system locale sv-SE: the ANSI code page in effect is 1250: cannot represent the Swedish "
        f"letters {wf.SWEDISH_LETTERS} for non-Unicode programs"
    ]
    facts["locale"]["ActiveAnsiCodePage"] = 99999
    with pytest.raises(LookupError):
        wf.judge_win_system_locale_swedish(facts, HOSTVARS)
    del facts["locale"]["OemCodePage"]
    with pytest.raises(wf.FactsUnavailable, match="OEMCP"):
        wf.judge_win_system_locale_swedish(facts, HOSTVARS)


def test_approved_remote_software_is_allowed_and_the_rest_found_everywhere() -> None:
    facts = load("drifted.json")
    problems = wf.judge_win_unapproved_remote_software_absent(facts, HOSTVARS)
    text = "; ".join(problems)
    assert "service TeamViewer (Running)" in text
    assert "process ngrok.exe (C:\\Users\\helpdesk\\Downloads\\ngrok.exe)" in text
    assert "service RemoteAccess (Routing and Remote Access) is Running" in text
    assert "forticlient" not in text.split("approved here")[0]
    everything = {"windows_remote_software_allowed": ["forticlient", "teamviewer", "ngrok", "rras"]}
    assert wf.judge_win_unapproved_remote_software_absent(facts, everything) == []
    forti = wf.judge_win_unapproved_remote_software_absent(load("compliant-2022.json"), {})
    assert forti and "(forticlient): installed FortiClient VPN" in forti[0]


@pytest.mark.parametrize(
    ("service", "product"),
    [
        (_service("tvnserver", "TightVNC Server"), "vnc"),
        (_service("uvnc_service", "uvnc_service"), "vnc"),
        (_service("WireGuardTunnel$wg0", "WireGuard Tunnel: wg0"), "wireguard"),
        (_service("OpenVPNServiceInteractive", "OpenVPN Interactive Service"), "openvpn"),
        (_service("ZeroTierOneService", "ZeroTier One"), "zerotier"),
        (_service("Hamachi2Svc", "LogMeIn Hamachi Tunneling Engine"), "hamachi"),
        (_service("AnyDesk", "AnyDesk Service"), "anydesk"),
        (_service("W32Time", "Windows Time"), None),
        (_service("SyncHostSvc", "Sync Host"), None),
    ],
)
def test_remote_software_is_recognised_by_its_service(
    service: dict[str, Any], product: str | None
) -> None:
    facts = {"services": [service], "software": {"Installed": []}, "processes": [], "errors": {}}
    problems = wf.judge_win_unapproved_remote_software_absent(facts, {})
    assert (f"({product}):" in problems[0]) if product else problems == []


def test_an_unknown_approved_product_is_an_error() -> None:
    with pytest.raises(LookupError, match="unknown products \\['fortinet'\\]"):
        wf.judge_win_unapproved_remote_software_absent(
            load("compliant-2022.json"), {"windows_remote_software_allowed": ["fortinet"]}
        )


def test_the_roles_tables_are_the_checks() -> None:
    """The roles find and keep what the checks judge: the same patterns, named once per side."""
    import yaml

    backup = yaml.safe_load((PROJECT / "roles/backup/vars/Windows.yml").read_text())
    assert {k: tuple(v["services"]) for k, v in backup["__backup_windows_agents"].items()} == (
        wf.BACKUP_AGENT_SERVICES
    )
    windows = yaml.safe_load((PROJECT / "roles/services/vars/Windows.yml").read_text())
    assert windows["__services_windows_remote_software"] == wf.REMOTE_SOFTWARE
    assert list(windows["__services_windows_remote_software"]) == list(wf.REMOTE_SOFTWARE)


def test_the_role_looks_only_for_unapproved_products() -> None:
    import yaml

    from driftvakt.rendering import role_vars

    role = PROJECT / "roles" / "services"
    facts = {
        "ansible_os_family": "Windows",
        "ansible_distribution": "Microsoft Windows Server 2025 Standard",
        "ansible_distribution_major_version": "10",
    }
    table = yaml.safe_load((role / "vars" / "Windows.yml").read_text())
    allowed = {"windows_remote_software_allowed": ["forticlient", "rras"]}
    variables = role_vars(role, facts, {**table, **allowed})
    unapproved = variables["__services_windows_remote_unapproved"]
    assert unapproved == {k: v for k, v in wf.REMOTE_SOFTWARE.items() if k != "forticlient"}
    assert list(unapproved) == [k for k in wf.REMOTE_SOFTWARE if k != "forticlient"]


@pytest.mark.parametrize(
    ("remote", "approved"),
    [
        (["10.20.0.5"], True),
        (["10.20.0.0/255.255.255.224"], True),
        (["10.20.0.1-10.20.0.30"], True),
        (["10.20.0.0/24"], False),
        (["Any"], False),
        (["LocalSubnet"], False),
        (["10.20.0.5", "192.0.2.1"], False),
        (["fe80::1"], False),
    ],
)
def test_a_rule_is_approved_only_within_a_path(remote: list[str], approved: bool) -> None:
    rule = {"Protocol": "TCP", "LocalPort": ["5986"], "RemoteAddress": remote}
    paths = wf.host_paths(HOSTVARS)
    assert (wf.approving_path(rule, paths) == "management-winrm") is approved


def test_paths_for_other_hosts_do_not_approve() -> None:
    rule = {"Protocol": "6", "LocalPort": ["5432"], "RemoteAddress": ["10.20.30.11"]}
    assert wf.approving_path(rule, wf.host_paths(HOSTVARS)) is None


def test_windows_facts_reads_the_collect_command_once_per_answer() -> None:
    text = (FIXTURES / "compliant-2022.json").read_text()
    calls: list[str] = []

    def run(command: str) -> SimpleNamespace:
        calls.append(command)
        return SimpleNamespace(rc=0, stdout=text, stderr="")

    host = SimpleNamespace(run=run)
    assert wf.windows_facts(host) is wf.windows_facts(host)
    assert calls == [collect_command(), collect_command()]
    failing = SimpleNamespace(run=lambda c: SimpleNamespace(rc=1, stdout="", stderr="boom"))
    with pytest.raises(wf.FactsUnavailable, match="rc 1"):
        wf.windows_facts(failing)


def test_hosts_are_windows_by_connection_or_os_family() -> None:
    assert is_windows({"ansible_connection": "winrm"})
    assert is_windows({"ansible_connection": "psrp"})
    assert is_windows({"ansible_os_family": "Windows"})
    assert not is_windows({"ansible_connection": "ssh", "ansible_os_family": "Debian"})


def test_the_collect_command_is_short_and_expands_to_the_script() -> None:
    assert len(collect_command()) < 60
    assert expand(collect_command()) == collect_script()
    assert expand("Get-Date") == "Get-Date"


# --- the PowerShell itself: parsed with tree-sitter's PowerShell grammar (no PowerShell here) --


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


def test_certificate_judgement_reads_the_store_as_documented() -> None:
    facts = load("drifted.json")  # self-signed, 1024-bit RSA, SHA-1, 8 days before expiry
    problems = wf.judge_crypto_certificates_valid(facts, HOSTVARS)
    text = "; ".join(problems)
    assert "is self-signed" in text
    assert "RSA key of 1024 bits" in text
    assert "signed with SHA1" in text
    good = load("compliant-2022.json")
    by_subject = {
        **HOSTVARS,
        "crypto_certificates": [{"subject": "CN=win01.region.example, O=Region Example, C=SE"}],
    }
    assert wf.judge_crypto_certificates_valid(good, by_subject) == []
    good["certificates"][0]["ChainStatus"] = ["Revoked"]
    assert "is revoked" in "; ".join(wf.judge_crypto_certificates_valid(good, HOSTVARS))
    missing = {**HOSTVARS, "crypto_certificates": [{"thumbprint": "00" * 20}]}
    assert wf.judge_crypto_certificates_valid(load("compliant-2025.json"), missing) == [
        f"certificate {'00' * 20} is not in LocalMachine\\My"
    ]
    with pytest.raises(ValueError, match="crypto_approved_cas"):
        wf.judge_crypto_certificates_valid(good, {**HOSTVARS, "crypto_approved_cas": []})
