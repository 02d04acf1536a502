"""Ctrl-C ends an audit at once, even while a host is still being connected to (it used to wait
for every pending connect timeout: 28 s with --timeout 30). Local only: 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
TIMEOUT = 60  # the connect allowance the interrupt must not wait for


# Ctrl-C at once (pytest still importing), while the checks are collected, and once they run.
@pytest.mark.fault(
    "run",
    "Ctrl-C during connect, collection or evaluation",
    "ends in seconds with exit 130; was: waited for every connect timeout",
)
@pytest.mark.parametrize("after", [0.0, 0.5, 2.0])
def test_ctrl_c_ends_the_audit_without_waiting_for_connect_timeouts(
    tmp_path: Path, after: float
) -> None:
    silent = socket.socket()  # accepts, never speaks SSH: the audit waits for a banner
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    silent.settimeout(120)
    known = tmp_path / "known_hosts"
    known.write_text("")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    web1:\n      ansible_host: 127.0.0.1\n"
        f"      ansible_port: {silent.getsockname()[1]}\n"
        f"      ansible_ssh_common_args: -o UserKnownHostsFile={known}\n"
    )
    audit = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "driftvakt.cli",
            "audit",
            "-i",
            str(inventory),
            "--quiet",
            "-o",
            str(tmp_path / "r.json"),
            "--store",
            str(tmp_path / "s.db"),
            "--timeout",
            str(TIMEOUT),
        ],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT / "audit")},
    )
    try:
        connection, _ = silent.accept()  # the audit is now waiting on this host
        time.sleep(after)
        sent = time.monotonic()
        audit.send_signal(signal.SIGINT)
        output, _ = audit.communicate(timeout=TIMEOUT)
        took = time.monotonic() - sent
        connection.close()
    finally:
        audit.kill()
        silent.close()
    assert audit.returncode == 130, output
    assert "interrupted" in output
    assert "Traceback" not in output
    assert took < 5, f"Ctrl-C took {took:.1f}s (connect timeout {TIMEOUT}s)"


@pytest.mark.fault(
    "store", "an interrupted audit", "its begun run is marked `abandoned` in the store"
)
def test_an_interrupted_audit_is_marked_abandoned_in_the_store(tmp_path: Path) -> None:
    # It used to stay "incomplete", like an audit still running, until a prune.
    from driftvakt.store import Store

    test_ctrl_c_ends_the_audit_without_waiting_for_connect_timeouts(tmp_path, 2.0)
    with Store(tmp_path / "s.db", create=False) as store:
        [begun] = store.incomplete()
        assert store.runs() == []
    assert begun.abandoned.startswith("interrupted (Ctrl-C) at ")
