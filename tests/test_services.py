"""Services: only approved listeners, no forbidden packages, rare protocol modules blocked.

Requirements SKA-SEC-08 (only necessary ports, protocols and services), SKA-SEC-01 and RST-6.1.3
(no remote-control or tunnel software beside the region's VPN), SKA-SEC-09 and RD-10 (no
unauthorised software). Listeners are read with ``ss -Hltunp`` as root; the approved ones come
from the inventory (``services_allowed_listeners``, ``services_allow_loopback``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from . import windows_services
from .windows_facts import windows_facts

# What the role approves when the inventory says nothing (roles/services/defaults/main.yml).
DEFAULT_ALLOWED = ({"port": 22, "proto": "tcp", "process": "sshd"},)
# Forbidden packages per package manager family: clear-text remote services, VNC servers, NIS,
# remote-control and tunnel software (the role's vars/<family>.yml remove exactly these).
# Remote-control and tunnel software (SKA-SEC-01: no connections but the region's VPN), packaged
# under the same names on every family.
REMOTE_CONTROL_AND_TUNNELS = (
    "teamviewer",
    "anydesk",
    "openvpn",
    "wireguard-tools",
    "openconnect",
    "tinc",
)
FORBIDDEN_PACKAGES = {
    "debian": (
        "telnetd",
        "inetutils-telnetd",
        "telnetd-ssl",
        "rsh-server",
        "rsh-redone-server",
        "tftpd",
        "tftpd-hpa",
        "atftpd",
        "tigervnc-standalone-server",
        "x11vnc",
        "tightvncserver",
        "xinetd",
        "nis",
        "talkd",
        "inetutils-talkd",
        *REMOTE_CONTROL_AND_TUNNELS,
    ),
    "redhat": (
        "telnet-server",
        "rsh-server",
        "tftp-server",
        "tigervnc-server",
        "x11vnc",
        "xinetd",
        "ypserv",
        "talk-server",
        *REMOTE_CONTROL_AND_TUNNELS,
    ),
    "suse": (
        "telnet-server",
        "rsh-server",
        "tftp",
        "tigervnc",
        "xorg-x11-Xvnc",
        "x11vnc",
        "xinetd",
        "ypserv",
        "talk-server",
        *REMOTE_CONTROL_AND_TUNNELS,
    ),
}
BLOCKED_MODULES = ("dccp", "sctp", "rds", "tipc")
MODPROBE_DIRS = ("/etc/modprobe.d", "/run/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d")
_USERS = re.compile(r'users:\(\("([^"]+)",pid=(\d+)')
_LOOPBACK = re.compile(r"^(127\.|::1$|::ffff:127\.)")


def parse_ss(output: str) -> list[dict[str, Any]]:
    """``ss -Hltunp`` -> [{proto, port, address, process, pid}] (address without brackets/%if)."""
    listeners = []
    for line in output.splitlines():
        fields = line.split(None, 6)
        if len(fields) < 5 or fields[0] not in ("tcp", "udp"):
            continue
        address, _, port = fields[4].rpartition(":")
        address = address.split("%")[0].strip("[]")
        users = _USERS.search(fields[6] if len(fields) > 6 else "")
        listeners.append(
            {
                "proto": fields[0],
                "port": int(port) if port.isdigit() else port,
                "address": address,
                "process": users.group(1) if users else "",
                "pid": int(users.group(2)) if users else None,
            }
        )
    return listeners


def unapproved(
    listeners: list[dict[str, Any]], allowed: list[dict[str, Any]], allow_loopback: bool
) -> list[dict[str, Any]]:
    """Listeners no allowlist entry (port, proto, optional process) nor the loopback rule covers."""
    found = []
    for sock in listeners:
        if allow_loopback and _LOOPBACK.match(str(sock["address"])):
            continue
        if any(
            int(a["port"]) == sock["port"]
            and a["proto"] == sock["proto"]
            and a.get("process", sock["process"]) == sock["process"]
            for a in allowed
        ):
            continue
        found.append(sock)
    return found


def parse_installed(output: str) -> set[str]:
    """Lines ``<package> <state>`` (dpkg-query db:Status-Status, or rpm) -> installed names."""
    installed = set()
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1] == "installed":
            installed.add(fields[0])
    return installed


def parse_modprobe(output: str) -> dict[str, dict[str, list[str]]]:
    """Concatenated modprobe.d files -> {module: {"install": [commands], "blacklist": [files]}}.

    Files are separated by ``==> <path> <==`` lines (``tail -n +1`` style)."""
    found: dict[str, dict[str, list[str]]] = {}
    current = "?"
    for raw in output.splitlines():
        line = raw.strip()
        if line.startswith("==> ") and line.endswith(" <=="):
            current = line[4:-4]
            continue
        fields = line.split()
        if len(fields) >= 2 and fields[0] in ("install", "blacklist"):
            entry = found.setdefault(fields[1], {"install": [], "blacklist": []})
            if fields[0] == "install":
                entry["install"].append(" ".join(fields[2:]))
            else:
                entry["blacklist"].append(current)
    return found


def _family(host: Any) -> str:
    if host.system_info.type != "linux":
        pytest.skip(f"not applicable: a Linux check, this is {host.system_info.type}")
    distribution = str(host.system_info.distribution).lower()
    if distribution in ("debian", "ubuntu"):
        return "debian"
    if distribution in ("sles", "suse", "opensuse-leap", "sled"):
        return "suse"
    return "redhat"


@pytest.mark.control("services_listeners_allowed")
def test_only_approved_listeners(host: Any, hostvars: dict[str, Any]) -> None:
    _family(host)
    with host.sudo():
        out = host.run("ss -Hltunp")
    assert out.rc == 0, f"`ss -Hltunp` failed (rc {out.rc}): {out.stderr.strip()[:200]}"
    listeners = parse_ss(out.stdout)
    allowed = list(hostvars.get("services_allowed_listeners") or DEFAULT_ALLOWED)
    loopback = bool(hostvars.get("services_allow_loopback", True))
    rogue = unapproved(listeners, allowed, loopback)
    assert not rogue, (
        "unapproved listeners: "
        + "; ".join(
            f"{s['proto']}/{s['port']} on {s['address']} by {s['process'] or '?'} (pid {s['pid']})"
            for s in rogue
        )
        + f" (approved: {allowed}, loopback allowed: {loopback})"
    )


@pytest.mark.control("services_forbidden_packages_absent")
def test_no_forbidden_packages(host: Any, hostvars: dict[str, Any]) -> None:
    family = _family(host)
    names = [
        *FORBIDDEN_PACKAGES[family],
        *(hostvars.get("services_forbidden_packages_extra") or []),
    ]
    if family == "debian":
        query = (
            "dpkg-query -W -f='${Package} ${db:Status-Status}\\n' "
            + " ".join(names)
            + " 2>/dev/null"
        )
    else:
        query = (
            "rpm -q --qf '%{NAME} installed\\n' "
            + " ".join(names)
            + " 2>/dev/null | grep installed"
        )
    installed = parse_installed(host.run(query + "; true").stdout)
    found = sorted(installed & set(names))
    assert not found, f"forbidden packages installed: {found}"


@pytest.mark.control("services_protocol_modules_blocked")
def test_rare_protocol_modules_blocked(host: Any, hostvars: dict[str, Any]) -> None:
    _family(host)
    modules = list(hostvars.get("services_blocked_modules") or BLOCKED_MODULES)
    with host.sudo():
        conf = host.run(
            "for d in " + " ".join(MODPROBE_DIRS) + "; do "
            'for f in "$d"/*.conf; do [ -f "$f" ] && echo "==> $f <==" && cat "$f"; done; '
            "done; true"
        ).stdout
        loaded = host.run("cat /proc/modules 2>/dev/null || echo 'no /proc/modules'").stdout
    rules = parse_modprobe(conf)
    problems = []
    for module in modules:
        entry = rules.get(module, {"install": [], "blacklist": []})
        commands = entry["install"]
        if not commands or any(c not in ("/bin/false", "/bin/true") for c in commands):
            problems.append(f"{module}: install {commands or 'not set'} (want /bin/false)")
        if not entry["blacklist"]:
            problems.append(f"{module}: not blacklisted")
    running = [
        line.split()[0]
        for line in loaded.splitlines()
        if line.split()[0:1] and line.split()[0] in modules
    ]
    # In a lab container the loaded modules are the machine's kernel's: the evidence says so.
    kernel = "no /proc/modules" if "no /proc/modules" in loaded else "the running kernel"
    assert not problems and not running, (
        f"protocol modules not blocked in {', '.join(MODPROBE_DIRS)}: {problems}; "
        f"loaded ({kernel}; in a container, the machine's kernel): {running}"
    )


# app_services_least_privilege: what a unit must show (systemctl show properties).
APP_UNIT_PROPERTIES = (
    "Id,LoadState,ActiveState,UnitFileState,User,DynamicUser,NoNewPrivileges,ProtectSystem,"
    "ProtectHome,PrivateTmp,DropInPaths"
)
NOLOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")
ADMIN_GROUPS = ("root", "sudo", "wheel", "adm", "admin")
_UNIT_NAME = re.compile(r"^[A-Za-z0-9_.@-]+$")


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


@pytest.mark.control("app_services_least_privilege")
def test_app_components_run_as_unprivileged_services(host: Any, hostvars: dict[str, Any]) -> None:
    _family(host)
    components = hostvars.get("services_app_components") or []
    if not components:
        pytest.skip("not applicable: the inventory declares no services_app_components")
    names = [str(c.get("name", "")) if isinstance(c, dict) else "" for c in components]
    bad = [n for n in names if not _UNIT_NAME.match(n)]
    if bad:
        raise ValueError(f"services_app_components names must be unit names, got {bad!r}")
    units = [f"{n}.service" for n in names]
    out = host.run(
        f"systemctl show -p {APP_UNIT_PROPERTIES} {' '.join(units)}; "
        "echo '==> passwd <=='; getent passwd; echo '==> group <=='; getent group"
    )
    shown, _, rest = out.stdout.partition("==> passwd <==")
    passwd_text, _, group_text = rest.partition("==> group <==")
    props = parse_systemctl_show(shown)
    passwd, groups = parse_getent(passwd_text), parse_getent(group_text)
    found = []
    for component, unit in zip(components, units, strict=True):
        expected = str(component.get("user") or component["name"])
        problems = app_problems(unit, props.get(unit), expected, passwd, groups)
        # The drop-in list is evidence, not a problem of its own.
        if any(not p.startswith("(") for p in problems):
            found += problems
    assert not found, "; ".join(found)


# --- Windows Server (one collection per host, judged in windows_services.py) ----------------------


@pytest.mark.windows
@pytest.mark.control("win_spooler_disabled")
def test_windows_spooler_disabled(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_services.judge_win_spooler_disabled(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_smb1_removed")
def test_windows_smb1_removed(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_services.judge_win_smb1_removed(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_app_services_least_privilege")
def test_windows_app_services_least_privilege(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_services.judge_win_app_services_least_privilege(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("win_browser_plugins_absent")
def test_windows_browser_plugins_absent(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_services.judge_win_browser_plugins_absent(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
