"""Drift between two audit runs: what broke, what was repaired, and how the evidence moved.

Over 300 lines on purpose: the change kinds, their computation and the text that names them are
one vocabulary, read together.

Pure functions over run JSON (``Run.to_json()`` or ``Store.load()``); no I/O. ``compare`` is the
one drift computation; it reads a run one host at a time through a :class:`RunSide`, so runs too
large to hold are compared from the store (:func:`driftvakt.comparison.stored_side`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from driftvakt.evidence import CommandChange
from driftvakt.evidence import changes as command_changes
from driftvakt.messages import MESSAGES


class Kind(StrEnum):
    NEW_FAILURE = "new_failure"  # pass / not applicable / waived / absent / error -> fail
    REPAIRED = "repaired"  # fail / error -> pass
    NEW_ERROR = "new_error"  # anything else -> error
    ERROR_CLEARED = "error_cleared"  # error -> waived / not applicable
    STILL_FAILING = "still_failing"  # fail -> fail, evidence changed
    STATUS_CHANGED = "status_changed"  # any other status change, e.g. fail -> waived
    RESULT_MISSING = "result_missing"  # host and control still audited, but no result now
    UNCHANGED = "unchanged"  # counted, not listed


@dataclass(frozen=True)
class Change:
    """One host and control whose result moved between the runs."""

    host: str
    control: str
    kind: Kind
    status_before: str | None  # None: no result before
    status_after: str | None  # None: no result now
    removed: tuple[str, ...]  # evidence lines only in the earlier run, in order
    added: tuple[str, ...]  # evidence lines only in the later run, in order
    reason_before: str
    reason_after: str
    # per command (driftvakt.evidence): those that changed, and those run alike in both runs
    commands: tuple[CommandChange, ...] = ()
    unchanged_commands: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "control": self.control,
            "kind": self.kind.value,
            "status_before": self.status_before,
            "status_after": self.status_after,
            "removed": list(self.removed),
            "added": list(self.added),
            "reason_before": self.reason_before,
            "reason_after": self.reason_after,
        }


@dataclass(frozen=True)
class DriftReport:
    before_id: str | None  # None: no earlier run, nothing to compare
    after_id: str
    changes: tuple[Change, ...]  # sorted by host, control; unchanged results are not listed
    hosts_appeared: tuple[str, ...]
    hosts_vanished: tuple[str, ...]
    controls_added: tuple[str, ...]
    controls_removed: tuple[str, ...]
    unchanged: int

    @property
    def is_empty(self) -> bool:
        return not (
            self.changes
            or self.hosts_appeared
            or self.hosts_vanished
            or self.controls_added
            or self.controls_removed
        )

    def count(self, kind: Kind) -> int:
        return sum(1 for change in self.changes if change.kind is kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "before": self.before_id,
            "after": self.after_id,
            "changes": [change.to_json() for change in self.changes],
            "hosts_appeared": list(self.hosts_appeared),
            "hosts_vanished": list(self.hosts_vanished),
            "controls_added": list(self.controls_added),
            "controls_removed": list(self.controls_removed),
            "unchanged": self.unchanged,
        }


def _evidence_lines(result: dict[str, Any] | None) -> list[str]:
    if result is None:
        return []
    evidence = result.get("evidence") or []
    if isinstance(evidence, str):
        evidence = [evidence]
    lines: list[str] = []
    for item in evidence:
        lines.extend(str(item).splitlines() or [""])
    return lines


def evidence_diff(before: list[str], after: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The lines removed and the lines added going from ``before`` to ``after``, in order."""
    removed: list[str] = []
    added: list[str] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("replace", "delete"):
            removed.extend(before[i1:i2])
        if op in ("replace", "insert"):
            added.extend(after[j1:j2])
    return tuple(removed), tuple(added)


def _classify(was: str | None, now: str, evidence_changed: bool) -> Kind:
    if now == "fail":
        if was == "fail":
            return Kind.STILL_FAILING if evidence_changed else Kind.UNCHANGED
        return Kind.NEW_FAILURE
    if now == "error":
        return Kind.UNCHANGED if was == "error" else Kind.NEW_ERROR
    if now == "pass" and was in ("fail", "error"):
        return Kind.REPAIRED
    if was == "error":
        return Kind.ERROR_CLEARED
    if was is None or was == now:
        return Kind.UNCHANGED
    return Kind.STATUS_CHANGED


def _by_control(results: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(r["control"]): r for r in results}


@dataclass(frozen=True)
class RunSide:
    """A run as drift reads it: its JSON without results (at least ``id`` and ``hosts``), the
    hosts and controls its results cover, how many results it has, and one host's results on
    demand -- so a stored run can be compared without holding all its results."""

    meta: dict[str, Any]
    result_hosts: frozenset[str]
    result_controls: frozenset[str]
    count: int
    results: Callable[[str], list[dict[str, Any]]]

    @classmethod
    def of_run(cls, run: dict[str, Any]) -> RunSide:
        """A whole run's JSON (``Run.to_json()``, ``Store.load()`` or a result file)."""
        by_host: dict[str, list[dict[str, Any]]] = {}
        results = run.get("results", [])
        for r in results:
            by_host.setdefault(str(r["host"]), []).append(r)
        return cls(
            meta={key: value for key, value in run.items() if key != "results"},
            result_hosts=frozenset(by_host),
            result_controls=frozenset(str(r["control"]) for r in results),
            count=len(results),
            results=lambda host: by_host.get(host, []),
        )


