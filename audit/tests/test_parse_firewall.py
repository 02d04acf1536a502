"""Unit tests of the firewall parsing and judging behind tests/test_firewall.py (firewall_*.py).

The inputs reproduce output captured on a lab host (Debian 12, nftables 1.0.6, firewalld
1.3.3) after the firewall role converged it, and the same hosts after the drift scenarios.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from driftvakt_checks import firewall_firewalld as firewalld
from driftvakt_checks import firewall_model as model
from driftvakt_checks import firewall_nft as nftables
from driftvakt_checks import firewall_paths as fwpaths
from driftvakt_checks import firewall_state as fwstate

PATHS = [
    {
        "name": "management-ssh",
        "source": "10.77.1.1/32",
        "destination": "all",
        "proto": "tcp",
        "port": 22,
    },
    {
        "name": "syslog-relay",
        "source": "10.77.1.0/24",
        "destination": "lab",
        "proto": "udp",
        "port": 514,
    },
    {
        "name": "db",
        "source": "10.9.0.0/16",
        "destination": "dbservers",
        "proto": "tcp",
        "port": 5432,
    },
]
HOST = fwpaths.host_networks(["10.77.1.11"])


def _paths() -> Any:
    return fwpaths.host_paths(PATHS, "lab-01", ["lab"])


# ------------------------------------------------------------------ nftables


def _match(proto: str, fld: str, right: Any, op: str = "==") -> dict[str, Any]:
    return {
        "match": {"op": op, "left": {"payload": {"protocol": proto, "field": fld}}, "right": right}
    }


def _rule(
    handle: int, exprs: list[dict[str, Any]], comment: str | None = None, chain: str = "input"
) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "family": "inet",
        "table": "driftvakt",
        "chain": chain,
        "handle": handle,
        "expr": exprs,
    }
    if comment:
        rule["comment"] = comment
    return {"rule": rule}


ACCEPT: dict[str, Any] = {"accept": None}
# `nft -j list ruleset` on lab-01 after the role converged it.
GOOD: dict[str, Any] = {
    "nftables": [
        {
            "metainfo": {
                "version": "1.0.6",
                "release_name": "Lester Gooch #5",
                "json_schema_version": 1,
            }
        },
        {"table": {"family": "inet", "name": "driftvakt", "handle": 2}},
        {
            "chain": {
                "family": "inet",
                "table": "driftvakt",
                "name": "input",
                "handle": 1,
                "type": "filter",
                "hook": "input",
                "prio": 0,
                "policy": "drop",
            }
        },
        _rule(
            2,
            [
                {
                    "match": {
                        "op": "in",
                        "left": {"ct": {"key": "state"}},
                        "right": ["established", "related"],
                    }
                },
                ACCEPT,
            ],
        ),
        _rule(
            3,
            [
                {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "invalid"}},
                {"drop": None},
            ],
        ),
        _rule(
            4, [{"match": {"op": "==", "left": {"meta": {"key": "iif"}}, "right": "lo"}}, ACCEPT]
        ),
        _rule(
            6,
            [
                _match(
                    "icmp",
                    "type",
                    {"set": ["destination-unreachable", "time-exceeded", "parameter-problem"]},
                ),
                ACCEPT,
            ],
        ),
        _rule(
            8,
            [
                _match(
                    "icmpv6",
                    "type",
                    {
                        "set": [
                            "destination-unreachable",
                            "packet-too-big",
                            "time-exceeded",
                            "parameter-problem",
                            "nd-router-advert",
                            "nd-neighbor-solicit",
                            "nd-neighbor-advert",
                            "nd-redirect",
                        ]
                    },
                ),
                ACCEPT,
            ],
        ),
        _rule(
            9,
            [
                _match("ip", "saddr", "10.77.1.1"),
                _match("ip", "daddr", "10.77.1.11"),
                _match("tcp", "dport", 22),
                ACCEPT,
            ],
            comment="management-ssh",
        ),
        _rule(
            10,
            [
                _match("ip", "saddr", {"prefix": {"addr": "10.77.1.0", "len": 24}}),
                _match("ip", "daddr", "10.77.1.11"),
                _match("udp", "dport", 514),
                ACCEPT,
            ],
            comment="syslog-relay",
        ),
    ]
}


def _with(*objects: dict[str, Any], policy: str | None = None) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    data["nftables"].extend(objects)
    if policy:
        data["nftables"][2]["chain"]["policy"] = policy
    return data


def test_host_paths_keep_only_paths_ending_here() -> None:
    assert [p.name for p in _paths()] == ["management-ssh", "syslog-relay"]
    assert [p.name for p in fwpaths.host_paths(PATHS, "db-01", ["dbservers"])] == [
        "management-ssh",
        "db",
    ]


def test_nft_converged_host_passes_both() -> None:
    chains = nftables.nft_input_chains(json.dumps(GOOD))
    assert [(c.where, c.policy) for c in chains] == [("inet driftvakt input", "drop")]
    assert nftables.deny_covers_both_families(chains)
    rules = nftables.nft_accept_rules(GOOD)
    assert len(rules) == 6
    assert model.unapproved(rules, _paths(), HOST) == []
    assert model.missing(rules, _paths(), HOST) == []


def test_nft_policy_accept_fails_default_deny_only() -> None:
    data = _with(policy="accept")  # nft chain inet driftvakt input '{ policy accept; }'
    assert not nftables.deny_covers_both_families(nftables.nft_input_chains(data))
    rules = nftables.nft_accept_rules(data)
    assert model.unapproved(rules, _paths(), HOST) == []
    assert model.missing(rules, _paths(), HOST) == []


def test_nft_ip_only_drop_chain_leaves_ipv6_open() -> None:
    data = {
        "nftables": [
            {
                "chain": {
                    "family": "ip",
                    "table": "f",
                    "name": "in",
                    "type": "filter",
                    "hook": "input",
                    "prio": 0,
                    "policy": "drop",
                }
            }
        ]
    }
    assert not nftables.deny_covers_both_families(nftables.nft_input_chains(data))


def test_nft_unknown_accept_rule_is_named() -> None:
    data = _with(_rule(11, [_match("tcp", "dport", 8080), ACCEPT]))  # nft add rule ... 8080
    assert nftables.deny_covers_both_families(nftables.nft_input_chains(data))
    extra = model.unapproved(nftables.nft_accept_rules(data), _paths(), HOST)
    assert extra == ["inet driftvakt input (handle 11): tcp dport 8080 accept"]


@pytest.mark.parametrize(
    ("exprs", "why"),
    [
        (
            [
                _match("ip", "saddr", {"prefix": {"addr": "10.0.0.0", "len": 8}}),
                _match("ip", "daddr", "10.77.1.11"),
                _match("tcp", "dport", 22),
            ],
            "source too wide",
        ),
        ([_match("ip", "saddr", "10.77.1.1"), _match("tcp", "dport", 22)], "no destination"),
        (
            [
                _match("ip", "saddr", "10.77.1.1", op="!="),
                _match("ip", "daddr", "10.77.1.11"),
                _match("tcp", "dport", 22),
            ],
            "negated source",
        ),
        (
            [
                _match("ip", "saddr", "10.77.1.1"),
                _match("ip", "daddr", "10.77.1.11"),
                _match("tcp", "dport", {"set": [22, 23]}),
            ],
            "extra port",
        ),
        (
            [
                _match("ip", "saddr", "10.77.1.1"),
                _match("ip", "daddr", "10.77.1.11"),
                _match("udp", "dport", 22),
            ],
            "wrong protocol",
        ),
        ([_match("icmp", "type", "echo-request")], "ping is not needed ICMP"),
        (
            [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["new"]}}],
            "ct state new",
        ),
    ],
)
def test_nft_rules_outside_a_path_fail(exprs: list[dict[str, Any]], why: str) -> None:
    data = _with(_rule(12, [*exprs, ACCEPT]))
    assert len(model.unapproved(nftables.nft_accept_rules(data), _paths(), HOST)) == 1, why


def test_nft_narrower_rule_is_approved() -> None:
    data = _with(
        _rule(
            13,
            [
                _match("ip", "saddr", "10.77.1.7"),
                _match("ip", "daddr", "10.77.1.11"),
                _match("udp", "dport", 514),
                {"counter": {"packets": 0, "bytes": 0}},
                ACCEPT,
            ],
        )
    )
    assert model.unapproved(nftables.nft_accept_rules(data), _paths(), HOST) == []


def test_nft_missing_path_is_named() -> None:
    data = copy.deepcopy(GOOD)
    data["nftables"] = [
        o for o in data["nftables"] if o.get("rule", {}).get("comment") != "syslog-relay"
    ]
    rules = nftables.nft_accept_rules(data)
    assert model.unapproved(rules, _paths(), HOST) == []
    assert model.missing(rules, _paths(), HOST) == ["syslog-relay (10.77.1.0/24 -> udp/514)"]


def test_nft_accept_behind_a_jump_is_found() -> None:
    data = _with(
        {"chain": {"family": "inet", "table": "driftvakt", "name": "extra", "handle": 20}},
        _rule(21, [_match("ip", "saddr", "10.77.1.5"), {"jump": {"target": "extra"}}]),
        _rule(22, [_match("tcp", "dport", 9000), ACCEPT], chain="extra"),
    )
    extra = model.unapproved(nftables.nft_accept_rules(data), _paths(), HOST)
    assert extra == [
        "inet driftvakt extra (handle 22): ip saddr 10.77.1.5 jump extra -> tcp dport 9000 accept"
    ]


# ------------------------------------------------------------------ firewalld

# `firewall-cmd --list-all-zones` (excerpt) and `--list-all-policies` on lab-03 after the role
# converged it: the role's zone is the default zone; no interface is bound explicitly.
ZONES = """\
block
  target: %%REJECT%%
  icmp-block-inversion: no
  interfaces: 
  sources: 
  services: 
  ports: 
  protocols: 
  forward: yes
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: 
  rich rules: 

