"""The catalog is the single source of truth: every control is enforced, checked and breakable."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from driftvakt.catalog import controls, requirements
from driftvakt.traceability import trace

PROJECT = Path(__file__).resolve().parents[2]
SHARED_DIGEST = PROJECT.parent / "shared" / "requirements.md"
TRACE = trace(PROJECT)


def test_catalog_loads_and_is_not_empty() -> None:
    assert len(controls()) >= 3


def test_requirement_ids_match_the_shared_digest() -> None:
    if not SHARED_DIGEST.exists():
        pytest.skip("shared/requirements.md is not beside this checkout")
    digest = set(re.findall(r"^\| ([A-Z][A-Z0-9.-]+) \|", SHARED_DIGEST.read_text(), re.M)) - {"ID"}
    assert digest == set(requirements())


@pytest.mark.parametrize("cid", list(controls()))
def test_control_has_a_named_and_tagged_role_task(cid: str) -> None:
    assert TRACE.task_names.get(cid), f"no role task named '{cid} | …'"
    assert TRACE.task_tags.get(cid), f"role tasks named for {cid} lack the tag {cid}"


@pytest.mark.parametrize("cid", list(controls()))
def test_control_has_one_linux_check_and_at_most_one_windows_check(cid: str) -> None:
    # A Windows check is one marked ``windows``, beside the Linux checks of its concern.
    windows = TRACE.windows_checks.get(cid, [])
    linux = list(TRACE.checks.get(cid, []))
    for name in windows:
        linux.remove(name)
    platforms = controls()[cid].platforms
    assert len(linux) == (0 if platforms == ("windows",) else 1), f"Linux checks: {linux}"
    assert len(windows) == (1 if "windows" in platforms else 0), f"Windows checks: {windows}"


def test_every_task_named_for_a_control_is_tagged_with_it() -> None:
    assert TRACE.untagged == []


def test_tasks_and_checks_name_only_known_controls() -> None:
    known = set(controls())
    assert set(TRACE.task_names) - known == set()
    assert set(TRACE.checks) - known == set()


def test_every_control_has_bilingual_texts_and_a_drift_per_platform_family() -> None:
    for control in controls().values():
        for lang in ("sv", "en"):
            assert control.title[lang]
            assert control.rationale[lang]
        assert tuple(control.drift) == control.families
        for scenario in control.drift.values():
            assert all(scenario.description[lang] for lang in ("sv", "en"))
            assert scenario.inject.strip()


def test_every_windows_control_has_a_powershell_drift() -> None:
    windows = [c for c in controls().values() if "windows" in c.platforms]
    assert {"ntp_region_servers", "firewall_inbound_default_deny"} <= {c.id for c in windows}
    for control in windows:
        assert control.drift["windows"].family == "windows"


def _entry(platforms: list[str], drift: dict[str, object]) -> dict[str, object]:
    text = {"sv": "text", "en": "text"}
    scenario = {"description": text, "inject": "true"}
    return {
        "id": "demo_control",
        "title": text,
        "rationale": text,
        "requirements": [next(iter(requirements()))],
        "severity": "low",
        "platforms": platforms,
        "drift": {family: scenario for family in drift},
    }


@pytest.mark.parametrize(
    ("platforms", "drift"),
    [
        (["debian", "windows"], {"linux": 1}),  # Windows lacks its scenario
        (["windows"], {"linux": 1}),  # a Linux scenario for a Windows-only control
        (["debian"], {"linux": 1, "windows": 1}),  # a scenario for a platform it does not run on
        (["suse"], {}),
    ],
)
def test_the_catalog_refuses_a_missing_or_stray_platform_scenario(
    platforms: list[str], drift: dict[str, object]
) -> None:
    from driftvakt.catalog import _parse_control
    from driftvakt.errors import CatalogError

    with pytest.raises(CatalogError, match="one drift scenario per platform family"):
        _parse_control(_entry(platforms, drift), "test")


def test_the_catalog_accepts_one_scenario_per_family() -> None:
    from driftvakt.catalog import _parse_control

    control = _parse_control(
        _entry(["debian", "redhat", "windows"], {"linux": 1, "windows": 1}), "t"
    )
    assert control.families == ("linux", "windows")


def test_linux_drift_scripts_parse_as_sh() -> None:
    for control in controls().values():
        if "linux" in control.drift:
            done = subprocess.run(
                ["sh", "-n"], input=control.drift["linux"].inject, text=True, capture_output=True
            )
            assert done.returncode == 0, f"{control.id}: {done.stderr}"


def _powershell_errors(source: str) -> list[str]:
    ts = pytest.importorskip("tree_sitter")
    grammar = pytest.importorskip("tree_sitter_powershell")
    tree = ts.Parser(ts.Language(grammar.language())).parse(source.encode())
    found: list[str] = []
    nodes = [tree.root_node]
    while nodes:
        node = nodes.pop()
        if node.type == "ERROR" or node.is_missing:
            found.append(f"line {node.start_point[0] + 1}: {node.type}")
        nodes.extend(node.children)
    return found


def test_the_powershell_parser_finds_errors_at_all() -> None:
    assert _powershell_errors("if ($a -eq 1) { Write-Output 'x'")
    assert _powershell_errors("Get-Service | Where-Object { $_.Name -eq 'x' ")


@pytest.mark.parametrize("cid", [cid for cid, c in controls().items() if "windows" in c.platforms])
def test_windows_drift_scripts_parse_as_powershell_and_are_ascii(cid: str) -> None:
    script = controls()[cid].drift["windows"].inject
    # Windows PowerShell 5.1 reads a script without a BOM in the ANSI code page: keep it ASCII.
    assert script.isascii()
    assert _powershell_errors(script) == []


def test_docs_controls_md_is_current() -> None:
    from driftvakt.catalog import markdown_table

    doc = PROJECT / "docs" / "controls.md"
    assert doc.read_text() == markdown_table(), (
        "run: driftvakt controls --format markdown > docs/controls.md"
    )


def test_docs_coverage_md_is_current() -> None:
    from driftvakt.coverage import markdown

    doc = PROJECT / "docs" / "coverage.md"
    assert doc.read_text() == markdown(), (
        "run: driftvakt coverage --format markdown > docs/coverage.md"
    )


def test_every_coverage_note_names_a_known_host_requirement() -> None:
    from driftvakt.coverage import _notes

    assert set(_notes()) <= set(requirements())


@pytest.mark.fault(
    "input",
    "a broken catalog or requirements file: bad YAML, a non-mapping entry, a string where a "
    "list belongs, a requirement without its fields",
    "one line naming the catalog file (and line), exit 3 (was: tracebacks naming no file)",
)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("controls:\n  - id: [unclosed\n", r"^catalog/controls/x\.yml:\d+: not valid YAML"),
        (
            "controls:\n  - just a string\n",
            r"^catalog/controls/x\.yml: control #1 is not a mapping",
        ),
        ("- id: a\n", r"^catalog/controls/x\.yml: expected a mapping with a 'controls' list"),
        ("controls: {}\n", r"expected a mapping with a 'controls' list"),
        (
            "controls:\n  - id: some_control\n    requirements: SKA-SEC-07\n",
            r"\(some_control\): lists no requirement IDs \(a YAML list\)",
        ),
    ],
)
def test_a_broken_catalog_file_is_one_line_naming_it(text: str, message: str) -> None:
    from driftvakt.catalog import _load_yaml, parse_controls
    from driftvakt.errors import CatalogError

    with pytest.raises(CatalogError, match=message):
        parse_controls(_load_yaml(text, "catalog/controls/x.yml"), "x.yml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"requirements": "none"}, "expected a mapping with a 'requirements' list"),
        ({"requirements": [{"id": "X-1"}]}, "requirement #1 lacks source, section, summary, kind"),
        ({"requirements": ["X-1"]}, "requirement #1 lacks id"),
        (None, "expected a mapping"),
    ],
)
def test_a_broken_requirements_file_is_one_line_naming_it(data: Any, message: str) -> None:
    from driftvakt.catalog import parse_requirements
    from driftvakt.errors import CatalogError

    with pytest.raises(CatalogError, match=f"^catalog/requirements.yml: {message}"):
        parse_requirements(data)
