"""Reading systemd units for the checks: which of a product's units exist, are enabled at boot
and are running. Shared by every check that asks "is this agent installed and running"."""

from __future__ import annotations

from typing import Any


def parse_units(output: str) -> dict[str, tuple[str, str]]:
    """Lines ``<unit> <is-enabled> <is-active>`` -> {unit: (enabled, active)}."""
    units = {}
    for line in output.splitlines():
        fields = line.split()
        if fields:
            padded = [*fields, "unknown", "unknown"]
            units[fields[0]] = (padded[1], padded[2])
    return units


def unit_states(host: Any, units: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """One command for all units; a unit that does not exist is ``absent``."""
    out = host.run(
        f"for u in {' '.join(units)}; do "
        "e=$(systemctl is-enabled $u 2>/dev/null); "
        'echo "$u ${e:-absent} $(systemctl is-active $u)"; '
        "done"
    )
    return parse_units(out.stdout)


def describe(units: dict[str, tuple[str, str]]) -> str:
    return "; ".join(f"{u}: {e}, {a}" for u, (e, a) in units.items())


def installed(units: dict[str, tuple[str, str]]) -> bool:
    return any(enabled != "absent" for enabled, _ in units.values())


def enabled_and_running(units: dict[str, tuple[str, str]]) -> list[str]:
    return [u for u, (e, a) in units.items() if e == "enabled" and a == "active"]
