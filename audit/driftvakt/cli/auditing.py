"""``driftvakt audit`` and ``driftvakt gate``: audit hosts against the baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _optional_store(value: str | None) -> Path | str | None:
    """--store (or DRIFTVAKT_STORE, the parser's default): a file path or a PostgreSQL URL."""
    from driftvakt.store.location import resolve

    return resolve(value) if value else None


def cmd_audit(args: argparse.Namespace) -> int:
    from driftvakt.audit import run_audit

    return run_audit(
        inventory=args.inventory,
        limit=args.limit,
        output=Path(args.output),
        lang=args.lang,
        quiet=args.quiet or not sys.stderr.isatty(),
        store_path=_optional_store(args.store),
        waivers_path=_optional_path(args.waivers),
        timeout=args.timeout,
        wait=args.wait,
    )


def cmd_inventory(args: argparse.Namespace) -> int:
    from driftvakt.audit import default_inventory
    from driftvakt.precheck import run_inventory_check

    return run_inventory_check(
        inventory=args.inventory or default_inventory(),
        limit=args.limit,
        waivers_path=_optional_path(args.waivers),
        project=Path.cwd(),
    )


def cmd_gate(args: argparse.Namespace) -> int:
    from driftvakt.gate import run_gate

    return run_gate(
        hosts=args.hosts,
        inventory=args.inventory,
        output=Path(args.output),
        lang=args.lang,
        store_path=_optional_store(args.store),
        waivers_path=_optional_path(args.waivers),
        timeout=args.timeout,
        wait=args.wait,
    )
