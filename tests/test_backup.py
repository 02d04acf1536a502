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

# backup_agent -> its agent's systemd services (at least one enabled at boot and running).
AGENTS: dict[str, tuple[str, ...]] = {
    "veeam": ("veeamservice",),
    "commvault": ("commvault",),
    "spectrum_protect": ("dsmcad",),
    "netbackup": ("vxpbx_exchanged", "bpcd"),
    "bareos": ("bareos-fd",),
    "bacula": ("bacula-fd",),
}


def parse_units(output: str) -> dict[str, tuple[str, str]]:
    """Lines ``<unit> <is-enabled> <is-active>`` -> {unit: (enabled, active)}."""
    units = {}
    for line in output.splitlines():
        fields = line.split()
        if fields:
            padded = [*fields, "unknown", "unknown"]
            units[fields[0]] = (padded[1], padded[2])
    return units


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
    out = host.run(
        f"for u in {' '.join(services)}; do "
        "e=$(systemctl is-enabled $u 2>/dev/null); "
        'echo "$u ${e:-absent} $(systemctl is-active $u)"; '
        "done"
    )
    units = parse_units(out.stdout)
    state = "; ".join(f"{u}: {e}, {a}" for u, (e, a) in units.items())
    assert any(e != "absent" for e, _ in units.values()), (
        f"the {agent} backup agent is not installed: none of its services exists ({state})"
    )
    running = [u for u, (e, a) in units.items() if e == "enabled" and a == "active"]
    assert running, f"no {agent} backup agent service is enabled at boot and running: {state}"
