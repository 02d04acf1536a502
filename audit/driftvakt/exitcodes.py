"""The CLI's exit codes, in one place (documented in docs/cli.md)."""

from enum import IntEnum


class Exit(IntEnum):
    OK = 0  # every result passed (or was waived / not applicable)
    FAILURES = 1  # at least one control failed, none errored
    ERRORS = 2  # at least one result is an error (host unreachable, check crashed, ...)
    BAD_INPUT = 3  # inventory, catalog, option or file unusable
    LAB = 4  # the lab could not be brought up/down
    UNREACHABLE = 5  # gate: a host did not answer at all
    INTERRUPTED = 130
