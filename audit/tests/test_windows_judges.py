"""The Windows judges of each concern, case by case, on the documented-shape fixtures
(windowskit.py); the checks as a whole are exercised in test_windows_eval.py."""

from __future__ import annotations

from typing import Any

import pytest
from windowskit import HOSTVARS, PROJECT, load

from driftvakt_checks import (
    windows_antivirus,
    windows_backup,
    windows_crypto,
    windows_firewall,
    windows_patching,
    windows_platform,
    windows_remote_software,
    windows_timesync,
)
from driftvakt_checks.firewall_paths import inventory_paths
from driftvakt_checks.windows_facts import FactsUnavailable


def test_a_missing_inventory_value_is_an_error() -> None:
    with pytest.raises(LookupError, match="timesync_ntp_servers"):
        windows_timesync.judge_ntp_region_servers(load("compliant-2022.json"), {})


def test_update_age_counts_from_release_date() -> None:
    facts = load("compliant-2022.json")  # released 2025-06-10T17:00, collected 39 h later
    assert windows_patching.judge_win_updates_critical_48h(facts, HOSTVARS) == []
    facts["collected"] = "2025-06-12T17:00:01.0000000Z"  # 48 h and a second
    assert windows_patching.judge_win_updates_critical_48h(facts, HOSTVARS)
    assert (
        windows_patching.judge_win_updates_critical_48h(facts, {"windows_patch_max_age_hours": 72})
        == []
    )


def test_other_antivirus_vendors_are_judged_by_their_services() -> None:
    facts = load("drifted.json")  # Defender drifted, but the region uses another vendor
    facts["services"].append(
        {"Name": "fsdevcon", "State": "Running", "StartMode": "Auto", "StartName": "LocalSystem"}
    )
    assert (
        windows_antivirus.judge_win_antivirus_active(
            facts, {"windows_antivirus_services": ["fsdevcon"]}
        )
        == []
    )
    assert windows_antivirus.judge_win_antivirus_active(
        facts, {"windows_antivirus_services": ["ntrtscan"]}
    ) == ["antivirus service ntrtscan: missing"]


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
    problems = windows_backup.judge_backup_agent_running(facts, {"backup_agent": agent})
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
    assert windows_backup.judge_backup_agent_running(facts, {"backup_agent": "commvault"}) == [
        "commvault backup agent service GxClMgrS(Instance001) is Stopped/Disabled, "
        "expected Running/Auto"
    ]


def test_backup_services_named_at_install_replace_the_defaults() -> None:
    facts = {"services": [_service("IBM SP Scheduler (db01)")], "errors": {}}
    hostvars = {"backup_agent": "spectrum_protect"}
    assert windows_backup.judge_backup_agent_running(facts, hostvars)
    hostvars["backup_windows_services"] = ["IBM SP Scheduler (db01)"]  # literal, not a pattern
    assert windows_backup.judge_backup_agent_running(facts, hostvars) == []


def test_backup_applies_only_where_required_and_an_unknown_agent_is_an_error() -> None:
    assert windows_backup.backup_applies({"backup_required": "true"})
    assert not windows_backup.backup_applies({})
    with pytest.raises(LookupError, match="'arcserve' is not one of"):
        windows_backup.judge_backup_agent_running(
            load("compliant-2022.json"), {"backup_agent": "arcserve"}
        )


@pytest.mark.parametrize(
    ("code_page", "swedish"),
    [(1252, True), (850, True), (437, True), (65001, True), (1250, False), (1251, False)],
)
def test_code_pages_are_judged_by_the_swedish_letters_they_encode(
    code_page: int, swedish: bool
) -> None:
    assert windows_platform.holds_swedish(code_page) is swedish


def test_a_pending_locale_change_is_judged_by_the_code_page_in_effect() -> None:
    facts = load("compliant-2022.json")
    facts["locale"]["ActiveAnsiCodePage"] = 1250  # pl-PL until the host reboots
    assert windows_platform.judge_win_system_locale_swedish(facts, HOSTVARS) == [
        "system locale sv-SE: the ANSI code page in effect is 1250: cannot represent the Swedish "
        f"letters {windows_platform.SWEDISH_LETTERS} for non-Unicode programs"
    ]
    facts["locale"]["ActiveAnsiCodePage"] = 99999
    with pytest.raises(LookupError):
        windows_platform.judge_win_system_locale_swedish(facts, HOSTVARS)
    del facts["locale"]["OemCodePage"]
    with pytest.raises(FactsUnavailable, match="OEMCP"):
        windows_platform.judge_win_system_locale_swedish(facts, HOSTVARS)


def test_approved_remote_software_is_allowed_and_the_rest_found_everywhere() -> None:
    facts = load("drifted.json")
    problems = windows_remote_software.judge_win_unapproved_remote_software_absent(facts, HOSTVARS)
    text = "; ".join(problems)
    assert "service TeamViewer (Running)" in text
    assert "process ngrok.exe (C:\\Users\\helpdesk\\Downloads\\ngrok.exe)" in text
    assert "service RemoteAccess (Routing and Remote Access) is Running" in text
    assert "forticlient" not in text.split("approved here")[0]
    everything = {"windows_remote_software_allowed": ["forticlient", "teamviewer", "ngrok", "rras"]}
    assert (
        windows_remote_software.judge_win_unapproved_remote_software_absent(facts, everything) == []
    )
    forti = windows_remote_software.judge_win_unapproved_remote_software_absent(
        load("compliant-2022.json"), {}
    )
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
    facts = {
        "services": [service],
        "software": {"Installed": [], "PluginPaths": []},
        "processes": [],
        "errors": {},
    }
    problems = windows_remote_software.judge_win_unapproved_remote_software_absent(facts, {})
    assert (f"({product}):" in problems[0]) if product else problems == []


