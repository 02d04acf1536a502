"""The lab's layer-2 network: one bridge, one network namespace and veth pair per host.

The controller has an address on the bridge to reach the hosts; hosts get no default route and
the machine gets no NAT or forwarding, so nothing from the lab leaves this machine.
"""

from __future__ import annotations

import ipaddress

from driftvakt.errors import LabError
from driftvakt.lab.config import LabConfig, LabHost
from driftvakt.lab.system import run


def _link_exists(name: str) -> bool:
    return run(["ip", "link", "show", name], check=False).returncode == 0


def netns_list() -> list[str]:
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def check_subnet_free(cfg: LabConfig) -> None:
    """Refuse a lab subnet that overlaps a route this machine already has (other than ours)."""
    ours = ipaddress.ip_network(cfg.subnet)
    for line in run(["ip", "-4", "route", "show"]).stdout.splitlines():
        words = line.split()
        if not words or words[0] == "default" or cfg.bridge in words:
            continue
        try:
            net = ipaddress.ip_network(words[0], strict=False)
        except ValueError:
            continue
        if net.overlaps(ours):
            raise LabError(
                f"lab subnet {cfg.subnet} overlaps the route '{line.strip()}': "
                "choose another --name"
            )


def bridge_up(cfg: LabConfig) -> None:
    if not _link_exists(cfg.bridge):
        run(["ip", "link", "add", cfg.bridge, "type", "bridge"])
    addr = f"{cfg.gateway}/24"
    if addr not in run(["ip", "-4", "addr", "show", "dev", cfg.bridge]).stdout:
        run(["ip", "addr", "add", addr, "dev", cfg.bridge])
    run(["ip", "link", "set", cfg.bridge, "up"])


def bridge_down(cfg: LabConfig) -> None:
    if _link_exists(cfg.bridge):
        run(["ip", "link", "del", cfg.bridge])


def host_net_up(cfg: LabConfig, host: LabHost) -> None:
    """A fresh namespace with eth0 = the host's address on the lab subnet, loopback up."""
    host_net_down(cfg, host)
    ns, veth = cfg.netns(host), cfg.veth(host)
    run(["ip", "netns", "add", ns])
    run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
    run(["ip", "link", "set", veth, "master", cfg.bridge, "up"])
    run(["ip", "-n", ns, "addr", "add", f"{host.address}/24", "dev", "eth0"])
    run(["ip", "-n", ns, "link", "set", "eth0", "up"])
    run(["ip", "-n", ns, "link", "set", "lo", "up"])


def host_net_down(cfg: LabConfig, host: LabHost) -> None:
    ns, veth = cfg.netns(host), cfg.veth(host)
    if ns in netns_list():
        run(["ip", "netns", "del", ns])
    if _link_exists(veth):
        run(["ip", "link", "del", veth], check=False)
