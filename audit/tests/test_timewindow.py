"""Durations typed by people: what is one, and what is left to be a run id."""

from __future__ import annotations

from datetime import timedelta

import pytest

from driftvakt.timewindow import parse_since


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("90m", timedelta(minutes=90)),
        ("2w", timedelta(weeks=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 3H ", timedelta(hours=3)),
        ("0h", timedelta(0)),
    ],
)
def test_parse_since_durations(text: str, expected: timedelta) -> None:
    assert parse_since(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "h", "24", "3f2a9c1b", "3f2a9c1b-1c2d-4e5f-9a8b-7c6d5e4f3a2b", "1.5h", "-2d", "1d 2h"],
)
def test_parse_since_rejects_what_is_not_a_duration(text: str) -> None:
    assert parse_since(text) is None


def test_parse_since_overflow_is_not_a_duration() -> None:
    assert parse_since("99999999999999w") is None
