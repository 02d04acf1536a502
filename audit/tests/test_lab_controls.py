"""For every control, on real lab hosts: harden -> pass; inject its drift -> exactly that control
fails on exactly that host; ``--check --diff`` leaves the drift in place; harden -> pass again."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from labkit import PROJECT, audit, driftvakt, inject, lab_possible, not_passing, playbook

from driftvakt.catalog import controls
from driftvakt.lab.inventory_writer import LAB_LIMITED_CONTROLS

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = "ci"
HOSTS = 3
NFT_HOST, FIREWALLD_HOST = "lab-02", "lab-03"  # lab-03 runs firewalld (every third host)


@pytest.fixture(scope="module")
def inventory() -> Iterator[Path]:
    driftvakt("lab", "up", "--name", LAB, "--hosts", str(HOSTS), timeout=1800)
    inv = PROJECT / "inventories" / f"lab-{LAB}"
    first = playbook(inv)
    assert first.rc == 0, first.output[-4000:]
    assert first.total("changed") > 0
    yield inv
    driftvakt("lab", "down", "--name", LAB)


def test_hardened_lab_passes_every_control(inventory: Path, tmp_path: Path) -> None:
    code, data = audit(inventory, tmp_path / "r.json")
    assert not_passing(data) == {}
    assert code == 0
    assert {r["host"] for r in data["results"]} == {f"lab-{i:02d}" for i in range(1, HOSTS + 1)}
    assert {r["control"] for r in data["results"]} == set(controls())


def test_second_run_changes_nothing(inventory: Path) -> None:
    second = playbook(inventory)
    assert second.rc == 0, second.output[-4000:]
    assert second.total("changed") == 0, second.output[-6000:]


def _cases() -> list[tuple[str, str]]:
    cases = []
    for cid, control in controls().items():
        if "debian" not in control.platforms or cid in LAB_LIMITED_CONTROLS:
            continue  # waived in the lab: the facility is the machine kernel's (docs/lab.md)
        if control.concern == "firewall":
            cases += [(cid, NFT_HOST), (cid, FIREWALLD_HOST)]
        else:
            cases.append((cid, "lab-01"))
    return cases


@pytest.mark.parametrize(("cid", "host"), _cases())
def test_drift_is_caught_on_that_host_only_and_repaired(
    inventory: Path, tmp_path: Path, cid: str, host: str
) -> None:
    inject(LAB, host, controls()[cid].drift.inject)
    code, data = audit(inventory, tmp_path / "drift.json")
    assert not_passing(data) == {(host, cid): "fail"}, "the drift must fail exactly one control"
    assert code == 1

    dry = playbook(inventory, "--check", "--diff", "--tags", cid, "--limit", host)
    assert dry.rc == 0, dry.output[-4000:]
    assert dry.total("changed") > 0, "check mode must show the repair it would make"
    _, still = audit(inventory, tmp_path / "dry.json", "--limit", host)
    assert not_passing(still) == {(host, cid): "fail"}, "--check must change nothing"

    repair = playbook(inventory, "--tags", cid, "--limit", host)
    assert repair.rc == 0, repair.output[-4000:]
    _, after = audit(inventory, tmp_path / "after.json")
    assert not_passing(after) == {}, "the role must repair the drift"


def _variant(inventory: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "inventory"
    shutil.copytree(inventory, copy)
    return copy


def test_unreachable_host_is_error_never_pass(inventory: Path, tmp_path: Path) -> None:
    inv = _variant(inventory, tmp_path)
    hosts = yaml.safe_load((inv / "hosts.yml").read_text())
    subnet = hosts["all"]["children"]["lab"]["hosts"]["lab-01"]["ansible_host"].rsplit(".", 1)[0]
    hosts["all"]["children"]["lab"]["hosts"]["lab-ghost"] = {"ansible_host": f"{subnet}.250"}
    (inv / "hosts.yml").write_text(yaml.safe_dump(hosts))
    code, data = audit(inv, tmp_path / "r.json")
    ghost = [r for r in data["results"] if r["host"] == "lab-ghost"]
    assert {r["status"] for r in ghost} == {"error"}
    assert {r["control"] for r in ghost} == set(controls())
    assert "lab-ghost" in ghost[0]["reason"]
    assert not_passing(data).keys() == {("lab-ghost", c) for c in controls()}
    assert code == 2


def test_changed_host_key_is_refused_as_possible_mitm(inventory: Path, tmp_path: Path) -> None:
    inv = _variant(inventory, tmp_path)
    group = yaml.safe_load((inv / "group_vars" / "all.yml").read_text())
    known = Path(group["ansible_ssh_common_args"].split("UserKnownHostsFile=")[1].split()[0])
    forged = tmp_path / "known_hosts"
    other = tmp_path / "other_key"
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    fake = other.with_suffix(".pub").read_text().split()[:2]
    lines = []
    for line in known.read_text().splitlines():
        names = line.split()[0]
        if "lab-01" in names.split(","):
            line = f"{names} {' '.join(fake)}"
        lines.append(line)
    forged.write_text("\n".join(lines) + "\n")
    group["ansible_ssh_common_args"] = (
        f"-o UserKnownHostsFile={forged} -o StrictHostKeyChecking=yes"
    )
    (inv / "group_vars" / "all.yml").write_text(yaml.safe_dump(group))
    code, data = audit(inv, tmp_path / "r.json", "--limit", "lab-01")
    assert {r["status"] for r in data["results"]} == {"error"}
    assert "man-in-the-middle" in data["results"][0]["reason"]
    assert code == 2
