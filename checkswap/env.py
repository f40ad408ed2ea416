"""The program's environment: streams and clocks, passed in so tests run the CLI in-process."""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO


class Env:
    def __init__(
        self,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.stdout: IO[str] = stdout if stdout is not None else sys.stdout
        self.stderr: IO[str] = stderr if stderr is not None else sys.stderr
        self.monotonic = monotonic
        self.sleep = sleep
        self.wall = wall

    def clock(self) -> tuple[float, float]:
        """(monotonic, wall) now: what a live sample is stamped with."""
        return self.monotonic(), self.wall()

    @property
    def stdout_isatty(self) -> bool:
        try:
            return self.stdout.isatty()
        except (AttributeError, ValueError):
            return False
