"""``record --trigger``: who was swapping when the swap rate crossed a threshold.

The crossing is judged on the interval's rates (rates.py, as every view computes them); the
capture is the ``top --format json`` object, ranked by procs.py's one swap activity (as ``top
--sort activity`` and dash rank) and cut short, so a week of triggers stays small.
"""

from __future__ import annotations

from typing import Callable

from checkswap.errors import CheckswapError
from checkswap.model.rates import Interval

# While the rate stays above --trigger, one capture a minute: a scan of every process is not free.
TRIGGER_EVERY_S = 60.0


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


CAPTURE_PROCESSES = 20
CAPTURE_CGROUPS = 10


def most_active(capture: dict[str, object], page_size: int) -> dict[str, object]:
    """The ``top --format json`` object, its lists sorted by swap activity (procs.py's, as
    ``top --sort activity`` and dash rank them) and cut short."""
    from checkswap.model.procs import cgroup_activity_key, process_activity_key

    out = dict(capture)
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
