"""The one comparison rule (which earlier run a run is compared with) and the drift of stored
runs, as ``driftvakt drift``, the reports and the audit use them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from driftvakt.cli import main
from driftvakt.comparison import comparison_run, previous_stored, stored_drift
from driftvakt.drift import compare
from driftvakt.exitcodes import Exit
from driftvakt.store import Store

NOW = datetime.now(UTC).replace(microsecond=0)


def run(started: datetime, status: str) -> dict[str, Any]:
    when = started.isoformat()
    return {
        "id": str(uuid.uuid4()),
        "started": when,
        "finished": when,
        "hosts": ["web1"],
        "results": [
            {"host": "web1", "control": "ntp", "status": status, "evidence": [status]},
        ],
    }


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Runs 40, 10 and 2 days old and one of now, saved oldest first."""
    path = tmp_path / "driftvakt.db"
    runs = [
        run(NOW - timedelta(days=40), "pass"),
        run(NOW - timedelta(days=10), "fail"),
        run(NOW - timedelta(days=2), "pass"),
        run(NOW, "fail"),
    ]
    with Store(path) as store:
        for r in runs:
            store.save(r)
    return path, runs


def test_default_is_the_run_stored_just_before(stored: tuple[Path, list[dict[str, Any]]]) -> None:
    path, runs = stored
    assert comparison_run(runs[3], path) == runs[2]
    with Store(path) as store:
        assert previous_stored(store, runs[3]["id"]) == runs[2]["id"]
        assert previous_stored(store, runs[0]["id"]) is None


def test_a_named_run_by_id_prefix(stored: tuple[Path, list[dict[str, Any]]]) -> None:
    path, runs = stored
    assert comparison_run(runs[3], path, compare=runs[0]["id"][:8]) == runs[0]


def test_since_is_measured_from_the_reported_run_unless_told(
    stored: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, runs = stored
    # from the run 2 days old, 8 days back: the newest run started by then is 10 days old
    assert comparison_run(runs[2], path, since="8d") == runs[1]
    # the same 8 days counted back from 6 days ahead end 2 days ago: the 2-day run itself
    assert comparison_run(runs[2], path, since="8d", since_from=NOW + timedelta(days=6)) == runs[2]


def test_fallback_to_oldest_when_nothing_is_that_old(
    stored: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, runs = stored
    assert comparison_run(runs[3], path, since="400d") is None
    assert comparison_run(runs[3], path, since="400d", fallback_to_oldest=True) == runs[0]


def test_stored_drift_equals_the_drift_of_the_whole_runs(
    stored: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, runs = stored
    with Store(path) as store:
        assert stored_drift(store, runs[3]["id"]) == compare(runs[2], runs[3])
        assert stored_drift(store, runs[0]["id"]) == compare(None, runs[0])


def test_drift_command_since_a_duration_counts_back_from_now(
    stored: tuple[Path, list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, runs = stored
    assert main(["drift", "--store", str(path), "--since", "3d"]) == 0
    assert runs[1]["id"][:8] in capsys.readouterr().out  # 10 days old: the newest 3 days back
    assert main(["drift", "--store", str(path)]) == 0
    assert runs[2]["id"][:8] in capsys.readouterr().out
    assert main(["drift", "--store", str(path), "--since", runs[0]["id"][:8]]) == 0
    assert runs[0]["id"][:8] in capsys.readouterr().out


def test_drift_command_on_an_empty_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["drift", "--store", str(tmp_path / "none.db")]) == Exit.BAD_INPUT
    assert "holds no runs yet" in capsys.readouterr().err
