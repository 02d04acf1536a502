"""Transports: how the auditor reaches a host. One interface, SSH (paramiko) and WinRM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from driftvakt.errors import DriftvaktError
from driftvakt.results import ErrorKind


class TransportError(DriftvaktError):
    """The host could not be reached or stopped answering; the message is one actionable line.

    The subclasses say why (``kind``), so that the gate and the reports never read the prose.
    """

    kind = ErrorKind.PROTOCOL


class Unreachable(TransportError):
    kind = ErrorKind.UNREACHABLE


class HostKeyError(TransportError):
    kind = ErrorKind.HOST_KEY


class AuthError(TransportError):
    kind = ErrorKind.AUTH


class TimedOut(TransportError):
    kind = ErrorKind.TIMEOUT


class HostConfigError(TransportError):
    kind = ErrorKind.CONFIG


@dataclass(frozen=True)
class Output:
    rc: int
    stdout: bytes
    stderr: bytes


class Transport(Protocol):
    def connect(self) -> None: ...

    def run_batch(self, commands: list[str]) -> dict[str, Output]:
        """Run every command in one round trip; the result maps each command to its output."""
        ...

    def close(self) -> None: ...
