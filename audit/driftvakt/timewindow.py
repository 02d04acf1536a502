"""Durations typed by people (``24h``, ``7d``, ``1d12h``): how far back drift, prune, changes
and the rights report look."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"(\d+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta | None:
    """A duration such as ``24h``, ``7d``, ``90m``, ``2w`` or ``1d12h``; None if ``text`` is not
    one (the caller then treats it as a run id). Durations win: ``7d`` is seven days, never a
    run id prefix."""
    spec = text.strip().lower()
    if not spec or _DURATION.sub("", spec):
        return None
    total = timedelta(0)
    try:
        for amount, unit in _DURATION.findall(spec):
            total += timedelta(**{_UNITS[unit]: int(amount)})
    except OverflowError:
        return None
    return total
