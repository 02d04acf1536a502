"""The control catalog: one entry per control, the single source of truth for its metadata.

A control appears in four places under one ID: this catalog, the role tasks that enforce it
(named ``"<id> | ..."`` and tagged ``<id>``), the testinfra check marked
``@pytest.mark.control("<id>")``, and its drift scenario (here, proved in the lab).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from driftvakt.errors import CatalogError

SEVERITIES = ("low", "medium", "high", "critical")
PLATFORMS = ("debian", "redhat", "suse", "windows")
LANGS = ("sv", "en")


@dataclass(frozen=True)
class Requirement:
    id: str
    source: str
    section: str
    summary: str
    kind: str


@dataclass(frozen=True)
class Drift:
    """How to break the control on a host: a root shell script, and what it does."""

    description: dict[str, str]
    inject: str


@dataclass(frozen=True)
class Control:
    id: str
    concern: str
    title: dict[str, str]
    rationale: dict[str, str]
    requirements: tuple[str, ...]
    severity: str
    platforms: tuple[str, ...]
    drift: Drift

    def text(self, field: str, lang: str) -> str:
        value: dict[str, str] = getattr(self, field)
        return value.get(lang) or value["en"]


def _read_yaml(name: str) -> Any:
    return yaml.safe_load(resources.files("driftvakt.catalog").joinpath(name).read_text("utf-8"))


@cache
def requirements() -> dict[str, Requirement]:
    data = _read_yaml("requirements.yml")
    return {
        r["id"]: Requirement(r["id"], r["source"], r["section"], r["summary"], r["kind"])
        for r in data["requirements"]
    }


def _bilingual(entry: dict[str, Any], field: str, where: str) -> dict[str, str]:
    value = entry.get(field)
    if not isinstance(value, dict) or any(not value.get(lang) for lang in LANGS):
        raise CatalogError(f"{where}: '{field}' needs non-empty 'sv' and 'en' texts")
    return {lang: str(value[lang]).strip() for lang in LANGS}


def _parse_control(entry: dict[str, Any], where: str) -> Control:
    cid = entry.get("id")
    if not isinstance(cid, str) or not cid.replace("_", "").isalnum() or not cid.islower():
        raise CatalogError(f"{where}: control id {cid!r} must be lower_snake_case")
    where = f"{where} ({cid})"
    known = requirements()
    reqs = tuple(entry.get("requirements") or ())
    if not reqs:
        raise CatalogError(f"{where}: lists no requirement IDs")
    unknown = [r for r in reqs if r not in known]
    if unknown:
        raise CatalogError(f"{where}: unknown requirement IDs {unknown}")
    if entry.get("severity") not in SEVERITIES:
        raise CatalogError(f"{where}: severity must be one of {SEVERITIES}")
    platforms = tuple(entry.get("platforms") or ())
    if not platforms or any(p not in PLATFORMS for p in platforms):
        raise CatalogError(f"{where}: platforms must be a non-empty subset of {PLATFORMS}")
    drift = entry.get("drift")
    if not isinstance(drift, dict) or not str(drift.get("inject", "")).strip():
        raise CatalogError(f"{where}: needs a drift scenario with an 'inject' script")
    return Control(
        id=cid,
        concern=str(entry.get("concern") or ""),
        title=_bilingual(entry, "title", where),
        rationale=_bilingual(entry, "rationale", where),
        requirements=reqs,
        severity=entry["severity"],
        platforms=platforms,
        drift=Drift(_bilingual(drift, "description", where), str(drift["inject"])),
    )


@cache
def controls() -> dict[str, Control]:
    """All controls by ID, in catalog order. Raises CatalogError on any inconsistency."""
    found: dict[str, Control] = {}
    folder = resources.files("driftvakt.catalog").joinpath("controls")
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".yml"):
            continue
        data = yaml.safe_load(item.read_text("utf-8")) or {}
        concern = item.name.removesuffix(".yml")
        for entry in data.get("controls", []):
            entry.setdefault("concern", concern)
            control = _parse_control(entry, f"catalog/controls/{item.name}")
            if control.id in found:
                raise CatalogError(f"catalog/controls/{item.name}: duplicate id {control.id}")
            found[control.id] = control
    return found
