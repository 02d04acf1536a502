"""What goes into a bundle: one entry per file, in bundle order. Extend ``PARTS`` to add one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jinja2

from driftvakt import report
from driftvakt.errors import BadInputError
from driftvakt.store import canonical_json
from driftvakt.trends import Trends


@dataclass(frozen=True)
class Source:
    """The stored run being exported, and the run before it (for the reports' drift section)."""

    run: dict[str, Any]
    previous: dict[str, Any] | None
    trends: Trends | None = None  # the compliance trend up to this run (the report shows it)


@dataclass(frozen=True)
class Part:
    path: str  # inside the bundle, below its top folder
    make: Callable[[Source], bytes]


def _html(lang: str) -> Callable[[Source], bytes]:
    return lambda source: report.render(source.run, lang, source.previous, source.trends).encode(
        "utf-8"
    )


def _rights(lang: str) -> Callable[[Source], bytes]:
    """Accounts and rights per host, with what changed since the previous run."""

    def make(source: Source) -> bytes:
        from driftvakt import rights

        diff = rights.compare(source.previous, source.run)
        return rights.render_html(source.run, diff, lang).encode("utf-8")

    return make


def _machine(name: str) -> Callable[[Source], bytes]:
    """One of the machine formats (docs/formats.md), in English: the driftpartner's tools read
    the codes and IDs; the titles are for people, who have the HTML reports in both languages."""

    def make(source: Source) -> bytes:
        from driftvakt.formats import renderers

        return renderers()[name](source.run, "en").encode("utf-8")

    return make


PARTS: tuple[Part, ...] = (
    # The run exactly as the store keeps it, so its chain hash can be recomputed (bundle.json).
    Part("run.json", lambda source: canonical_json(source.run).encode("utf-8")),
    Part("reports/report.sv.html", _html("sv")),
    Part("reports/report.en.html", _html("en")),
    Part("reports/rights.sv.html", _rights("sv")),
    Part("reports/rights.en.html", _rights("en")),
    Part("results/run.junit.xml", _machine("junit")),
    Part("results/run.csv", _machine("csv")),
    Part("results/run.oscal-ar.json", _machine("oscal")),
)


def render(source: Source) -> dict[str, bytes]:
    files = {}
    for part in PARTS:
        try:
            files[part.path] = part.make(source)
        except (jinja2.TemplateError, KeyError, TypeError, ValueError) as exc:
            raise BadInputError(
                f"run {source.run.get('id')}: cannot make {part.path}: {type(exc).__name__}: {exc}"
            ) from exc
    return files
