"""Backup: the agent of the backup product the host needs is installed, enabled and running.

Requirements SKA-SRV-07 (backup in full operation of database, application server and
configuration) and RST-9.8.1 (business-critical information backed up at least daily). The
inventory says which hosts need an agent (``backup_required``) and which product
(``backup_agent``); elsewhere the control is not applicable. That backups actually complete is
the backup product's own report; the host can prove that its agent runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from . import windows_backup
from .systemd_units import describe, enabled_and_running, installed, unit_states
from .windows_facts import windows_facts

# backup_agent -> its agent's systemd services (at least one enabled at boot and running).
AGENTS: dict[str, tuple[str, ...]] = {
    "veeam": ("veeamservice",),
    "commvault": ("commvault",),
    "spectrum_protect": ("dsmcad",),
    "netbackup": ("vxpbx_exchanged", "bpcd"),
    "bareos": ("bareos-fd",),
    "bacula": ("bacula-fd",),
}


def applies(hostvars: dict[str, Any]) -> bool:
    """backup_required in the inventory, as YAML or as a string."""
    return str(hostvars.get("backup_required", False)).strip().lower() in ("true", "yes", "1")


@pytest.mark.control("backup_agent_running")
def test_backup_agent_is_installed_enabled_and_running(host: Any, hostvars: dict[str, Any]) -> None:
    if not applies(hostvars):
        pytest.skip("not applicable: backup_required is not true for this host in the inventory")
    agent = str(hostvars.get("backup_agent") or "")
    assert agent in AGENTS, (
        f"backup_required is true but backup_agent '{agent}' is not one of {sorted(AGENTS)}"
    )
    services = AGENTS[agent]
    units = unit_states(host, services)
    state = describe(units)
    assert installed(units), (
        f"the {agent} backup agent is not installed: none of its services exists ({state})"
    )
    running = enabled_and_running(units)
    assert running, f"no {agent} backup agent service is enabled at boot and running: {state}"


# --- Windows Server (one collection per host, judged in windows_backup.py) ------------------------


@pytest.mark.windows
@pytest.mark.control("backup_agent_running")
def test_windows_backup_agent_running(host: Any, hostvars: dict[str, Any]) -> None:
    if not windows_backup.backup_applies(hostvars):
        pytest.skip("not applicable: backup_required is not true for this host in the inventory")
    found = windows_backup.judge_backup_agent_running(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
