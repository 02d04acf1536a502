"""Inventory values a check cannot judge without.

Every such read goes through ``required``: driftvakt reads the checks' code for its calls
(``driftvakt/needs.py``) to know which variable each control needs, so an inventory that lacks
one is reported, host by host, before any host is contacted (``driftvakt inventory check``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# What counts as "not set": absent, null, an empty string or an empty list (driftvakt's own
# inventory check uses the same rule; audit/tests/test_inventory_check.py compares the two).
UNSET: tuple[Any, ...] = (None, "", [])


def required(hostvars: Mapping[str, Any], name: str, given: str = "") -> Any:
    """An inventory value the judgement cannot do without (its absence is an error).

    ``given`` names the variable whose being set is why the caller needs this one (the caller
    gets here only then): ``crypto_approved_cas`` is needed only given ``crypto_certificates``.
    Only the inventory check reads it; it must be a literal, like ``name``."""
    value = hostvars.get(name)
    if value in UNSET:
        because = f" (needed as {given} is set)" if given else ""
        raise LookupError(f"the inventory sets no {name} for this host{because}")
    return value
