"""A testinfra backend that answers from prefetched command results.

Checks stay plain testinfra. ``driftvakt://HOST`` hosts answer ``run()`` from the results of
one batched remote execution; a command not prefetched raises ``NeedCommand`` (a
BaseException, so a check's ``except Exception`` cannot swallow it), the runner fetches every
such command of the round in one more round trip per host, and evaluates the waiting checks
again. Commands seen are remembered, so the next audit prefetches them all at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import testinfra.backend
from testinfra.backend import base

from driftvakt.transport import Output

BACKEND_NAME = "driftvakt"
COMMAND_NOT_FOUND = 127  # POSIX sh's exit status for a command it cannot find


class CommandMissing(Exception):
    """The host has no such command: the check cannot see, so its result is an error."""


class NeedCommand(BaseException):
    """The check asked for a command that has not been fetched yet."""


@dataclass
class Session:
    """What the auditor knows about one host during an audit."""

    name: str
    outputs: dict[str, Output] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


SESSIONS: dict[str, Session] = {}


class ReplayBackend(base.BaseBackend):  # type: ignore[misc]
    NAME = BACKEND_NAME

    def __init__(self, hostspec: str, *args: Any, **kwargs: Any) -> None:
        self.host_name = hostspec
        super().__init__(hostspec, *args, **kwargs)

    def run(self, command: str, *args: str, **kwargs: Any) -> base.CommandResult:
        full = self.get_command(command, *args)
        session = SESSIONS[self.host_name]
        output = session.outputs.get(full)
        if output is None:
            with session.lock:
                session.missing.add(full)
            raise NeedCommand(full)
        if output.rc == COMMAND_NOT_FOUND:
            detail = output.stderr.decode(errors="replace").strip().splitlines()
            raise CommandMissing(
                f"command not found on {self.host_name}: {detail[-1] if detail else command}"
            )
        return self.result(output.rc, self.encode(full), output.stdout, output.stderr)


def register() -> None:
    testinfra.backend.BACKENDS[BACKEND_NAME] = f"{__name__}.ReplayBackend"
