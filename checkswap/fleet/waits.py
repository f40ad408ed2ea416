"""serve's per-process swap-in wait counters: what each exported series has added up so far.

A process's taskstats swapin_delay_total only grows, but a series labelled {comm, unit} is many
processes over time: summing the current top N's totals would drop whenever one exits or leaves
the top N, and Prometheus reads a drop as a counter reset (and a huge false increase). So each
series is a running total of positive per-process deltas, a process named by pid and start
time (a reused pid is another process), and no series ever goes down while it lives.

A process is counted from its second reading on (the first is its baseline: what it waited
before serve saw it is not this series' increase). A series that has not grown for ``ttl_s``
is forgotten; if its processes wait again it starts again from 0, which Prometheus takes as a
reset after a gap, as it should. Readings of processes not seen for ``ttl_s`` are dropped too.
"""

from __future__ import annotations

from typing import NamedTuple

# docs/monitoring.md: how long a quiet series and a process's last reading are kept.
WAIT_SERIES_TTL_S = 3600.0


class Reading(NamedTuple):
    """One process's cumulative swap-in delay (seconds) at one scan, and its series."""

    pid: int
    start: int  # /proc/PID/stat start time, ticks: with the pid, one process
    series: tuple[str, str]  # (comm, unit)
    delay_s: float


class WaitTotals:
    """Running totals per (comm, unit) series; ``update`` after each scan, ``top`` to export."""

    def __init__(self, ttl_s: float = WAIT_SERIES_TTL_S) -> None:
        self.ttl_s = ttl_s
        # (pid, start) -> (its last delay in seconds, when it was last read)
        self._last: dict[tuple[int, int], tuple[float, float]] = {}
        # series -> [total seconds, when it last grew]
        self._series: dict[tuple[str, str], list[float]] = {}

    def update(self, readings: list[Reading], now: float) -> None:
        """Add each process's growth since its previous reading to its series (``now``: a
        monotonic time)."""
        for r in readings:
            ident = (r.pid, r.start)
            before = self._last.get(ident)
            self._last[ident] = (r.delay_s, now)
            if before is None:
                continue  # its baseline
            grew = r.delay_s - before[0]
            if grew > 0:  # a total that went backwards is no wait: never subtract
                s = self._series.setdefault(r.series, [0.0, now])
                s[0] += grew
                s[1] = now
        cutoff = now - self.ttl_s
        self._last = {k: v for k, v in self._last.items() if v[1] >= cutoff}
        self._series = {k: v for k, v in self._series.items() if v[1] >= cutoff}

    def top(self, n: int) -> list[tuple[tuple[str, str], float]]:
        """The ``n`` series that waited longest since serve started (or since they were last
        forgotten), longest first."""
        ranked = sorted(self._series.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [(k, v[0]) for k, v in ranked[:n]]
