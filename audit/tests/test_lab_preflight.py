"""Not root, a missing tool, no room on disk: one clear line, nothing changed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from driftvakt.cli import main
from driftvakt.exitcodes import Exit


@pytest.fixture
def lab_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DRIFTVAKT_LAB_ROOT", str(tmp_path / "lab"))
    monkeypatch.setenv("DRIFTVAKT_CACHE", str(tmp_path / "cache"))
    return tmp_path


def _up(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, str]:
    code = main(["lab", "up", "--name", "pre", "--project", str(root)])
    err = capsys.readouterr().err.strip()
    return code, err


def test_not_root(
    lab_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    code, err = _up(capsys, lab_root)
    assert code == Exit.LAB
    assert err.count("\n") == 0
    assert "needs root" in err
    assert sorted(p.name for p in lab_root.iterdir()) == []


def test_missing_tool(
    lab_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 0)
    real = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda tool, *a, **k: None if tool == "debootstrap" else real(tool)
    )
    code, err = _up(capsys, lab_root)
    assert code == Exit.LAB
    assert err.count("\n") == 0
    assert "apt-get install debootstrap" in err
    assert list(lab_root.iterdir()) == []


def test_no_room_on_disk(
    lab_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda tool, *a, **k: f"/usr/bin/{tool}")

    def tiny(path: Any) -> Any:
        return shutil._ntuple_diskusage(10**9, 10**9 - 10**6, 10**6)  # type: ignore[attr-defined]

    monkeypatch.setattr(shutil, "disk_usage", tiny)
    code, err = _up(capsys, lab_root)
    assert code == Exit.LAB
    assert err.count("\n") == 0
    assert "MiB free" in err
    assert list(lab_root.iterdir()) == []


def test_bad_lab_name_is_refused(lab_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "status", "--name", "Bad-Name", "--project", str(lab_root)]) == Exit.LAB
    assert "lab name" in capsys.readouterr().err
