"""Export bundles offline: signed, verified byte for byte, minisign-compatible; keys; receipts.

Delivery over SFTP is proven against the lab's real SFTP drop in test_lab_export.py.
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from labkit import BIN
from test_store import make_run

from driftvakt.errors import BadInputError
from driftvakt.export import bundle, command, contents, receipts, sftp, signing
from driftvakt.store import Store, StoreError

MINISIGN = shutil.which("minisign")
needs_minisign = pytest.mark.skipif(MINISIGN is None, reason="minisign is not installed")
PASSPHRASE = "Canary-Passphrase-91b2"  # noqa: S105 - a test canary


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        store.save(make_run())
        store.save(make_run())
    return path


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "signing.key"
    signing.generate(path, None)
    return path


@pytest.fixture
def built(store_path: Path, key_path: Path, tmp_path: Path) -> bundle.Built:
    return command.export(store_path, None, key_path, tmp_path / "out").built


def _pub(key_path: Path) -> signing.PublicKey:
    return signing.load_public(key_path.with_name(key_path.name + ".pub"))


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {
            m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
        }


def test_bundle_holds_every_part_and_verifies(built: bundle.Built, key_path: Path) -> None:
    found = bundle.verify(built.path, _pub(key_path))
    assert found.files == sorted(["bundle.json", *(p.path for p in contents.PARTS)])
    names = _members(built.path)
    assert set(names) == {*found.files, "SHA256SUMS", "SHA256SUMS.minisig"}
    assert b"<html" in names["reports/report.sv.html"]
    assert b'lang="en"' in names["reports/report.en.html"]
    assert found.meta["run"]["id"] == built.meta["run"]["id"]
    # the newest run by default; its chain hash, the store's head at export time
    with Store(built.path.parents[1] / "runs.db") as store:
        newest = store.runs()[-1]
        assert found.meta["store"]["run_hash"] == newest.hash == store.head()
        assert found.meta["run"]["id"] == newest.id
        assert store.verify([found.meta["store"]["head"]]) == []
    assert os.stat(built.path).st_mode & 0o777 == 0o644


def _flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


def _offsets(data: bytes) -> list[int]:
    """Every header field of every member, the start and end of every file, padding, and a
    stride through the whole file (a prime, so it lands at varying positions in each block)."""
    offsets = {0, len(data) - 1, len(data) // 2}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            for field in (0, 100, 108, 116, 124, 136, 148, 156, 257, 265, 297, 345, 511):
                offsets.add(m.offset + field)
            offsets.update({m.offset_data, m.offset_data + m.size - 1, m.offset_data + m.size})
        offsets.add(tar.offset + 10)  # the end-of-archive blocks
    offsets.update(range(7, len(data), 211))
    return sorted(o for o in offsets if 0 <= o < len(data))


def test_one_byte_changed_anywhere_is_rejected(
    built: bundle.Built, key_path: Path, tmp_path: Path
) -> None:
    public = _pub(key_path)
    data = built.path.read_bytes()
    offsets = _offsets(data)
    assert len(offsets) > 100
    bad = tmp_path / "bad.tar"
    accepted, reasons = [], set()
    for offset in offsets:
        bad.write_bytes(_flip(data, offset))
        try:
            bundle.verify(bad, public)
        except bundle.BundleError as exc:
            reasons.add(str(exc).split(" ")[-1])
            continue
        accepted.append(offset)
    assert accepted == [], f"a flipped byte at these offsets went unnoticed: {accepted}"
    # each layer catches some: file hashes, the signature, and the canonical tar (padding)
    assert {"SHA256SUMS", "data", "differ)"} <= reasons, reasons
    for changed in (data[:-1], data + b"\0", data[:-512]):
        bad.write_bytes(changed)
        with pytest.raises(bundle.BundleError):
            bundle.verify(bad, public)
    bundle.verify(built.path, public)  # the original still verifies


def _rebuild(path: Path, key_path: Path, change: Any) -> Path:
    """The bundle with its file list changed and SHA256SUMS re-signed by the right key, so only
    the extra/missing-file check can catch it."""
    with tarfile.open(path) as tar:
        top = tar.getmembers()[0].name.split("/")[0]
    files = _members(path)
    manifest, _ = files.pop("SHA256SUMS"), files.pop("SHA256SUMS.minisig")
    signed, members = change(manifest, files)
    key = signing.load_private(key_path, None)
    meta = bundle._meta(files["bundle.json"])
    sig = signing.sign(key, signed, bundle._trusted(meta), bundle._untrusted(key.public))
    entries = [(f"{top}/{n}", d) for n, d in members.items()]
    entries += [(f"{top}/SHA256SUMS", signed), (f"{top}/SHA256SUMS.minisig", sig.encode())]
    out = path.with_name("changed.tar")
    out.write_bytes(bundle._tar(entries, bundle._mtime(meta)))
    return out


def test_extra_or_missing_files_are_rejected(built: bundle.Built, key_path: Path) -> None:
    public = _pub(key_path)
    extra = _rebuild(built.path, key_path, lambda m, f: (m, {**f, "notes.txt": b"hi\n"}))
    with pytest.raises(bundle.BundleError, match=r"unlisted file notes\.txt"):
        bundle.verify(extra, public)
    missing = _rebuild(
        built.path,
        key_path,
        lambda m, f: (m, {k: v for k, v in f.items() if k != "reports/report.sv.html"}),
    )
    with pytest.raises(bundle.BundleError, match=r"missing file reports/report\.sv\.html"):
        bundle.verify(missing, public)
    same = _rebuild(built.path, key_path, lambda m, f: (m, f))
    assert bundle.verify(same, public).files  # the rebuild itself is faithful


def test_other_key_is_rejected(built: bundle.Built, tmp_path: Path) -> None:
    other = signing.generate(tmp_path / "other.key", None)
    with pytest.raises(bundle.BundleError, match="not by the given public key"):
        bundle.verify(built.path, other)


@needs_minisign
def test_real_minisign_verifies_the_manifest(
    built: bundle.Built, key_path: Path, tmp_path: Path
) -> None:
    """The driftpartner's path without driftvakt (docs/export.md): tar, minisign, sha256sum."""
    subprocess.run(["tar", "-C", str(tmp_path), "-xf", str(built.path)], check=True)
    folder = tmp_path / built.path.name.removesuffix(".tar")
    pub = str(key_path.with_name(key_path.name + ".pub"))
    ok = subprocess.run(
        [MINISIGN, "-Vm", "SHA256SUMS", "-p", pub], cwd=folder, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert f"run {built.meta['run']['id']}" in ok.stdout  # the trusted comment
    sums = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=folder, check=False)
    assert sums.returncode == 0
    (folder / "SHA256SUMS").write_text((folder / "SHA256SUMS").read_text().replace("a", "b", 1))
    bad = subprocess.run([MINISIGN, "-Vm", "SHA256SUMS", "-p", pub], cwd=folder, check=False)
    assert bad.returncode == 1


