"""Find the run a command is asked about: a result file, a stored run's id (or prefix), or the
latest stored run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from driftvakt.errors import BadInputError
from driftvakt.store import Location, Store
from driftvakt.store.location import describe, exists


def load_run(ref: str | None, store_path: Location) -> dict[str, Any]:
    if ref and (ref.endswith(".json") or Path(ref).is_file()):
        try:
            data = json.loads(Path(ref).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise BadInputError(f"{ref}: not a driftvakt result file ({exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise BadInputError(f"{ref}: not a driftvakt result file (no results list)")
        return data
    if not exists(store_path):
        raise BadInputError(f"no run store at {store_path}: run driftvakt audit or use --store")
    with Store(store_path) as store:
        if ref and ref != "latest":
            return store.load(ref)
        latest = store.latest(1)
    if not latest:
        raise BadInputError(
            f"the run store {describe(store_path)} holds no runs yet: run driftvakt audit"
        )
    return latest[0]


def load_group(group: str, store_path: Location) -> dict[str, Any]:
    """The runs of one run group (one launch: the slices of a sliced AWX job) as one run: every
    host's results once, from the newest run of the group that audited it (a relaunched slice
    replaces the failed one's hosts), with ``runs`` naming the runs it was made of."""
    if not exists(store_path):
        raise BadInputError(f"no run store at {store_path}: run driftvakt audit or use --store")
    with Store(store_path) as store:
        ids = store.group_runs(group)
        if not ids:
            raise BadInputError(
                f"the run store {describe(store_path)} holds no run of group {group!r}"
            )
        runs = [store.load(run_id) for run_id in reversed(ids)]  # newest first
    return combined(group, runs)


def combined(group: str, newest_first: list[dict[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    results: list[dict[str, Any]] = []
    hosts: list[str] = []
    host_groups: dict[str, list[str]] = {}
    for run in newest_first:
        fresh = [h for h in run.get("hosts") or [] if h not in seen]
        seen.update(fresh)
        hosts.extend(fresh)
        results.extend(r for r in run.get("results") or [] if r.get("host") in fresh)
        for host in fresh:
            if host in (run.get("groups") or {}):
                host_groups[host] = run["groups"][host]
    summary: dict[str, int] = {}
    for r in results:
        summary[str(r["status"])] = summary.get(str(r["status"]), 0) + 1
    oldest = newest_first[-1]
    return {
        **{key: oldest.get(key) for key in ("user", "driftvakt_version", "baseline_revision")},
        "id": group,
        "run_group": group,
        "runs": [str(run["id"]) for run in reversed(newest_first)],
        "started": min(str(run.get("started") or "") for run in newest_first),
        "finished": max(str(run.get("finished") or "") for run in newest_first),
        "inventory": oldest.get("inventory"),
        "limit": None,
        "hosts": sorted(hosts),
        "groups": host_groups,
        "results": sorted(results, key=lambda r: str(r["host"])),
        "summary": {
            s: summary.get(s, 0) for s in ("pass", "fail", "error", "waived", "not_applicable")
        },
    }


def load_group_before(group: str, store_path: Location) -> dict[str, Any] | None:
    """What a group is compared with by default: the group saved before it, or the run saved
    before it when that had no group; None when the group is the oldest."""
    with Store(store_path) as store:
        previous = store.group_before(group)
        if previous is None:
            return None
        if previous == "":
            first = store.group_runs(group)[0]
            return store.before(first)
    return load_group(previous, store_path)
