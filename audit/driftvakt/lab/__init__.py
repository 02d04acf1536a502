"""The lab: real Debian 12 hosts on this machine (systemd-nspawn, own netns, own root fs).

``up`` is idempotent: running, answering hosts are kept; anything half-started or crashed is
cleaned and started again. ``down`` leaves no process, mount, namespace or interface behind.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from driftvakt.errors import LabError
from driftvakt.lab import image, inventory_writer, machine, network, rootfs, rpm_host
from driftvakt.lab.config import LabConfig, LabHost
from driftvakt.lab.system import preflight, raise_inotify_limits, rpm_preflight, run
from driftvakt.progress import Progress

__all__ = ["HostStatus", "LabConfig", "down", "status", "up"]


@dataclass(frozen=True)
class HostStatus:
    name: str
    address: str
    running: bool
    reachable: bool
    memory_mib: float


def _state_file(cfg: LabConfig) -> Path:
    return cfg.state / "state.json"


def _saved_count(cfg: LabConfig) -> int | None:
    try:
        return int(json.loads(_state_file(cfg).read_text())["hosts"])
    except (OSError, ValueError, KeyError):
        return None


def _save_state(cfg: LabConfig, count: int, rpm: bool) -> None:
    tmp = _state_file(cfg).with_suffix(".tmp")
    tmp.write_text(json.dumps({"hosts": count, "subnet": cfg.subnet, "rpm": rpm}) + "\n")
    os.replace(tmp, _state_file(cfg))


def _ensure_keys(cfg: LabConfig) -> None:
    cfg.state.mkdir(parents=True, exist_ok=True)
    for key in (cfg.key, cfg.sftp_key):
        if not key.exists():
            run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    f"driftvakt-lab-{cfg.name}",
                    "-f",
                    str(key),
                ]
            )


def _reachable(cfg: LabConfig, host: LabHost) -> bool:
    done = run([*machine.ssh_base(cfg), host.address, "true"], check=False, timeout=15)
    return done.returncode == 0


def _host_running(cfg: LabConfig, host: LabHost) -> bool:
    return bool(machine.nspawn_pids(cfg.host_dir(host))) and _reachable(cfg, host)


def _teardown_host(cfg: LabConfig, host: LabHost) -> None:
    machine.stop(cfg.host_dir(host))
    for point in machine.mounts_under(cfg.host_dir(host)):
        if run(["umount", point], check=False).returncode:
            run(["umount", "-l", point])
    network.host_net_down(cfg, host)
    machine.forget(cfg, host)
    rootfs.reset(cfg.host_dir(host))


def _start_host(cfg: LabConfig, host: LabHost, all_targets: list[LabHost], rpm: bool) -> list[str]:
    network.host_net_up(cfg, host)
    root = machine.mount_root(cfg, host, rpm)
    pubkeys = rootfs.prepare_common(cfg, host, all_targets, root)
    if host.is_services:
        rootfs.prepare_services(cfg, root, rpm)
    elif rpm:
        rpm_host.prepare(cfg, host, root)
    machine.boot(cfg, host)
    return pubkeys


def _known_hosts_lines(host: LabHost, pubkeys: list[str]) -> list[str]:
    return [f"{host.address},{host.name} {key}" for key in pubkeys]


def _read_known(cfg: LabConfig) -> dict[str, list[str]]:
    known: dict[str, list[str]] = {}
    if cfg.known_hosts.exists():
        for line in cfg.known_hosts.read_text().splitlines():
            if line.strip():
                known.setdefault(line.split()[0], []).append(line)
    return known


def _write_known(cfg: LabConfig, known: dict[str, list[str]]) -> None:
    tmp = cfg.known_hosts.with_suffix(".tmp")
    tmp.write_text("".join(line + "\n" for lines in known.values() for line in lines))
    os.replace(tmp, cfg.known_hosts)


def up(cfg: LabConfig, count: int, progress: Progress, rpm: bool = False) -> Path:
    """Bring the lab to ``count`` running target hosts plus the services host; ``rpm``: the
    targets are RPM hosts (driftvakt.lab.rpm_host) and labsvc serves the lab RPM repositories."""
    targets = cfg.targets(count)
    preflight(cfg.state, image.base_dir())
    if rpm:
        rpm_preflight()
    network.check_subnet_free(cfg)
    started = time.monotonic()
    image.ensure_images(progress)
    if rpm:
        image.ensure_rpm_layer(progress)
    raise_inotify_limits(progress)
    _ensure_keys(cfg)
    previous = _saved_count(cfg)
    if previous and previous > count:  # shrinking: stop the hosts no longer wanted
        for host in cfg.targets(previous)[count:]:
            _teardown_host(cfg, host)
    network.bridge_up(cfg)
    known = _read_known(cfg)
    fresh: list[LabHost] = []
    for host in [cfg.services_host(), *targets]:
        if _host_running(cfg, host):
            continue
        progress.step(f"starting {host.name} ({host.address})")
        _teardown_host(cfg, host)
        pubkeys = _start_host(cfg, host, targets, rpm)
        known[f"{host.address},{host.name}"] = _known_hosts_lines(host, pubkeys)
        fresh.append(host)
    _write_known(cfg, known)
    for host in fresh:
        took = machine.wait_ready(cfg, host)
        progress.step(f"{host.name} is up (ssh answered {took:.1f}s after start)")
    if fresh and cfg.services_host() in fresh:
        _services_ready(cfg, progress)
    _save_state(cfg, count, rpm)
    path = inventory_writer.write(cfg, targets)
    progress.step(
        f"lab '{cfg.name}' ready: {count} hosts in {time.monotonic() - started:.1f}s; "
        f"inventory {path}"
    )
    return path


def _services_ready(cfg: LabConfig, progress: Progress) -> None:
    svc = cfg.services_host()
    check = (
        "for i in $(seq 50); do "
        "python3 -c \"import urllib.request as u; u.urlopen('http://"
        + svc.address
        + "/debian/dists/bookworm/Release', timeout=2)\" 2>/dev/null && exit 0; sleep 0.2; done;"
        " exit 1"
    )
    if run([*machine.ssh_base(cfg), svc.address, check], check=False, timeout=30).returncode:
        raise LabError("the lab mirror on labsvc did not answer on port 80")
    progress.step("lab services ready: NTP, package mirror, SFTP drop, syslog receiver")


def down(cfg: LabConfig, progress: Progress) -> None:
    """Stop every host, unmount, remove namespaces, veths and the bridge; keep the caches."""
    preflight()
    count = _saved_count(cfg) or 0
    hosts = [cfg.services_host(), *cfg.targets(count)] if count else [cfg.services_host()]
    progress.step(f"stopping lab '{cfg.name}'")
    machine.stop(cfg.state)
    for point in machine.mounts_under(cfg.state):
        run(["umount", point], check=False)
    for point in machine.mounts_under(cfg.state):
        run(["umount", "-l", point])
    for host in hosts:
        network.host_net_down(cfg, host)
        machine.forget(cfg, host)
    for ns in network.netns_list():  # leftovers of a larger or crashed lab
        if ns.startswith(f"driftvakt-{cfg.name}-"):
            run(["ip", "netns", "del", ns])
    network.bridge_down(cfg)
    shutil.rmtree(cfg.state / "hosts", ignore_errors=True)
    for path in (_state_file(cfg), cfg.known_hosts):
        path.unlink(missing_ok=True)
    shutil.rmtree(cfg.inventory, ignore_errors=True)
    cfg.inventory.with_name(cfg.inventory.name + ".waivers.yml").unlink(missing_ok=True)
    progress.step(f"lab '{cfg.name}' is down")


def status(cfg: LabConfig) -> list[HostStatus]:
    count = _saved_count(cfg) or 0
    result = []
    for host in [cfg.services_host(), *cfg.targets(count)] if count else []:
        running = bool(machine.nspawn_pids(cfg.host_dir(host)))
        result.append(
            HostStatus(
                host.name,
                host.address,
                running,
                running and _reachable(cfg, host),
                _memory_mib(cfg, host),
            )
        )
    return result


def _memory_mib(cfg: LabConfig, host: LabHost) -> float:
    """Resident memory of every process in the host's network namespace."""
    done = run(["ip", "netns", "pids", cfg.netns(host)], check=False)
    total = 0
    for pid in done.stdout.split():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def resolve_host(cfg: LabConfig, name: str) -> LabHost:
    count = _saved_count(cfg) or 0
    for host in [cfg.services_host(), *cfg.targets(count)] if count else []:
        if name in (host.name, host.address):
            return host
    raise LabError(f"no lab host {name!r} in lab '{cfg.name}' (see: driftvakt lab status)")
