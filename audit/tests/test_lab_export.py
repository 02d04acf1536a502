"""Export delivery to the lab's real SFTP drop (labsvc, chrooted user ``driftpartner``).

One small lab for the module (labsvc plus one target, ~2 s to start). Every case checks the
drop folder on labsvc directly: nothing but a complete bundle ever appears under a final name.
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest
from labkit import PROJECT, console, driftvakt, lab_possible, own_lab

from driftvakt.catalog import controls
from driftvakt.export import command, signing
from driftvakt.export.receipts import receipts
from driftvakt.export.sftp import DeliveryError, deliver, fingerprint, parse_target
from driftvakt.lab import LabConfig
from driftvakt.results import Status
from driftvakt.store import Store

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(lab_possible() is not None, reason=str(lab_possible())),
]
LAB = "export"
USER = "driftpartner"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabConfig]:
    with own_lab(LAB, 1):
        yield LabConfig(LAB, PROJECT)


def _big_run() -> dict[str, Any]:
    """A run large enough (~1 MB of reports) that an upload takes many SFTP writes."""
    hosts = [f"vm-{i:03d}" for i in range(40)]
    results = [
        {
            "host": host,
            "control": cid,
            "status": "fail" if (n + i) % 7 == 0 else "pass",
            "evidence": [f"{cid} on {host}: line {k} of the collected evidence" for k in range(3)],
            "reason": "",
            "duration": 0.01,
        }
        for i, host in enumerate(hosts)
        for n, cid in enumerate(controls())
    ]
    summary = {s.value: sum(r["status"] == s.value for r in results) for s in Status}
    return {
        "id": str(uuid.uuid4()),
        "started": "2026-11-23T08:00:00+00:00",
        "finished": "2026-11-23T08:05:00+00:00",
        "user": "ops",
        "driftvakt_version": "0.1.0",
        "baseline_revision": "lab",
        "inventory": "inventories/lab-export",
        "limit": None,
        "hosts": hosts,
        "results": results,
        "summary": summary,
    }


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    store = tmp_path / "runs.db"
    with Store(store) as runs:
        runs.save(_big_run())
    key = tmp_path / "signing.key"
    signing.generate(key, None)
    return {"store": store, "key": key, "out": tmp_path / "out"}


def _drop(cfg: LabConfig, folder: str = "incoming") -> Path:
    return cfg.host_dir(cfg.services_host()) / "merged" / "srv" / "sftp" / folder


def _listing(path: Path) -> set[str]:
    return {p.name for p in path.iterdir()}


def _url(cfg: LabConfig, folder: str = "/incoming") -> str:
    return f"sftp://{USER}@{cfg.services_host().address}{folder}"


def _export_cli(
    cfg: LabConfig, setup: dict[str, Path], *extra: str, known_hosts: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return driftvakt(
        "export",
        "--store",
        str(setup["store"]),
        "--key",
        str(setup["key"]),
        "--out",
        str(setup["out"]),
        "--ssh-key",
        str(cfg.sftp_key),
        "--known-hosts",
        str(known_hosts or cfg.known_hosts),
        *extra,
        check=False,
    )


def _download(cfg: LabConfig, remote: str, local: Path) -> None:
    """As the driftpartner fetches it: their own SFTP session, host key checked."""
    client = paramiko.SSHClient()
    client.load_host_keys(str(cfg.known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        cfg.services_host().address,
        username=USER,
        key_filename=str(cfg.sftp_key),
        allow_agent=False,
        look_for_keys=False,
    )
    with client, client.open_sftp() as sftp:
        sftp.get(remote, str(local))


def _ed25519_fingerprint(cfg: LabConfig) -> str:
    svc = cfg.services_host()
    line = next(
        line
        for line in cfg.known_hosts.read_text().splitlines()
        if line.split()[0].split(",")[0] == svc.address and line.split()[1] == "ssh-ed25519"
    )
    return fingerprint(paramiko.Ed25519Key(data=base64.b64decode(line.split()[2])))


def test_delivery_and_verify_of_the_downloaded_bundle(
    lab: LabConfig, setup: dict[str, Path], tmp_path: Path
) -> None:
    before = _listing(_drop(lab))
    done = _export_cli(lab, setup, "--to", _url(lab))
    assert done.returncode == 0, done.stderr
    name = Path(done.stdout.split()[1]).name
    assert _listing(_drop(lab)) - before == {name}  # no temporary file left beside it
    fetched = tmp_path / "fetched" / name
    fetched.parent.mkdir()
    _download(lab, f"/incoming/{name}", fetched)
    assert fetched.read_bytes() == (setup["out"] / name).read_bytes()
    assert fetched.stat().st_size > 256 * 1024
    ok = driftvakt("verify", str(fetched), "--pubkey", f"{setup['key']}.pub", check=False)
    assert ok.returncode == 0 and "bundle OK" in ok.stdout, ok.stderr
    [receipt] = receipts(setup["store"])
    assert receipt.remote_path == f"/incoming/{name}" and receipt.attempts == 1
    assert receipt.host_key == _ed25519_fingerprint(lab)
    assert receipt.destination == f"sftp://{USER}@{lab.services_host().address}:22"
    listed = driftvakt("receipts", "--store", str(setup["store"]))
    assert name in listed.stdout and receipt.host_key in listed.stdout
    # the same bundle again: refused, the delivered one untouched
    target = parse_target(_url(lab))
    with pytest.raises(DeliveryError, match="already exists; not overwritten"):
        deliver(setup["out"] / name, target, ssh_key=lab.sftp_key, known_hosts=lab.known_hosts)
    assert (_drop(lab) / name).read_bytes() == fetched.read_bytes()
    assert _listing(_drop(lab)) - before == {name}
    # secrets: the SSH key's body appears in no output and not in the store
    body = "".join(lab.sftp_key.read_text().splitlines()[1:-1])
    for text in (done.stdout + done.stderr, listed.stdout, ok.stdout):
        assert body[10:40] not in text.replace("\n", "")
    assert body[10:40].encode() not in setup["store"].read_bytes()


def test_changed_host_key_is_refused_and_nothing_sent(
    lab: LabConfig, setup: dict[str, Path], tmp_path: Path
) -> None:
    impostor = tmp_path / "impostor"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(impostor)], check=True)
    svc = lab.services_host()
    known = tmp_path / "known_hosts"
    fake = " ".join(impostor.with_suffix(".pub").read_text().split()[:2])
    known.write_text(f"{svc.address},{svc.name} {fake}\n")
    before = _listing(_drop(lab))
    done = _export_cli(lab, setup, "--to", _url(lab), known_hosts=known)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "HOST KEY CHANGED" in done.stderr and "man-in-the-middle" in done.stderr
    assert "retrying" not in done.stderr
    assert _listing(_drop(lab)) == before
    assert receipts(setup["store"]) == []
    assert known.read_text() == f"{svc.address},{svc.name} {fake}\n"  # never "fixed" for us
    # an unknown host is refused the same way; so is a key the server does not accept
    known.write_text("")
    unknown = _export_cli(lab, setup, "--to", _url(lab), known_hosts=known)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
    assert "is not in" in unknown.stderr and "nothing uploaded" in unknown.stderr
    assert known.read_text() == ""
    wrong = _export_cli(lab, setup, "--to", _url(lab), "--ssh-key", str(impostor))
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1
    assert "refused the SSH key" in wrong.stderr and "retrying" not in wrong.stderr
    assert _listing(_drop(lab)) == before


def test_unwritable_folder_is_a_clear_error_and_nothing_appears(
    lab: LabConfig, setup: dict[str, Path]
) -> None:
    root = _drop(lab, "")  # the chroot's top folder: root's, not writable by the driftpartner
    before = _listing(root)
    done = _export_cli(lab, setup, "--to", _url(lab, "/"))
    assert done.returncode == 2
    assert done.stderr == "driftvakt: permission denied writing to /: ask the driftpartner\n"
    assert _listing(root) == before
    assert receipts(setup["store"]) == []


def _kill_sftp_session(cfg: LabConfig) -> None:
    """End the driftpartner's SSH session on labsvc the hard way (SIGKILL to its processes)."""
    console(
        cfg.name,
        cfg.services_host().name,
        f"uid=$(id -u {USER}); for d in /proc/[0-9]*; do "
        '[ "$(stat -c %u "$d" 2>/dev/null)" = "$uid" ] && kill -9 "${d#/proc/}"; done; true',
    )


