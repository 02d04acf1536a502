"""A run summarised as a region reads a fleet: by host group, concern and severity first,
the controls failing most, what is new since the last run, and each host on demand.

Pure functions over a run's JSON and its drift; the HTML is the template's. The per-host data
the page's script draws from (the hosts x concerns heat map, a host's detail) is packed
(:func:`host_data`): one status letter per control, reasons and evidence lines once each,
so that a 5000-host run stays a file a browser opens (docs/reports.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from driftvakt.catalog import Control
from driftvakt.drift import DriftReport, Kind
from driftvakt.reasons import shown

CODES = {"pass": "p", "fail": "f", "error": "e", "waived": "w", "not_applicable": "n"}
NO_RESULT = "."
UNGROUPED = ""  # hosts in no inventory group; the page names them
# Which evidence a host's detail carries: pass and not applicable need no proof on screen
# (they are in the run's JSON); the rest is why someone opened the host.
DETAIL_STATUSES = ("fail", "error", "waived")
NEW_KINDS = (Kind.NEW_FAILURE, Kind.NEW_ERROR)


@dataclass
class Tally:
    """Results counted by status, and the compliance rate the report uses everywhere:
    (pass + waived) / (pass + fail + waived); errors are not judged, they are counted."""

    counts: Counter[str] = field(default_factory=Counter)
    hosts: set[str] = field(default_factory=set)

    def add(self, host: str, status: str) -> None:
        self.counts[status] += 1
        self.hosts.add(host)

    @property
    def judged(self) -> int:
        return self.counts["pass"] + self.counts["fail"] + self.counts["waived"]

    @property
    def rate(self) -> float | None:
        return (self.counts["pass"] + self.counts["waived"]) / self.judged if self.judged else None

    @property
    def band(self) -> str:
        """The heat map's colour band (the cell also shows the number: never colour alone)."""
        rate = self.rate
        if rate is None:
            return "none"
        return (
            "good" if rate >= 0.95 else "fair" if rate >= 0.8 else "poor" if rate >= 0.5 else "bad"
        )


@dataclass(frozen=True)
class NewSince:
    """New failures or errors of one control since the previous run."""

    control: str
    kind: Kind
    hosts: tuple[str, ...]


@dataclass
class Fleet:
    groups: list[str]  # in order of name, UNGROUPED last
    concerns: list[str]
    severities: list[str]
    by_group: dict[str, Tally]
    by_concern: dict[str, Tally]
    by_severity: dict[str, Tally]
    cells: dict[tuple[str, str], Tally]  # (group, concern)
    failing_most: list[tuple[str, Tally]]  # controls by failures and errors, worst first
    new_since: list[NewSince]
    repaired: int


def host_groups(run: dict[str, Any], host: str) -> list[str]:
    """The host's inventory groups as the run recorded them; [UNGROUPED] if none."""
    return list((run.get("groups") or {}).get(host) or [UNGROUPED])


def summarise(
    run: dict[str, Any],
    catalog: dict[str, Control],
    drift: DriftReport,
    severities: Iterable[str],
    top: int = 10,
) -> Fleet:
    by_group: dict[str, Tally] = {}
    by_concern: dict[str, Tally] = {}
    by_severity: dict[str, Tally] = {}
    by_control: dict[str, Tally] = {}
    cells: dict[tuple[str, str], Tally] = {}
    groups_of: dict[str, list[str]] = {}
    for r in run["results"]:
        host, status, control = str(r["host"]), str(r["status"]), catalog.get(r["control"])
        groups = groups_of.get(host) or groups_of.setdefault(host, host_groups(run, host))
        concern = control.concern if control else ""
        for group in groups:
            by_group.setdefault(group, Tally()).add(host, status)
            cells.setdefault((group, concern), Tally()).add(host, status)
        by_concern.setdefault(concern, Tally()).add(host, status)
        by_control.setdefault(str(r["control"]), Tally()).add(host, status)
        if control:
            by_severity.setdefault(control.severity, Tally()).add(host, status)
    for host in run.get("hosts", []):  # a host without results still belongs to its groups
        for group in host_groups(run, host):
            by_group.setdefault(group, Tally()).hosts.add(host)
    order = list(dict.fromkeys(c.concern for c in catalog.values()))
    failing = [(cid, t) for cid, t in by_control.items() if t.counts["fail"] + t.counts["error"]]
    failing.sort(key=lambda kv: (-kv[1].counts["fail"] - kv[1].counts["error"], kv[0]))
    return Fleet(
        groups=sorted(by_group, key=lambda g: (g == UNGROUPED, g)),
        concerns=[c for c in order if c in by_concern] + sorted(set(by_concern) - set(order)),
        severities=[s for s in severities if s in by_severity],
        by_group=by_group,
        by_concern=by_concern,
        by_severity=by_severity,
        cells=cells,
        failing_most=failing[:top],
        new_since=new_since(drift),
        repaired=drift.count(Kind.REPAIRED),
    )


