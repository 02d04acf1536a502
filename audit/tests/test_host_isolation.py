"""One host's unexpected fault is that host's `error`, never the end of the run (no lab needed:
the hosts are closed ports on 127.0.0.1, so no check ever passes here)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from driftvakt import collect as collect_module
from driftvakt.inventory import Target
from driftvakt.results import Status

PROJECT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _target(name: str, known_hosts: Path) -> Target:
    return Target(
        name,
        "127.0.0.1",
        _closed_port(),
        "ops",
        None,
        "ssh",
        False,
        "",
        str(known_hosts),
        None,
        {},
        ("all",),
    )


@pytest.mark.fault(
    "host",
    "an unexpected exception while reading one host",
    "that host `error` (internal), the rest audited",
)
def test_an_unexpected_exception_on_one_host_is_that_hosts_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftvakt.transport.ssh import SshTransport

    known = tmp_path / "known_hosts"
    known.write_text("")
    real_connect = SshTransport.connect

    def connect(self: SshTransport) -> None:
        if self.target.name == "broken":
            raise RuntimeError("a library bug\nspanning lines")
        real_connect(self)

    monkeypatch.setattr(SshTransport, "connect", connect)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    broken:\n    closed:\n")
    out = collect_module.collect(
        [_target("broken", known), _target("closed", known)],
        str(inventory),
        PROJECT,
        (),
        tmp_path / "prefetch.json",
        timeout=2,
    )
    by_host: dict[str, set[Status]] = {}
    for result in out.results:
        by_host.setdefault(result.host, set()).add(result.status)
    assert by_host["broken"] == {Status.ERROR}
    assert by_host["closed"] == {Status.ERROR}  # audited as usual: its own error, refused
    broken = {r.reason for r in out.results if r.host == "broken"}
    assert broken == {
        "broken: unexpected RuntimeError while reading the host (a library bug spanning "
        "lines); this host is error, the rest of the fleet is audited: please report it"
    }
    kinds = {(r.host, r.error_kind) for r in out.results}
    assert kinds == {("broken", "internal"), ("closed", "unreachable")}
    closed = {r.reason for r in out.results if r.host == "closed"}
    assert all("unreachable at 127.0.0.1" in reason for reason in closed), closed
