"""The file_integrity role's platform paths and rendered timer units, for every family (no host)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftvakt.rendering import FAMILY_FACTS, family_vars, render_template
from driftvakt_checks import test_file_integrity as CHECK

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "file_integrity"

EXPECTED = {
    "debian12": ("/etc/aide/aide.conf", "/var/lib/aide/aide.db", "dailyaidecheck.timer", False),
    "rhel8": ("/etc/aide.conf", "/var/lib/aide/aide.db.gz", "driftvakt-aide-check.timer", True),
    "rhel9": ("/etc/aide.conf", "/var/lib/aide/aide.db.gz", "driftvakt-aide-check.timer", True),
    "rhel10": ("/etc/aide.conf", "/var/lib/aide/aide.db.gz", "driftvakt-aide-check.timer", True),
    "sles15": ("/etc/aide.conf", "/var/lib/aide/aide.db", "driftvakt-aide-check.timer", True),
}


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    return family_vars(ROLE, family, **extra)


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_platform_paths_and_timer(family: str) -> None:
    variables = _vars(family)
    config, database, timer, own = EXPECTED[family]
    assert variables["__file_integrity_config"] == config
    assert variables["__file_integrity_database"] == database
    assert variables["__file_integrity_timer"] == timer
    assert variables["__file_integrity_own_timer"] is own
    # what the role creates is what the check looks for
    assert config in CHECK.AIDE_CONFIGS
    assert database in CHECK.AIDE_DATABASES
    assert timer in CHECK.AIDE_TIMERS
    # the database the initialisation leaves behind is the one `creates` waits for
    assert variables["__file_integrity_init"].split()[0] in ("aide", "aideinit")
    if own:
        assert variables["__file_integrity_init"].endswith(f" {database}")


@pytest.mark.parametrize("family", ["rhel8", "rhel9", "rhel10", "sles15"])
def test_rendered_units_run_aide_daily(family: str) -> None:
    variables = _vars(family)
    service = render_template(ROLE, "etc/systemd/system/driftvakt-aide-check.service.j2", variables)
    timer = render_template(ROLE, "etc/systemd/system/driftvakt-aide-check.timer.j2", variables)
    assert service.startswith("#")
    assert timer.startswith("#")
    # no fixed path: SUSE installs /usr/bin/aide, RHEL /usr/sbin/aide (issue 15)
    starts = [line for line in service.splitlines() if line.startswith("ExecStart=")]
    assert starts == ["ExecStart=/bin/sh -c 'exec aide --check --config /etc/aide.conf'"]
    assert "OnCalendar=*-*-* 04:30:00" in timer
    assert "WantedBy=timers.target" in timer


def test_calendar_is_configurable() -> None:
    variables = _vars("rhel9", file_integrity_check_calendar="daily")
    timer = render_template(ROLE, "etc/systemd/system/driftvakt-aide-check.timer.j2", variables)
    assert "OnCalendar=daily\n" in timer
