"""Where the compliance suites are: the package ``driftvakt_checks`` (the checkout's ``tests/``).

pyproject maps the import name to ``tests/``, so a checkout (editable install) and a wheel
installed anywhere find the same checks through the import system, never through the working
directory.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from driftvakt.errors import BadInputError

SUITES_PACKAGE = "driftvakt_checks"


def suites_dir() -> Path:
    """The folder holding the installed compliance suites (``test_<concern>.py``)."""
    spec = importlib.util.find_spec(SUITES_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise BadInputError(
            f"the compliance suites ({SUITES_PACKAGE}) are not installed: reinstall driftvakt"
        )
    return Path(locations[0])
