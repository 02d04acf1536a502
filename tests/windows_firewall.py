"""Windows Defender Firewall: inbound default deny and only approved paths.

Pure judges of the host's collection (windows_facts.py); each returns the problems found
(empty: compliant). The checks are in test_firewall.py.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .firewall_paths import ApprovedPath, Network, inventory_paths, path_within
from .windows_facts import Facts, HostVars, section


def judge_firewall_inbound_default_deny(facts: Facts, hostvars: HostVars) -> list[str]:
    firewall = section(facts, "firewall")
    problems = []
    seen = {str(p.get("Name")) for p in firewall.get("Profiles") or []}
    for name in sorted({"Domain", "Private", "Public"} - seen):
        problems.append(f"firewall profile {name} was not reported")
    for profile in firewall.get("Profiles") or []:
        # NotConfigured in the active store means Windows' default: enabled, inbound Block.
        if profile.get("Enabled") not in ("True", "NotConfigured"):
            problems.append(f"firewall profile {profile['Name']} is off")
        if profile.get("DefaultInboundAction") not in ("Block", "NotConfigured"):
            problems.append(
                f"firewall profile {profile['Name']} inbound default is "
                f"{profile.get('DefaultInboundAction')}, expected Block"
            )
    return problems


def _networks(text: str) -> tuple[Network, ...] | None:
    """A rule's RemoteAddress entry as networks; None for keywords such as Any or LocalSubnet."""
    try:
        if "-" in text:
            low, high = (ipaddress.ip_address(p) for p in text.split("-", 1))
            return tuple(ipaddress.summarize_address_range(low, high))
        return (ipaddress.ip_network(text, strict=False),)
    except ValueError:
        return None


def approving_path(rule: dict[str, Any], paths: list[ApprovedPath]) -> str | None:
    """The approved path a rule stays within (origin, protocol, local port), if any."""
    raw = str(rule.get("Protocol"))
    protocol = {"6": "tcp", "17": "udp"}.get(raw, raw.lower())
    try:
        ports = frozenset(int(str(p)) for p in rule.get("LocalPort") or [])
    except ValueError:
        return None  # Any, RPC or another keyword: not one port
    parsed = [_networks(str(a)) for a in rule.get("RemoteAddress") or []]
    if not parsed or any(n is None for n in parsed):
        return None  # Any, LocalSubnet or another keyword: not one origin
    origins = tuple(net for entry in parsed if entry for net in entry)
    path = path_within(origins, protocol, ports, paths)
    return path.name if path else None


def judge_firewall_approved_paths_only(facts: Facts, hostvars: HostVars) -> list[str]:
    firewall = section(facts, "firewall")
    paths = inventory_paths(hostvars)
    exceptions = {str(e) for e in hostvars.get("windows_firewall_exceptions") or []}
    stray = []
    for rule in firewall.get("InboundAllowRules") or []:
        if rule.get("Name") in exceptions or approving_path(rule, paths):
            continue
        stray.append(
            f"{rule.get('Name')} ({rule.get('Protocol')} {','.join(rule.get('LocalPort') or [])} "
            f"from {','.join(rule.get('RemoteAddress') or [])})"
        )
    if stray:
        return [
            f"inbound allow rules outside the approved paths "
            f"{[p.name for p in paths]}: " + "; ".join(stray)
        ]
    return []
