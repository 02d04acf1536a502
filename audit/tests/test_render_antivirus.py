"""The antivirus role's vendor table, platform units and offline signature database (no host)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftvakt.rendering import FAMILY_FACTS, family_vars, render_template
from driftvakt_checks import test_antivirus as CHECK

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "antivirus"

EXPECTED = {
    "debian12": ("clamav-daemon", "clamav-freshclam", True),
    "rhel8": ("clamd@scan", "clamav-freshclam", False),
    "rhel9": ("clamd@scan", "clamav-freshclam", False),
    "rhel10": ("clamd@scan", "clamav-freshclam", False),
    "sles15": ("clamd", "freshclam", False),
}
NDB_LINE = re.compile(r"^[^:\s]+:\d+:(\*|\d+):[0-9a-f]+$")


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    return family_vars(ROLE, family, **extra)


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_platform_clamav_units(family: str) -> None:
    variables = _vars(family)
    service, freshclam, dropin = EXPECTED[family]
    vendor = variables["__antivirus_vendor"]
    assert vendor["managed"] is True
    assert vendor["services"] == [service]
    assert vendor["packages"] == variables["__antivirus_clamav_packages"]
    assert variables["__antivirus_clamav_freshclam_service"] == freshclam
    assert variables["__antivirus_clamav_condition_dropin"] is dropin
    # what the role starts is what the check looks for
    assert service in CHECK.VENDORS["clamav"][0]


def test_online_site_enables_freshclam_after_the_one_off_fetch() -> None:
    # On RHEL (EPEL) and SLES the package leaves freshclam's service to the presets, which
    # disable it: without this task the definitions go stale between role runs (issue 15).
    tasks = yaml.safe_load((ROLE / "tasks" / "antivirus_definitions_fresh.yml").read_text())
    names = [t["name"] for t in tasks]
    (task,) = [t for t in tasks if "enabled and running (online site)" in t["name"]]
    unit = task["ansible.builtin.systemd_service"]
    assert unit == {
        "name": "{{ __antivirus_clamav_freshclam_service }}",
        "state": "started",
        "enabled": True,
    }
    assert "not (antivirus_clamav_offline_signatures | bool)" in task["when"]
    fetch = names.index("antivirus_definitions_fresh | Fetch new ClamAV signatures with freshclam")
    assert names.index(task["name"]) > fetch


def test_vendor_table_matches_the_check() -> None:
    variables = _vars("debian12")
    table = variables["__antivirus_vendors"]
    assert set(table) == set(CHECK.VENDORS)
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    assert specs["argument_specs"]["main"]["options"]["antivirus_vendor"]["choices"] == list(table)
    for vendor, entry in table.items():
        services, probe = CHECK.VENDORS[vendor]
        if vendor != "clamav":
            assert tuple(entry["services"]) == services, vendor
            assert entry["managed"] is False
        # the role reads the age the same way the check does, where it can
        if "age_minutes" in entry:
            assert probe is not None
            assert entry["age_minutes"].removeprefix("/usr/bin/") == probe
        for command in (entry.get("update"), entry.get("age_minutes")):
            assert command is None or command.startswith("/"), f"{vendor}: {command}"


def test_database_patterns_and_refresh_age() -> None:
    variables = _vars("debian12")
    patterns = variables["__antivirus_clamav_database_patterns"]
    assert [p.removeprefix("*.") for p in patterns] == list(CHECK.CLAMAV_DATABASE_TYPES)
    assert variables["__antivirus_clamav_database_dir"] == CHECK.CLAMAV_DATABASE_DIR
    assert int(variables["__antivirus_refresh_hours"]) == 24
    assert (
        int(_vars("debian12", antivirus_max_definition_age_hours=1)["__antivirus_refresh_hours"])
        == 1
    )


def test_offline_database_holds_one_harmless_signature() -> None:
    variables = _vars("debian12")
    path = Path(variables["__antivirus_clamav_offline_database"])
    assert path.parent == Path(CHECK.CLAMAV_DATABASE_DIR)
    assert path.suffix.removeprefix(".") in CHECK.CLAMAV_DATABASE_TYPES
    lines = (ROLE / "files" / path.name).read_text().splitlines()
    assert len(lines) == 1
    assert NDB_LINE.match(lines[0]), lines[0]
    assert bytes.fromhex(lines[0].rsplit(":", 1)[1]) == b"DRIFTVAKT-OFFLINE-TEST-SIGNATURE"


def test_offline_dropin_lets_clamav_daemon_start_on_the_local_database() -> None:
    variables = _vars("debian12")
    dropin = render_template(ROLE, "etc/systemd/system/clamav-offline.conf.j2", variables)
    assert dropin.startswith("#")
    assert "\nConditionPathExistsGlob=\n" in dropin
    assert "ConditionPathExistsGlob=/var/lib/clamav/driftvakt-local.ndb\n" in dropin


def test_rhel_scan_conf_lines() -> None:
    lines = _vars("rhel9")["__antivirus_clamav_config_lines"]
    assert _vars("rhel9")["__antivirus_clamav_config"] == "/etc/clamd.d/scan.conf"
    assert [entry["line"] for entry in lines] == [
        "#Example",
        "LocalSocket /run/clamd.scan/clamd.sock",
    ]
    assert re.match(lines[0]["regexp"], "Example")
    assert re.match(lines[1]["regexp"], "#LocalSocket /run/clamd.scan/clamd.sock")


def test_defaults_agree_with_the_check() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults["antivirus_vendor"] == CHECK.DEFAULT_VENDOR
    assert defaults["antivirus_max_definition_age_hours"] == CHECK.DEFAULT_MAX_AGE_HOURS
