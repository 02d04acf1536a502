"""docs/reliability.md is the fault matrix the tests prove, never a hand-written claim."""

from __future__ import annotations

import faultmatrix


def test_the_reliability_page_is_generated_from_the_fault_marks() -> None:
    expected = faultmatrix.render(faultmatrix.rows())
    assert faultmatrix.DOC.read_text("utf-8") == expected, (
        "docs/reliability.md is stale: run `python audit/tests/faultmatrix.py`"
    )


def test_every_fault_mark_names_a_known_area_and_says_what_it_gives() -> None:
    found = faultmatrix.rows()
    assert len(found) >= 30
    assert all(row.given and row.gives for row in found)