def new_since(drift: DriftReport) -> list[NewSince]:
    """New failures and errors since the previous run, per control, most hosts first."""
    hosts: dict[tuple[str, Kind], list[str]] = {}
    for change in drift.changes:
        if change.kind in NEW_KINDS:
            hosts.setdefault((change.control, change.kind), []).append(change.host)
    found = [NewSince(control, kind, tuple(h)) for (control, kind), h in hosts.items()]
    return sorted(found, key=lambda n: (-len(n.hosts), n.kind.value, n.control))


class _Texts:
    """Each distinct string once; results refer to it by number."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        return self.index.setdefault(text, len(self.index))

    def list(self) -> list[str]:
        return list(self.index)


class _Blocks:
    """Each distinct (reason, evidence lines) once: hosts configured alike share them."""

    def __init__(self) -> None:
        self.index: dict[tuple[int, tuple[int, ...]], int] = {}

    def __call__(self, block: tuple[int, tuple[int, ...]]) -> int:
        return self.index.setdefault(block, len(self.index))

    def list(self) -> list[list[Any]]:
        return [[reason, list(lines)] for reason, lines in self.index]


def host_data(
    run: dict[str, Any],
    catalog: dict[str, Control],
    titles: dict[str, str],
    fleet: Fleet,
    severities: list[str],
    lang: str = "en",
) -> dict[str, Any]:
    """What the page's script needs for the heat map and a host's detail, packed.

    ``hosts``: [name, [group numbers], status letters (one per control, CODES; "." none),
    number of failures and errors]; ``detail``: per host, [control number, block] for its
    results in DETAIL_STATUSES, a block being [reason text, [evidence line texts]] in
    ``blocks``; texts are numbers into ``texts``."""
    ids = list(catalog)
    ids += sorted({str(r["control"]) for r in run["results"]} - set(catalog))
    position = {cid: n for n, cid in enumerate(ids)}
    group_no = {g: n for n, g in enumerate(fleet.groups)}
    concern_no = {c: n for n, c in enumerate(fleet.concerns)}
    texts, blocks = _Texts(), _Blocks()
    letters: dict[str, list[str]] = {}
    detail: dict[str, list[Any]] = {}
    for r in run["results"]:
        host, status = str(r["host"]), str(r["status"])
        row = letters.get(host) or letters.setdefault(host, [NO_RESULT] * len(ids))
        n = position[str(r["control"])]
        row[n] = CODES.get(status, NO_RESULT)
        if status in DETAIL_STATUSES:
            lines = [line for item in r.get("evidence") or [] for line in str(item).split("\n")]
            reason = shown(str(r.get("reason") or ""), lang)  # evidence lines stay verbatim
            block = (texts(reason), tuple(texts(line) for line in lines))
            detail.setdefault(host, []).append([n, blocks(block)])
    hosts: list[tuple[str, list[int], str, int]] = []
    for host in sorted(set(run.get("hosts", [])) | set(letters)):
        row = letters.get(host, [NO_RESULT] * len(ids))
        bad = row.count("f") + row.count("e")
        groups = [group_no[g] for g in host_groups(run, host) if g in group_no]
        hosts.append((host, groups, "".join(row), bad))
    controls = []
    for cid in ids:
        control = catalog.get(cid)
        concern = concern_no.get(control.concern, -1) if control else -1
        severity = (
            severities.index(control.severity) if control and control.severity in severities else -1
        )
        controls.append([cid, titles.get(cid, cid), concern, severity])
    return {
        "controls": controls,
        "hosts": hosts,
        "detail": [detail.get(h[0], []) for h in hosts],
        "blocks": blocks.list(),
        "texts": texts.list(),
    }
