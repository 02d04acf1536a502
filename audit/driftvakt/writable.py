"""Checked before any host is contacted: the folders an audit will write to can take a file.

An unwritable results or store folder used to be found after every host had been audited, with
a traceback and the whole night's results lost.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from driftvakt.errors import BadInputError


def require_writable_folder(path: Path, what: str) -> None:
    """Create ``path``'s folder if needed and prove a file can be made in it; else BadInputError."""
    if path.is_dir():
        raise BadInputError(f"{what} {path} is a folder: give a file name; nothing was audited")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".driftvakt-probe.", dir=folder)
    except OSError as exc:
        raise BadInputError(
            f"{what} {path}: cannot write in {folder} ({exc.strerror or exc}); nothing was audited"
        ) from exc
    os.close(fd)
    os.unlink(probe)
