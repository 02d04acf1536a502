"""On real lab hosts: a host hardened by the logging role really delivers its security events to
the central log host (the lab services host's rsyslog receiver, ``/var/log/remote/<ip>.log``).

The compliance check (tests/test_logging.py) judges only the host's own configuration; this test
proves, end to end, that that configuration makes events arrive. auditd cannot run in a lab host
(docs/lab.md, "Limits"), so its control auditd_running is not exercised here: the lab inventory
waives it openly (inventories/lab-*/waivers.yml). What auditd would write is forwarded by
rsyslog's imfile, and that path is proved here by appending a record to auditd's log file.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from labkit import driftvakt, lab_possible, own_lab

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = "log"
HOST = "lab-01"


@pytest.fixture(scope="module")
def inventory() -> Iterator[Path]:
    with own_lab(LAB, 1, "--tags", "logging") as inv:
        yield inv


def _host_address(inventory: Path) -> str:
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    return str(hosts["all"]["children"]["lab"]["hosts"][HOST]["ansible_host"])


def _on(host: str, *command: str) -> str:
    return driftvakt("lab", "ssh", "--name", LAB, host, *command).stdout


def _arrives(inventory: Path, probe: str, timeout: float = 30) -> bool:
    received = f"/var/log/remote/{_host_address(inventory)}.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = driftvakt(
            "lab", "ssh", "--name", LAB, "labsvc", "sudo", "cat", received, check=False
        )
        if probe in done.stdout:
            return True
        time.sleep(1)
    return False


def test_an_authpriv_event_reaches_the_central_log_host(inventory: Path) -> None:
    probe = f"driftvakt-probe-{secrets.token_hex(6)}"
    _on(HOST, "logger", "-p", "authpriv.notice", probe)
    assert _arrives(inventory, probe), f"{probe} did not reach labsvc:/var/log/remote/"


def test_an_audit_record_reaches_the_central_log_host(inventory: Path) -> None:
    probe = f"driftvakt-probe-audit-{secrets.token_hex(6)}"
    record = f"type=USER_CMD msg=audit(0.0:1): pid=1 uid=0 cmd={probe}"
    _on(HOST, "sudo", "sh", "-c", f"'echo \"{record}\" >> /var/log/audit/audit.log'")
    assert _arrives(inventory, probe), f"{probe} (auditd's log) did not reach labsvc"


def test_a_local0_event_is_not_forwarded(inventory: Path) -> None:
    """Only the security facilities go to the central host, not everything the host logs."""
    probe = f"driftvakt-probe-local0-{secrets.token_hex(6)}"
    marker = f"driftvakt-probe-{secrets.token_hex(6)}"
    _on(HOST, "logger", "-p", "local0.notice", probe)
    _on(HOST, "logger", "-p", "authpriv.notice", marker)  # sent after the probe, over one queue
    assert _arrives(inventory, marker)
    received = f"/var/log/remote/{_host_address(inventory)}.log"
    assert probe not in _on("labsvc", "sudo", "cat", received)
