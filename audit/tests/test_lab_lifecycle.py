"""`lab up` is idempotent and self-healing; `lab down` leaves nothing behind (real, as root)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from labkit import PROJECT, driftvakt, lab_possible

from driftvakt.lab import LabConfig
from driftvakt.lab.machine import mounts_under, nspawn_pids
from driftvakt.lab.network import netns_list

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = "life"


def _leftovers(cfg: LabConfig) -> list[str]:
    found = [f"process {p}" for p in nspawn_pids(cfg.state)]
    found += [f"mount {m}" for m in mounts_under(cfg.state)]
    found += [f"netns {n}" for n in netns_list() if n.startswith(f"driftvakt-{LAB}-")]
    found += [f"link {cfg.bridge}"] if Path(f"/sys/class/net/{cfg.bridge}").exists() else []
    found += [
        f"link {link.name}"
        for link in Path("/sys/class/net").iterdir()
        if link.name.startswith(f"dv{cfg.octet}h")
    ]
    found += [
        f"nspawn state {p}" for p in Path("/run/systemd/nspawn/propagate").glob(f"dv-{LAB}-*")
    ]
    return found


def test_up_is_idempotent_recovers_a_crash_and_down_leaves_nothing() -> None:
    cfg = LabConfig(LAB, PROJECT)
    try:
        driftvakt("lab", "up", "--name", LAB, "--hosts", "1", timeout=1800)
        status = driftvakt("lab", "status", "--name", LAB)
        assert "lab-01" in status.stdout
        assert " up " in status.stdout

        again = driftvakt("lab", "up", "--name", LAB, "--hosts", "1")
        assert "starting" not in again.stderr, "a running lab must be left as it is"

        victim = nspawn_pids(cfg.state / "hosts" / "lab-01")
        assert victim
        os.kill(victim[0], signal.SIGKILL)  # a crashed host
        broken = driftvakt("lab", "status", "--name", LAB, check=False)
        assert broken.returncode != 0
        healed = driftvakt("lab", "up", "--name", LAB, "--hosts", "1")
        assert "starting lab-01" in healed.stderr
        assert driftvakt("lab", "status", "--name", LAB).returncode == 0
    finally:
        driftvakt("lab", "down", "--name", LAB)
    assert _leftovers(cfg) == []
    assert not (PROJECT / "inventories" / f"lab-{LAB}").exists()
