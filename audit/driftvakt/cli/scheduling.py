"""``driftvakt schedule install``: the nightly audit and export as a systemd timer."""

from __future__ import annotations

import argparse
from pathlib import Path

from driftvakt.exitcodes import Exit


def _absolute(text: str | None) -> Path | None:
    return Path(text).expanduser().resolve() if text else None


def cmd_schedule(args: argparse.Namespace) -> int:
    from driftvakt import schedule
    from driftvakt.audit import default_inventory
    from driftvakt.store.location import is_url, resolve

    project = Path(args.project).resolve()
    store = resolve(args.store) if args.store else project / "var" / "driftvakt.db"
    if not is_url(store):
        store = (project / store).resolve()
    plan = schedule.Schedule(
        driftvakt=_absolute(args.driftvakt) or schedule.default_driftvakt(),
        project=project,
        inventory=(project / (args.inventory or default_inventory())).resolve(),
        store=store,
        on_calendar=args.on_calendar,
        randomized_delay=args.randomized_delay,
        user=args.user or "",
        environment_file=_absolute(args.environment_file),
        export_to=args.export_to or "",
        signing_key=_absolute(args.key),
        ssh_key=_absolute(args.ssh_key),
        known_hosts=_absolute(args.known_hosts),
    )
    for path in schedule.install(plan, Path(args.root)):
        print(f"wrote {path}")
    print(
        f"next: systemctl daemon-reload && systemctl enable --now {schedule.TIMER} "
        f"(test it now: systemctl start {schedule.SERVICE})"
    )
    return Exit.OK
