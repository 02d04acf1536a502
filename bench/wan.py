"""A WAN in front of the lab: TCP relays that add a round-trip time to every host's SSH.

The lab's hosts sit on the auditor's own bridge, well under a millisecond away; a region's
servers are 5-50 ms away over its WAN. This kernel has no netem, so the benchmark puts one
relay per host on 127.0.0.1 that holds every chunk for half the round-trip time in each
direction (order kept) before passing it on. Every tool then reaches the same hosts through the
same relays: `variant()` writes an inventory, a known_hosts file (the hosts' own keys, under
the relays' addresses) and an OpenSSH config that point there.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import yaml


class Relays:
    """One delaying relay per host, served by an event loop in a background thread."""

    def __init__(self, upstreams: dict[str, tuple[str, int]], rtt_ms: float) -> None:
        self.one_way = rtt_ms / 2000
        self.ports: dict[str, int] = {}
        self._loop = asyncio.new_event_loop()
        self._servers: list[asyncio.base_events.Server] = []
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        for name, (host, port) in upstreams.items():
            server = asyncio.run_coroutine_threadsafe(self._serve(host, port), self._loop).result()
            self._servers.append(server)
            self.ports[name] = server.sockets[0].getsockname()[1]

    async def _serve(self, host: str, port: int) -> asyncio.base_events.Server:
        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_reader, up_writer = await asyncio.open_connection(host, port)
            await asyncio.gather(
                self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
            )

        return await asyncio.start_server(relay, "127.0.0.1", 0)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                if not chunk:
                    break
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                sink.write(chunk)
                await sink.drain()
            sink.close()

        sender = asyncio.ensure_future(deliver())
        try:
            while chunk := await source.read(65536):
                queue.put_nowait((time.monotonic() + self.one_way, chunk))
        finally:
            queue.put_nowait((0.0, b""))
            await sender

    def close(self) -> None:
        for server in self._servers:
            self._loop.call_soon_threadsafe(server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)


def variant(inventory: Path, relays: Relays, where: Path) -> tuple[Path, Path]:
    """An inventory and an OpenSSH config reaching every host through its relay."""
    inv = where / "inventory"
    shutil.rmtree(inv, ignore_errors=True)
    shutil.copytree(inventory, inv)
    waivers = inventory.with_name(inventory.name + ".waivers.yml")
    if waivers.exists():  # the same waivers, so every tool sees the same results
        shutil.copy(waivers, inv.with_name("inventory.waivers.yml"))
    hosts_file = inv / "hosts.yml"
    data: dict[str, Any] = yaml.safe_load(hosts_file.read_text())
    hosts = data["all"]["children"]["lab"]["hosts"]
    group_file = inv / "group_vars" / "all.yml"
    group: dict[str, Any] = yaml.safe_load(group_file.read_text())
    known_src = Path(group["ansible_ssh_common_args"].split("UserKnownHostsFile=")[1].split()[0])
    addresses = {h["ansible_host"]: name for name, h in hosts.items()}
    known = where / "known_hosts"
    lines = []
    for line in known_src.read_text().splitlines():
        names, _, key = line.partition(" ")
        for address in names.split(","):
            if address in addresses:
                lines.append(f"[127.0.0.1]:{relays.ports[addresses[address]]} {key}")
    known.write_text("\n".join(lines) + "\n")
    for name, h in hosts.items():
        h.update(ansible_host="127.0.0.1", ansible_port=relays.ports[name])
    hosts_file.write_text(yaml.safe_dump(data))
    group["ansible_ssh_common_args"] = f"-o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes"
    group_file.write_text(yaml.safe_dump(group))
    cfg = where / "ssh_config"
    cfg.write_text(
        "".join(
            f"Host {name}\n  HostName 127.0.0.1\n  Port {relays.ports[name]}\n"
            f"  User {group['ansible_user']}\n"
            f"  IdentityFile {group['ansible_ssh_private_key_file']}\n"
            f"  UserKnownHostsFile {known}\n  StrictHostKeyChecking yes\n"
            for name in hosts
        )
    )
    return inv, cfg
