"""``driftvakt drift``, ``driftvakt store`` and ``driftvakt changes``: the runs and hardening
changes kept in the run store."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from driftvakt.errors import BadInputError
from driftvakt.exitcodes import Exit


def cmd_drift(args: argparse.Namespace) -> int:
    from driftvakt.comparison import comparison_run
    from driftvakt.drift import compare, format_text
    from driftvakt.store import Store
    from driftvakt.store.location import resolve
    from driftvakt.timewindow import parse_since

    path = resolve(args.store)
    if args.group:  # a whole launch against the group (or run) saved before it
        from driftvakt.runref import load_group, load_group_before

        current = load_group(args.group, path)
        print(format_text(compare(load_group_before(args.group, path), current), args.lang))
        return Exit.OK
    with Store(path) as store:
        latest = store.latest(1)
    if not latest:
        raise BadInputError(f"the run store {args.store} holds no runs yet: run driftvakt audit")
    current = latest[0]
    # --since is a duration (durations win) or the earlier run's id
    is_age = args.since is not None and parse_since(args.since) is not None
    previous = comparison_run(
        current,
        path,
        compare=None if is_age else args.since,
        since=args.since if is_age else None,
        since_from=datetime.now(UTC),
    )
    print(format_text(compare(previous, current), args.lang))
    return Exit.OK


def cmd_store(args: argparse.Namespace) -> int:
    from driftvakt.store import Store, headlog
    from driftvakt.store.location import resolve
    from driftvakt.timewindow import parse_since

    store = Store(resolve(args.store), create=False)  # verify or prune never make a store
    if args.store_command == "verify":
        problems = store.verify(known_hashes=args.known_hash)
        for problem in problems:
            print(f"TAMPERED: {problem}")
        for run in store.incomplete():
            if run.abandoned:
                print(f"abandoned: run {run.id[:8]} begun {run.begun_at}: {run.abandoned}")
            else:
                print(
                    f"running: run {run.id[:8]} begun {run.begun_at} (pid {run.pid} on "
                    f"{run.hostname}), not saved yet"
                )
        if problems:
            return Exit.ERRORS
        summary = f"run store intact: {len(store.runs())} runs, chain head {store.head()[:16]}"
        if store.path is None:
            print(f"{summary} (a server store: its heads are in the system log)")
        else:
            heads = len(headlog.read(store.path)[0])
            print(f"{summary}, {heads} logged head(s) in {headlog.log_path(store.path)} agree")
        return Exit.OK
    age = parse_since(args.older_than)
    if age is None:
        raise BadInputError(f"--older-than {args.older_than!r}: use a duration like 90d or 12w")
    print(f"pruned {store.prune(age)} runs older than {args.older_than}; the chain still verifies")
    return Exit.OK


def cmd_changes(args: argparse.Namespace) -> int:
    from driftvakt import changes, changes_view
    from driftvakt.store import Store
    from driftvakt.store.location import resolve
    from driftvakt.timewindow import parse_since

    path = resolve(args.store)
    if args.change:
        record = changes.load(path, args.change)
        with Store(path) as store:
            before, after = changes.audits_around(store, record)
        print(changes_view.detail(record, before, after, args.lang))
        return Exit.OK
    since = None
    if args.since is not None:
        age = parse_since(args.since)
        if age is None:
            raise BadInputError(f"--since {args.since!r}: use a duration like 30d or 12h")
        since = datetime.now(UTC) - age
    print(changes_view.listing(changes.records(path, since, args.host), args.lang))
    return Exit.OK
