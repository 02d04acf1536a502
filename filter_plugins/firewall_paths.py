"""Filters the firewall role uses to reason about approved traffic paths.

Ansible ships no address arithmetic without the third-party ``netaddr`` package, so the few
questions the role must answer before it touches a host's firewall are answered here with the
standard library's ``ipaddress``:

* ``firewall_path_errors``: what is wrong with ``firewall_approved_paths`` (beyond types, which
  ``meta/argument_specs.yml`` checks), so that a bad inventory fails before anything changes;
* ``firewall_paths_covering``: which paths would admit a given connection (the management
  connection must be one of them, or the role refuses to apply);
* ``firewall_listing_canonical``: firewalld's ``--list-all-zones`` / ``--list-all-policies``
  output in an order-independent form, to compare the runtime with the permanent configuration.

These are not the compliance check: ``tests/test_firewall.py`` alone defines what compliant means.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

PROTOCOLS = ("tcp", "udp")


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(str(value), strict=True)


def firewall_path_errors(paths: Iterable[Mapping[str, Any]], host_address: str) -> list[str]:
    """One message per problem in the approved paths; empty when they can be enforced."""
    errors: list[str] = []
    try:
        host = ipaddress.ip_address(str(host_address))
    except ValueError:
        return [f"firewall_host_address {host_address!r} is not an IP address"]
    seen: set[str] = set()
    for index, path in enumerate(paths):
        name = str(path.get("name") or f"#{index}")
        if name in seen:
            errors.append(f"path {name}: the name is used twice")
        seen.add(name)
        try:
            source = _network(path.get("source"))
        except ValueError as exc:
            errors.append(f"path {name}: source {path.get('source')!r} is not a CIDR ({exc})")
            continue
        if source.version != host.version:
            errors.append(
                f"path {name}: source {source} is IPv{source.version} but this host's address "
                f"{host} is IPv{host.version}"
            )
        if str(path.get("proto")) not in PROTOCOLS:
            errors.append(f"path {name}: proto {path.get('proto')!r} is not one of {PROTOCOLS}")
        port = path.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            errors.append(f"path {name}: port {port!r} is not an integer 1-65535")
    return errors


def firewall_paths_covering(
    paths: Iterable[Mapping[str, Any]], address: str, port: int | str, proto: str = "tcp"
) -> list[str]:
    """Names of the paths that admit a connection from ``address`` to ``proto``/``port``."""
    try:
        client = ipaddress.ip_address(str(address))
    except ValueError:
        return []
    names: list[str] = []
    for path in paths:
        try:
            source = _network(path.get("source"))
        except ValueError:
            continue
        if (
            source.version == client.version
            and client in source
            and str(path.get("proto")) == proto
            and str(path.get("port")) == str(port)
        ):
            names.append(str(path.get("name")))
    return names


def firewall_listing_canonical(text: str, ignore: Iterable[str] = ("interfaces",)) -> list[str]:
    """firewalld's ``--list-all-*`` text as sorted lines with sorted values.

    firewalld prints the runtime configuration sorted and the permanent one in file order, and
    marks runtime zones ``(active)``/``(default)``; none of that is a difference in rules. Keys
    named in ``ignore`` are dropped (interface bindings legitimately live in the runtime only).
    """
    skip = set(ignore)
    result: list[str] = []
    block = ""
    for raw in text.splitlines():
        if not raw.strip():
            continue
        if not raw[0].isspace():
            block = raw.split()[0]
            result.append(block)
            continue
        line = raw.strip()
        key, sep, values = line.partition(":")
        if sep and " " not in key and not line.startswith("rule "):
            if key in skip:
                continue
            result.append(f"{block}/{key}: {' '.join(sorted(values.split()))}")
        else:
            result.append(f"{block}/{line}")
    return sorted(result)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "firewall_path_errors": firewall_path_errors,
            "firewall_paths_covering": firewall_paths_covering,
            "firewall_listing_canonical": firewall_listing_canonical,
        }
