"""``driftvakt report`` and ``driftvakt rights``: a run for people (HTML) or machines."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from driftvakt.errors import BadInputError
from driftvakt.exitcodes import Exit


def _store(text: str) -> Path | str:
    """--store: a file path or a PostgreSQL URL."""
    from driftvakt.store.location import resolve

    return resolve(text)


def current_run(ref: str | None, group: str | None, store: Path | str) -> dict[str, Any]:
    """A file, a stored run id, the latest run, or a whole run group (--group) as one run."""
    from driftvakt.runref import load_group, load_run

    if group is None:
        return load_run(ref, store)
    if ref:
        raise BadInputError(f"give a run ({ref}) or --group {group}, not both")
    return load_group(group, store)


def cmd_report(args: argparse.Namespace) -> int:
    from driftvakt import report, trends
    from driftvakt.catalog import controls
    from driftvakt.comparison import comparison_run
    from driftvakt.runref import load_group_before

    current = current_run(args.result, args.group, _store(args.store))
    if args.format != "html":
        return _write_format(current, args)
    # --previous names the earlier run (a file or run id); by default the run stored before it
    # (for a group: the group, or run, saved before it; a group has no trend charts yet)
    if args.group and not args.previous:
        previous = load_group_before(args.group, _store(args.store))
    else:
        previous = comparison_run(current, _store(args.store), args.previous)
    history = None
    if not args.group:
        history = trends.from_store(
            _store(args.store), str(current.get("id", "")), controls(), args.runs
        )
    out = report.write(
        current, Path(args.output or "reports/report.html"), args.lang, previous, history
    )
    print(f"report written to {out}")
    return Exit.OK


def _write_format(run: dict[str, Any], args: argparse.Namespace) -> int:
    from driftvakt import formats
    from driftvakt.results import write_text_atomic

    text = formats.render(run, args.format, args.lang, bom=args.bom)
    if args.output == "-":
        sys.stdout.write(text)
        return Exit.OK
    out = Path(args.output or f"reports/{run['id'][:8]}.{formats.SUFFIX[args.format]}")
    write_text_atomic(out, text)
    print(f"{args.format} written to {out}")
    return Exit.OK


RIGHTS_OUTPUT = {
    "html": "reports/rights.html",
    "json": "reports/rights.json",
    "csv": "reports/rights.csv",
}


def cmd_rights(args: argparse.Namespace) -> int:
    from driftvakt import rights
    from driftvakt.comparison import comparison_run

    store = _store(args.store)
    current = current_run(args.run, args.group, store)
    if not rights.inventories(current):
        raise BadInputError(
            f"run {str(current.get('id'))[:8]} has no rights inventory: audit with this "
            "driftvakt version (the accounts_admins_approved check collects it)"
        )
    if args.format == "csv":
        text = rights.to_csv(current)
    else:
        since = None if args.compare else args.since
        previous = comparison_run(current, store, args.compare, since, fallback_to_oldest=True)
        diff = rights.compare(previous, current)
        if args.format == "json":
            text = rights.dumps(rights.to_json(current, diff))
        else:
            text = rights.render_html(current, diff, args.lang)
    output = args.output or RIGHTS_OUTPUT[args.format]
    if output == "-":
        sys.stdout.write(text)
        return Exit.OK
    print(f"rights report written to {rights.write(Path(output), text)}")
    return Exit.OK
