"""The inventory checked before any host is contacted, as ``driftvakt audit`` and
``driftvakt inventory check`` run it (the rules: inventory_check.py)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from driftvakt.catalog import controls
from driftvakt.exitcodes import Exit
from driftvakt.inventory import Target, targets
from driftvakt.inventory_check import InventoryCheck, check_inventory, role_specs, wanted_variables
from driftvakt.needs import suite_needs
from driftvakt.waivers import Waiver, default_path, load


def checked_inventory(
    inventory: str, limit: str | None, waivers_path: Path | None, project: Path
) -> tuple[list[Target], list[Waiver], InventoryCheck]:
    """The hosts, the waivers, and each host's inventory checked: before any host is contacted,
    a host's unusable settings are one line each and decide that host's affected controls
    (error, kind config); its other controls and the rest of the fleet run."""
    needs, specs = suite_needs(), role_specs(project / "roles")
    hosts = targets(inventory, limit, wanted_variables(needs, specs))
    waivers_file = waivers_path or default_path(inventory)
    exists = waivers_path or waivers_file.exists()
    waivers = load(waivers_file, set(controls())) if exists else []
    today = datetime.now(UTC).date()
    return hosts, waivers, check_inventory(hosts, needs, specs, waivers, today, inventory)


def run_inventory_check(
    inventory: str, limit: str | None, waivers_path: Path | None, project: Path
) -> int:
    """``driftvakt inventory check``: every problem one line on stdout; no host is contacted."""
    hosts, _, checked = checked_inventory(inventory, limit, waivers_path, project.resolve())
    for line in checked.lines():
        print(line)
    hosts_with = len({p.host for p in checked.problems})
    print(
        f"inventory {inventory}: {len(hosts)} host(s), {len(checked.problems)} problem(s)"
        f" on {hosts_with} host(s)",
        file=sys.stderr,
    )
    return Exit.BAD_INPUT if checked.problems else Exit.OK
