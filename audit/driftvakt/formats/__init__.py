"""Machine formats of one run (docs/formats.md): JSON, JUnit XML, CSV and OSCAL
assessment-results. Each module turns a run's JSON (``Run.to_json()``, as stored) into text;
the CLI writes it atomically."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from driftvakt.catalog import controls

Renderer = Callable[[dict[str, Any], str], str]


@dataclass(frozen=True)
class Row:
    """One result with what the catalog says about its control."""

    host: str
    control: str
    status: str
    title: str
    severity: str
    requirements: tuple[str, ...]
    reason: str
    evidence: tuple[str, ...]
    duration: float


def rows(run: dict[str, Any], lang: str) -> list[Row]:
    catalog = controls()
    out = []
    for r in run["results"]:
        control = catalog.get(r["control"])
        out.append(
            Row(
                host=r["host"],
                control=r["control"],
                status=r["status"],
                # A control missing from today's catalog (an old run) keeps its id as title.
                title=control.text("title", lang) if control else r["control"],
                severity=control.severity if control else "",
                requirements=tuple(control.requirements) if control else (),
                reason=r.get("reason") or "",
                evidence=tuple(r.get("evidence") or ()),
                duration=float(r.get("duration") or 0.0),
            )
        )
    return out


def renderers() -> dict[str, Renderer]:
    from driftvakt.formats import csv_export, json_schema, junit, oscal

    return {
        "json": json_schema.render,
        "junit": junit.render,
        "csv": csv_export.render,
        "oscal": oscal.render,
    }


# the file name ending of each format, after the run id, when no output is named
SUFFIX = {"json": "json", "junit": "junit.xml", "csv": "csv", "oscal": "oscal-ar.json"}


def render(run: dict[str, Any], fmt: str, lang: str, *, bom: bool = False) -> str:
    """``run`` in the machine format ``fmt``; ``bom``: CSV starts with a UTF-8 BOM (Excel)."""
    from driftvakt.formats import csv_export

    if fmt == "csv":
        return csv_export.render(run, lang, bom=bom)
    return renderers()[fmt](run, lang)
