"""What ``driftvakt export``, ``driftvakt export keygen``, ``driftvakt verify`` and
``driftvakt receipts`` do; the CLI only parses options and prints."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from driftvakt import __version__
from driftvakt.catalog import controls
from driftvakt.errors import BadInputError
from driftvakt.export import bundle, contents, receipts, sftp, signing
from driftvakt.store import Location, Store, StoreError
from driftvakt.store.location import describe, exists
from driftvakt.trends import RUNS, compute


def _passphrase(prompt: str, *, confirm: bool) -> bytes | None:
    """From the environment, else asked on the terminal; None without either. Never logged."""
    from_env = os.environ.get(signing.PASSPHRASE_ENV)
    if from_env is not None:
        return from_env.encode() or None
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass(prompt)
    if confirm and first != getpass.getpass("again: "):
        raise BadInputError("the two passphrases differ; nothing written")
    return first.encode() or None


def keygen(key: Path) -> signing.PublicKey:
    return signing.generate(key, _passphrase("passphrase (empty: none): ", confirm=True))


def load_signing_key(key: Path) -> signing.SigningKey:
    passphrase = None
    if signing.is_encrypted(key):
        passphrase = _passphrase(f"passphrase for {key}: ", confirm=False)
    return signing.load_private(key, passphrase)


@dataclass(frozen=True)
class Exported:
    built: bundle.Built
    delivered: sftp.Delivered | None


def export(
    store_path: Location,
    run_key: str | None,
    key_path: Path,
    out_dir: Path,
    *,
    to: str | None = None,
    ssh_key: Path | None = None,
    known_hosts: Path | None = None,
    attempts: int = 4,
    backoff: float = 1.0,
    say: Callable[[str], None] = lambda _: None,
    progress: Callable[[int, int], None] | None = None,
) -> Exported:
    target = sftp.parse_target(to) if to else None
    if target and (ssh_key is None or known_hosts is None):
        raise BadInputError("--to needs --ssh-key and a known_hosts file")
    key = load_signing_key(key_path)  # before any work: a wrong passphrase fails fast
    if not exists(store_path):
        raise StoreError(f"no run store at {store_path}: run driftvakt audit first")
    with Store(store_path, create=False) as store:
        found = store.verify()
        if found:  # never sign a history that was changed: the bundle would vouch for it
            raise StoreError(
                f"refusing to export: the run store {describe(store_path)} does not verify "
                f"({len(found)} problem(s), first: {found[0]}); run driftvakt store verify"
            )
        if run_key:
            run = store.load(run_key)
        else:
            latest = store.latest(1)
            if not latest:
                raise StoreError(f"the run store {describe(store_path)} holds no runs yet")
            run = latest[0]
        stored = next(r for r in store.runs() if r.id == run["id"])
        previous = store.before(run["id"])
        head = store.head()
        trends = compute(store.tallies(run["id"], RUNS), controls())
    meta = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "driftvakt_version": __version__,
        "run": {
            "id": run["id"],
            "started": run.get("started"),
            "finished": run.get("finished"),
            "hosts": len(run.get("hosts") or []),
            "summary": run.get("summary"),
        },
        "store": {"run_hash": stored.hash, "prev_hash": stored.prev_hash, "head": head},
    }
    files = contents.render(contents.Source(run, previous, trends))
    built = bundle.build(files, meta, key, out_dir)
    if target is None:
        return Exported(built, None)
    assert ssh_key is not None and known_hosts is not None
    delivered = sftp.deliver(
        built.path,
        target,
        ssh_key=ssh_key,
        known_hosts=known_hosts,
        attempts=attempts,
        backoff=backoff,
        say=say,
        progress=progress,
    )
    receipt = receipts.Receipt(
        run_id=run["id"],
        bundle=built.path.name,
        bundle_sha256=built.sha256,
        destination=target.destination,
        remote_path=delivered.remote_path,
        host_key=delivered.host_key,
        delivered_at=delivered.delivered_at,
        attempts=delivered.attempts,
    )
    try:
        receipts.record(store_path, receipt)
    except StoreError as exc:
        raise StoreError(f"delivered as {delivered.remote_path}, but {exc}") from exc
    return Exported(built, delivered)


def verify(path: Path, pubkey: Path) -> bundle.Verified:
    public = signing.load_public(pubkey)
    try:
        return bundle.verify(path, public)
    except bundle.BundleError as exc:
        raise bundle.BundleError(f"bundle {path.name} REJECTED: {exc}") from exc