driftvakt
  target: DROP
  icmp-block-inversion: yes
  interfaces: 
  sources: 
  services: 
  ports: 
  protocols: 
  forward: no
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: destination-unreachable neighbour-advertisement neighbour-solicitation packet-too-big parameter-problem time-exceeded
  rich rules: 
\trule family="ipv4" source address="10.77.1.1/32" destination address="10.77.1.13" port port="22" protocol="tcp" accept

public
  target: default
  icmp-block-inversion: no
  interfaces: 
  sources: 
  services: dhcpv6-client ssh
  ports: 
  protocols: 
  forward: yes
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: 
  rich rules: 

trusted (active)
  target: ACCEPT
  icmp-block-inversion: no
  interfaces: 
  sources: 192.0.2.0/24
  services: 
  ports: 
  protocols: 
  forward: yes
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: 
  rich rules: 
"""  # noqa: W291, E501
POLICIES = """\
allow-host-ipv6 (active)
  priority: -15000
  target: CONTINUE
  ingress-zones: ANY
  egress-zones: HOST
  services: 
  ports: 
  protocols: 
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: 
  rich rules: 
\trule family="ipv6" icmp-type name="neighbour-advertisement" accept
\trule family="ipv6" icmp-type name="neighbour-solicitation" accept
\trule family="ipv6" icmp-type name="router-advertisement" accept
\trule family="ipv6" icmp-type name="redirect" accept
"""  # noqa: W291
FW_HOST = fwpaths.host_networks(["10.77.1.13"])
FW_PATHS = fwpaths.host_paths(PATHS[:1], "lab-03", ["lab"])


def _zone(text: str = ZONES, name: str = "driftvakt") -> Any:
    return firewalld.parse_firewalld_listing(text)[name]


def test_firewalld_listing_parses_zones_and_rich_rules() -> None:
    zones = firewalld.parse_firewalld_listing(ZONES)
    assert set(zones) == {"block", "driftvakt", "public", "trusted"}
    assert zones["trusted"].active
    assert not zones["driftvakt"].active
    assert zones["driftvakt"].fields["target"] == "DROP"
    assert zones["public"].values("services") == ["dhcpv6-client", "ssh"]
    assert zones["driftvakt"].rich_rules == [
        'rule family="ipv4" source address="10.77.1.1/32" destination address="10.77.1.13" '
        'port port="22" protocol="tcp" accept'
    ]


def test_rich_rule_parse() -> None:
    rule = firewalld.parse_rich_rule(
        'rule family="ipv4" source NOT address="10.0.0.0/8" service name="ssh" '
        'log prefix="ssh in" level="info" limit value="1/m" accept'
    )
    assert rule["family"] == "ipv4"
    assert rule["source"] is None
    assert rule["source_negated"]
    assert (rule["element"], rule["attrs"], rule["action"]) == (
        "service",
        {"name": "ssh"},
        "accept",
    )


def test_firewalld_converged_zone_and_policy_pass() -> None:
    rules = firewalld.firewalld_accepts(_zone())
    policies = firewalld.parse_firewalld_listing(POLICIES)
    assert firewalld.policy_reaches_host(policies["allow-host-ipv6"], ["driftvakt"])
    rules += firewalld.firewalld_accepts(policies["allow-host-ipv6"], kind="policy")
    assert model.unapproved(rules, FW_PATHS, FW_HOST) == []
    assert model.missing(rules, FW_PATHS, FW_HOST) == []


def test_firewalld_runtime_port_is_named() -> None:  # firewall-cmd --add-port=8080/tcp
    zone = _zone(
        ZONES.replace(
            "  ports: \n  protocols: \n  forward: no",
            "  ports: 8080/tcp\n  protocols: \n  forward: no",
        )
    )
    extra = model.unapproved(firewalld.firewalld_accepts(zone), FW_PATHS, FW_HOST)
    assert extra == ["firewalld zone driftvakt: port 8080/tcp (any source)"]


def test_firewalld_stock_public_zone_fails() -> None:
    extra = model.unapproved(firewalld.firewalld_accepts(_zone(name="public")), FW_PATHS, FW_HOST)
    assert extra == [
        "firewalld zone public: service dhcpv6-client (any source)",
        "firewalld zone public: service ssh (any source)",
        "firewalld zone public: all ICMP types except blocked (none)",
    ]
    assert model.missing(firewalld.firewalld_accepts(_zone(name="public")), FW_PATHS, FW_HOST) == [
        "management-ssh (10.77.1.1/32 -> tcp/22)"
    ]


def test_firewalld_icmp_router_advertisement_opens_ipv4_type() -> None:
    zone = _zone(
        ZONES.replace(
            "parameter-problem time-exceeded",
            "parameter-problem router-advertisement time-exceeded",
        )
    )
    extra = model.unapproved(firewalld.firewalld_accepts(zone), FW_PATHS, FW_HOST)
    assert extra == ["firewalld zone driftvakt: icmp router-advertisement (ipv4)"]


def test_firewalld_targets() -> None:
    assert {"DROP", "REJECT", "%%REJECT%%", "default"} == model.DENY_TARGETS
    assert _zone(name="trusted").fields["target"] not in model.DENY_TARGETS


# ------------------------------------------------------------------ the one state read


def test_state_of_an_nftables_host() -> None:
    # STATE_COMMAND on lab-02: firewalld not installed, nftables.service active.
    text = (
        "## unit firewalld inactive \n## unit nftables active enabled\n## nft\n"
        + json.dumps(GOOD)
        + "\n## nft-rc 0\n"
    )
    state = fwstate.parse_state(text)
    assert state.backend == "nftables"
    assert state.units["firewalld"] == fwstate.Unit("inactive", "")
    assert state.units["nftables"] == fwstate.Unit("active", "enabled")
    assert state.sections["nft-rc"] == "0"
    assert nftables.nft_accept_rules(
        json.loads(state.sections["nft"])
    ) == nftables.nft_accept_rules(GOOD)


def test_state_of_a_firewalld_host() -> None:
    text = (
        "## unit firewalld active enabled\n## unit nftables inactive masked\n"
        "## default-zone\ndriftvakt\n## zones\n"
        + ZONES
        + "## permanent-zones\n"
        + ZONES
        + "## policies\n"
        + POLICIES
    )
    state = fwstate.parse_state(text)
    assert state.backend == "firewalld"
    assert state.units["nftables"] == fwstate.Unit("inactive", "masked")
    assert state.sections["default-zone"].strip() == "driftvakt"
    zones = firewalld.parse_firewalld_listing(state.sections["zones"])
    assert zones["driftvakt"].fields["target"] == "DROP"
    assert "allow-host-ipv6" in firewalld.parse_firewalld_listing(state.sections["policies"])


def test_state_command_reads_both_backends_in_one_go() -> None:
    command = fwstate.STATE_COMMAND
    assert "\n" not in command
    for read in (
        "systemctl is-active",
        "systemctl is-enabled",
        "firewall-cmd --list-all-zones",
        "firewall-cmd --permanent --list-all-zones",
        "firewall-cmd --list-all-policies",
        "nft -j list ruleset",
    ):
        assert read in command


# ------------------------------------------------------------------ nftables: which chains decide


def _foreign(policy: str, *rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A second table with its own input base chain, as another tool would add it."""
    objs: list[dict[str, Any]] = [
        {"table": {"family": "ip", "name": "other", "handle": 9}},
        {
            "chain": {
                "family": "ip",
                "table": "other",
                "name": "in",
                "handle": 1,
                "type": "filter",
                "hook": "input",
                "prio": 10,
                "policy": policy,
            }
        },
    ]
    for handle, exprs in enumerate(rules, start=2):
        objs.append(
            {
                "rule": {
                    "family": "ip",
                    "table": "other",
                    "chain": "in",
                    "handle": handle,
                    "expr": exprs,
                }
            }
        )
    return objs


