"""Compliance over the last runs, from the store: overall, per concern and per host group.

The rate is the report's: (pass + waived) / (pass + fail + waived) of a run's results; a run
with nothing judged (every host unreachable) has no rate, and its point is left out, not
drawn as 0 %. Counts come from the store in SQL (:meth:`Store.tallies`), so 30 runs of 5000
hosts are read in seconds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from driftvakt.catalog import Control
from driftvakt.fleetview import UNGROUPED
from driftvakt.store import Location, RunTally, Store, StoreError
from driftvakt.store.location import exists

RUNS = 30  # how many runs a trend covers by default


@dataclass(frozen=True)
class Trends:
    started: list[str]  # each run's start time, oldest first
    run_ids: list[str]
    overall: list[float | None]
    by_concern: dict[str, list[float | None]]
    by_group: dict[str, list[float | None]]


def rate(counts: Counter[str]) -> float | None:
    judged = counts["pass"] + counts["fail"] + counts["waived"]
    return (counts["pass"] + counts["waived"]) / judged if judged else None


def compute(tallies: list[RunTally], catalog: dict[str, Control]) -> Trends:
    concerns = list(dict.fromkeys(c.concern for c in catalog.values()))
    overall: list[float | None] = []
    per_concern: list[dict[str, Counter[str]]] = []
    per_group: list[dict[str, Counter[str]]] = []
    for tally in tallies:
        total: Counter[str] = Counter()
        concern: dict[str, Counter[str]] = {}
        for control, counts in tally.by_control.items():
            known = catalog.get(control)
            bucket = concern.setdefault(known.concern if known else "", Counter())
            bucket.update(counts)
            total.update(counts)
        overall.append(rate(total))
        per_concern.append(concern)
        groups = tally.meta.get("groups") or {}
        group: dict[str, Counter[str]] = {}
        for host, counts in tally.by_host.items():
            for name in groups.get(host) or [UNGROUPED]:
                group.setdefault(name, Counter()).update(counts)
        per_group.append(group)
    seen_concerns = {c for run in per_concern for c in run}
    order = [c for c in concerns if c in seen_concerns] + sorted(seen_concerns - set(concerns))
    group_names = sorted({g for run in per_group for g in run}, key=lambda g: (g == UNGROUPED, g))
    return Trends(
        started=[str(t.meta.get("started", "")) for t in tallies],
        run_ids=[str(t.meta.get("id", "")) for t in tallies],
        overall=overall,
        by_concern={c: [rate(run.get(c, Counter())) for run in per_concern] for c in order},
        by_group={g: [rate(run.get(g, Counter())) for run in per_group] for g in group_names},
    )


def from_store(
    store_path: Location, run_id: str, catalog: dict[str, Control], runs: int = RUNS
) -> Trends | None:
    """The trends of the ``runs`` stored runs up to ``run_id``; None if the run is not stored
    (a report of a result file that never went into the store has no history)."""
    if not exists(store_path):
        return None
    try:
        with Store(store_path, create=False) as store:
            return compute(store.tallies(run_id, runs), catalog)
    except StoreError:
        return None
