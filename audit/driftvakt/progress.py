"""Progress on a terminal: step lines and a bar; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import threading
import time


class Progress:
    """Step lines on stderr with elapsed time, so long work is visible."""

    WIDTH = 30

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.start = time.monotonic()
        self._lock = threading.Lock()
        self._bar_open = False

    def step(self, text: str) -> None:
        if self.quiet:
            return
        with self._lock:
            self._end_bar()
            print(f"[{time.monotonic() - self.start:6.1f}s] {text}", file=sys.stderr, flush=True)

    def bar(self, label: str, done: int, total: int) -> None:
        """Redraw one line in place; only on a terminal (a log gets the step lines only)."""
        if self.quiet or not sys.stderr.isatty() or total <= 0:
            return
        filled = self.WIDTH * done // total
        with self._lock:
            sys.stderr.write(
                f"\r  [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} {label}"
            )
            sys.stderr.flush()
            self._bar_open = done < total
            if not self._bar_open:
                sys.stderr.write("\n")

    def _end_bar(self) -> None:
        if self._bar_open:
            sys.stderr.write("\n")
            self._bar_open = False
