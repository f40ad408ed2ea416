"""The one progress display of every long job: a swapfile's fill, a swapoff, a report, a snapshot.

On a terminal, a bar redrawn in place (at most five times a second)::

    [###########.................]  41%  420.0 MiB / 1.0 GiB  212.4 MiB/s  ETA 0:03

Off a terminal (a pipe, a log file, a cron mail) no carriage returns: at most one plain line
every few seconds, and none at all for a job shorter than that. Either way it goes to the stream
it is given, which the commands make stderr: stdout stays the job's output alone.

The rate is the throughput of the job itself, not a kernel counter, so it does not go through
rates.py; the ETA divides what is left by the rate of the last few seconds, not the average since
the start, because a swapoff (or a disk under other load) changes pace as it goes.
"""

from __future__ import annotations

import collections
import time

from checkswap.units import format_bytes

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import IO, Any, Callable

    from checkswap.env import Env

TTY_EVERY_S = 0.2
PIPE_EVERY_S = 3.0
WINDOW_S = 10.0  # the "recent" of the recent rate


def clock_text(seconds: float) -> str:
    """``M:SS``, or ``H:MM:SS`` past an hour (a 14 GB swapoff can take hours)."""
    s = max(0, int(seconds + 0.5))
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


class Progress:
    """Progress of a job of ``total`` units (bytes unless ``unit`` names a count: "samples").

    ``tty`` picks the form; ``every_s`` overrides the redraw interval of that form. With
    ``delay_s`` a terminal sees no bar at all for a job done sooner (a report of a small
    recording should not flash one).
    """

    def __init__(
        self,
        total: int,
        stream: IO[str],
        tty: bool,
        clock: Callable[[], float] = time.monotonic,
        width: int = 28,
        every_s: float | None = None,
        unit: str = "bytes",
        label: str = "",
        delay_s: float = 0.0,
    ) -> None:
        self.total = total
        self.stream = stream
        self.tty = tty
        self.clock = clock
        self.width = width
        self.every_s = every_s if every_s is not None else (TTY_EVERY_S if tty else PIPE_EVERY_S)
        self.unit = unit
        self.label = label
        self.delay_s = delay_s
        self._ever = False  # anything drawn yet
        self.start = clock()
        self._drawn_at: float | None = None if tty else self.start
        self._shown = False  # a bar is on the terminal's current line
        self._recent: collections.deque[tuple[float, int]] = collections.deque()
        self._recent.append((self.start, 0))

    # --- figures ------------------------------------------------------------------------

    def amount(self, n: float) -> str:
        if self.unit == "bytes":
            return format_bytes(n)
        return f"{int(n):,}"

    def speed(self, rate: float) -> str:
        if self.unit == "bytes":
            return f"{format_bytes(rate)}/s"
        return f"{rate:,.1f} {self.unit}/s"

    def _note(self, now: float, done: int) -> float | None:
        """Record a reading; the rate over the last WINDOW_S seconds (None before any time)."""
        recent = self._recent
        if done < recent[-1][1]:
            recent.clear()  # went backwards (a restart): the window starts again
        recent.append((now, done))
        while len(recent) > 2 and now - recent[1][0] >= WINDOW_S:
            recent.popleft()
        t0, d0 = recent[0]
        return (done - d0) / (now - t0) if now > t0 else None

    def line(self, done: int, elapsed: float, rate: float | None = None, detail: str = "") -> str:
        """The bar's text; ``rate`` defaults to the average since the start."""
        if rate is None and elapsed > 0 and done > 0:
            rate = done / elapsed
        frac = min(1.0, max(0.0, done / self.total)) if self.total > 0 else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        if rate is not None and rate > 0:
            speed = self.speed(rate)
            eta = f"ETA {clock_text(max(0, self.total - done) / rate)}"
        else:
            speed, eta = "-", "ETA -"
        head = f"{self.label}: " if self.label and not self.tty else ""
        text = (
            f"{head}[{bar}] {frac * 100:3.0f}%  {self.amount(done)} / {self.amount(self.total)}"
            f"  {speed}  {eta}"
        )
        return f"{text}  {detail}" if detail else text

    # --- drawing ------------------------------------------------------------------------

    def update(self, done: int, detail: str = "") -> None:
        now = self.clock()
        rate = self._note(now, done)
        if now - self.start < self.delay_s:
            return
        if self._drawn_at is not None and now - self._drawn_at < self.every_s:
            return
        self._drawn_at = now
        self._draw(self.line(done, now - self.start, rate, detail))

    def _draw(self, text: str) -> None:
        self._ever = True
        if self.tty:
            # \033[K: a shorter line must not leave the end of a longer one behind.
            self.stream.write("\r" + text + "\033[K")
            self._shown = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Take the bar off the terminal's line, before another message is written there."""
        if self.tty and self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False

    def elapsed(self) -> float:
        return self.clock() - self.start

    def finish(self, done: int, detail: str = "") -> None:
        """The last drawing: on a terminal the full bar and a newline; off one, a last line
        only for a job that lasted long enough to have printed lines (or to be waited for)."""
        now = self.clock()
        rate = self._note(now, done)
        if self.tty:
            if not self._ever and now - self.start < self.delay_s:
                return
            self._draw(self.line(done, now - self.start, rate, detail))
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
        elif now - self.start >= self.every_s:
            self._draw(self.line(done, now - self.start, rate, detail))


def stderr_tty(env: Env) -> bool:
    try:
        return env.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def stderr_progress(env: Env, total: int, **options: Any) -> Progress:
    """The progress of a command's long job: on its stderr, in the form that stream calls for."""
    return Progress(total, env.stderr, stderr_tty(env), clock=env.monotonic, **options)
