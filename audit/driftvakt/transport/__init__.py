"""Transports: how the auditor reaches a host. One interface, SSH (paramiko) and WinRM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from driftvakt.errors import DriftvaktError


class TransportError(DriftvaktError):
    """The host could not be reached or stopped answering; the message is one actionable line."""


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