def compare(
    before: dict[str, Any] | RunSide | None, after: dict[str, Any] | RunSide
) -> DriftReport:
    """Classify every host and control of ``after`` against ``before`` (None: no earlier run).

    The one drift computation: the audit, ``driftvakt drift`` and the reports all call it.
    Each run is its whole JSON or a :class:`RunSide`; only one host's results are held at a
    time."""
    now = after if isinstance(after, RunSide) else RunSide.of_run(after)
    after_id = str(now.meta.get("id", ""))
    if before is None:
        return DriftReport(None, after_id, (), (), (), (), (), now.count)
    was = before if isinstance(before, RunSide) else RunSide.of_run(before)
    old_hosts = {str(h) for h in was.meta.get("hosts", [])} | was.result_hosts
    new_hosts = {str(h) for h in now.meta.get("hosts", [])} | now.result_hosts
    old_controls, new_controls = was.result_controls, now.result_controls
    changes: list[Change] = []
    unchanged = 0
    for host in sorted(was.result_hosts | now.result_hosts):
        host_changes, host_unchanged = _host_changes(
            host, was.results(host), now.results(host), host in new_hosts, new_controls
        )
        changes.extend(host_changes)
        unchanged += host_unchanged
    return DriftReport(
        before_id=str(was.meta.get("id", "")),
        after_id=after_id,
        changes=tuple(changes),
        hosts_appeared=tuple(sorted(new_hosts - old_hosts)),
        hosts_vanished=tuple(sorted(old_hosts - new_hosts)),
        controls_added=tuple(sorted(new_controls - old_controls)),
        controls_removed=tuple(sorted(old_controls - new_controls)),
        unchanged=unchanged,
    )


def _host_changes(
    host: str,
    was_all: list[dict[str, Any]],
    now_all: list[dict[str, Any]],
    host_still_audited: bool,
    new_controls: frozenset[str],
) -> tuple[list[Change], int]:
    """One host's changes, and how many of its results did not change."""
    old, new = _by_control(was_all), _by_control(now_all)
    changes: list[Change] = []
    unchanged = 0
    for control in sorted(new.keys() | old.keys()):
        was, now = old.get(control), new.get(control)
        if now is None:
            # a vanished host or control is reported once, not per result
            if host_still_audited and control in new_controls and was is not None:
                removed, added = evidence_diff(_evidence_lines(was), [])
                changes.append(
                    Change(
                        host,
                        control,
                        Kind.RESULT_MISSING,
                        str(was["status"]),
                        None,
                        removed,
                        added,
                        str(was.get("reason") or ""),
                        "",
                    )
                )
            continue
        # per command, the preamble left out: lines that only moved between checks are no change
        per_command, same = command_changes(_evidence_lines(was), _evidence_lines(now))
        removed = tuple(line for c in per_command for line in c.removed)
        added = tuple(line for c in per_command for line in c.added)
        status_before = str(was["status"]) if was is not None else None
        kind = _classify(status_before, str(now["status"]), bool(removed or added))
        if kind is Kind.UNCHANGED:
            unchanged += 1
            continue
        changes.append(
            Change(
                host,
                control,
                kind,
                status_before,
                str(now["status"]),
                removed,
                added,
                str(was.get("reason") or "") if was is not None else "",
                str(now.get("reason") or ""),
                tuple(per_command),
                tuple(same),
            )
        )
    return changes, unchanged


def label(key: str, lang: str) -> str:
    """The Swedish or English name of a change kind or drift label (messages.py, ``drift_*``)."""
    entry = MESSAGES[f"drift_{key}"]
    return entry["sv" if lang == "sv" else "en"]


def format_text(report: DriftReport, lang: str = "en", *, max_lines: int = 6) -> str:
    """A short terminal summary; Swedish when lang == "sv". At most max_lines evidence lines
    are shown per change."""
    lang = "sv" if lang == "sv" else "en"

    def t(key: str) -> str:
        return label(key, lang)

    def shared(key: str) -> str:  # a word the HTML report uses too
        return MESSAGES[key][lang]

    def status(value: str | None) -> str:
        if value is None:
            return shared("none")
        return MESSAGES.get(value, {}).get(lang, value)

    def quoted(reason: str) -> str:
        return repr(reason) if reason else "-"

    if report.before_id is None:
        return shared("no_previous")
    before, after = report.before_id[:8], report.after_id[:8]
    if report.is_empty:
        return t("none").format(before=before)
    lines = [t("header").format(before=before, after=after)]
    counts = [f"{report.count(kind)} {t(kind)}" for kind in Kind if report.count(kind)]
    counts.append(f"{report.unchanged} {shared('unchanged')}")
    lines.append(", ".join(counts))
    for key, names in (
        ("host_appeared", report.hosts_appeared),
        ("host_vanished", report.hosts_vanished),
        ("control_added", report.controls_added),
        ("control_removed", report.controls_removed),
    ):
        lines.extend(f"  {t(key)}: {name}" for name in names)
    for change in report.changes:
        lines.append(
            f"  {t(change.kind)}: {change.host} {change.control} "
            f"({status(change.status_before)} -> {status(change.status_after)})"
        )
        if change.reason_before != change.reason_after:
            lines.append(
                f"      {shared('reason').lower()}: "
                f"{shared('was')} {quoted(change.reason_before)}, "
                f"{shared('now')} {quoted(change.reason_after)}"
            )
        diff = [f"      - {_short(line)}" for line in change.removed]
        diff += [f"      + {_short(line)}" for line in change.added]
        if len(diff) > max_lines:
            rest = len(diff) - max_lines
            diff = [*diff[:max_lines], "      " + t("more").format(n=rest)]
        lines.extend(diff)
    return "\n".join(lines)


def _short(line: str, width: int = 150) -> str:
    """Evidence lines can be whole JSON documents; the terminal summary shows their start."""
    return line if len(line) <= width else line[: width - 1] + "…"
