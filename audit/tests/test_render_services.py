"""The services role's forbidden packages and modprobe.d file, for every family (no host)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from driftvakt.rendering import FAMILY_FACTS, family_vars, render_template
from driftvakt_checks import services_apps as APPS
from driftvakt_checks import services_listeners as LISTEN
from driftvakt_checks import services_packages as PACKAGES

PROJECT = Path(__file__).resolve().parents[2]
ROLE = PROJECT / "roles" / "services"
CHECK_FAMILY = {"Debian": "debian", "RedHat": "redhat", "Suse": "suse"}


def _vars(family: str, **extra: Any) -> dict[str, Any]:
    return family_vars(ROLE, family, **extra)


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_role_removes_what_the_check_forbids(family: str) -> None:
    variables = _vars(family)
    check_family = CHECK_FAMILY[FAMILY_FACTS[family]["ansible_os_family"]]
    assert (
        tuple(variables["__services_forbidden_packages"])
        == PACKAGES.FORBIDDEN_PACKAGES[check_family]
    )
    for name in ("telnet", "vnc", "openvpn", "wireguard-tools", "teamviewer", "anydesk"):
        assert any(name in pkg.lower() for pkg in variables["__services_forbidden_packages"]), name


def test_role_defaults_are_the_checks_defaults() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert tuple(defaults["services_allowed_listeners"]) == LISTEN.DEFAULT_ALLOWED
    assert tuple(defaults["services_blocked_modules"]) == PACKAGES.BLOCKED_MODULES
    assert defaults["services_allow_loopback"] is True
    assert defaults["services_stop_unapproved"] is False


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_modprobe_file_blocks_every_module(family: str) -> None:
    text = render_template(ROLE, "etc/modprobe.d/driftvakt-protocols.conf.j2", _vars(family))
    assert text.startswith("#")
    rules = PACKAGES.parse_modprobe(text)
    for module in PACKAGES.BLOCKED_MODULES:
        assert rules[module]["install"] == ["/bin/false"]
        assert rules[module]["blacklist"]


APP = {
    "name": "billing",
    "exec": "/opt/billing/bin/billing --config /etc/billing.conf",
    "read_write_paths": ["/var/lib/billing"],
}


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_app_unit_is_sandboxed_and_unprivileged_as_the_check_wants(family: str) -> None:
    variables = _vars(family, item=APP, ansible_managed="managed")
    unit = render_template(ROLE, "etc/systemd/system/app.service.j2", variables)
    lines = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[:1].isalpha()
    )
    assert lines["ExecStart"] == APP["exec"]
    assert lines["User"] == "billing" and lines["Group"] == "billing"
    assert lines["ReadWritePaths"] == "/var/lib/billing"
    assert lines["WantedBy"] == "multi-user.target"  # enabled at boot: a background service
    # What the check requires of the running unit is what the role renders.
    props = {"LoadState": "loaded", "UnitFileState": "enabled", "ActiveState": "active", **lines}
    passwd = APPS.parse_getent(f"billing:x:990:990::/:{variables['__services_nologin']}\n")
    groups = APPS.parse_getent("billing:x:990:\n")
    assert APPS.app_problems("billing.service", props, "billing", passwd, groups) == []


@pytest.mark.parametrize("family", sorted(FAMILY_FACTS))
def test_app_accounts_get_the_family_nologin_shell_and_no_admin_group(family: str) -> None:
    variables = _vars(family)
    assert variables["__services_nologin"] in APPS.NOLOGIN_SHELLS
    assert set(variables["__services_admin_groups"]) <= set(APPS.ADMIN_GROUPS)
    admin = "sudo" if FAMILY_FACTS[family]["ansible_os_family"] == "Debian" else "wheel"
    assert admin in variables["__services_admin_groups"]
    assert (
        yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())["services_app_components"]
        == []
    )