def test_nft_judge_converged_host() -> None:
    assert nftables.nft_judge(GOOD, _paths(), HOST) == ([], [])


def test_nft_judge_ignores_accepts_a_drop_chain_still_blocks() -> None:
    data = _with(*_foreign("accept", [_match("tcp", "dport", 8080), ACCEPT]))
    assert nftables.nft_judge(data, _paths(), HOST) == ([], [])


def test_nft_judge_foreign_drop_chain_must_also_open_the_paths() -> None:
    data = _with(*_foreign("drop", [_match("tcp", "dport", 8080), ACCEPT]))
    extra, absent = nftables.nft_judge(data, _paths(), HOST)
    assert extra == ["ip other in (handle 2): tcp dport 8080 accept"]
    assert absent == [
        "management-ssh (10.77.1.1/32 -> tcp/22) in ip other in",
        "syslog-relay (10.77.1.0/24 -> udp/514) in ip other in",
    ]


def test_nft_judge_policy_accept_leaves_paths_to_the_other_control() -> None:
    assert nftables.nft_judge(_with(policy="accept"), _paths(), HOST) == ([], [])
    data = _with(_rule(11, [_match("tcp", "dport", 8080), ACCEPT]), policy="accept")
    assert nftables.nft_judge(data, _paths(), HOST)[0] == [
        "inet driftvakt input (handle 11): tcp dport 8080 accept"
    ]


