"""Typed errors. Only the CLI turns them into exit codes."""


class DriftvaktError(Exception):
    """Base class: the message is one actionable line."""


class BadInputError(DriftvaktError):
    """The user's input (inventory, catalog, option) is unusable."""


class LabError(DriftvaktError):
    """The lab cannot be brought up or down as asked."""


class CatalogError(BadInputError):
    """The control catalog is inconsistent."""
