"""nftables: the input chains and every rule that accepts inbound traffic, from
``nft -j list ruleset``, reduced to firewall_model's AcceptRule and judged."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .firewall_model import AcceptRule, InputChain, missing, unapproved
from .firewall_paths import ApprovedPath, Network


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