def test_nft_judge_empty_ruleset_misses_every_path() -> None:
    extra, absent = nftables.nft_judge({"nftables": []}, _paths(), HOST)
    assert extra == []
    assert len(absent) == 2


def test_firewalld_zones_without_a_kernel_ruleset_are_no_firewall() -> None:
    # `nft flush ruleset` under a running firewalld: its zones still list, nothing filters.
    from driftvakt_checks.firewall_model import InputChain

    flushed = nftables.nft_input_chains({"nftables": [{"metainfo": {"json_schema_version": 1}}]})
    assert "nothing is filtered" in str(firewalld.kernel_problem("0", flushed))
    assert "unproven" in str(firewalld.kernel_problem("127", []))
    live = [InputChain("inet firewalld filter_INPUT", "inet", "accept")]
    assert firewalld.kernel_problem("0", live) is None


# ------------------------------------------------------------------ the saved ruleset (next boot)


def _nft_host(saved: str) -> Any:
    return fwstate.parse_state(
        "## unit firewalld inactive \n## unit nftables active enabled\n"
        + saved
        + "## nft\n"
        + json.dumps(GOOD)
        + "\n## nft-rc 0\n"
    )


def test_saved_ruleset_is_read_as_the_boot_loads_it() -> None:
    state = _nft_host(
        "## nft-saved-path /etc/nftables.conf\n## nft-saved\n" + json.dumps(GOOD) + "\n"
        "## nft-saved-rc 0\n"
    )
    path, ruleset, problem = state.saved_ruleset()
    assert (path, problem) == ("/etc/nftables.conf", None)
    assert nftables.nft_accept_rules(ruleset) == nftables.nft_accept_rules(GOOD)
    assert state.sections["nft-rc"] == "0"  # the live ruleset still its own section


