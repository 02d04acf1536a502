"""Host firewall: inbound default deny, and only the region's approved traffic paths open.

Requirements SKA-SEC-02 (only pre-approved traffic paths, controlled by origin, destination,
protocol and port), SKA-SEC-03 (nothing initiated from outside into the network), RST-10.3.3
and RSK-NET-01. The checks read the LIVE firewall as root, in one command
(``firewall_state.STATE_COMMAND``), and judge whichever firewall actually runs on the host
(firewalld when its daemon is active, else nftables), whatever the inventory says. Parsing and
judging are pure functions in tests/firewall_*.py, unit-tested on captured output.

The approved paths come from the inventory variable ``firewall_approved_paths`` (the one the
firewall role applies); a path applies on the hosts its ``destination`` names ('all', a group,
the host). The destination address is ``firewall_host_address`` if set, else the address the
inventory connects to (``ansible_host``), as in the role.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from . import firewall_firewalld as firewalld
from . import firewall_model as model
from . import firewall_nft as nftables
from . import firewall_paths as fwpaths
from . import firewall_state as fwstate
from . import windows_firewall
from .windows_facts import windows_facts


def _state(host: Any) -> fwstate.FirewallState:
    if host.system_info.type != "linux":
        pytest.skip(
            f"not applicable: the host firewall is checked on Linux, this is "
            f"{host.system_info.type}"
        )
    with host.sudo():
        result = host.run(fwstate.STATE_COMMAND)
    assert result.rc == 0, f"reading the firewall state failed (rc {result.rc}): {result.stderr}"
    return fwstate.parse_state(str(result.stdout))


def _firewalld_zones(
    state: fwstate.FirewallState,
) -> tuple[list[str], dict[str, firewalld.FirewalldBlock]]:
    """The zones that filter inbound traffic: the default zone and every active zone."""
    default = state.sections.get("default-zone", "").strip()
    zones = firewalld.parse_firewalld_listing(state.sections.get("zones", ""))
    return [default, *sorted(z for z, b in zones.items() if b.active and z != default)], zones


@pytest.mark.control("firewall_inbound_default_deny")
def test_firewall_inbound_default_deny(host: Any, hostvars: dict[str, Any]) -> None:
    state = _state(host)
    units = state.units
    problems: list[str] = []
    if state.backend == "firewalld":
        if units["firewalld"].enabled != "enabled":
            problems.append(
                f"firewalld runs but is not enabled at boot ({units['firewalld'].enabled})"
            )
        if units["nftables"].enabled == "enabled":
            problems.append("nftables.service is enabled too (two managers of one ruleset)")
        names, zones = _firewalld_zones(state)
        permanent = firewalld.parse_firewalld_listing(state.sections.get("permanent-zones", ""))
        seen = []
        for name in names:
            runtime = zones[name].fields.get("target", "?") if name in zones else "missing"
            boot = permanent[name].fields.get("target", "?") if name in permanent else "missing"
            seen.append(f"{name}: target {runtime} (permanent {boot})")
            if runtime not in model.DENY_TARGETS or boot not in model.DENY_TARGETS:
                problems.append(
                    f"zone {name} does not deny by default: target {runtime}, permanent {boot}"
                )
        kernel = (
            nftables.nft_input_chains(state.sections.get("nft", ""))
            if state.sections.get("nft-rc") == "0"
            else []
        )
        unfiltered = firewalld.kernel_problem(state.sections.get("nft-rc"), kernel)
        if unfiltered:
            problems.append(unfiltered)
        evidence = (
            "firewalld zones filtering inbound: "
            + "; ".join(seen)
            + "; kernel input chains: "
            + (", ".join(c.where for c in kernel) or "none")
        )
    else:
        nft = units["nftables"]
        if (nft.active, nft.enabled) != ("active", "enabled"):
            problems.append(
                f"nftables.service is {nft.active or 'absent'}/{nft.enabled or 'absent'}, "
                "expected active/enabled (and firewalld does not run)"
            )
        if units["firewalld"].enabled == "enabled":
            problems.append("firewalld.service is enabled at boot but not running")
        chains: list[model.InputChain] = []
        if state.sections.get("nft-rc") != "0":
            problems.append(f"cannot read the nftables ruleset: {state.sections.get('nft', '')}")
        else:
            chains = nftables.nft_input_chains(state.sections["nft"])
            if not nftables.deny_covers_both_families(chains):
                problems.append("no input chain with policy drop covers both IPv4 and IPv6")
        # The live ruleset is what is in force; the saved one is what the next boot brings.
        path, saved, unreadable = state.saved_ruleset()
        if unreadable:
            problems.append(unreadable)
        elif not nftables.deny_covers_both_families(nftables.nft_input_chains(saved)):
            problems.append(
                f"the saved ruleset {path} (loaded at the next boot or restart) has no input "
                "chain with policy drop covering both IPv4 and IPv6"
            )
        evidence = "nftables input chains: " + (
            "; ".join(f"{c.where} policy {c.policy}" for c in chains) or "none"
        )
    assert not problems, f"{state.backend}: {'; '.join(problems)}. {evidence}"


@pytest.mark.control("firewall_approved_paths_only")
def test_firewall_approved_paths_only(host: Any, hostvars: dict[str, Any]) -> None:
    state = _state(host)
    paths = fwpaths.inventory_paths(hostvars)
    address = fwpaths.host_networks(
        [
            str(
                hostvars.get("firewall_host_address")
                or hostvars.get("ansible_host")
                or hostvars["inventory_hostname"]
            )
        ]
    )
    if state.backend == "firewalld":
        names, zones = _firewalld_zones(state)
        rules = [r for n in names if n in zones for r in firewalld.firewalld_accepts(zones[n])]
        policies = firewalld.policies_listing(state.sections.get("policies", ""))
        for block in firewalld.parse_firewalld_listing(policies).values():
            if firewalld.policy_reaches_host(block, names):
                rules.extend(firewalld.firewalld_accepts(block, kind="policy"))
        extra = model.unapproved(rules, paths, address)
        absent = model.missing(rules, paths, address)
        # The permanent configuration is what the next reload or boot puts in force.
        permanent = firewalld.parse_firewalld_listing(state.sections.get("permanent-zones", ""))
        saved = [
            r for n in names if n in permanent for r in firewalld.firewalld_accepts(permanent[n])
        ]
        for block in firewalld.parse_firewalld_listing(
            firewalld.policies_listing(state.sections.get("permanent-policies", ""))
        ).values():
            if firewalld.policy_reaches_host(block, names):
                saved.extend(firewalld.firewalld_accepts(block, kind="policy"))
        saved_extra = model.unapproved(saved, paths, address)
        saved_absent = model.missing(saved, paths, address)
        where = "the permanent configuration (in force after the next reload or boot)"
    else:
        assert state.sections.get("nft-rc") == "0", (
            f"cannot read the nftables ruleset: {state.sections.get('nft', '')}"
        )
        extra, absent = nftables.nft_judge(json.loads(state.sections["nft"]), paths, address)
        path, ruleset, unreadable = state.saved_ruleset()
        assert not unreadable, unreadable
        saved_extra, saved_absent = nftables.nft_judge(ruleset, paths, address)
        where = f"the saved ruleset {path} (loaded at the next boot or restart)"
    findings = (
        ([f"accepts outside the approved paths: {' | '.join(extra)}"] if extra else [])
        + ([f"approved paths not open: {', '.join(absent)}"] if absent else [])
        + (
            [f"{where} accepts outside the approved paths: {' | '.join(saved_extra)}"]
            if saved_extra
            else []
        )
        + (
            [f"{where} does not open approved paths: {', '.join(saved_absent)}"]
            if saved_absent
            else []
        )
    )
    approved = ", ".join(f"{p.name} {p.source}->{p.proto}/{p.port}" for p in paths) or "none"
    assert not findings, (
        f"{state.backend}: {'; '.join(findings)}. "
        f"Approved for this host (to {', '.join(map(str, address))}): {approved}"
    )


# --- Windows Server (one collection per host, judged in windows_firewall.py) ----------------------


@pytest.mark.windows
@pytest.mark.control("firewall_inbound_default_deny")
def test_windows_firewall_inbound_default_deny(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_firewall.judge_firewall_inbound_default_deny(windows_facts(host), hostvars)
    assert not found, "; ".join(found)


@pytest.mark.windows
@pytest.mark.control("firewall_approved_paths_only")
def test_windows_firewall_approved_paths_only(host: Any, hostvars: dict[str, Any]) -> None:
    found = windows_firewall.judge_firewall_approved_paths_only(windows_facts(host), hostvars)
    assert not found, "; ".join(found)
