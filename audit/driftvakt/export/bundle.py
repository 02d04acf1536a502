"""The bundle: one tar file, signed, whose every byte ``verify`` checks offline.

Layout (all regular files below one top folder named like the file)::

    driftvakt-<run8>-<created>/bundle.json          what run, from which store chain, when
    driftvakt-<run8>-<created>/<contents.PARTS>     reports and results
    driftvakt-<run8>-<created>/SHA256SUMS           sha256sum(1) lines for every file above
    driftvakt-<run8>-<created>/SHA256SUMS.minisig   minisign signature of SHA256SUMS

The signature covers SHA256SUMS, which covers every other file. The tar itself is written
canonically (USTAR, fixed owner, mode and order, mtime = the signed creation time), and
``verify`` rebuilds it from the verified contents and compares byte for byte, so a change to a
header or padding byte is caught too, not only a change to a file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from driftvakt.errors import BadInputError, DriftvaktError
from driftvakt.export import signing

FORMAT = "driftvakt-bundle/1"
META = "bundle.json"
MANIFEST = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.minisig"
MAX_BYTES = 1 << 30
_SUM_LINE = re.compile(r"([0-9a-f]{64})  ([^\n]+)")


class BundleError(DriftvaktError):
    """The bundle must not be trusted: the message says what is wrong with it."""


@dataclass(frozen=True)
class Built:
    path: Path
    sha256: str
    meta: dict[str, Any]


@dataclass(frozen=True)
class Verified:
    meta: dict[str, Any]
    files: list[str]
    trusted_comment: str
    key_id: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stem(meta: dict[str, Any]) -> str:
    created = datetime.fromisoformat(meta["created"]).strftime("%Y%m%dT%H%M%SZ")
    return f"driftvakt-{str(meta['run']['id'])[:8]}-{created}"


def _untrusted(public: signing.PublicKey) -> str:
    return f"driftvakt bundle signature, key {public.key_id_hex}"


def _trusted(meta: dict[str, Any]) -> str:
    return (
        f"driftvakt bundle {stem(meta)} run {meta['run']['id']} "
        f"chain {meta['store']['run_hash']} created {meta['created']}"
    )


def _mtime(meta: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(meta["created"]).timestamp())


def _tar(members: list[tuple[str, bytes]], mtime: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _manifest(files: dict[str, bytes]) -> bytes:
    return "".join(f"{sha256(data)}  {name}\n" for name, data in files.items()).encode()


def build(
    files: dict[str, bytes], meta: dict[str, Any], key: signing.SigningKey, out_dir: Path
) -> Built:
    """Write ``<out_dir>/<stem>.tar`` atomically; ``meta`` becomes bundle.json."""
    meta = {"format": FORMAT, **meta, "key_id": key.public.key_id_hex}
    top = stem(meta)
    contents = {META: (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode(), **files}
    for name in files:
        if name in (META, MANIFEST, SIGNATURE) or not _safe(name):
            raise BadInputError(f"bundle part name {name!r} is reserved or unsafe")
    manifest = _manifest(contents)
    signature = signing.sign(key, manifest, _trusted(meta), _untrusted(key.public))
    members = [(f"{top}/{name}", data) for name, data in contents.items()]
    members += [(f"{top}/{MANIFEST}", manifest), (f"{top}/{SIGNATURE}", signature.encode())]
    data = _tar(members, _mtime(meta))
    path = out_dir / f"{top}.tar"
    _write_atomic(path, data)
    return Built(path, sha256(data), meta)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _safe(name: str) -> bool:
    parts = name.split("/")
    return not name.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def _members(data: bytes) -> tuple[str, list[tuple[str, bytes]]]:
    """The tar's regular files as (path below the top folder, content), in order."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            entries = tar.getmembers()
            found: list[tuple[str, bytes]] = []
            tops: set[str] = set()
            for entry in entries:
                top, _, rel = entry.name.partition("/")
                if not entry.isreg() or not _safe(entry.name) or not rel:
                    raise BundleError(f"unexpected tar entry {entry.name!r}")
                handle = tar.extractfile(entry)
                assert handle is not None
                found.append((rel, handle.read()))
                tops.add(top)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleError(f"not a readable tar file ({exc})") from exc
    if len(tops) != 1:
        raise BundleError("the files are not all below one top folder")
    names = [name for name, _ in found]
    if len(set(names)) != len(names):
        raise BundleError("a file appears twice in the tar")
    return tops.pop(), found


def _parse_manifest(text: bytes) -> dict[str, str]:
    try:
        lines = text.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{MANIFEST} is not UTF-8") from exc
    if lines.pop() != "":
        raise BundleError(f"{MANIFEST} does not end with a newline")
    listed: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        match = _SUM_LINE.fullmatch(line)
        if not match or match.group(2) in listed:
            raise BundleError(f"{MANIFEST} line {number} is malformed or repeated")
        listed[match.group(2)] = match.group(1)
    return listed


def verify(path: Path, public: signing.PublicKey) -> Verified:
    """Check everything offline; raise :class:`BundleError` naming the first problem."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise BundleError(f"larger than {MAX_BYTES >> 20} MiB; not a driftvakt bundle")
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"cannot read bundle {path}: {exc.strerror}") from exc
    top, members = _members(data)
    files = dict(members)
    for required in (META, MANIFEST, SIGNATURE):
        if required not in files:
            raise BundleError(f"missing {required}")
    try:
        signature_text = files[SIGNATURE].decode("ascii")
        trusted = signing.verify(
            public, files[MANIFEST], signature_text, exact_untrusted=_untrusted(public)
        )
    except UnicodeDecodeError as exc:
        raise BundleError(f"{SIGNATURE} is not a minisign signature") from exc
    except signing.SignatureError as exc:
        raise BundleError(f"{SIGNATURE}: {exc}") from exc
    listed = _parse_manifest(files[MANIFEST])
    present = set(files) - {MANIFEST, SIGNATURE}
    if missing := sorted(set(listed) - present):
        raise BundleError(f"missing file {missing[0]} (listed in {MANIFEST})")
    if unlisted := sorted(present - set(listed)):
        raise BundleError(f"unlisted file {unlisted[0]} (not in {MANIFEST})")
    for name, digest in listed.items():
        if sha256(files[name]) != digest:
            raise BundleError(f"{name} does not match its hash in {MANIFEST}")
    meta = _meta(files[META])
    if trusted != _trusted(meta) or top != stem(meta):
        raise BundleError("the signed trusted comment does not describe this bundle")
    _check_chain(meta, files.get("run.json"))
    if _tar([(f"{top}/{name}", content) for name, content in members], _mtime(meta)) != data:
        raise BundleError("the tar container was altered (headers or padding differ)")
    return Verified(meta, sorted(present), trusted, public.key_id_hex)


def _meta(raw: bytes) -> dict[str, Any]:
    try:
        meta = json.loads(raw)
        if meta.get("format") != FORMAT:
            raise BundleError(f"{META}: format is not {FORMAT}")
        stem(meta)
        _ = meta["store"]["run_hash"], meta["store"]["prev_hash"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BundleError(f"{META} is malformed ({exc})") from exc
    return dict(meta)


def _check_chain(meta: dict[str, Any], run_json: bytes | None) -> None:
    """run.json is the stored run: its chain hash must be the one recorded in bundle.json."""
    if run_json is None:
        raise BundleError("missing run.json")
    store = meta["store"]
    if sha256(store["prev_hash"].encode() + run_json) != store["run_hash"]:
        raise BundleError("run.json does not match the run store chain hash in bundle.json")