@needs_minisign
def test_signature_made_by_real_minisign_is_accepted(tmp_path: Path) -> None:
    """The other direction: our reader parses minisign's own public keys and signatures."""
    assert MINISIGN is not None
    pub, sec, msg = tmp_path / "m.pub", tmp_path / "m.key", tmp_path / "msg"
    subprocess.run([MINISIGN, "-G", "-W", "-p", str(pub), "-s", str(sec)], check=True)
    msg.write_bytes(b"hello driftpartner\n")
    subprocess.run(
        [MINISIGN, "-S", "-s", str(sec), "-m", str(msg), "-t", "from minisign"],
        check=True,
        capture_output=True,
    )
    public = signing.load_public(pub)
    sig = (tmp_path / "msg.minisig").read_text()
    assert signing.verify(public, msg.read_bytes(), sig) == "from minisign"
    with pytest.raises(signing.SignatureError):
        signing.verify(public, b"hello driftpartner!\n", sig)


def test_keygen_mode_overwrite_and_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "k" / "signing.key"
    monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)
    public = command.keygen(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert PASSPHRASE.encode() not in path.read_bytes()
    assert signing.is_encrypted(path)
    assert command.load_signing_key(path).public == public
    with pytest.raises(BadInputError, match="already exists"):
        command.keygen(path)
    monkeypatch.setenv(signing.PASSPHRASE_ENV, "wrong")
    with pytest.raises(BadInputError, match="wrong passphrase") as wrong:
        command.load_signing_key(path)
    monkeypatch.delenv(signing.PASSPHRASE_ENV)
    with pytest.raises(BadInputError, match="needs a passphrase"):
        command.load_signing_key(path)
    assert "wrong" not in str(wrong.value).replace("wrong passphrase", "")
    path.chmod(0o640)
    with pytest.raises(BadInputError, match="chmod 600"):
        command.load_signing_key(path)


def test_cli_never_shows_the_passphrase(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = dict(os.environ, **{signing.PASSPHRASE_ENV: PASSPHRASE})
    key = tmp_path / "enc.key"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "driftvakt"), *args],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    made = cli("export", "keygen", "--key", str(key))
    assert made.returncode == 0, made.stderr
    done = cli("export", "--store", str(store_path), "--key", str(key), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    tar = Path(done.stdout.split()[1])
    checked = cli("verify", str(tar), "--pubkey", f"{key}.pub")
    assert checked.returncode == 0 and "bundle OK" in checked.stdout
    env[signing.PASSPHRASE_ENV] = "not-the-" + PASSPHRASE
    refused = cli("export", "--store", str(store_path), "--key", str(key), "--out", str(tmp_path))
    assert refused.returncode == 3
    outputs = made.stdout + made.stderr + done.stdout + done.stderr + refused.stderr
    assert PASSPHRASE not in outputs
    assert PASSPHRASE.encode() not in store_path.read_bytes() + tar.read_bytes()
    tar.write_bytes(_flip(tar.read_bytes(), 700))
    rejected = cli("verify", str(tar), "--pubkey", f"{key}.pub")
    assert rejected.returncode == 2
    assert rejected.stderr.count("\n") == 1 and "REJECTED" in rejected.stderr


def test_receipts_live_beside_the_store_without_touching_it(store_path: Path) -> None:
    receipt = receipts.Receipt(
        "run-1", "b.tar", "ab" * 32, "sftp://p@h:22", "/in/b.tar", "ssh-ed25519 SHA256:x", "t", 2
    )
    receipts.record(store_path, receipt)
    receipts.record(store_path, receipt)
    assert receipts.receipts(store_path) == [receipt, receipt]
    with Store(store_path) as store:  # reopens fine, schema untouched, chain intact
        assert store.verify() == []
        assert len(store.runs()) == 2
    for args in (["receipts"], ["export", "--list"]):
        listed = subprocess.run(
            [str(BIN / "driftvakt"), *args, "--store", str(store_path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        assert len(listed) == 2 and "sftp://p@h:22/in/b.tar" in listed[0], listed


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sftp://dp@drop.example:2222/in", sftp.Target("dp", "drop.example", 2222, "/in")),
        ("sftp://dp@10.0.0.5/", sftp.Target("dp", "10.0.0.5", 22, "/")),
    ],
)
def test_sftp_target(url: str, expected: sftp.Target) -> None:
    assert sftp.parse_target(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "ftp://dp@h/in",
        "sftp://h/in",
        "sftp://dp:secret@h/in",
        "sftp://dp:secret@h:x/in",
        "sftp://dp@h:x/in",
    ],
)
def test_bad_sftp_target(url: str) -> None:
    with pytest.raises(BadInputError) as error:
        sftp.parse_target(url)
    assert "secret" not in str(error.value)


@pytest.mark.fault(
    "store",
    "export from a store that does not verify",
    "refused, nothing signed (was: a bundle that verifies)",
)
def test_a_store_that_does_not_verify_is_never_signed(
    store_path: Path, key_path: Path, tmp_path: Path
) -> None:
    # export used to sign whatever the store held: a forged history got a bundle that verifies.

    db = sqlite3.connect(store_path)
    db.execute("UPDATE runs SET content = replace(content, 'ops', 'eve') WHERE seq = 1")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match=r"refusing to export: the run store .* does not verify"):
        command.export(store_path, None, key_path, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
