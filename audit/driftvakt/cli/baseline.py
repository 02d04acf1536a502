"""``driftvakt controls`` and ``driftvakt coverage``: what the baseline holds and covers."""

from __future__ import annotations

import argparse

from driftvakt.exitcodes import Exit


def cmd_controls(args: argparse.Namespace) -> int:
    from driftvakt.catalog import controls, markdown_table

    if args.format == "markdown":
        print(markdown_table(), end="")
        return Exit.OK
    for control in controls().values():
        reqs = ", ".join(control.requirements)
        print(
            f"{control.id:<32} {control.severity:<8} {','.join(control.platforms):<22} "
            f"{control.text('title', args.lang)}  [{reqs}]"
        )
    return Exit.OK


def cmd_coverage(args: argparse.Namespace) -> int:
    from driftvakt import coverage

    if args.format == "markdown":
        print(coverage.markdown(), end="")
        return Exit.OK
    found = coverage.rows(coverage.selected(args.platform))
    for row in found:
        detail = ", ".join(row.controls) or row.note or "no control and no note"
        print(f"{row.requirement:<12} {row.platform:<8} {row.state:<8} {detail}")
    missing = sum(row.state == "MISSING" for row in found)
    print(f"{len(found) - missing} of {len(found)} (requirement, platform) pairs covered or noted")
    return Exit.FAILURES if missing else Exit.OK
