"""The firewall role, rendered for every platform family without a host.

RHEL and SLES cannot boot in the lab, so their variables and the rendered ruleset/zone are
proved here; the nftables ruleset goes through ``nft -c -f`` (the same validation the role's
template task runs) when nft is available on this machine.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from driftvakt.rendering import FAMILY_FACTS, render_template, role_vars

ROLE = Path(__file__).resolve().parents[2] / "roles" / "firewall"
PATHS = [
    {
        "name": "management-ssh",
        "source": "10.77.1.1/32",
        "destination": "all",
        "proto": "tcp",
        "port": 22,
    },
    {
        "name": "syslog",
        "source": "10.20.0.0/16",
        "destination": "logservers",
        "proto": "udp",
        "port": 514,
    },
    {"name": "db", "source": "10.30.4.0/24", "destination": "db-01", "proto": "tcp", "port": 5432},
]
EXPECTED = {  # family: (default backend, nftables config, firewalld packages)
    "debian12": ("nftables", "/etc/nftables.conf", ["firewalld", "python3-firewall", "nftables"]),
    "rhel8": ("firewalld", "/etc/sysconfig/nftables.conf", ["firewalld", "nftables"]),
    "rhel9": ("firewalld", "/etc/sysconfig/nftables.conf", ["firewalld", "nftables"]),
    "rhel10": ("firewalld", "/etc/sysconfig/nftables.conf", ["firewalld", "nftables"]),
    "sles15": ("firewalld", "/etc/nftables.conf", ["firewalld", "nftables"]),
}
NFT = shutil.which("nft") or "/usr/sbin/nft"


def _vars(
    family: str,
    host: str = "db-01",
    address: str = "10.30.4.7",
    groups: tuple[str, ...] = ("dbservers",),
    paths: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = role_vars(
        ROLE,
        FAMILY_FACTS[family],
        {
            "firewall_approved_paths": PATHS if paths is None else paths,
            "inventory_hostname": host,
            "ansible_host": address,
            "group_names": list(groups),
        },
    )
    return result


@pytest.mark.parametrize("family", sorted(EXPECTED))
def test_platform_vars(family: str) -> None:
    v = _vars(family)
    backend, conf, firewalld_packages = EXPECTED[family]
    assert (v["firewall_backend"] or v["__firewall_default_backend"]) == backend
    assert v["__firewall_nftables_conf"] == conf
    assert v["__firewall_packages"]["nftables"] == ["nftables"]
    assert v["__firewall_packages"]["firewalld"] == firewalld_packages
    assert v["__firewall_firewalld_zones_dir"] == "/etc/firewalld/zones"


def test_paths_apply_only_where_their_destination_names() -> None:
    names = [p["name"] for p in _vars("rhel9")["__firewall_host_paths"]]
    assert names == ["management-ssh", "db"]
    other = _vars("rhel9", host="log-01", address="10.20.0.9", groups=("logservers",))
    assert [p["name"] for p in other["__firewall_host_paths"]] == ["management-ssh", "syslog"]


def _nft_check(text: str, tmp_path: Path) -> None:
    if not os.path.exists(NFT) or os.geteuid() != 0:
        pytest.skip("nft -c needs nft and root on this machine")
    conf = tmp_path / "nftables.conf"
    conf.write_text(text)
    result = subprocess.run(
        [NFT, "-c", "-f", str(conf)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"nft -c rejected the rendered ruleset: {result.stderr}"


@pytest.mark.parametrize("family", sorted(EXPECTED))
def test_nftables_ruleset_renders_and_validates(family: str, tmp_path: Path) -> None:
    text = render_template(ROLE, "etc/nftables.conf.j2", _vars(family))
    assert text.startswith("#\n# Managed by driftvakt")
    assert "type filter hook input priority filter; policy drop;" in text
    rules = [line.strip() for line in text.splitlines() if " dport " in line]
    assert rules == [
        'ip saddr 10.77.1.1/32 ip daddr 10.30.4.7 tcp dport 22 accept comment "management-ssh"',
        'ip saddr 10.30.4.0/24 ip daddr 10.30.4.7 tcp dport 5432 accept comment "db"',
    ]
    _nft_check(text, tmp_path)


def test_nftables_ipv6_paths_render_and_validate(tmp_path: Path) -> None:
    v = _vars(
        "debian12",
        address="2001:db8::7",
        paths=[
            {
                "name": "mgmt6",
                "source": "2001:db8:1::/64",
                "destination": "all",
                "proto": "tcp",
                "port": 22,
            }
        ],
    )
    text = render_template(ROLE, "etc/nftables.conf.j2", v)
    assert "ip6 saddr 2001:db8:1::/64 ip6 daddr 2001:db8::7 tcp dport 22 accept" in text
    _nft_check(text, tmp_path)


def _attr(element: ET.Element, child: str, name: str) -> str | None:
    found = element.find(child)
    return None if found is None else found.get(name)


@pytest.mark.parametrize("family", sorted(EXPECTED))
def test_firewalld_zone_renders_one_rich_rule_per_path(family: str) -> None:
    text = render_template(ROLE, "etc/firewalld/zones/driftvakt.xml.j2", _vars(family))
    zone = ET.fromstring(text)  # noqa: S314 (our own template, rendered here)
    assert zone.tag == "zone"
    assert zone.get("target") == "DROP"
    assert zone.find("icmp-block-inversion") is not None
    assert {b.get("name") for b in zone.findall("icmp-block")} == {
        "destination-unreachable",
        "time-exceeded",
        "parameter-problem",
        "packet-too-big",
        "neighbour-solicitation",
        "neighbour-advertisement",
    }
    assert zone.findall("service") == []
    assert zone.findall("port") == []
    rules = [
        (
            r.get("family"),
            _attr(r, "source", "address"),
            _attr(r, "destination", "address"),
            _attr(r, "port", "protocol"),
            _attr(r, "port", "port"),
            r.find("accept") is not None,
        )
        for r in zone.findall("rule")
    ]
    assert rules == [
        ("ipv4", "10.77.1.1/32", "10.30.4.7", "tcp", "22", True),
        ("ipv4", "10.30.4.0/24", "10.30.4.7", "tcp", "5432", True),
    ]


def test_argument_spec_constrains_backend_and_paths() -> None:
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    assert options["firewall_backend"]["choices"] == ["", "nftables", "firewalld"]
    assert options["firewall_approved_paths"]["elements"] == "dict"
    keys = options["firewall_approved_paths"]["options"]
    assert all(keys[k]["required"] for k in ("name", "source", "destination", "proto", "port"))


# ------------------------------------------------------------------ the role's filter plugin


def _plugin() -> ModuleType:
    path = ROLE.parents[1] / "filter_plugins" / "firewall_paths.py"
    spec = importlib.util.spec_from_file_location("firewall_paths", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_path_errors() -> None:
    errors = _plugin().firewall_path_errors
    assert errors(PATHS, "10.30.4.7") == []
    bad = [
        {"name": "a", "source": "10.0.0.1/8", "proto": "tcp", "port": 22},
        {"name": "b", "source": "2001:db8::/64", "proto": "tcp", "port": 22},
        {"name": "b", "source": "10.0.0.0/8", "proto": "icmp", "port": 0},
    ]
    assert errors(bad, "10.30.4.7") == [
        "path a: source '10.0.0.1/8' is not a CIDR (10.0.0.1/8 has host bits set)",
        "path b: source 2001:db8::/64 is IPv6 but this host's address 10.30.4.7 is IPv4",
        "path b: the name is used twice",
        "path b: proto 'icmp' is not one of ('tcp', 'udp')",
        "path b: port 0 is not an integer 1-65535",
    ]
    assert errors(PATHS, "db-01.example") == [
        "firewall_host_address 'db-01.example' is not an IP address"
    ]


def test_paths_covering_the_management_connection() -> None:
    covering = _plugin().firewall_paths_covering
    assert covering(PATHS, "10.77.1.1", "22") == ["management-ssh"]
    assert covering(PATHS, "10.77.1.2", 22) == []
    assert covering(PATHS, "10.30.4.200", 5432) == ["db"]
    assert covering(PATHS, "10.30.4.200", 5432, "udp") == []


def test_listing_canonical_ignores_order_and_markers() -> None:
    canonical = _plugin().firewall_listing_canonical
    runtime = (
        "driftvakt (active)\n  target: DROP\n  interfaces: eth0\n"
        '  icmp-blocks: b a\n  rich rules: \n\trule family="ipv4" accept\n'
    )
    permanent = (
        "driftvakt\n  target: DROP\n  interfaces: \n"
        '  icmp-blocks: a b\n  rich rules: \n\trule family="ipv4" accept\n'
    )
    assert canonical(runtime) == canonical(permanent)
    assert canonical(runtime.replace("target: DROP", "target: ACCEPT")) != canonical(permanent)
    drifted = permanent.replace("  rich rules:", "  ports: 8080/tcp\n  rich rules:")
    assert canonical(drifted) != canonical(permanent)
