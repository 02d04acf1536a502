"""Pure parsing and judging of a host's inbound firewall, for tests/test_firewall.py.

Both backends are reduced to one model: the input chains (with their default policy) and the
rules that ACCEPT inbound traffic, each with what it matches on (origin, destination, protocol,
destination ports, ICMP types, conntrack state, interface). A rule's matches only ever narrow
what it admits, so a rule is approved when the matches it does have fit inside an approved
path, or inside one of the standing exceptions: established/related, loopback, and the ICMP
IPv4/IPv6 need to work. Matches the model does not know are ignored, which can only make the
judgement stricter, never more lenient. Negated matches (``!=``) constrain nothing.

Nothing here talks to a host: the check collects ``nft -j list ruleset`` or firewall-cmd output
and hands it in, and audit/tests/test_parse_firewall.py feeds captured output.
"""

from __future__ import annotations

import ipaddress
import json
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

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
DENY_TARGETS = frozenset({"DROP", "REJECT", "%%REJECT%%", "default"})


@dataclass(frozen=True)
class ApprovedPath:
    name: str
    source: Network
    proto: str
    port: int


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


# ---------------------------------------------------------------- one read of the whole state

# One command reads everything both checks need, whichever backend runs, so an audit needs a
# single round trip per host. Sections start with "## <name>" lines.
STATE_COMMAND = "; ".join(
    [
        "for u in firewalld nftables; do"
        ' echo "## unit $u $(systemctl is-active $u.service 2>/dev/null)'
        ' $(systemctl is-enabled $u.service 2>/dev/null)"; done',
        "if systemctl is-active --quiet firewalld.service; then"
        " echo '## default-zone'; firewall-cmd --get-default-zone 2>&1",
        " echo '## zones'; firewall-cmd --list-all-zones 2>&1",
        " echo '## permanent-zones'; firewall-cmd --permanent --list-all-zones 2>&1",
        " echo '## policies'; firewall-cmd --list-all-policies 2>&1",
        " else echo '## nft'; nft -j list ruleset 2>&1; echo \"## nft-rc $?\"; fi",
    ]
)


@dataclass(frozen=True)
class Unit:
    active: str  # systemctl is-active: active, inactive, failed, ...
    enabled: str  # systemctl is-enabled: enabled, disabled, masked, "" (no such unit)


@dataclass
class FirewallState:
    units: dict[str, Unit]
    sections: dict[str, str]

    @property
    def backend(self) -> str:
        """The firewall that actually runs: firewalld when its daemon is active, else nftables."""
        return "firewalld" if self.units["firewalld"].active == "active" else "nftables"


