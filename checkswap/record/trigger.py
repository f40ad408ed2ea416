"""``record --trigger``: who was swapping when the swap rate crossed a threshold.

The trigger decides when to capture (swap-in + swap-out above the threshold, at most once a
minute) and what a capture holds (the ``top --format json`` object, ranked by swap activity and
cut short, and who waited for swap-in over the capture's interval, as doctor names them); the
writer (writer.py) only puts the resulting record on disk.
"""

from __future__ import annotations

from checkswap.errors import CheckswapError

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Callable

    from checkswap.model.rates import Interval

TRIGGER_EVERY_S = 60.0
CAPTURE_PROCESSES = 20
CAPTURE_CGROUPS = 10


class Trigger:
    """Captures who is swapping when the swap rate crosses a threshold.

    Per-process activity needs two scans, so a crossing starts a scan and the capture is the
    next tick's scan, whose rates cover the interval right after the crossing.
    """

    def __init__(self, rate: float, scan: Callable[[], dict[str, object]]) -> None:
        self.rate = rate
        self._scan = scan
        self._pending: tuple[float, float | None, float | None] | None = None
        self._last: float | None = None

    def check(self, iv: Interval) -> dict[str, object] | None:
        """Called once per interval; returns a trigger record when one is complete."""
        from checkswap.record.format import trigger_record

        rin, rout = iv.rate("pswpin"), iv.rate("pswpout")
        now = iv.end.mono
        if self._pending is not None:
            wall, pin, pout = self._pending
            self._pending = None
            return trigger_record(wall, pin, pout, self._capture())
        total = (rin or 0.0) + (rout or 0.0)
        if (rin is None and rout is None) or total <= self.rate:
            return None
        if self._last is not None and now - self._last < TRIGGER_EVERY_S:
            return None
        self._last = now
        self._capture()  # the first scan: its rates are null, the next one's are not
        self._pending = (iv.end.wall, rin, rout)
        return None

    def _capture(self) -> dict[str, object] | None:
        try:
            return self._scan()
        except OSError as e:
            return {"error": f"{e.filename or ''}: {e.strerror or e}"}
        except CheckswapError as e:
            # A capture is a bonus: the recording of counters goes on without it.
            return {"error": str(e)}


def most_active(capture: dict[str, object], page_size: int) -> dict[str, object]:
    """The ``top --format json`` object, its lists sorted by swap activity (procs.py's, as
    ``top --sort activity`` and dash rank them) and cut short; and ``waiters``: the processes
    whose swap-in delay grew over its interval, longest first (doctor's evidence, from the
    whole scan: a process stalled on swap-in moves few pages and may rank low by activity)."""
    from checkswap.doctor.facts import waiters
    from checkswap.model.procs import cgroup_activity_key, process_activity_key

    out = dict(capture)
    out["waiters"] = waiters(capture)
    keys = (
        ("processes", CAPTURE_PROCESSES, process_activity_key(page_size)),
        ("cgroups", CAPTURE_CGROUPS, cgroup_activity_key(page_size)),
    )
    for key, limit, order in keys:
        items = capture.get(key)
        if isinstance(items, list):
            out[key] = sorted(items, key=order)[:limit]
            out[f"{key}_total"] = len(items)
    return out
