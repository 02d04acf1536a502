"""The model both Linux firewalls are judged in, for tests/test_firewall.py.

Both backends are reduced to one model: the input chains (with their default policy) and the
rules that ACCEPT inbound traffic, each with what it matches on (origin, destination, protocol,
destination ports, ICMP types, conntrack state, interface). A rule's matches only ever narrow
what it admits, so a rule is approved when the matches it does have fit inside an approved
path, or inside one of the standing exceptions: established/related, loopback, and the ICMP
IPv4/IPv6 need to work. Matches the model does not know are ignored, which can only make the
judgement stricter, never more lenient. Negated matches (``!=``) constrain nothing.

Parsing lives beside it: firewall_state.py (the one read), firewall_nft.py (nftables),
firewall_firewalld.py (firewalld); the approved paths are firewall_paths.py. Nothing here talks
to a host; audit/tests/test_parse_firewall.py feeds captured output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .firewall_paths import ApprovedPath, Network, path_within, within

# ICMP a host needs for IPv4/IPv6 to work (errors, path MTU discovery, neighbour discovery,
# RFC 4890 section 4.4.1), in nft's names.
ICMP_NEEDED = {
    "ipv4": frozenset({"destination-unreachable", "time-exceeded", "parameter-problem"}),
    "ipv6": frozenset(
        {
            "destination-unreachable",
            "packet-too-big",
            "time-exceeded",
            "parameter-problem",
            "nd-router-advert",
            "nd-neighbor-solicit",
            "nd-neighbor-advert",
            "nd-redirect",
        }
    ),
}
DENY_TARGETS = frozenset({"DROP", "REJECT", "%%REJECT%%", "default"})


@dataclass(frozen=True)
class InputChain:
    where: str  # "inet driftvakt input"
    family: str
    policy: str


@dataclass(frozen=True)
class AcceptRule:
    """One way inbound traffic is accepted; None means the rule does not constrain that field."""

    where: str
    text: str
    saddr: tuple[Network, ...] | None = None
    daddr: tuple[Network, ...] | None = None
    proto: str | None = None
    dports: frozenset[int] | None = None
    ct_states: frozenset[str] | None = None
    iif: str | None = None
    icmp: tuple[str, frozenset[str]] | None = None  # (family, types)
    unconditional: bool = False  # accepts everything the clause says, e.g. a service, a target
    base: str = ""  # nftables: the input base chain the rule is reached from

    def describe(self) -> str:
        return f"{self.where}: {self.text}"


def exception_kind(rule: AcceptRule) -> str | None:
    """Which standing exception a rule stays within: established, loopback, icmp; else None."""
    if rule.unconditional:
        return None
    if rule.ct_states is not None and rule.ct_states <= {"established", "related"}:
        return "established/related"
    if rule.iif == "lo":
        return "loopback"
    if rule.icmp is not None:
        family, types = rule.icmp
        allowed = (
            ICMP_NEEDED["ipv4"] | ICMP_NEEDED["ipv6"]
            if family == "any"
            else (ICMP_NEEDED.get(family, frozenset()))
        )
        if types and types <= allowed:
            return "icmp"
    return None


def approving_path(
    rule: AcceptRule, paths: Iterable[ApprovedPath], host: tuple[Network, ...]
) -> ApprovedPath | None:
    """The approved path a rule stays within (origin, destination, protocol and port), if any."""
    if rule.unconditional or rule.dports is None or rule.proto is None:
        return None
    if not within(rule.daddr, host):
        return None
    return path_within(rule.saddr, rule.proto, rule.dports, paths)


def unapproved(
    rules: Iterable[AcceptRule], paths: list[ApprovedPath], host: tuple[Network, ...]
) -> list[str]:
    """Evidence lines for every accept rule that is neither an exception nor an approved path."""
    return [
        r.describe()
        for r in rules
        if exception_kind(r) is None and approving_path(r, paths, host) is None
    ]


def missing(
    rules: Iterable[AcceptRule], paths: list[ApprovedPath], host: tuple[Network, ...]
) -> list[str]:
    """Approved paths for this host that no accept rule opens exactly."""
    rules = list(rules)
    present = {
        p.name
        for p in paths
        for r in rules
        if not r.unconditional
        and r.proto == p.proto
        and r.dports == frozenset({p.port})
        and r.saddr == (p.source,)
        and r.daddr is not None
        and set(r.daddr) <= set(host)
    }
    return [f"{p.name} ({p.source} -> {p.proto}/{p.port})" for p in paths if p.name not in present]
