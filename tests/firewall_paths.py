"""The inventory's approved traffic paths and the one rule of fitting inside them.

Shared by the Linux firewall check (nftables, firewalld: firewall_model.py) and the Windows one
(windows_firewall.py): a rule is within a path when its protocol and its one destination port
are the path's and every origin it admits lies inside the path's source.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ApprovedPath:
    name: str
    source: Network
    proto: str  # lower case, as both firewalls name protocols
    port: int


def host_paths(
    paths: Iterable[Mapping[str, Any]], hostname: str, groups: Iterable[str]
) -> list[ApprovedPath]:
    """The inventory's approved paths whose destination is this host ('all', a group, its name)."""
    here = {"all", hostname, *groups}
    return [
        ApprovedPath(
            name=str(p["name"]),
            source=ipaddress.ip_network(str(p["source"]), strict=False),
            proto=str(p["proto"]).lower(),
            port=int(p["port"]),
        )
        for p in paths
        if str(p.get("destination")) in here
    ]


def inventory_paths(hostvars: Mapping[str, Any]) -> list[ApprovedPath]:
    """The approved paths ending at the host these inventory variables describe."""
    return host_paths(
        hostvars.get("firewall_approved_paths") or [],
        str(hostvars.get("inventory_hostname", "")),
        hostvars.get("group_names") or [],
    )


def host_networks(addresses: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(str(a), strict=False) for a in addresses)


def within(nets: tuple[Network, ...] | None, outer: Iterable[Network]) -> bool:
    """Every network lies inside one of ``outer`` (None, an unknown origin, never does)."""
    if nets is None:
        return False
    outer = list(outer)
    return all(
        any(n.version == o.version and n.subnet_of(o) for o in outer)  # type: ignore[arg-type]
        for n in nets
    )


def path_within(
    saddr: tuple[Network, ...] | None,
    proto: str,
    dports: frozenset[int],
    paths: Iterable[ApprovedPath],
) -> ApprovedPath | None:
    """The approved path whose protocol and single port these are and whose source holds every
    origin, if any."""
    for path in paths:
        if (
            proto == path.proto
            and dports == frozenset({path.port})
            and within(saddr, [path.source])
        ):
            return path
    return None
