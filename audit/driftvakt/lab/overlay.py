"""An overlay mount: read-only layers below, the writes in an upper folder of its own. Lab
hosts boot from one; the image build fills a layer through one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from driftvakt.lab.system import run


def mount_overlay(lower: Sequence[Path], upper: Path, work: Path, merged: Path) -> Path:
    """Mount ``merged`` as ``lower`` (first = topmost layer) with ``upper`` on top; returns
    ``merged``. The folders are made if missing; ``work`` is overlayfs's scratch space."""
    for folder in (upper, work, merged):
        folder.mkdir(parents=True, exist_ok=True)
    lowerdir = ":".join(str(layer) for layer in lower)
    options = f"lowerdir={lowerdir},upperdir={upper},workdir={work}"
    run(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)])
    return merged
