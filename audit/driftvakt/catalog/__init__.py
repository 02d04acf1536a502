"""The control catalog: one entry per control, the single source of truth for its metadata.

A control appears in four places under one ID: this catalog, the role tasks that enforce it
(named ``"<id> | ..."`` and tagged ``<id>``), the testinfra check marked
``@pytest.mark.control("<id>")``, and its drift scenarios (here: one per platform family it runs
on, a root shell script for Linux, proved in the lab, and PowerShell for Windows).
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
# A drift scenario serves a platform family: one shell script works on every Linux platform.
FAMILY = {"debian": "linux", "redhat": "linux", "suse": "linux", "windows": "windows"}
FAMILIES = ("linux", "windows")
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
    """How to break the control on one platform family's host, and what that does: a root shell
    script (``linux``) or a PowerShell script run as an administrator (``windows``)."""

    family: str
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
    drift: dict[str, Drift]  # by family, one for each family of platforms

    @property
    def families(self) -> tuple[str, ...]:
        return families(self.platforms)

    def text(self, field: str, lang: str) -> str:
        value: dict[str, str] = getattr(self, field)
        return value.get(lang) or value["en"]


# libyaml's parser when PyYAML was built with it: every audit reads the whole catalog.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python


def _read_yaml(name: str) -> Any:
    return _load_yaml(resources.files("driftvakt.catalog").joinpath(name).read_text("utf-8"))


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


def families(platforms: tuple[str, ...]) -> tuple[str, ...]:
    """The platform families of these platforms, in FAMILIES order."""
    return tuple(f for f in FAMILIES if any(FAMILY[p] == f for p in platforms))


def _parse_drift(entry: dict[str, Any], platforms: tuple[str, ...], where: str) -> dict[str, Drift]:
    drift = entry.get("drift")
    wanted = families(platforms)
    if not isinstance(drift, dict) or set(drift) != set(wanted):
        found = sorted(drift) if isinstance(drift, dict) else drift
        raise CatalogError(
            f"{where}: needs one drift scenario per platform family {list(wanted)} "
            f"(drift: {{linux: ..., windows: ...}}), found {found}"
        )
    scenarios = {}
    for family in wanted:
        scenario = drift[family]
        if not isinstance(scenario, dict) or not str(scenario.get("inject", "")).strip():
            raise CatalogError(f"{where}: the {family} drift scenario needs an 'inject' script")
        description = _bilingual(scenario, "description", f"{where} drift.{family}")
        scenarios[family] = Drift(family, description, str(scenario["inject"]))
    return scenarios


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
    return Control(
        id=cid,
        concern=str(entry.get("concern") or ""),
        title=_bilingual(entry, "title", where),
        rationale=_bilingual(entry, "rationale", where),
        requirements=reqs,
        severity=entry["severity"],
        platforms=platforms,
        drift=_parse_drift(entry, platforms, where),
    )


@cache
def controls() -> dict[str, Control]:
    """All controls by ID, in catalog order. Raises CatalogError on any inconsistency."""
    found: dict[str, Control] = {}
    folder = resources.files("driftvakt.catalog").joinpath("controls")
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".yml"):
            continue
        data = _load_yaml(item.read_text("utf-8")) or {}
        concern = item.name.removesuffix(".yml")
        for entry in data.get("controls", []):
            entry.setdefault("concern", concern)
            control = _parse_control(entry, f"catalog/controls/{item.name}")
            if control.id in found:
                raise CatalogError(f"catalog/controls/{item.name}: duplicate id {control.id}")
            found[control.id] = control
    return found


def markdown_table() -> str:
    """docs/controls.md: every control with its requirements, severity, platforms and drift."""
    lines = [
        "# Controls",
        "",
        "Generated by `driftvakt controls --format markdown`; a test keeps it in step with the",
        "catalog (`audit/driftvakt/catalog/controls/`).",
        "",
        "| ID | Control (en / sv) | Requirements | Severity | Platforms | Drift scenarios |",
        "|---|---|---|---|---|---|",
    ]
    for c in controls().values():
        drift = "<br>".join(
            f"{family}: {scenario.description['en']}" for family, scenario in c.drift.items()
        )
        lines.append(
            f"| `{c.id}` | {c.title['en']} / {c.title['sv']} | {', '.join(c.requirements)} "
            f"| {c.severity} | {', '.join(c.platforms)} | {drift} |"
        )
    return "\n".join(lines) + "\n"
