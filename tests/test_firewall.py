"""Host firewall: inbound default deny, and only the region's approved traffic paths open.

The checks read the LIVE firewall as root and find out which firewall actually manages the
host (firewalld when its daemon runs, else nftables), whatever the inventory says. Parsing and
judging are pure functions in tests/firewall_rules.py, unit-tested on captured output.

The approved paths come from the inventory variable ``firewall_approved_paths`` (the same one
the firewall role applies); a path applies on the hosts its ``destination`` names ('all', a
group, the host). Its destination address is ``firewall_host_address`` if set, else the
address the inventory connects to (``ansible_host``), as in the role.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import firewall_rules as fw


def _backend(host: Any) -> str:
    with host.sudo():
        return "firewalld" if host.service("firewalld").is_running else "nftables"


def _run(host: Any, command: str) -> str:
    with host.sudo():
        result = host.run(command)
    assert result.rc == 0, f"`{command}` failed (rc {result.rc}): {result.stderr.strip()}"
    return str(result.stdout)


def _firewalld_zones(host: Any) -> tuple[list[str], dict[str, fw.FirewalldBlock]]:
    """The zones that filter inbound traffic (default zone + active zones), runtime state."""
    default = _run(host, "firewall-cmd --get-default-zone").strip()
    zones = fw.parse_firewalld_listing(_run(host, "firewall-cmd --list-all-zones"))
    names = [default, *sorted(z for z, b in zones.items() if b.active and z != default)]
    return names, zones


def _paths(hostvars: dict[str, Any]) -> tuple[list[fw.ApprovedPath], tuple[fw.Network, ...]]:
    paths = fw.host_paths(
        hostvars.get("firewall_approved_paths") or [],
        str(hostvars["inventory_hostname"]),
        hostvars.get("group_names") or [],
    )
    address = hostvars.get("firewall_host_address") or hostvars.get("ansible_host") \
        or hostvars["inventory_hostname"]
    return paths, fw.host_networks([str(address)])


@pytest.mark.control("firewall_inbound_default_deny")
def test_firewall_inbound_default_deny(host: Any, hostvars: dict[str, Any]) -> None:
    backend = _backend(host)
    problems: list[str] = []
    with host.sudo():
        if backend == "firewalld":
            if not host.service("firewalld").is_enabled:
                problems.append("firewalld runs but is not enabled at boot")
            if host.service("nftables").is_enabled:
                problems.append("nftables.service is enabled as well (two firewall managers)")
        else:
            nft = host.service("nftables")
            if not (nft.is_running and nft.is_enabled):
                problems.append(
                    f"nftables.service active={nft.is_running} enabled={nft.is_enabled}, "
                    "expected both (neither firewalld nor nftables manages the firewall)"
                )
            if host.service("firewalld").is_enabled:
                problems.append("firewalld.service is enabled at boot but not running")

    if backend == "firewalld":
        names, zones = _firewalld_zones(host)
        seen = []
        for name in names:
            runtime = zones[name].fields.get("target", "?") if name in zones else "missing"
            permanent = _run(host, f"firewall-cmd --permanent --zone={name} --get-target").strip()
            seen.append(f"{name}: target {runtime} (permanent {permanent})")
            if runtime not in fw.DENY_TARGETS or permanent not in fw.DENY_TARGETS:
                problems.append(f"zone {name} does not deny by default: target {runtime}, "
                                f"permanent {permanent}")
        evidence = "firewalld zones filtering inbound: " + "; ".join(seen)
    else:
        with host.sudo():
            listing = host.run("nft -j list ruleset")
        if listing.rc != 0:
            problems.append(f"cannot read the nftables ruleset: {listing.stderr.strip()}")
            chains: list[fw.InputChain] = []
        else:
            chains = fw.nft_input_chains(listing.stdout)
            if not fw.deny_covers_both_families(chains):
                problems.append("no input chain with policy drop covers both IPv4 and IPv6")
        evidence = "nftables input chains: " + (
            "; ".join(f"{c.where} policy {c.policy}" for c in chains) or "none"
        )
    assert not problems, f"{backend}: {'; '.join(problems)}. {evidence}"


@pytest.mark.control("firewall_approved_paths_only")
def test_firewall_approved_paths_only(host: Any, hostvars: dict[str, Any]) -> None:
    paths, address = _paths(hostvars)
    backend = _backend(host)
    if backend == "firewalld":
        names, zones = _firewalld_zones(host)
        rules = [r for n in names if n in zones for r in fw.firewalld_accepts(zones[n])]
        policies = fw.parse_firewalld_listing(_run(host, "firewall-cmd --list-all-policies"))
        for block in policies.values():
            if fw.policy_reaches_host(block, names):
                rules.extend(fw.firewalld_accepts(block, kind="policy"))
    else:
        rules = fw.nft_accept_rules(json.loads(_run(host, "nft -j list ruleset")))
    extra = fw.unapproved(rules, paths, address)
    absent = fw.missing(rules, paths, address)
    findings = ([f"accepts outside the approved paths: {' | '.join(extra)}"] if extra else []) + (
        [f"approved paths not open: {', '.join(absent)}"] if absent else [])
    approved = ", ".join(f"{p.name} {p.source}->{p.proto}/{p.port}" for p in paths) or "none"
    assert not findings, (
        f"{backend}: {'. '.join(findings)}. "
        f"Approved for this host (to {', '.join(map(str, address))}): {approved}"
    )
