"""Windows Server 2022/2025 checks: one PowerShell collection per host, judged in Python.

Every check reads the host's single JSON collection (``windows_facts``; the audit fetches it in
one WinRM round trip) and asks a pure judge in ``tests/windows_facts.py``. Checks marked
``windows`` run only on Windows hosts (``tests/conftest.py``); where the idea is the same as a
Linux control they carry its ID (time sync, firewall, backup), else a ``win_`` ID from
``audit/driftvakt/catalog/controls/windows.yml``. Expected values come from the inventory, as
for the roles (``timesync_ntp_servers``, ``firewall_approved_paths``, ``windows_local_admins``,
``logging_central_host``, ``session_lock_tmout``...).
"""

from __future__ import annotations

from typing import Any

import pytest

from . import windows_facts as wf

pytestmark = pytest.mark.windows


def _verdict(host: Any, hostvars: dict[str, Any], control: str) -> None:
    problems = wf.JUDGES[control](wf.windows_facts(host), hostvars)
    assert not problems, "; ".join(problems)


@pytest.mark.control("ntp_region_servers")
def test_windows_ntp_region_servers(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "ntp_region_servers")


@pytest.mark.control("ntp_service_enabled")
def test_windows_ntp_service_enabled(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "ntp_service_enabled")


@pytest.mark.control("ntp_source_selected")
def test_windows_ntp_source_selected(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "ntp_source_selected")


@pytest.mark.control("win_updates_critical_48h")
def test_windows_updates_critical_48h(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_updates_critical_48h")


@pytest.mark.control("win_antivirus_active")
def test_windows_antivirus_active(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_antivirus_active")


@pytest.mark.control("win_spooler_disabled")
def test_windows_spooler_disabled(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_spooler_disabled")


@pytest.mark.control("win_smb1_removed")
def test_windows_smb1_removed(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_smb1_removed")


@pytest.mark.control("win_app_services_least_privilege")
def test_windows_app_services_least_privilege(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_app_services_least_privilege")


@pytest.mark.control("firewall_inbound_default_deny")
def test_windows_firewall_inbound_default_deny(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "firewall_inbound_default_deny")


@pytest.mark.control("firewall_approved_paths_only")
def test_windows_firewall_approved_paths_only(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "firewall_approved_paths_only")


@pytest.mark.control("win_local_admins_approved")
def test_windows_local_admins_approved(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_local_admins_approved")


@pytest.mark.control("win_builtin_accounts")
def test_windows_builtin_accounts(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_builtin_accounts")


@pytest.mark.control("win_password_policy")
def test_windows_password_policy(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_password_policy")


@pytest.mark.control("win_no_blank_passwords")
def test_windows_no_blank_passwords(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_no_blank_passwords")


@pytest.mark.control("win_rdp_nla_tls")
def test_windows_rdp_nla_tls(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_rdp_nla_tls")


@pytest.mark.control("win_rdp_idle_limit")
def test_windows_rdp_idle_limit(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_rdp_idle_limit")


@pytest.mark.control("win_winrm_https_only")
def test_windows_winrm_https_only(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_winrm_https_only")


@pytest.mark.control("win_schannel_protocols")
def test_windows_schannel_protocols(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_schannel_protocols")


@pytest.mark.control("win_schannel_ciphers")
def test_windows_schannel_ciphers(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_schannel_ciphers")


@pytest.mark.control("win_audit_policy")
def test_windows_audit_policy(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_audit_policy")


@pytest.mark.control("win_security_log_size")
def test_windows_security_log_size(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_security_log_size")


@pytest.mark.control("win_event_forwarding")
def test_windows_event_forwarding(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_event_forwarding")


@pytest.mark.control("win_session_lock")
def test_windows_session_lock(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_session_lock")


@pytest.mark.control("crypto_certificates_valid")
def test_windows_certificates_valid(host: Any, hostvars: dict[str, Any]) -> None:
    if not hostvars.get("crypto_certificates"):
        pytest.skip("not applicable: the inventory names no certificates (crypto_certificates)")
    _verdict(host, hostvars, "crypto_certificates_valid")


@pytest.mark.control("win_browser_plugins_absent")
def test_windows_browser_plugins_absent(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_browser_plugins_absent")


@pytest.mark.control("win_os_supported")
def test_windows_os_supported(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_os_supported")


@pytest.mark.control("backup_agent_running")
def test_windows_backup_agent_running(host: Any, hostvars: dict[str, Any]) -> None:
    if not wf.backup_applies(hostvars):
        pytest.skip("not applicable: backup_required is not true for this host in the inventory")
    _verdict(host, hostvars, "backup_agent_running")


@pytest.mark.control("win_system_locale_swedish")
def test_windows_system_locale_swedish(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_system_locale_swedish")


@pytest.mark.control("win_unapproved_remote_software_absent")
def test_windows_unapproved_remote_software_absent(host: Any, hostvars: dict[str, Any]) -> None:
    _verdict(host, hostvars, "win_unapproved_remote_software_absent")
