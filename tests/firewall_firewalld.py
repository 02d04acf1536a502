"""firewalld: zones and policies from firewall-cmd's text, reduced to firewall_model's
AcceptRule."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .firewall_model import AcceptRule, InputChain
from .firewall_paths import host_networks

# firewalld's ICMP type names -> nft's, per family (None: firewalld defines it for that family
# only in the other one).
_FIREWALLD_ICMP = {
    "neighbour-solicitation": {"ipv6": "nd-neighbor-solicit"},
    "neighbour-advertisement": {"ipv6": "nd-neighbor-advert"},
    "router-advertisement": {"ipv4": "router-advertisement", "ipv6": "nd-router-advert"},
    "redirect": {"ipv4": "redirect", "ipv6": "nd-redirect"},
    "packet-too-big": {"ipv6": "packet-too-big"},
    "echo-request": {"ipv4": "echo-request", "ipv6": "echo-request"},
    "echo-reply": {"ipv4": "echo-reply", "ipv6": "echo-reply"},
}


@dataclass
class FirewalldBlock:
    """One zone or policy of `firewall-cmd --list-all-zones` / `--list-all-policies`."""

    name: str
    active: bool
    fields: dict[str, str] = field(default_factory=dict)
    rich_rules: list[str] = field(default_factory=list)

    def values(self, key: str) -> list[str]:
        return self.fields.get(key, "").split()


# firewalld before 0.9 (RHEL 8.0-8.2, SLES 15 SP2) has no policies: its firewall-cmd refuses
# --list-all-policies ("firewall-cmd: error: unrecognized arguments: --list-all-policies").
def policies_listing(text: str) -> str:
    """The policies section as read; empty where firewalld is too old to have policies."""
    return "" if "unrecognized arguments" in text and "--list-all-policies" in text else text


def parse_firewalld_listing(text: str) -> dict[str, FirewalldBlock]:
    """Parse `--list-all`, `--list-all-zones` or `--list-all-policies` (runtime or permanent)."""
    blocks: dict[str, FirewalldBlock] = {}
    current: FirewalldBlock | None = None
    in_rich = False
    for raw in text.splitlines():
        if not raw.strip():
            continue
        if not raw[0].isspace():
            head = raw.split()
            current = FirewalldBlock(head[0], "active" in raw[len(head[0]) :])
            blocks[current.name] = current
            in_rich = False
            continue
        if current is None:
            continue
        line = raw.strip()
        if line.startswith("rule ") and in_rich:
            current.rich_rules.append(line)
            continue
        key, _, value = line.partition(":")
        in_rich = key == "rich rules"
        if not in_rich:
            current.fields[key] = value.strip()
    return blocks


def parse_rich_rule(rule: str) -> dict[str, Any]:
    """A firewalld rich rule as a dict: family, source/destination (None when negated),
    element (service/port/protocol/icmp-type/...), its attributes, and the action."""
    tokens = shlex.split(rule)
    out: dict[str, Any] = {
        "family": None,
        "source": None,
        "destination": None,
        "element": None,
        "attrs": {},
        "action": None,
    }
    i = 0

    def attrs_from(j: int) -> tuple[dict[str, str], int, bool]:
        found: dict[str, str] = {}
        negated = False
        while j < len(tokens) and ("=" in tokens[j] or tokens[j] == "NOT"):
            if tokens[j] == "NOT":
                negated = True
            else:
                k, _, v = tokens[j].partition("=")
                found[k] = v
            j += 1
        return found, j, negated

    while i < len(tokens):
        tok = tokens[i]
        if tok == "rule":
            i += 1
        elif tok.startswith("family=") or tok.startswith("priority="):
            k, _, v = tok.partition("=")
            out[k] = v
            i += 1
        elif tok in ("source", "destination"):
            found, i, negated = attrs_from(i + 1)
            out[tok] = None if negated else found.get("address")
            out[f"{tok}_negated"] = negated
            out[f"{tok}_other"] = {k: v for k, v in found.items() if k != "address"}
        elif tok in (
            "service",
            "port",
            "protocol",
            "icmp-type",
            "icmp-block",
            "forward-port",
            "source-port",
            "masquerade",
            "tcp-mss-clamp",
        ):
            found, i, _ = attrs_from(i + 1)
            out["element"], out["attrs"] = tok, found
        elif tok in ("log", "audit", "nflog"):
            _, i, _ = attrs_from(i + 1)
            if i < len(tokens) and tokens[i] == "limit":
                _, i, _ = attrs_from(i + 1)
        elif tok in ("accept", "reject", "drop", "mark"):
            out["action"] = tok
            _, i, _ = attrs_from(i + 1)
            if i < len(tokens) and tokens[i] == "limit":
                _, i, _ = attrs_from(i + 1)
        else:
            i += 1
    return out


def _port_set(spec: str) -> frozenset[int] | None:
    low, _, high = spec.partition("-")
    try:
        return frozenset(range(int(low), int(high or low) + 1))
    except ValueError:
        return None


def _icmp_families(name: str, family: str | None) -> list[tuple[str, str]]:
    names = _FIREWALLD_ICMP.get(name, {"ipv4": name, "ipv6": name})
    return [(fam, n) for fam, n in names.items() if family in (None, fam)]


def rich_rule_accepts(where: str, rule: str) -> list[AcceptRule]:
    r = parse_rich_rule(rule)
    if r["action"] != "accept":
        return []
    family = r.get("family")
    saddr = host_networks([r["source"]]) if r["source"] and not r.get("source_other") else None
    daddr = host_networks([r["destination"]]) if r["destination"] else None
    element, attrs = r["element"], r["attrs"]
    if element == "port" and attrs.get("protocol") in ("tcp", "udp"):
        return [
            AcceptRule(
                where,
                rule,
                saddr=saddr,
                daddr=daddr,
                proto=attrs["protocol"],
                dports=_port_set(attrs.get("port", "")),
            )
        ]
    if element == "icmp-type":
        return [
            AcceptRule(where, rule, saddr=saddr, daddr=daddr, icmp=(fam, frozenset({n})))
            for fam, n in _icmp_families(attrs.get("name", ""), family)
        ]
    # service, protocol, source-port, forward-port, no element at all: not a single path
    return [AcceptRule(where, rule, saddr=saddr, daddr=daddr, unconditional=True)]


def firewalld_accepts(block: FirewalldBlock, kind: str = "zone") -> list[AcceptRule]:
    """What a zone (or policy) accepts beyond its target: services, ports, protocols, source
    ports, forward ports, ICMP and rich rules."""
    where = f"firewalld {kind} {block.name}"
    result: list[AcceptRule] = []
    for service in block.values("services"):
        result.append(AcceptRule(where, f"service {service} (any source)", unconditional=True))
    for port in block.values("ports"):
        number, _, proto = port.partition("/")
        result.append(
            AcceptRule(where, f"port {port} (any source)", proto=proto, dports=_port_set(number))
        )
    for key in ("protocols", "source-ports", "forward-ports"):
        for value in block.values(key):
            result.append(AcceptRule(where, f"{key} {value}", unconditional=True))
    if kind == "zone":
        blocks = block.values("icmp-blocks")
        if block.fields.get("icmp-block-inversion") == "yes":
            for name in blocks:
                for fam, n in _icmp_families(name, None):
                    result.append(
                        AcceptRule(where, f"icmp {name} ({fam})", icmp=(fam, frozenset({n})))
                    )
        elif block.fields.get("target") == "default":
            shown = ", ".join(blocks) or "none"
            result.append(
                AcceptRule(where, f"all ICMP types except blocked ({shown})", unconditional=True)
            )
    if kind == "policy" and block.fields.get("target") == "ACCEPT":
        result.append(AcceptRule(where, "target ACCEPT", unconditional=True))
    for rule in block.rich_rules:
        result.extend(rich_rule_accepts(where, rule))
    return result


def policy_reaches_host(block: FirewalldBlock, zones: Iterable[str]) -> bool:
    """An active policy whose traffic ends on the host itself from one of the zones."""
    ingress = set(block.values("ingress-zones"))
    return (
        block.active
        and "HOST" in block.values("egress-zones")
        and ("ANY" in ingress or bool(ingress & set(zones)))
    )


def kernel_problem(nft_rc: str | None, chains: list[InputChain]) -> str | None:
    """What is wrong when firewalld runs but the kernel does not filter inbound traffic.

    firewalld answers ``--list-all-zones`` from its own memory: after ``nft flush ruleset`` (or
    a failed reload) it still shows every zone while the kernel lets everything in.
    """
    if nft_rc != "0":
        return (
            "cannot read the kernel's ruleset (nft list ruleset), so firewalld's zones are unproven"
        )
    if not chains:
        return (
            "firewalld reports its zones, but the kernel has no input filter chain "
            "(nft list ruleset is empty of them): nothing is filtered"
        )
    return None
