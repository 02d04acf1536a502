"""The catalog is the single source of truth: every control is enforced, checked and breakable."""

from __future__ import annotations

import re
from pathlib import Path

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


def test_every_control_has_bilingual_texts_and_a_drift() -> None:
    for control in controls().values():
        for lang in ("sv", "en"):
            assert control.title[lang]
            assert control.rationale[lang]
            assert control.drift.description[lang]
        assert control.drift.inject.strip()


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