def _interrupting(cfg: LabConfig, times: int) -> tuple[list[tuple[int, int]], Any]:
    kills: list[tuple[int, int]] = []

    def progress(sent: int, total: int) -> None:
        if len(kills) < times and sent < total:
            kills.append((sent, total))
            _kill_sftp_session(cfg)

    return kills, progress


def test_interrupted_upload_is_retried_and_never_partial(
    lab: LabConfig, setup: dict[str, Path]
) -> None:
    kills, progress = _interrupting(lab, 1)
    said: list[str] = []
    before = _listing(_drop(lab))
    done = command.export(
        setup["store"],
        None,
        setup["key"],
        setup["out"],
        to=_url(lab),
        ssh_key=lab.sftp_key,
        known_hosts=lab.known_hosts,
        backoff=0.2,
        say=said.append,
        progress=progress,
    )
    assert len(kills) == 1 and kills[0][0] < kills[0][1]  # killed mid-transfer
    assert done.delivered is not None and done.delivered.attempts == 2
    assert len(said) == 1 and said[0].startswith("attempt 1 failed")
    name = done.built.path.name
    assert _listing(_drop(lab)) - before == {name}  # attempt 1's temporary file was removed
    assert (_drop(lab) / name).read_bytes() == done.built.path.read_bytes()
    assert [r.attempts for r in receipts(setup["store"])] == [2]


def test_interrupted_upload_without_retries_leaves_nothing_under_the_final_name(
    lab: LabConfig, setup: dict[str, Path]
) -> None:
    kills, progress = _interrupting(lab, 1)
    before = _listing(_drop(lab))
    with pytest.raises(DeliveryError, match="after 1 attempt") as failed:
        command.export(
            setup["store"],
            None,
            setup["key"],
            setup["out"],
            to=_url(lab),
            ssh_key=lab.sftp_key,
            known_hosts=lab.known_hosts,
            attempts=1,
            progress=progress,
        )
    assert len(kills) == 1
    assert "\n" not in str(failed.value)
    new = _listing(_drop(lab)) - before
    # the dead session could not remove its temporary file; it is hidden and never final
    assert all(n.startswith(".driftvakt-") and n.endswith(".part") for n in new), new
    assert not any(n.endswith(".tar") for n in new)
    assert receipts(setup["store"]) == []
