"""A mixed inventory: the lab's Linux hosts plus a Windows host that does not answer.

The Windows host must be ``error`` for every control with a clear reason (the WinRM transport's
one-liner), and the Linux hosts must be audited as usual, in the same run.
"""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

import pytest
import yaml
from labkit import audit, lab_possible, shared_lab

from driftvakt.catalog import controls

pytestmark = pytest.mark.lab

WINDOWS_HOST = "win-unreachable"


@pytest.fixture(scope="module", autouse=True)
def _needs_lab() -> None:
    why = lab_possible()
    if why:
        pytest.skip(why)


def test_unreachable_windows_host_is_error_and_linux_hosts_are_audited(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(shared_lab(request)[1], inventory)
    hosts_file = inventory / "hosts.yml"
    data = yaml.safe_load(hosts_file.read_text())
    linux = data["all"]["children"]["lab"]["hosts"]
    first = ipaddress.ip_address(next(iter(linux.values()))["ansible_host"])
    unused = str(ipaddress.ip_network(f"{first}/24", strict=False).network_address + 250)
    data["all"]["children"]["windows"] = {
        "hosts": {
            WINDOWS_HOST: {
                "ansible_host": unused,
                "ansible_connection": "winrm",
                "ansible_winrm_transport": "ntlm",
                "ansible_user": "svc-audit",
                "ansible_password": "not-a-real-password",
                "ansible_become": False,
            }
        }
    }
    hosts_file.write_text(yaml.safe_dump(data))

    # The default per-host timeout: the Windows address fails on its own (no host answers
    # ARP for it), and a tight one would make a Linux host's slow login a false alarm here.
    _, result = audit(inventory, tmp_path / "result.json")

    rows = result["results"]
    windows = [r for r in rows if r["host"] == WINDOWS_HOST]
    assert {r["control"] for r in windows} == set(controls())
    assert {r["status"] for r in windows} == {"error"}
    reasons = {r.get("reason", "") for r in windows}
    assert len(reasons) == 1
    reason = reasons.pop()
    assert WINDOWS_HOST in reason and ("no answer within" in reason or "unreachable" in reason)
    for name in linux:
        mine = [r for r in rows if r["host"] == name]
        assert mine, f"{name} was not audited"
        errors = [(r["control"], r.get("reason")) for r in mine if r["status"] == "error"]
        assert errors == [], f"{name}: {errors}"
        statuses = {r["control"]: r["status"] for r in mine}
        windows_only = [c for c, ctl in controls().items() if ctl.platforms == ("windows",)]
        assert all(statuses[c] == "not_applicable" for c in windows_only)