def parse_state(text: str) -> FirewallState:
    units: dict[str, Unit] = {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## unit "):
            name, *states = line[len("## unit ") :].split()
            units[name] = Unit(*[*states, "", ""][:2])
            current = None
        elif line.startswith("## nft-rc "):
            sections["nft-rc"] = [line.split()[-1]]
            current = None
        elif line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    for name in ("firewalld", "nftables"):
        units.setdefault(name, Unit("", ""))
    return FirewallState(units, {k: "\n".join(v) for k, v in sections.items()})


# ---------------------------------------------------------------- approved paths (inventory)


def host_paths(
    paths: Iterable[Mapping[str, Any]], hostname: str, groups: Iterable[str]
) -> list[ApprovedPath]:
    """The inventory's approved paths whose destination is this host ('all', a group, its name)."""
    here = {"all", hostname, *groups}
    return [
        ApprovedPath(
            name=str(p["name"]),
            source=ipaddress.ip_network(str(p["source"]), strict=False),
            proto=str(p["proto"]),
            port=int(p["port"]),
        )
        for p in paths
        if str(p.get("destination")) in here
    ]


def host_networks(addresses: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(str(a), strict=False) for a in addresses)


# ---------------------------------------------------------------- judging


def _within(nets: tuple[Network, ...] | None, outer: Iterable[Network]) -> bool:
    if nets is None:
        return False
    outer = list(outer)
    return all(
        any(n.version == o.version and n.subnet_of(o) for o in outer)  # type: ignore[arg-type]
        for n in nets
    )


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
    if not _within(rule.daddr, host):
        return None
    for path in paths:
        if (
            rule.proto == path.proto
            and rule.dports == frozenset({path.port})
            and _within(rule.saddr, [path.source])
        ):
            return path
    return None


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


# ---------------------------------------------------------------- nftables (nft -j list ruleset)


def _objects(ruleset: str | Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    data = json.loads(ruleset) if isinstance(ruleset, str) else ruleset
    return [o[kind] for o in data.get("nftables", []) if kind in o]


def nft_input_chains(ruleset: str | Mapping[str, Any]) -> list[InputChain]:
    """The base chains of type filter on hook input, with their policy."""
    return [
        InputChain(
            f"{c['family']} {c['table']} {c['name']}", c["family"], c.get("policy", "accept")
        )
        for c in _objects(ruleset, "chain")
        if c.get("hook") == "input" and c.get("type") == "filter"
    ]


def deny_covers_both_families(chains: Iterable[InputChain]) -> bool:
    """Some drop-policy input chain filters IPv4 and some filters IPv6 (inet does both)."""
    families = {c.family for c in chains if c.policy == "drop"}
    return "inet" in families or {"ip", "ip6"} <= families


def _net(value: Any) -> tuple[Network, ...] | None:
    if isinstance(value, str):
        return (ipaddress.ip_network(value, strict=False),)
    if isinstance(value, dict) and "prefix" in value:
        p = value["prefix"]
        return (ipaddress.ip_network(f"{p['addr']}/{p['len']}", strict=False),)
    if isinstance(value, dict) and "set" in value:
        nets: list[Network] = []
        for item in value["set"]:
            one = _net(item)
            if one is None:
                return None
            nets.extend(one)
        return tuple(nets)
    return None  # ranges, maps, named sets: not understood, so not a constraint


def _values(value: Any) -> list[Any] | None:
    if isinstance(value, (str, int)):
        return [value]
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict) and "set" in value:
        flat: list[Any] = []
        for item in value["set"]:
            inner = _values(item)
            if inner is None:
                return None
            flat.extend(inner)
        return flat
    if isinstance(value, dict) and "range" in value:
        low, high = value["range"]
        if isinstance(low, int) and isinstance(high, int) and high - low < 65536:
            return list(range(low, high + 1))
    return None


def _text(value: Any) -> str:
    if isinstance(value, dict):
        if "set" in value:
            return "{ " + ", ".join(_text(v) for v in value["set"]) + " }"
        if "prefix" in value:
            return f"{value['prefix']['addr']}/{value['prefix']['len']}"
        if "range" in value:
            return "-".join(_text(v) for v in value["range"])
        return json.dumps(value, sort_keys=True)
    if isinstance(value, list):
        return "{ " + ", ".join(_text(v) for v in value) + " }"
    return str(value)


def _left_name(left: Any) -> str:
    if isinstance(left, dict):
        if "payload" in left:
            payload = left["payload"]
            return f"{payload.get('protocol', '')} {payload.get('field', '')}".strip()
        if "meta" in left:
            return f"meta {left['meta'].get('key', '')}"
        if "ct" in left:
            return f"ct {left['ct'].get('key', '')}"
    return json.dumps(left, sort_keys=True)


def _rule_from_exprs(
    exprs: list[dict[str, Any]], comment: str | None
) -> tuple[dict[str, Any], list[str], str | None, str | None]:
    """Fold a rule's expressions: (constraints, text parts, verdict, jump target)."""
    found: dict[str, Any] = {}
    parts: list[str] = []
    verdict: str | None = None
    target: str | None = None
    for expr in exprs:
        if "match" in expr:
            m = expr["match"]
            name, op, right = _left_name(m.get("left")), m.get("op", "=="), m.get("right")
            parts.append(f"{name} {'' if op in ('==', 'in') else op + ' '}{_text(right)}")
            if op not in ("==", "in"):
                continue
            if name in ("ip saddr", "ip6 saddr"):
                found["saddr"] = _net(right)
            elif name in ("ip daddr", "ip6 daddr"):
                found["daddr"] = _net(right)
            elif name in ("tcp dport", "udp dport", "th dport"):
                ports = _values(right)
                if ports is not None and all(isinstance(p, int) for p in ports):
                    found["dports"] = frozenset(ports)
                if name != "th dport":
                    found["proto"] = name.split()[0]
            elif name in ("meta l4proto", "ip protocol", "ip6 nexthdr"):
                protos = _values(right)
                if protos and len(protos) == 1 and str(protos[0]) in ("tcp", "udp"):
                    found.setdefault("proto", str(protos[0]))
            elif name == "ct state":
                states = _values(right)
                if states is not None:
                    found["ct_states"] = frozenset(str(s) for s in states)
            elif name in ("meta iif", "meta iifname"):
                if isinstance(right, str):
                    found["iif"] = right
            elif name in ("icmp type", "icmpv6 type"):
                types = _values(right)
                if types is not None:
                    fam = "ipv4" if name == "icmp type" else "ipv6"
                    found["icmp"] = (fam, frozenset(str(t) for t in types))
        elif "accept" in expr:
            verdict = "accept"
        elif "drop" in expr or "reject" in expr:
            verdict = "drop"
        elif "jump" in expr or "goto" in expr:
            verdict = "jump"
            target = (expr.get("jump") or expr.get("goto") or {}).get("target")
        elif "counter" in expr or "log" in expr or "limit" in expr:
            continue
        else:
            parts.append(next(iter(expr)))
    if comment:
        parts.append(f'comment "{comment}"')
    return found, parts, verdict, target


def nft_accept_rules(ruleset: str | Mapping[str, Any]) -> list[AcceptRule]:
    """Every accept reachable from a filter/input base chain, jumps followed (conditions kept)."""
    rules_by_chain: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in _objects(ruleset, "rule"):
        rules_by_chain.setdefault((r["family"], r["table"], r["chain"]), []).append(r)
    result: list[AcceptRule] = []

    def walk(
        base: str,
        key: tuple[str, str, str],
        inherited: dict[str, Any],
        prefix: list[str],
        seen: frozenset[tuple[str, str, str]],
    ) -> None:
        for r in rules_by_chain.get(key, []):
            found, parts, verdict, target = _rule_from_exprs(r.get("expr", []), r.get("comment"))
            merged = {**inherited, **{k: v for k, v in found.items() if v is not None}}
            text = " ".join([*prefix, *parts])
            where = f"{key[0]} {key[1]} {key[2]} (handle {r.get('handle')})"
            if verdict == "accept":
                result.append(
                    AcceptRule(where=where, text=f"{text} accept".strip(), base=base, **merged)
                )
            elif verdict == "jump" and target:
                nxt = (key[0], key[1], target)
                if nxt not in seen:
                    walk(base, nxt, merged, [*prefix, *parts, f"jump {target} ->"], seen | {nxt})

    for c in _objects(ruleset, "chain"):
        if c.get("hook") == "input" and c.get("type") == "filter":
            key = (c["family"], c["table"], c["name"])
            walk(" ".join(key), key, {}, [], frozenset({key}))
    return result


def nft_judge(
    ruleset: str | Mapping[str, Any], paths: list[ApprovedPath], host: tuple[Network, ...]
) -> tuple[list[str], list[str]]:
    """(unapproved accepts, missing paths) of an nftables ruleset.

    A packet enters only if every input base chain lets it through, so when chains with policy
    drop exist, they alone decide what is admitted: each must accept nothing beyond the
    approved paths and exceptions, and each must open every approved path. An accept rule in a
    policy-accept chain next to them admits nothing more, and is not judged. Without any drop
    chain (a failed default deny, judged by the other control) every input chain is judged.
    """
    chains = nft_input_chains(ruleset)
    judged = [c.where for c in chains if c.policy == "drop"] or [c.where for c in chains]
    rules = nft_accept_rules(ruleset)
    extra = unapproved([r for r in rules if r.base in judged], paths, host)
    absent: list[str] = []
    for base in judged:
        here = missing([r for r in rules if r.base == base], paths, host)
        absent += [f"{m} in {base}" if len(judged) > 1 else m for m in here]
    if not chains:
        absent = missing([], paths, host)
    return extra, absent


# ---------------------------------------------------------------- firewalld (firewall-cmd text)


@dataclass
class FirewalldBlock:
    """One zone or policy of `firewall-cmd --list-all-zones` / `--list-all-policies`."""

    name: str
    active: bool
    fields: dict[str, str] = field(default_factory=dict)
    rich_rules: list[str] = field(default_factory=list)

    def values(self, key: str) -> list[str]:
        return self.fields.get(key, "").split()


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
