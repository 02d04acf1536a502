"""Packages that must not be installed and protocol modules that must be blocked, per family,
and their parsers, for test_services.py.
"""

from __future__ import annotations

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
# Forbidden packages per package manager family: clear-text remote services, VNC servers, NIS,
# remote-control and tunnel software (the role's vars/<family>.yml remove exactly these).
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
