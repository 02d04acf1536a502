"""One audit at a time per run store: a second one waits (saying so), then refuses clearly."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from driftvakt.errors import DriftvaktError


class BusyError(DriftvaktError):
    pass


@contextmanager
def exclusive(path: Path, wait: float, what: str = "audit") -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                if time.monotonic() >= deadline:
                    raise BusyError(
                        f"another {what} (pid {holder}) is still using {path.parent}; "
                        f"gave up after {wait:.0f}s: try again later"
                    ) from None
                if not told:
                    print(
                        f"driftvakt: waiting for the {what} running as pid {holder} to finish",
                        file=sys.stderr,
                    )
                    told = True
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process is killed
