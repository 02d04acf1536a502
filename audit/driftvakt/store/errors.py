"""The one error the run store raises."""

from __future__ import annotations

from driftvakt.errors import DriftvaktError


class StoreError(DriftvaktError):
    """The run store cannot do what was asked; the message is one actionable line."""
