"""Lab helpers that need no root: the overlay mount the hosts and the image build share, and
the ssh command line of ``driftvakt lab ssh``."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftvakt.lab import overlay
from driftvakt.lab.config import LabConfig
from driftvakt.lab.machine import ssh_base, ssh_login


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


@pytest.mark.parametrize(
    ("command", "terminal", "tty"),
    [([], True, True), ([], False, False), (["uptime"], True, False)],
)
def test_lab_ssh_asks_for_a_terminal_only_for_an_interactive_login(
    tmp_path: Path, command: list[str], terminal: bool, tty: bool
) -> None:
    cfg = LabConfig("default", tmp_path)
    argv = ssh_login(cfg, "10.1.2.3", command, terminal)
    base = ssh_base(cfg)
    expected = [*base, "-o", "BatchMode=no", "10.1.2.3", *command]
    if tty:
        expected.insert(1, "-t")
    assert argv == expected
