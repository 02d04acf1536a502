"""Application components as systemd services: what a unit must show to run unprivileged,
for test_services.py.
"""

from __future__ import annotations

import re

# app_services_least_privilege: what a unit must show (systemctl show properties).
APP_UNIT_PROPERTIES = (
    "Id,LoadState,ActiveState,UnitFileState,User,DynamicUser,NoNewPrivileges,ProtectSystem,"
    "ProtectHome,PrivateTmp,DropInPaths"
)


NOLOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")


ADMIN_GROUPS = ("root", "sudo", "wheel", "adm", "admin")


UNIT_NAME = re.compile(r"^[A-Za-z0-9_.@-]+$")


def parse_systemctl_show(output: str) -> dict[str, dict[str, str]]:
    """``systemctl show -p ... a.service b.service`` (blank-line separated) -> {Id: props}."""
    units: dict[str, dict[str, str]] = {}
    for block in re.split(r"\n\s*\n", output.strip()):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if props.get("Id"):
            units[props["Id"]] = props
    return units


def parse_getent(output: str) -> dict[str, list[str]]:
    """``getent passwd`` or ``getent group`` lines -> {name: fields after the name}."""
    return {f[0]: f[1:] for f in (line.split(":") for line in output.splitlines()) if len(f) > 3}


def app_problems(
    unit: str,
    props: dict[str, str] | None,
    expected_user: str,
    passwd: dict[str, list[str]],
    groups: dict[str, list[str]],
) -> list[str]:
    """Everything that keeps one component from being an unprivileged background service."""
    if not props or props.get("LoadState") != "loaded":
        return [f"{unit} is not installed ({(props or {}).get('LoadState', 'unknown')})"]
    found = []
    if props.get("UnitFileState") != "enabled":
        found.append(f"{unit} is {props.get('UnitFileState') or 'not enabled'} at boot")
    if props.get("ActiveState") != "active":
        found.append(f"{unit} is {props.get('ActiveState')}, not running")
    user = props.get("User") or "root"
    entry = passwd.get(user)
    if user != expected_user:
        found.append(f"{unit} runs as {user}, not its own account {expected_user}")
    if user == "root" or (entry is not None and entry[1] == "0"):
        found.append(f"{unit} runs as root (uid 0)")
    elif entry is None:
        found.append(f"{unit}: account {user} does not exist")
    else:
        if entry[5] not in NOLOGIN_SHELLS:
            found.append(f"{unit}: account {user} has a login shell ({entry[5]})")
        admin = [g for g in ADMIN_GROUPS if user in (groups.get(g, ["", "", ""])[2].split(","))]
        primary = [g for g, f in groups.items() if f[1] == entry[2] and g in ADMIN_GROUPS]
        if admin or primary:
            found.append(f"{unit}: account {user} is in admin groups {sorted(admin + primary)}")
    sandbox = {
        "NoNewPrivileges": ("yes",),
        "ProtectSystem": ("strict", "full"),
        "ProtectHome": ("yes", "read-only", "tmpfs"),
        "PrivateTmp": ("yes",),
    }
    weak = [f"{k}={props.get(k)}" for k, ok in sandbox.items() if props.get(k) not in ok]
    if weak:
        found.append(f"{unit} is not sandboxed: {', '.join(weak)}")
    if props.get("DropInPaths"):
        found.append(f"(drop-ins: {props['DropInPaths']})")
    return found
