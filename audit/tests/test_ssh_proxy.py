"""ProxyCommand from ansible_ssh_common_args is the path the audit takes (it used to be accepted
and ignored: the audit connected directly, around the bastion). Local only: 127.0.0.1."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest

from driftvakt.inventory import Target
from driftvakt.transport import TransportError
from driftvakt.transport.ssh import SshTransport

# The "bastion": records the expanded tokens, then relays stdin/stdout to the banner server.
RELAY = """
import socket, sys, threading
open(sys.argv[1], "w").write(" ".join(sys.argv[2:]))
s = socket.create_connection(("127.0.0.1", int(sys.argv[2].split("=")[1])))
def up():
    for chunk in iter(lambda: sys.stdin.buffer.read1(4096), b""):
        s.sendall(chunk)
threading.Thread(target=up, daemon=True).start()
for chunk in iter(lambda: s.recv(4096), b""):
    sys.stdout.buffer.write(chunk); sys.stdout.buffer.flush()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def banner_server() -> tuple[int, list[bytes]]:
    """Speaks an SSH banner nobody can use, then hangs up: proves which socket was used."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    seen: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"SSH-2.0-driftvakt-test\r\n")
            seen.append(conn.recv(64))

    threading.Thread(target=serve, daemon=True).start()
    return int(server.getsockname()[1]), seen


def _target(common_args: str, known: Path, port: int) -> Target:
    return Target(
        "web1", "127.0.0.1", port, "ops", None, "ssh", False, common_args, str(known), None, {}
    )


@pytest.mark.fault(
    "input",
    "`ProxyCommand` in ansible_ssh_common_args",
    "the audit goes through it (was: ignored, connecting around the bastion)",
)
def test_proxycommand_carries_the_connection_with_tokens_expanded(
    tmp_path: Path, banner_server: tuple[int, list[bytes]]
) -> None:
    server_port, seen = banner_server
    known = tmp_path / "known_hosts"
    known.write_text("")
    relay = tmp_path / "relay.py"
    relay.write_text(RELAY)
    record = tmp_path / "tokens"
    direct_port = _free_port()  # nothing listens here: a direct connection would be refused
    command = f"{sys.executable} {relay} {record} port={server_port} %h %p %r %n 100%%"
    transport = SshTransport(_target(f"-o 'ProxyCommand={command}'", known, direct_port), 5)
    with pytest.raises(TransportError) as caught:
        transport.connect()
    transport.close()
    assert record.read_text() == f"port={server_port} 127.0.0.1 {direct_port} ops web1 100%"
    assert seen and seen[0].startswith(b"SSH-2.0-")  # our client spoke through the relay
    assert "refused" not in str(caught.value), caught.value


@pytest.mark.fault(
    "input", "ProxyJump and ProxyCommand together", "that host `error` (config), one line"
)
def test_proxyjump_and_proxycommand_together_are_refused(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    transport = SshTransport(_target("-J bastion -o ProxyCommand=nc\\ %h\\ %p", known, 22), 5)
    with pytest.raises(TransportError, match="both ProxyJump and ProxyCommand"):
        transport.connect()
