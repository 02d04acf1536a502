"""The Windows collection: one PowerShell script per host that returns every read as JSON.

The Windows checks (``tests/windows_facts.py``) ask for :data:`COLLECT_COMMAND`, a short name
for the script; the WinRM transport sends :func:`expand` of it (the script itself), so the
command the replay backend caches stays short while the script can change freely (its digest is
in the name, so a changed script is never answered from an old cache).
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

SCRIPT_NAME = "collect.ps1"
COMMAND_PREFIX = "driftvakt-windows-collect"


@cache
def collect_script() -> str:
    """The collection script (ASCII PowerShell, read-only on the host)."""
    return resources.files("driftvakt.windows").joinpath(SCRIPT_NAME).read_text("ascii")


@cache
def collect_command() -> str:
    digest = hashlib.sha256(collect_script().encode("ascii")).hexdigest()[:12]
    return f"{COMMAND_PREFIX} {digest}"


def expand(command: str) -> str:
    """The PowerShell text to run for a command: the script for the collect command, else as is."""
    return collect_script() if command == collect_command() else command
