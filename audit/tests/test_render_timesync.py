"""The timesync role's platform paths and rendered chrony.conf, for every family (no host)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftvakt.rendering import FAMILY_FACTS, render_template, role_vars
from driftvakt_checks import test_timesync as CHECK

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "timesync"
REGION = ["ntp1.region.example", "10.20.30.40"]

EXPECTED = {
    "debian12": ("/etc/chrony/chrony.conf", "chrony", "/var/lib/chrony/chrony.drift"),
    "rhel8": ("/etc/chrony.conf", "chronyd", "/var/lib/chrony/drift"),
    "rhel9": ("/etc/chrony.conf", "chronyd", "/var/lib/chrony/drift"),
    "rhel10": ("/etc/chrony.conf", "chronyd", "/var/lib/chrony/drift"),
    "sles15": ("/etc/chrony.conf", "chronyd", "/var/lib/chrony/drift"),
}


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    facts = FAMILY_FACTS[family]
    ansible_facts = {k.removeprefix("ansible_"): v for k, v in facts.items()}
    variables: dict[str, Any] = role_vars(
        ROLE, facts, {"ansible_facts": ansible_facts, "timesync_ntp_servers": REGION, **extra}
    )
    return variables


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_platform_paths_package_and_service(family: str) -> None:
    variables = _vars(family)
    conf, service, driftfile = EXPECTED[family]
    assert variables["__timesync_conf_path"] == conf
    assert variables["__timesync_service"] == service
    assert variables["__timesync_packages"] == ["chrony"]
    assert variables["__timesync_driftfile"] == driftfile


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_rendered_config_has_only_the_region_servers(family: str) -> None:
    variables = _vars(family)
    text = render_template(ROLE, "etc/chrony.conf.j2", variables)
    directives = CHECK.parse_directives(text)
    assert CHECK.configured_sources(directives) == [("server", s) for s in REGION]
    assert CHECK.included_globs(directives) == []  # nothing else can add a source
    assert f"driftfile {EXPECTED[family][2]}" in text
    assert "server 10.20.30.40 iburst" in text
    assert text.startswith("#")  # ansible_managed comes first


def test_server_options_can_be_empty() -> None:
    text = render_template(
        ROLE, "etc/chrony.conf.j2", _vars("rhel9", timesync_ntp_server_options="")
    )
    assert "server 10.20.30.40\n" in text
