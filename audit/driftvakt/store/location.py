"""Where a run store is: a file path (the embedded SQLite store, the default) or a PostgreSQL
URL (``postgresql://user@host/db``, shared by several controllers). Given by ``--store`` or,
when that is not given, the environment variable ``DRIFTVAKT_STORE``."""

from __future__ import annotations

import os
from pathlib import Path

ENV = "DRIFTVAKT_STORE"
DEFAULT = "var/driftvakt.db"
_SCHEMES = ("postgresql://", "postgres://")

# A file path, or a PostgreSQL URL kept as text (a Path would fold its "//").
Location = Path | str


def default() -> str:
    """The store named by the environment, else the embedded default."""
    return os.environ.get(ENV) or DEFAULT


def resolve(text: str | Path) -> Location:
    if isinstance(text, str) and is_url(text):
        return text
    return Path(text)


def is_url(location: Location) -> bool:
    return isinstance(location, str) and location.startswith(_SCHEMES)


def exists(location: Location) -> bool:
    """Whether a file store exists; a server's is asked when opened (``Store(create=False)``)."""
    return is_url(location) or Path(location).exists()


def describe(location: Location) -> str:
    """The location as a message may show it: a URL without its password."""
    if is_url(location):
        from driftvakt.store.postgres import without_password

        return without_password(str(location))
    return str(location)