def test_saved_ruleset_that_does_not_load_is_a_problem() -> None:
    # nft's own words for a broken file (recorded on a lab host).
    state = _nft_host(
        "## nft-saved-path /etc/nftables.conf\n## nft-saved\n"
        "/etc/nftables.conf:3:1-3: Error: syntax error, unexpected junk\n"
        "## nft-saved-rc 1\n"
    )
    _, ruleset, problem = state.saved_ruleset()
    assert ruleset is None
    assert problem is not None
    assert "does not load (rc 1: /etc/nftables.conf:3:1-3: Error: syntax error" in problem
    assert "leaves the host unfiltered" in problem


def test_saved_ruleset_without_a_unit_file_is_a_problem() -> None:
    # No nftables.service: systemctl show prints nothing, the path line is empty.
    state = _nft_host("## nft-saved-path \n## nft-saved\n")
    assert state.saved_ruleset() == (
        "",
        None,
        "nftables.service names no ruleset file (`nft -f` in its ExecStart)",
    )


def test_saved_ruleset_with_policy_accept_is_told_apart_from_the_live_one() -> None:
    accepting = copy.deepcopy(GOOD)
    for obj in accepting["nftables"]:
        if "chain" in obj and obj["chain"].get("hook") == "input":
            obj["chain"]["policy"] = "accept"
    state = _nft_host(
        "## nft-saved-path /etc/nftables.conf\n## nft-saved\n" + json.dumps(accepting) + "\n"
        "## nft-saved-rc 0\n"
    )
    _, saved, _ = state.saved_ruleset()
    assert nftables.deny_covers_both_families(nftables.nft_input_chains(state.sections["nft"]))
    assert not nftables.deny_covers_both_families(nftables.nft_input_chains(saved))


def test_state_command_loads_the_saved_ruleset_in_a_throwaway_namespace() -> None:
    command = fwstate.STATE_COMMAND
    # The unit's own ExecStart names the file (Debian /etc/nftables.conf, RHEL
    # /etc/sysconfig/nftables.conf); it is loaded with unshare --net, never into the live kernel.
    assert "systemctl show -p ExecStart nftables.service" in command
    assert "unshare --net sh -c 'nft -f \"$1\" && nft -j list ruleset'" in command
    assert "firewall-cmd --permanent --list-all-policies" in command


def test_state_command_finds_the_file_nftables_service_loads() -> None:
    import subprocess

    show = (
        "ExecStart={ path=/usr/sbin/nft ; argv[]=/usr/sbin/nft -f /etc/sysconfig/nftables.conf ;"
        " ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ;"
        " status=0/0 }"
    )
    sed = fwstate.STATE_COMMAND.split("| sed -n ", 1)[1].split("/p'", 1)[0] + "/p'"
    out = subprocess.run(
        ["sh", "-c", f"echo {json.dumps(show)} | sed -n {sed}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "/etc/sysconfig/nftables.conf"
