"""Percentiles of a recording's interval rates in bounded memory.

Up to ``EXACT_MAX`` values (about 36 hours at 1 Hz) are kept and the percentile is exact, the
nearest-rank one. Beyond that only a histogram with logarithmic buckets is kept (the DDSketch
idea): bucket ``i`` holds the values in (gamma**(i-1), gamma**i] with their count, smallest and
largest, zero has a bucket of its own, and the percentile is the middle of the bucket that
holds the nearest-rank value, clamped to that bucket's smallest and largest (a bucket of one
value, as quiet hours' 0, 1 or 3 pages/s, gives it exactly). That is within ``RELATIVE_ERROR``
(0.5 %) of the exact percentile, and the histogram has at most a few thousand buckets whatever
the length: rates between 1e-6 and 1e9 pages/s span ~3,500 buckets.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Iterable

EXACT_MAX = 1 << 17
RELATIVE_ERROR = 0.005
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
_INV_LOG_GAMMA = 1.0 / math.log(GAMMA)


class Quantiles:
    """Non-NaN values, for nearest-rank percentiles: exact while few, a histogram after."""

    __slots__ = ("counts", "exact", "hi", "lo", "n", "zeros")

    def __init__(self) -> None:
        self.exact: array[float] | None = array("d")
        self.counts: dict[int, list[float]] = {}  # bucket -> [count, smallest, largest]
        self.zeros = 0  # values <= 0: rates never go below 0
        self.n = 0
        self.lo = math.inf
        self.hi = -math.inf

    def extend(self, values: Iterable[float]) -> None:
        vals = array("d", sorted(v for v in values if v == v))
        if not vals:
            return
        self.n += len(vals)
        self.lo = min(self.lo, vals[0])
        self.hi = max(self.hi, vals[-1])
        # Sorted, a run of values in one bucket is found by bisection: the loop goes once per
        # bucket present (quiet hours are mostly 0 and a few small rates), not once per value.
        i = bisect_right(vals, 0.0)
        self.zeros += i
        counts, n, k = self.counts, len(vals), _INV_LOG_GAMMA
        while i < n:
            b = math.ceil(math.log(vals[i]) * k)
            j = max(i + 1, bisect_right(vals, GAMMA**b, i))
            _add(counts, b, j - i, vals[i], vals[j - 1])
            i = j
        if self.exact is not None:
            if len(self.exact) + n > EXACT_MAX:
                self.exact = None
            else:
                self.exact.extend(vals)

    def merge(self, other: Quantiles) -> None:
        """Add the values another Quantiles holds (the order of values does not matter)."""
        self.n += other.n
        self.lo = min(self.lo, other.lo)
        self.hi = max(self.hi, other.hi)
        self.zeros += other.zeros
        counts = self.counts
        for b, (c, lo, hi) in other.counts.items():
            _add(counts, b, int(c), lo, hi)
        if self.exact is not None:
            if other.exact is None or len(self.exact) + len(other.exact) > EXACT_MAX:
                self.exact = None
            else:
                self.exact.extend(other.exact)

    def percentile(self, pct: float) -> float | None:
        """Nearest-rank percentile; None when there are no values."""
        if not self.n:
            return None
        rank = max(1, math.ceil(pct / 100.0 * self.n))
        if self.exact is not None:
            self.exact = array("d", sorted(self.exact))
            return self.exact[rank - 1]
        if rank <= self.zeros:
            return max(self.lo, min(0.0, self.hi))
        seen = self.zeros
        for b in sorted(self.counts):
            c, lo, hi = self.counts[b]
            seen += int(c)
            if seen >= rank:
                # A bucket of one value (quiet hours: 0, 1, 3 pages/s) gives it exactly.
                return min(hi, max(lo, 2.0 * GAMMA**b / (GAMMA + 1.0)))
        return self.hi  # not reached: the counts add up to n


def _add(counts: dict[int, list[float]], b: int, n: int, lo: float, hi: float) -> None:
    have = counts.get(b)
    if have is None:
        counts[b] = [n, lo, hi]
    else:
        have[0] += n
        have[1] = min(have[1], lo)
        have[2] = max(have[2], hi)
