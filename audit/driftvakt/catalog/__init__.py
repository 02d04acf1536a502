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


def _load_yaml(text: str, where: str = "catalog") -> Any:
    """The file's data; any YAML problem is one CatalogError naming the file and line."""
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        problem = " ".join(str(exc.problem or exc.context or "unreadable").split())
        raise CatalogError(f"{where}:{line}: not valid YAML ({problem})") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{where}: not valid YAML ({' '.join(str(exc).split())})") from exc


def _read_yaml(name: str) -> Any:
    item = resources.files("driftvakt.catalog").joinpath(name)
    try:
        text = item.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"catalog/{name}: cannot be read ({exc})") from exc
    return _load_yaml(text, f"catalog/{name}")


REQUIREMENT_FIELDS = ("id", "source", "section", "summary", "kind")


def parse_requirements(
    data: Any, where: str = "catalog/requirements.yml"
) -> dict[str, Requirement]:
    listed = data.get("requirements") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        raise CatalogError(f"{where}: expected a mapping with a 'requirements' list")
    found: dict[str, Requirement] = {}
    for number, entry in enumerate(listed, start=1):
        missing = [
            key for key in REQUIREMENT_FIELDS if not isinstance(entry, dict) or key not in entry
        ]
        if missing:
            raise CatalogError(f"{where}: requirement #{number} lacks {', '.join(missing)}")
        found[str(entry["id"])] = Requirement(*(str(entry[key]) for key in REQUIREMENT_FIELDS))
    return found


@cache
def requirements() -> dict[str, Requirement]:
    return parse_requirements(_read_yaml("requirements.yml"))


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
    listed = entry.get("requirements")
    if not isinstance(listed, list) or not listed:
        raise CatalogError(f"{where}: lists no requirement IDs (a YAML list)")
    reqs = tuple(str(r) for r in listed)
    unknown = [r for r in reqs if r not in known]
    if unknown:
        raise CatalogError(f"{where}: unknown requirement IDs {unknown}")
    if entry.get("severity") not in SEVERITIES:
        raise CatalogError(f"{where}: severity must be one of {SEVERITIES}")
    listed_platforms = entry.get("platforms")
    platforms = tuple(listed_platforms) if isinstance(listed_platforms, list) else ()
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
        for control in parse_controls(_read_yaml(f"controls/{item.name}"), item.name):
            if control.id in found:
                raise CatalogError(f"catalog/controls/{item.name}: duplicate id {control.id}")
            found[control.id] = control
    return found


def parse_controls(data: Any, name: str) -> list[Control]:
    """The controls of one catalog file (``name``: its file name, which is their concern)."""
    where = f"catalog/controls/{name}"
    listed = data.get("controls") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        raise CatalogError(f"{where}: expected a mapping with a 'controls' list")
    parsed = []
    for number, entry in enumerate(listed, start=1):
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}: control #{number} is not a mapping")
        entry.setdefault("concern", name.removesuffix(".yml"))
        parsed.append(_parse_control(entry, where))
    return parsed


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
