"""``driftvakt export``, ``driftvakt verify`` and ``driftvakt receipts``: signed bundles for the
driftpartner, checked offline, and the record of their delivery."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from driftvakt.exitcodes import Exit


def _store(text: str) -> Path | str:
    """--store: a file path or a PostgreSQL URL."""
    from driftvakt.store.location import resolve

    return resolve(text)


def cmd_export(args: argparse.Namespace) -> int:
    from driftvakt.export import command

    key = Path(args.key)
    if args.run == "keygen":  # a run id is hex: it can never be "keygen"
        public = command.keygen(key)
        print(f"signing key {key} (mode 600), public key {key}.pub (key id {public.key_id_hex})")
        return Exit.OK
    if args.list:
        return cmd_receipts(args)
    if args.group:
        return _export_group(args)
    return _export_one(args, args.run)


def _export_group(args: argparse.Namespace) -> int:
    """Every run of a run group, one signed bundle each: a bundle vouches for one chained run."""
    from driftvakt.errors import BadInputError
    from driftvakt.store import Store

    if args.run:
        raise BadInputError(f"give a run ({args.run}) or --group {args.group}, not both")
    with Store(_store(args.store), create=False) as store:
        ids = store.group_runs(args.group)
    if not ids:
        raise BadInputError(f"the run store holds no run of group {args.group!r}")
    for run_id in ids:
        _export_one(args, run_id)
    print(f"group {args.group}: {len(ids)} run(s) exported")
    return Exit.OK


def _export_one(args: argparse.Namespace, run: str | None) -> int:
    from driftvakt.export import command

    key = Path(args.key)
    done = command.export(
        _store(args.store),
        run,
        key,
        Path(args.out),
        to=args.to,
        ssh_key=Path(args.ssh_key) if args.ssh_key else None,
        known_hosts=Path(args.known_hosts).expanduser(),
        attempts=args.attempts,
        say=lambda line: print(f"driftvakt: export: {line}", file=sys.stderr),
    )
    print(f"bundle {done.built.path}  sha256 {done.built.sha256}")
    if done.delivered:
        d = done.delivered
        print(f"delivered to {args.to} as {d.remote_path} ({d.attempts} attempt(s), {d.host_key})")
    return Exit.OK


def cmd_verify(args: argparse.Namespace) -> int:
    from driftvakt.export import command

    found = command.verify(Path(args.bundle), Path(args.pubkey))
    run = found.meta["run"]
    print(
        f"bundle OK: run {run['id']} ({run['started']}), {len(found.files)} files, "
        f"signed by key {found.key_id}; trusted comment: {found.trusted_comment}"
    )
    return Exit.OK


def cmd_receipts(args: argparse.Namespace) -> int:
    from driftvakt.export.receipts import receipts

    for r in receipts(_store(args.store)):
        print(
            f"{r.delivered_at}  run {r.run_id[:8]}  {r.destination}{r.remote_path}  "
            f"sha256 {r.bundle_sha256[:16]}  {r.host_key}  attempts {r.attempts}"
        )
    return Exit.OK
