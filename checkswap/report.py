"""What a recording says: totals, averages, p95, peaks, gaps and spikes.

Every figure comes from ``rates.Interval`` over consecutive recorded samples and from the
``Tracker`` that ``watch`` uses (totals, peaks, run averages), so a report and a live view of
the same counters agree to the page. The per-interval series are kept in compact arrays for
the percentiles and the HTML charts.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from typing import TYPE_CHECKING

from checkswap.fields import iso_utc, swap_used
from checkswap.rates import Interval, Tracker

if TYPE_CHECKING:
    from checkswap.sample import Sample
    from checkswap.store import Reading

# Two periods above the spike threshold this close together are one spike: a hog's swapping
# dips below the line for a second or two without having stopped.
SPIKE_MERGE_S = 5.0
# An interval longer than this many expected intervals is a gap (recorder stopped, disk full).
GAP_FACTOR = 2.5
NAN = float("nan")


class Spike:
    __slots__ = ("end", "intervals", "peak_in", "peak_in_at", "peak_out", "peak_out_at", "start")

    def __init__(self, start: float) -> None:
        self.start = start
        self.end = start
        self.peak_in = 0.0
        self.peak_in_at: float | None = None
        self.peak_out = 0.0
        self.peak_out_at: float | None = None
        self.intervals = 0

    def add(self, iv: Interval, rin: float, rout: float) -> None:
        self.end = iv.end.wall
        self.intervals += 1
        if rin > self.peak_in:
            self.peak_in, self.peak_in_at = rin, iv.end.wall
        if rout > self.peak_out:
            self.peak_out, self.peak_out_at = rout, iv.end.wall


class Series:
    """Per-interval values, one entry per interval (NaN where the kernel gave none)."""

    def __init__(self) -> None:
        self.time = array("d")  # end of the interval, epoch seconds
        self.swap_in = array("d")
        self.swap_out = array("d")
        self.psi_some = array("d")
        self.psi_full = array("d")
        self.swap_used = array("d")


def percentile(values: Iterable[float], pct: float) -> float | None:
    """Nearest-rank percentile of the non-NaN values; None when there are none."""
    data = sorted(v for v in values if v == v)
    if not data:
        return None
    rank = max(1, math.ceil(pct / 100.0 * len(data)))
    return data[rank - 1]


class Analysis:
    """Reads samples once and keeps what the report and its charts need."""

    def __init__(self, spike_rate: float) -> None:
        self.spike_rate = spike_rate
        self.tracker = Tracker()
        # The report has no use for trailing windows: only run totals, peaks and averages.
        self.tracker.windows = []
        self.series = Series()
        self.spikes: list[Spike] = []
        self.gaps: list[tuple[float, float]] = []
        self.reset_intervals = 0
        self.samples = 0
        self.first: Sample | None = None
        self.last: Sample | None = None
        self.expected_s: float | None = None

    def run(self, samples: Iterable[Sample]) -> None:
        tracker = self.tracker
        series = self.series
        t_app, in_app, out_app = series.time.append, series.swap_in.append, series.swap_out.append
        some_app, full_app = series.psi_some.append, series.psi_full.append
        used_app = series.swap_used.append
        spike_rate = self.spike_rate
        spike: Spike | None = None
        intervals: list[float] = []
        prev: Sample | None = None
        for cur in samples:
            self.samples += 1
            if prev is None:
                self.first = prev = cur
                continue
            iv = Interval(prev, cur)
            prev = cur
            tracker.add(iv)
            secs = iv.interval_s
            if len(intervals) < 64 and secs > 0:
                intervals.append(secs)
            if iv.notes:
                self.reset_intervals += 1
            din, dout = iv.deltas["pswpin"], iv.deltas["pswpout"]
            rin = din / secs if din is not None and secs > 0 else NAN
            rout = dout / secs if dout is not None and secs > 0 else NAN
            some = iv.psi_some_pct
            full = iv.psi_full_pct
            used = swap_used(cur.meminfo)
            t_app(cur.wall)
            in_app(rin)
            out_app(rout)
            some_app(NAN if some is None else some)
            full_app(NAN if full is None else full)
            used_app(NAN if used is None else float(used))
            total = (0.0 if rin != rin else rin) + (0.0 if rout != rout else rout)
            if total > spike_rate:
                if spike is None or iv.start.wall - spike.end > SPIKE_MERGE_S:
                    spike = Spike(iv.start.wall)
                    self.spikes.append(spike)
                spike.add(iv, 0.0 if rin != rin else rin, 0.0 if rout != rout else rout)
        self.last = prev
        if intervals:
            self.expected_s = sorted(intervals)[len(intervals) // 2]

    def find_gaps(self, header_interval: float | None) -> None:
        expected = header_interval or self.expected_s
        if not expected:
            return
        limit = expected * GAP_FACTOR
        t = self.series.time
        # time[] holds interval ends; the first interval starts at the first sample.
        starts = [self.first.wall if self.first else t[0], *t[:-1]]
        self.gaps = [(a, b) for a, b in zip(starts, t) if b - a > limit or b <= a]


def build(
    reading: Reading, samples: Iterable[Sample], spike_rate: float, paths: list[str]
) -> tuple[dict[str, object], Analysis]:
    """The ``report --format json`` object (DESIGN.md), and the analysis behind it."""
    a = Analysis(spike_rate)
    a.run(samples)
    header = reading.headers[0] if reading.headers else {}
    interval = header.get("interval_s")
    a.find_gaps(float(interval) if isinstance(interval, (int, float)) else None)
    t = a.tracker
    page = reading.page_size
    totals = t.totals
    s_in = totals.get("pswpin", 0) if t.samples else None
    s_out = totals.get("pswpout", 0) if t.samples else None
    rec: dict[str, object] = {
        "type": "report",
        "files": paths,
        "hostname": header.get("hostname"),
        "kernel_release": header.get("kernel_release"),
        "page_size_bytes": page,
        "start": iso_utc(a.first.wall) if a.first else None,
        "end": iso_utc(a.last.wall) if a.last else None,
        "duration_s": t.duration_s,
        "samples": a.samples,
        "intervals": t.samples,
        "gaps": len(a.gaps),
        "gap_periods": [
            {"start": iso_utc(x), "end": iso_utc(y), "duration_s": y - x} for x, y in a.gaps
        ],
        "intervals_without_rate": t.null_intervals,
        "bad_lines": reading.bad_lines,
        "swap_in_pages": s_in,
        "swap_out_pages": s_out,
        "swap_in_bytes": None if s_in is None or page is None else s_in * page,
        "swap_out_bytes": None if s_out is None or page is None else s_out * page,
        "avg": {
            "swap_in_per_s": t.run_average("pswpin"),
            "swap_out_per_s": t.run_average("pswpout"),
        },
        "p95": {
            "swap_in_per_s": percentile(a.series.swap_in, 95),
            "swap_out_per_s": percentile(a.series.swap_out, 95),
        },
        "max": {
            "swap_in_per_s": t.peak_in.rate,
            "swap_in_at": iso_utc(t.peak_in.at),
            "swap_out_per_s": t.peak_out.rate,
            "swap_out_at": iso_utc(t.peak_out.at),
        },
        "max_psi_some_pct": _nanmax(a.series.psi_some),
        "max_psi_full_pct": _nanmax(a.series.psi_full),
        "max_swap_used_bytes": _int(_nanmax(a.series.swap_used)),
        "spike_threshold_per_s": spike_rate,
        "spikes": [_spike_record(s, reading.triggers, a.expected_s or 1.0) for s in a.spikes],
        "triggers": len(reading.triggers),
        "events": [
            {k: v for k, v in e.items() if k not in ("type", "wall")} for e in reading.events
        ],
        "notes": list(reading.notes),
    }
    return rec, a


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _nanmax(values: Iterable[float]) -> float | None:
    best: float | None = None
    for v in values:
        if v == v and (best is None or v > best):
            best = v
    return best


def _spike_record(
    s: Spike, triggers: list[dict[str, object]], interval: float
) -> dict[str, object]:
    # A capture lands one tick after the crossing that fired it (two scans make a rate).
    lo, hi = s.start - interval, s.end + 2 * interval
    caught = [
        tr
        for tr in triggers
        if isinstance(tr.get("wall"), (int, float)) and lo <= float(tr["wall"]) <= hi  # type: ignore[arg-type]
    ]
    first = caught[0] if caught else None
    return {
        "start": iso_utc(s.start),
        "end": iso_utc(s.end),
        "duration_s": s.end - s.start,
        "peak_swap_in_per_s": s.peak_in,
        "peak_swap_in_at": iso_utc(s.peak_in_at),
        "peak_swap_out_per_s": s.peak_out,
        "peak_swap_out_at": iso_utc(s.peak_out_at),
        "triggered_at": first.get("time") if first else None,
        "captured": first.get("capture") if first else None,
        "captures": len(caught),
    }
