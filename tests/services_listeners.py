"""Listening sockets (``ss -Hltunp``) and which of them the approved listeners do not cover,
for test_services.py.
"""

from __future__ import annotations

import re
from typing import Any

# What the role approves when the inventory says nothing (roles/services/defaults/main.yml).
DEFAULT_ALLOWED = ({"port": 22, "proto": "tcp", "process": "sshd"},)

# A DHCP client keeps UDP 68 (DHCPv4) or 546 (DHCPv6) open while it holds a lease: NetworkManager
# (RHEL 8+, its internal client), dhclient, wicked (SLES 15: wickedd-dhcp4/-dhcp6),
# systemd-networkd and dhcpcd. `ss -p` names a process by its comm, at most 15 characters.
# Approved unless services_allow_dhcp_client is false (roles/services/vars/main.yml: the same).
DHCP_CLIENT_LISTENERS = tuple(
    {"port": port, "proto": "udp", "process": process}
    for port, processes in (
        (68, ("NetworkManager", "dhclient", "wickedd-dhcp4", "systemd-network", "dhcpcd")),
        (546, ("NetworkManager", "dhclient", "wickedd-dhcp6", "systemd-network", "dhcpcd")),
    )
    for process in processes
)


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
