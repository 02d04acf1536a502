"""A self-contained HTML report (no external assets) of one run, in Swedish or English.

The first screen is the fleet (:mod:`driftvakt.fleetview`): by host group, concern and
severity, the controls failing most and what is new since the last run; a host's results on
demand. A run of up to FULL_TABLE_RESULTS results also lists every result, and then all of it
is in the page without JavaScript (the script only adds filtering, sorting and collapsing);
a larger run shows hosts through the script only (a table of 265,000 rows is no page).
Drift comes from :mod:`driftvakt.drift`, waivers are read back from the waived results'
reasons (the audit writes them, :func:`driftvakt.audit.apply_waivers`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from driftvakt.catalog import controls
from driftvakt.drift import Kind, compare, label
from driftvakt.fleetview import CODES, UNGROUPED, host_data, summarise
from driftvakt.localefmt import Formatter
from driftvakt.messages import translator
from driftvakt.reasons import shown
from driftvakt.results import write_text_atomic
from driftvakt.svgchart import line_chart
from driftvakt.trends import Trends

STATUSES = ("fail", "error", "waived", "pass", "not_applicable")
SEVERITIES = ("critical", "high", "medium", "low")
ICONS = {"pass": "✓", "fail": "✗", "error": "!", "waived": "◷", "not_applicable": "\u2013"}
_WAIVED = re.compile(r"^waived until (\d{4}-\d{2}-\d{2}) \((.*?), approved by (.*?)\): (.*)$", re.S)
FULL_TABLE_RESULTS = 3000  # every result as a row up to this many (a few dozen hosts)
DRIFT_ROWS = 200  # changes listed one by one at most; the fleet view counts them all
_EXPIRED = re.compile(r"\[waiver (\S+) expired on (\d{4}-\d{2}-\d{2})\]")


@dataclass(frozen=True)
class WaiverRow:
    host: str
    control: str
    title: str
    expires: str
    risk_analysis: str
    approver: str
    reason: str
    expired: bool


def waivers(results: list[dict[str, Any]], titles: dict[str, str]) -> list[WaiverRow]:
    """Valid waivers (from waived results) and expired ones (named in failures' reasons)."""
    rows = []
    for r in results:
        reason = str(r.get("reason") or "")
        title = titles.get(r["control"], r["control"])
        if r["status"] == "waived" and (m := _WAIVED.match(reason)):
            expires, analysis, approver, why = m.groups()
            rows.append(
                WaiverRow(r["host"], r["control"], title, expires, analysis, approver, why, False)
            )
        elif m := _EXPIRED.search(reason):
            source, expires = m.groups()
            rows.append(WaiverRow(r["host"], r["control"], title, expires, "", "", source, True))
    return sorted(rows, key=lambda w: (not w.expired, w.expires, w.host, w.control))


def _seconds(run: dict[str, Any]) -> float | None:
    """How long the audit took, from its start and finish times; None if either is unreadable."""
    try:
        started = datetime.fromisoformat(str(run["started"]))
        finished = datetime.fromisoformat(str(run["finished"]))
    except (KeyError, ValueError):
        return None
    return (finished - started).total_seconds()


def render(
    current: dict[str, Any],
    lang: str,
    previous: dict[str, Any] | None = None,
    history: Trends | None = None,
) -> str:
    catalog = controls()
    fmt = Formatter(lang)
    t = translator(lang)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("driftvakt", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    titles = {cid: c.text("title", lang) for cid, c in catalog.items()}
    results = []
    for r in current["results"]:
        control = catalog.get(r["control"])
        results.append(
            {
                **r,
                "title": titles.get(r["control"], r["control"]),
                "severity": control.severity if control else "",
                "requirements": list(control.requirements) if control else [],
                "rank": STATUSES.index(r["status"]) if r["status"] in STATUSES else 9,
                "reason_text": shown(str(r.get("reason") or ""), lang),
            }
        )
    results.sort(key=lambda r: (r["rank"], r["host"], r["control"]))
    by_host: dict[str, Counter[str]] = {h: Counter() for h in current["hosts"]}
    by_control: dict[str, Counter[str]] = {}
    for r in results:
        by_host.setdefault(r["host"], Counter())[r["status"]] += 1
        by_control.setdefault(r["control"], Counter())[r["status"]] += 1
    # the controls with most failures and errors first
    ordered = sorted(by_control.items(), key=lambda kv: (-kv[1]["fail"] - kv[1]["error"], kv[0]))
    control_rows = [
        {
            "id": cid,
            "title": titles.get(cid, cid),
            "severity": catalog[cid].severity if cid in catalog else "",
            "counts": counts,
        }
        for cid, counts in ordered
    ]
    drift = compare(previous, current)
    summary = Counter(r["status"] for r in results)
    judged = summary["pass"] + summary["fail"] + summary["waived"]
    shown_severities = [s for s in SEVERITIES if any(r["severity"] == s for r in results)]
    fleet = summarise(current, catalog, drift, SEVERITIES)
    full = len(results) <= FULL_TABLE_RESULTS
    return env.get_template("report.html.j2").render(
        run=current,
        lang=lang,
        t=t,
        fmt=fmt,
        icons=ICONS,
        statuses=STATUSES,
        severities=shown_severities,
        requirements=sorted({q for r in results for q in r["requirements"]}),
        summary=summary,
        compliance=(summary["pass"] + summary["waived"]) / judged if judged else None,
        results=results if full else [],
        result_count=len(results),
        full=full,
        fleet=fleet,
        ungrouped=UNGROUPED,
        host_data=host_data(current, catalog, titles, fleet, list(SEVERITIES), lang),
        reason=lambda text: shown(str(text or ""), lang),
        drift_rows=DRIFT_ROWS,
        history=history,
        chart=lambda values, title, small=False: line_chart(
            values,
            [fmt.date(str(s)[:10]) for s in history.started] if history else [],
            title,
            fmt.percent,
            width=220 if small else 720,
            height=70 if small else 200,
            small=small,
        ),
        all_severities=SEVERITIES,
        codes=CODES,
        catalog_severity=lambda cid: catalog[cid].severity if cid in catalog else "",
        words={
            "statuses": {CODES[s]: t(s) for s in STATUSES},
            "severities": [t(s) for s in SEVERITIES],
            "groups": fleet.groups,
            "group_labels": [t("ungrouped") if g == UNGROUPED else g for g in fleet.groups],
            "concerns": fleet.concerns,
            "shown": t("hosts_shown_of"),
            "passing": t("passing_not_shown"),
            "evidence": t("evidence"),
            "lines": t("lines"),
        },
        hosts=sorted(by_host.items()),
        control_rows=control_rows,
        drift=drift,
        drift_label=lambda kind: label(kind, lang),
        kinds=[k for k in Kind if k is not Kind.UNCHANGED and drift.count(k)],
        waivers=waivers(current["results"], titles),
        previous=previous,
        titles=titles,
        seconds=_seconds(current),
    )


def write(
    current: dict[str, Any],
    path: Path,
    lang: str,
    previous: dict[str, Any] | None = None,
    history: Trends | None = None,
) -> Path:
    write_text_atomic(path, render(current, lang, previous, history))
    return path
