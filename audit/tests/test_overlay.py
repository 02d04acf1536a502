"""The one overlay mount the lab hosts and the image build share: the mount it asks for."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftvakt.lab import overlay


def test_layers_are_joined_topmost_first_and_folders_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(overlay, "run", lambda argv: calls.append(argv))
    upper, work, merged = tmp_path / "upper", tmp_path / "work", tmp_path / "merged"
    top, base = tmp_path / "services", tmp_path / "base"

    assert overlay.mount_overlay([top, base], upper, work, merged) == merged

    assert calls == [
        [
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            f"lowerdir={top}:{base},upperdir={upper},workdir={work}",
            str(merged),
        ]
    ]
    assert all(folder.is_dir() for folder in (upper, work, merged))
