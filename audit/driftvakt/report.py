"""A self-contained HTML report (no external assets) of one run, in Swedish or English."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from driftvakt.catalog import controls
from driftvakt.messages import translator


@dataclass(frozen=True)
class Change:
    host: str
    control: str
    title: str
    before: str
    after: str


def drift(previous: dict[str, Any] | None, current: dict[str, Any], lang: str) -> list[Change]:
    """Results whose status differs from the previous run (new hosts/controls count as changed)."""
    if previous is None:
        return []
    catalog = controls()
    before = {(r["host"], r["control"]): r["status"] for r in previous["results"]}
    changes = []
    for r in current["results"]:
        key = (r["host"], r["control"])
        was = before.get(key, "new")
        if was != r["status"]:
            title = catalog[r["control"]].text("title", lang) if r["control"] in catalog else ""
            changes.append(Change(r["host"], r["control"], title, was, r["status"]))
    return changes


def render(current: dict[str, Any], lang: str, previous: dict[str, Any] | None = None) -> str:
    catalog = controls()
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("driftvakt", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    results = []
    for r in current["results"]:
        control = catalog.get(r["control"])
        results.append(
            {
                **r,
                "title": control.text("title", lang) if control else r["control"],
                "severity": control.severity if control else "",
                "requirements": control.requirements if control else (),
            }
        )
    hosts = []
    for name in current["hosts"]:
        rows = [r for r in current["results"] if r["host"] == name]
        hosts.append(
            {
                "name": name,
                "counts": {
                    s: sum(r["status"] == s for r in rows)
                    for s in ("pass", "fail", "error", "not_applicable")
                },
            }
        )
    return env.get_template("report.html.j2").render(
        run=current,
        lang=lang,
        t=translator(lang),
        results=results,
        hosts=hosts,
        drift=drift(previous, current, lang),
    )


def write(
    current: dict[str, Any], path: Path, lang: str, previous: dict[str, Any] | None = None
) -> Path:
    from driftvakt.results import write_text_atomic

    write_text_atomic(path, render(current, lang, previous))
    return path