def test_an_unknown_approved_product_is_an_error() -> None:
    with pytest.raises(LookupError, match="unknown products \\['fortinet'\\]"):
        windows_remote_software.judge_win_unapproved_remote_software_absent(
            load("compliant-2022.json"), {"windows_remote_software_allowed": ["fortinet"]}
        )


def test_the_roles_tables_are_the_checks() -> None:
    """The roles find and keep what the checks judge: the same patterns, named once per side."""
    import yaml

    backup = yaml.safe_load((PROJECT / "roles/backup/vars/Windows.yml").read_text())
    assert {k: tuple(v["services"]) for k, v in backup["__backup_windows_agents"].items()} == (
        windows_backup.BACKUP_AGENT_SERVICES
    )
    windows = yaml.safe_load((PROJECT / "roles/services/vars/Windows.yml").read_text())
    assert windows["__services_windows_remote_software"] == windows_remote_software.REMOTE_SOFTWARE
    assert list(windows["__services_windows_remote_software"]) == list(
        windows_remote_software.REMOTE_SOFTWARE
    )  # match order


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
    assert unapproved == {
        k: v for k, v in windows_remote_software.REMOTE_SOFTWARE.items() if k != "forticlient"
    }
    assert list(unapproved) == [
        k for k in windows_remote_software.REMOTE_SOFTWARE if k != "forticlient"
    ]


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
    paths = inventory_paths(HOSTVARS)
    assert (windows_firewall.approving_path(rule, paths) == "management-winrm") is approved


def test_paths_for_other_hosts_do_not_approve() -> None:
    rule = {"Protocol": "6", "LocalPort": ["5432"], "RemoteAddress": ["10.20.30.11"]}
    assert windows_firewall.approving_path(rule, inventory_paths(HOSTVARS)) is None


@pytest.mark.parametrize("port", ["Any", "5985-5986", "RPC"])
def test_a_rule_for_any_port_or_a_range_is_not_a_path(port: str) -> None:
    rule = {"Protocol": "TCP", "LocalPort": [port], "RemoteAddress": ["10.20.0.5"]}
    assert windows_firewall.approving_path(rule, inventory_paths(HOSTVARS)) is None


def test_certificate_judgement_reads_the_store_as_documented() -> None:
    facts = load("drifted.json")  # self-signed, 1024-bit RSA, SHA-1, 8 days before expiry
    problems = windows_crypto.judge_crypto_certificates_valid(facts, HOSTVARS)
    text = "; ".join(problems)
    assert "is self-signed" in text
    assert "RSA key of 1024 bits" in text
    assert "signed with SHA1" in text
    good = load("compliant-2022.json")
    by_subject = {
        **HOSTVARS,
        "crypto_certificates": [{"subject": "CN=win01.region.example, O=Region Example, C=SE"}],
    }
    assert windows_crypto.judge_crypto_certificates_valid(good, by_subject) == []
    good["certificates"][0]["ChainStatus"] = ["Revoked"]
    assert "is revoked" in "; ".join(windows_crypto.judge_crypto_certificates_valid(good, HOSTVARS))
    missing = {**HOSTVARS, "crypto_certificates": [{"thumbprint": "00" * 20}]}
    assert windows_crypto.judge_crypto_certificates_valid(load("compliant-2025.json"), missing) == [
        f"certificate {'00' * 20} is not in LocalMachine\\My"
    ]
    with pytest.raises(LookupError, match="crypto_approved_cas"):
        windows_crypto.judge_crypto_certificates_valid(
            good, {**HOSTVARS, "crypto_approved_cas": []}
        )


def test_security_updates_are_known_by_category_id_in_any_ui_language() -> None:
    """ICategory.Name follows the session's language: a Swedish host names Security Updates
    differently. Microsoft Learn, "WSUS Classification GUIDs": "SecurityUpdates |
    0FA1201D-4330-4FA8-8AE9-B877473B6441", "CriticalUpdates |
    E6CF1350-C01B-414D-A61F-263D14D133B4"."""
    facts = load("compliant-2022.json")
    facts["collected"] = "2025-06-20T17:00:00.0000000Z"  # ten days after the release
    update = facts["updates"][1]
    update.update(
        MsrcSeverity="Important",
        Categories=["Säkerhetsuppdateringar"],
        CategoryIDs=["0FA1201D-4330-4FA8-8AE9-B877473B6441"],
    )
    assert "KB5060526" in windows_patching.judge_win_updates_critical_48h(facts, HOSTVARS)[0]
    update.update(
        Categories=["Kritiska uppdateringar"], CategoryIDs=[windows_patching.CRITICAL_UPDATES]
    )
    assert windows_patching.judge_win_updates_critical_48h(facts, HOSTVARS)
    # The English name alone no longer decides: a definition update named "Security Updates".
    update.update(
        Categories=["Security Updates"], CategoryIDs=["e0789628-ce08-4437-be74-2495b842f43b"]
    )
    assert windows_patching.judge_win_updates_critical_48h(facts, HOSTVARS) == []
