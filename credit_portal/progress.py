"""A progress bar for long management commands (no dependency; quiet when not on a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str, stream: TextIO | None = None, width: int = 30):
        self.total = max(total, 0)
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.done = 0
        self.started = time.monotonic()
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1

    def advance(self, n: int = 1) -> None:
        self.done = min(self.done + n, self.total) if self.total else self.done + n
        self._draw()

    def _draw(self, final: bool = False) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        fraction = self.done / self.total if self.total else 1.0
        eta = (self.total - self.done) / rate if rate and self.total else 0
        filled = int(self.width * fraction)
        line = (
            f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {fraction:6.1%} "
            f"{self.done:,}/{self.total:,} {rate:,.0f}/s ETA {eta:,.0f}s"
        )
        if self._tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
            self.stream.flush()
        else:
            decile = int(fraction * 10)
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(line + "\n")

    def finish(self) -> float:
        """Draw the last line; return the elapsed seconds."""
        self._draw(final=True)
        return time.monotonic() - self.started
