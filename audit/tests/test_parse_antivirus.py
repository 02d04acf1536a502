"""The pure parsers of tests/test_antivirus.py, on captured systemctl, stat and agent output."""

from __future__ import annotations

from driftvakt_checks import systemd_units as UNITS
from driftvakt_checks import test_antivirus as CHECK


def test_units_running_disabled_and_absent() -> None:
    out = "clamav-daemon enabled active\nclamd@scan absent inactive\nclamd absent inactive\n"
    units = UNITS.parse_units(out)
    assert units["clamav-daemon"] == ("enabled", "active")
    assert units["clamd@scan"] == ("absent", "inactive")
    drifted = UNITS.parse_units("clamav-daemon disabled inactive\n")
    assert drifted == {"clamav-daemon": ("disabled", "inactive")}


def test_mtimes_with_the_hosts_clock() -> None:
    # Debian 12 lab host, offline signature database aged by the drift scenario.
    out = "now 1795466000\n1795034000 /var/lib/clamav/driftvakt-local.ndb\n"
    now, mtimes = CHECK.parse_mtimes(out)
    assert now == 1795466000
    assert mtimes == {"/var/lib/clamav/driftvakt-local.ndb": 1795034000}
    assert (now - mtimes["/var/lib/clamav/driftvakt-local.ndb"]) / 3600 == 120


def test_mtimes_without_databases() -> None:
    assert CHECK.parse_mtimes("now 1795466000\n") == (1795466000, {})
    assert CHECK.parse_mtimes("") == (None, {})


def test_minutes_from_an_agent() -> None:
    assert CHECK.parse_minutes("37\n") == 37
    assert CHECK.parse_minutes('"1440"\n') == 1440
    assert CHECK.parse_minutes("ERROR: No license found. Contact your administrator.\n") is None
    assert CHECK.parse_minutes("") is None


def test_every_vendor_has_services() -> None:
    assert CHECK.DEFAULT_VENDOR in CHECK.VENDORS
    for vendor, (services, _probe) in CHECK.VENDORS.items():
        assert services, vendor
