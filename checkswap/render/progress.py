"""A one-line progress bar for long writes, drawn only on a terminal.

    [###########.................]  41%  420.0 MiB / 1.0 GiB  212.4 MiB/s  ETA 0:03

This is throughput of our own write loop, not a kernel counter, so it does not go through
rates.py. Off a terminal (a pipe, a log file) it draws nothing: carriage returns would only
clutter the log.
"""

from __future__ import annotations

import time
from typing import IO, Callable

from checkswap.units import format_bytes


class Progress:
    def __init__(
        self,
        total: int,
        stream: IO[str],
        enabled: bool,
        clock: Callable[[], float] = time.monotonic,
        width: int = 28,
        every_s: float = 0.2,
    ) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.clock = clock
        self.width = width
        self.every_s = every_s
        self.start = clock()
        self._drawn_at: float | None = None

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if self._drawn_at is not None and now - self._drawn_at < self.every_s:
            return
        self._drawn_at = now
        self.stream.write("\r" + self.line(done, now - self.start))
        self.stream.flush()

    def line(self, done: int, elapsed: float) -> str:
        frac = min(1.0, done / self.total) if self.total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        if elapsed > 0 and done > 0:
            speed = done / elapsed
            rate = f"{format_bytes(speed)}/s"
            left = max(0.0, (self.total - done) / speed)
            eta = f"ETA {int(left // 60)}:{int(left % 60):02d}"
        else:
            rate, eta = "-", "ETA -"
        return (
            f"[{bar}] {frac * 100:3.0f}%  {format_bytes(done)} / {format_bytes(self.total)}"
            f"  {rate}  {eta}"
        )

    def finish(self, done: int) -> None:
        if not self.enabled:
            return
        self._drawn_at = None
        self.update(done)
        self.stream.write("\n")
        self.stream.flush()
