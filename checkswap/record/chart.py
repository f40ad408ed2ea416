"""The series ``report --html`` draws, in memory bounded whatever the recording's length.

Intervals arrive in order and go into buckets of consecutive intervals. Each bucket keeps its
first and last time and, per column, its minimum and maximum and which came first, so a peak
always survives. While there are at most ``2 * BUCKETS`` intervals every bucket is one interval
and the chart is every point; beyond that, whenever there are more than ``BUCKETS`` buckets,
neighbours are merged in pairs (each bucket then covers twice as many intervals). A bucket of
several intervals is drawn as two points, its minimum and maximum in the order they happened.

Around each spike (``SPIKE_PAD_S`` on each side) the intervals are also kept as they are, up to
``FULL_RES_CAP`` of them in all, so zooming to a spike shows every interval; the buckets that
overlap such a stretch are left out of the drawing. Memory: at most ~2 * BUCKETS buckets of 12
numbers and FULL_RES_CAP intervals of 6.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate

BUCKETS = 50_000
SPIKE_PAD_S = 120.0
FULL_RES_CAP = 150_000
NCOLS = 5  # swap_in, swap_out, psi_some, psi_full, swap_used (NaN where the kernel gave none)
NAN = float("nan")


def minmax(values: Sequence[float], a: int, b: int) -> tuple[float, float, bool]:
    """(min, max, min came first) of values[a:b], NaN ignored (all NaN: NaN, NaN).

    Of equal values the first counts, as ``list.index`` finds it."""
    part = values[a:b]
    total = sum(part)
    if total == total:
        lo, hi = min(part), max(part)
        return lo, hi, part.index(lo) <= part.index(hi)
    idx = [i for i in range(a, b) if values[i] == values[i]]
    if not idx:
        return NAN, NAN, True
    lo_i = min(idx, key=values.__getitem__)
    hi_i = max(idx, key=values.__getitem__)
    return values[lo_i], values[hi_i], lo_i <= hi_i


class Chart:
    """Buckets over the whole period plus every interval near a spike."""

    def __init__(self) -> None:
        self.width = 1  # intervals per full bucket
        self.t0 = array("d")  # first and last time of each bucket (never going back)
        self.t1 = array("d")
        self.count = array("q")
        self.lo: list[array[float]] = [array("d") for _ in range(NCOLS)]
        self.hi: list[array[float]] = [array("d") for _ in range(NCOLS)]
        self.lo_first: list[array[int]] = [array("b") for _ in range(NCOLS)]
        self.intervals = 0
        self.detail_t = array("d")
        self.detail: list[array[float]] = [array("d") for _ in range(NCOLS)]
        # Each run of detail: [first time, last time, its start and end in detail_t].
        self.spans: list[list[float]] = []
        self._detail_end = -1  # index (over all intervals) after the last one in detail
        self._last_t = -math.inf

    # --- intervals in ----------------------------------------------------------------

    def extend(
        self,
        time: Sequence[float],
        cols: Sequence[Sequence[float]],
        windows: Sequence[tuple[float, float]],
    ) -> None:
        """Append intervals (``time`` their ends, ``cols`` the NCOLS columns); ``windows`` are
        the (start, end) times around spikes that these intervals may fall in."""
        n = len(time)
        if not n:
            return
        # A wall-clock step back holds the axis still: a chart's x axis must be sorted.
        t = array("d", accumulate(time, max, initial=self._last_t))
        del t[0]
        self._last_t = t[-1]
        base = self.intervals
        self._detail(t, cols, windows, base)
        self._buckets(t, cols)
        self.intervals += n

    def _detail(
        self,
        t: array[float],
        cols: Sequence[Sequence[float]],
        windows: Sequence[tuple[float, float]],
        base: int,
    ) -> None:
        for lo, hi in windows:
            a, b = bisect_left(t, lo), bisect_left(t, hi)
            a = max(a, self._detail_end - base)
            b = min(b, a + FULL_RES_CAP - len(self.detail_t))
            if b <= a:
                continue
            d = len(self.detail_t)
            if self._detail_end == base + a and self.spans:
                self.spans[-1][1] = t[b - 1]
                self.spans[-1][3] = d + b - a
            else:
                self.spans.append([t[a], t[b - 1], d, d + b - a])
            self.detail_t.extend(t[a:b])
            for out, col in zip(self.detail, cols):
                out.extend(col[a:b])
            self._detail_end = base + b

    def _buckets(self, t: array[float], cols: Sequence[Sequence[float]]) -> None:
        """Add intervals to the buckets. The buckets come out the same however the intervals
        are cut into calls (chunks): a report does not depend on the chunk size."""
        n, i = len(t), 0
        if self.width == 1:
            # One interval a bucket: its time and value say it all (t1, hi... are made when
            # the buckets first grow), half the memory for a recording that fits.
            i = min(n, 2 * BUCKETS + 1 - len(self.t0))
            self.t0.extend(t[:i])
            for c, col in enumerate(cols):
                self.lo[c].extend(col[:i])
            self._shrink()
        while i < n:
            width = self.width
            if self.count[-1] < width:  # top up the last bucket first: buckets stay whole
                j = min(n, i + width - self.count[-1])
                self._merge_into(len(self.t0) - 1, t, cols, i, j)
            else:
                j = min(n, i + width)
                self.t0.append(t[i])
                self.t1.append(t[j - 1])
                self.count.append(j - i)
                for c, col in enumerate(cols):
                    lo, hi, first = minmax(col, i, j)
                    self.lo[c].append(lo)
                    self.hi[c].append(hi)
                    self.lo_first[c].append(first)
            i = j
            self._shrink()

    def _shrink(self) -> None:
        while len(self.t0) > (2 * BUCKETS if self.width == 1 else BUCKETS):
            self._halve()

    def _merge_into(
        self, k: int, t: Sequence[float], cols: Sequence[Sequence[float]], a: int, b: int
    ) -> None:
        """Bucket k followed by the intervals [a, b)."""
        self.t1[k] = t[b - 1]
        self.count[k] += b - a
        for c, col in enumerate(cols):
            lo, hi, first = minmax(col, a, b)
            self._combine(c, k, lo, hi, first)

    def _combine(self, c: int, k: int, lo: float, hi: float, first: int) -> None:
        """Column c of bucket k followed by a part with (lo, hi, first): of equal values the
        earlier counts, and NaN (no value) never wins."""
        los, his, firsts = self.lo[c], self.hi[c], self.lo_first[c]
        alo, ahi = los[k], his[k]
        keep_lo = lo != lo or (alo == alo and alo <= lo)
        keep_hi = hi != hi or (ahi == ahi and ahi >= hi)
        if keep_lo and keep_hi:
            return
        if not keep_lo:
            los[k] = lo
        if not keep_hi:
            his[k] = hi
        # Both from the later part: its order; one from each: the earlier part's comes first.
        firsts[k] = first if not keep_lo and not keep_hi else keep_lo

    def _halve(self) -> None:
        """Merge neighbouring buckets in pairs: each then covers twice as many intervals."""
        m = len(self.t0)
        if self.width == 1:
            self.t1 = array("d", self.t0)
            self.count = array("q", [1]) * m
            self.hi = [array("d", lo) for lo in self.lo]
            self.lo_first = [array("b", [1]) * m for _ in range(NCOLS)]
        t0, t1, count = array("d"), array("d"), array("q")
        for k in range(0, m, 2):
            t0.append(self.t0[k])
            t1.append(self.t1[min(k + 1, m - 1)])
            count.append(self.count[k] + (self.count[k + 1] if k + 1 < m else 0))
        for c in range(NCOLS):
            for k in range(0, m - 1, 2):
                self._combine(c, k, self.lo[c][k + 1], self.hi[c][k + 1], self.lo_first[c][k + 1])
            self.lo[c] = self.lo[c][::2]
            self.hi[c] = self.hi[c][::2]
            self.lo_first[c] = self.lo_first[c][::2]
        self.t0, self.t1, self.count = t0, t1, count
        self.width *= 2

    # --- points out --------------------------------------------------------------------

    def points(self) -> tuple[array[float], list[array[float]]]:
        """(x, columns) to draw: every interval if they all fit, else the buckets (two points
        each) and, in place of those that overlap one, the stretches around spikes."""
        if self.width == 1:
            return array("d", self.t0), [array("d", c) for c in self.lo]
        xs = array("d")
        outs = [array("d") for _ in range(NCOLS)]
        spans, s = self.spans, 0

        def stretch(span: list[float]) -> None:
            a, b = int(span[2]), int(span[3])
            xs.extend(self.detail_t[a:b])
            for out, col in zip(outs, self.detail):
                out.extend(col[a:b])

        for k in range(len(self.t0)):
            a, b = self.t0[k], self.t1[k]
            while s < len(spans) and spans[s][1] < a:
                stretch(spans[s])
                s += 1
            if s < len(spans) and spans[s][0] <= b:
                continue  # overlaps a stretch drawn in full
            xs.append(a)
            if self.count[k] == 1:
                for out, los in zip(outs, self.lo):
                    out.append(los[k])
                continue
            xs.append(b)
            for c, out in enumerate(outs):
                lo, hi = self.lo[c][k], self.hi[c][k]
                if self.lo_first[c][k]:
                    out.append(lo)
                    out.append(hi)
                else:
                    out.append(hi)
                    out.append(lo)
        for span in spans[s:]:
            stretch(span)
        return xs, outs
