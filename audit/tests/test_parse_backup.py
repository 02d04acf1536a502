"""The pure parts of tests/test_backup.py: applicability and captured systemctl output."""

from __future__ import annotations

import pytest

from driftvakt_checks import systemd_units as UNITS
from driftvakt_checks import test_backup as CHECK


@pytest.mark.parametrize(
    ("hostvars", "expected"),
    [
        ({}, False),
        ({"backup_required": False}, False),
        ({"backup_required": True}, True),
        ({"backup_required": "true"}, True),
        ({"backup_required": "no"}, False),
    ],
)
def test_applies_only_where_the_inventory_requires_backup(
    hostvars: dict[str, object], expected: bool
) -> None:
    assert CHECK.applies(hostvars) is expected


def test_units_running_stopped_and_absent() -> None:
    out = "bacula-fd enabled active\n"
    assert UNITS.parse_units(out) == {"bacula-fd": ("enabled", "active")}
    drifted = UNITS.parse_units("vxpbx_exchanged disabled inactive\nbpcd absent inactive\n")
    assert drifted == {
        "vxpbx_exchanged": ("disabled", "inactive"),
        "bpcd": ("absent", "inactive"),
    }


def test_every_agent_has_services() -> None:
    for agent, services in CHECK.AGENTS.items():
        assert services, agent
