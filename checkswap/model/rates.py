"""Rates between two raw samples, rolling time-weighted averages, and peaks.

A rate exists only between two samples taken on a monotonic clock. A counter that went
backwards (a reset, a different kernel, a bad recording) gives no delta and no rate for that
interval, and a note says so: never a negative or huge number (below's ``count_per_sec!``).
"""

from __future__ import annotations

from collections import deque

from checkswap.kernel.vmstat import RATED as RATE_COUNTERS

# The all-tier totals, kept in Interval.deltas next to the kernel's counters so that rates,
# run totals and windows treat them as any counter. Computed, not read: see _all_tiers.
SWAP_IN_ALL = "swap_in_all"
SWAP_OUT_ALL = "swap_out_all"
NO_WRITEBACK_COUNTER = (
    "all-tier swap-out unknown: this kernel counts zswpout but not zswpwb (before 6.8), and "
    "pages written back from zswap would count twice"
)

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.kernel.pressure import PressureLine
    from checkswap.model.sample import Sample

WINDOWS = (("avg_1m", 60.0), ("avg_5m", 300.0), ("avg_15m", 900.0))


def counter_delta(old: int | None, new: int | None) -> int | None:
    """new - old, or None when either is missing or the counter went backwards."""
    if old is None or new is None or new < old:
        return None
    return new - old


def counter_rate(old: int | None, new: int | None, seconds: float) -> float | None:
    """Counter increase per second; None when missing, reset, or the clock did not advance."""
    d = counter_delta(old, new)
    if d is None or seconds <= 0:
        return None
    return d / seconds


def gauge_rate(old: int | None, new: int | None, seconds: float) -> float | None:
    """Change of a gauge (VmSwap, a cgroup's swap) per second: may be negative, never a reset."""
    if old is None or new is None or seconds <= 0:
        return None
    return (new - old) / seconds


class Interval:
    """What happened between two samples: exact counter deltas and rates per second."""

    __slots__ = (
        "deltas",
        "end",
        "interval_s",
        "notes",
        "psi_full_pct",
        "psi_some_pct",
        "start",
    )

    def __init__(self, start: Sample, end: Sample) -> None:
        self.start = start
        self.end = end
        self.interval_s = end.mono - start.mono
        self.notes: list[str] = []
        deltas: dict[str, int | None] = {}
        reset = []
        a, b = start.vmstat, end.vmstat
        # counter_delta inlined: a week's report builds 604,800 intervals.
        for name in RATE_COUNTERS:
            old, new = a.get(name), b.get(name)
            if old is None or new is None:
                deltas[name] = None
            elif new < old:
                deltas[name] = None
                reset.append(name)
            else:
                deltas[name] = new - old
        if reset:
            self.notes.append(
                "counter went backwards (reset or different kernel), no rate for: "
                + ", ".join(reset)
            )
        _all_tiers(deltas, b, self.notes)
        if self.interval_s <= 0:
            self.notes.append(f"clock did not advance ({self.interval_s:.6f} s): no rates")
            deltas = dict.fromkeys(deltas)
        self.deltas = deltas
        self.psi_some_pct = self.psi_full_pct = None
        sp, ep = start.psi, end.psi
        if sp is not None and ep is not None and self.interval_s > 0:
            self.psi_some_pct = _stall_pct(sp.some, ep.some, self.interval_s)
            self.psi_full_pct = _stall_pct(sp.full, ep.full, self.interval_s)

    def rate(self, name: str) -> float | None:
        d = self.deltas.get(name)
        if d is None:
            return None
        return d / self.interval_s


def _all_tiers(deltas: dict[str, int | None], vm: dict[str, int], notes: list[str]) -> None:
    """Pages that entered and left RAM through any tier, from the interval's counter deltas.

    As the kernel counts them (mm/page_io.c swap_read_folio and swap_writeout, mm/zswap.c,
    6.18): a swap-in is served by exactly one of the zero map (swpin_zero), the zswap pool
    (zswpin) or the device (pswpin); a swap-out goes to exactly one of the zero map
    (swpout_zero), the pool (zswpout) or the device (pswpout). Writeback from the pool to the
    device counts pswpout a second time for a page that already left RAM, and zswpwb once, so
    it is taken off. A counter the kernel lacks is a tier it does not have (0 pages through
    it); one it has without a delta (a reset) makes the total unknown.
    """
    pin = deltas["pswpin"]
    if pin is not None and "zswpin" in vm:
        z = deltas["zswpin"]
        pin = None if z is None else pin + z
    if pin is not None and "swpin_zero" in vm:
        z = deltas["swpin_zero"]
        pin = None if z is None else pin + z
    deltas[SWAP_IN_ALL] = pin
    out = deltas["pswpout"]
    if "zswpout" in vm:
        if "zswpwb" not in vm:
            out = None
            notes.append(NO_WRITEBACK_COUNTER)
        elif out is not None:
            z, wb = deltas["zswpout"], deltas["zswpwb"]
            out = None if z is None or wb is None else out + z - wb
    if out is not None and "swpout_zero" in vm:
        z = deltas["swpout_zero"]
        out = None if z is None else out + z
    deltas[SWAP_OUT_ALL] = out


def all_tier_totals(vm: dict[str, int]) -> tuple[int | None, int | None]:
    """Pages swapped in and out through every tier since boot, by _all_tiers's rules (a
    counter since boot is its increase from zero): (None for a direction it cannot tell)."""
    since = {name: vm.get(name) for name in RATE_COUNTERS}
    _all_tiers(since, vm, [])
    return since[SWAP_IN_ALL], since[SWAP_OUT_ALL]


def _stall_pct(a: PressureLine | None, b: PressureLine | None, seconds: float) -> float | None:
    """Share of an interval that tasks stalled on memory, from the kernel's PSI totals (µs)."""
    if a is None or b is None:
        return None
    d = counter_delta(a.total_us, b.total_us)
    if d is None:
        return None
    return d / 1e6 / seconds * 100.0


class _Entry:
    __slots__ = ("bucket", "covered", "deltas", "end", "start")

    def __init__(self, bucket: int, start: float, end: float, deltas: list[float]) -> None:
        self.bucket = bucket
        self.start = start
        self.end = end
        self.covered = end - start  # seconds of rated time; less than end-start after gaps
        self.deltas = deltas


class RollingWindow:
    """Time-weighted mean of interval rates over a trailing window, in bounded memory.

    The mean is (sum of deltas) / (sum of durations) for the intervals inside the window; an
    interval straddling the window's start counts in proportion to its overlap (its rate is
    taken as uniform). Short intervals are merged into buckets of window/``buckets`` so memory
    stays bounded whatever the interval: 0.01 s ticks over 15 minutes keep ~600 entries, not
    90,000.
    """

    def __init__(self, window_s: float, counters: tuple[str, ...], buckets: int = 600) -> None:
        self.window_s = window_s
        self.counters = counters
        self._bucket_s = window_s / buckets
        self._entries: deque[_Entry] = deque()
        self._sums: list[float] = [0] * len(counters)
        self._covered = 0.0
        self._now = 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, start: float, end: float, deltas: list[float]) -> None:
        duration = end - start
        if duration <= 0:
            return
        entries = self._entries
        last = entries[-1] if entries else None
        # Intervals starting in the same bucket of time are merged: at most one entry per
        # bucket, so memory is bounded by buckets whatever the interval.
        bucket = int(start // self._bucket_s)
        if last is not None and last.end == start and last.bucket == bucket:
            last.end = end
            last.covered += duration
            for i, d in enumerate(deltas):
                last.deltas[i] += d
        else:
            entries.append(_Entry(bucket, start, end, list(deltas)))
        for i, d in enumerate(deltas):
            self._sums[i] += d
        self._covered += duration
        self._now = end
        cutoff = end - self.window_s
        while entries and entries[0].end <= cutoff:
            old = entries.popleft()
            self._covered -= old.covered
            for i, d in enumerate(old.deltas):
                self._sums[i] -= d
        if len(entries) == 1:
            self._covered = entries[0].covered  # shed float drift from long runs

    def means(self) -> tuple[list[float | None], float]:
        """(rate per counter, seconds covered) for the trailing window ending at the last add."""
        if not self._entries:
            return [None] * len(self.counters), 0.0
        cutoff = self._now - self.window_s
        first = self._entries[0]
        sums: list[float] = list(self._sums)
        total = self._covered
        if first.start < cutoff:
            # Drop the part of the oldest entry that lies before the window.
            outside = (cutoff - first.start) / (first.end - first.start)
            for i, d in enumerate(first.deltas):
                sums[i] -= d * outside
            total -= first.covered * outside
        if total <= 0:
            return [None] * len(self.counters), 0.0
        return [s / total for s in sums], total


class Peak:
    """The highest interval rate seen and the wall time at which that interval ended."""

    __slots__ = ("at", "rate")

    def __init__(self) -> None:
        self.rate: float | None = None
        self.at: float | None = None

    def add(self, rate: float | None, wall: float) -> None:
        if rate is None:
            return
        if self.rate is None or rate > self.rate:
            self.rate = rate
            # A peak of 0 has no moment worth naming.
            self.at = wall if rate > 0 else None


# Each window's columns: the devices' pair, the all-tier pair (0 where unknown), and the
# seconds of each interval whose all-tier delta was unknown. The all-tier mean is then its sum
# over the seconds it was known: one window of six columns costs next to nothing more than one
# of two, where separate windows for the all-tier pair would double the windows' part of a tick.
_COLUMNS = ("pswpin", "pswpout", SWAP_IN_ALL, SWAP_OUT_ALL, "unknown_in_s", "unknown_out_s")
# Below this share of a window, unknown seconds are float residue of sums that came back to 0.
_RESIDUE = 1e-9


def all_tier_mean(means: list[float | None], column: int) -> float | None:
    """The all-tier mean rate (column 2: in, 3: out) of a window's ``means()``: its pages over
    the seconds of the window it was known; None when it was known in none of them."""
    value, unknown = means[column], means[column + 2]
    if value is None or unknown is None:
        return None
    if unknown < _RESIDUE:
        return value  # known over the whole window: the same division as the devices' mean
    if unknown > 1.0 - _RESIDUE:
        return None
    return value / (1.0 - unknown)


class Tracker:
    """Everything ``watch`` keeps across intervals: windows, peaks and run totals.

    The all-tier figures (SWAP_IN_ALL, SWAP_OUT_ALL) are kept beside the devices' in each
    window, peak and run average, over the intervals that had them: an all-tier figure no
    interval had is None, never 0.
    """

    AVG_COUNTERS = _COLUMNS

    def __init__(self) -> None:
        self.windows = [(key, RollingWindow(s, self.AVG_COUNTERS)) for key, s in WINDOWS]
        self.peak_in = Peak()
        self.peak_out = Peak()
        self.peak_in_all = Peak()
        self.peak_out_all = Peak()
        self.samples = 0
        self.first_wall: float | None = None
        self.last_wall: float | None = None
        self.duration_s = 0.0  # sum of intervals
        self.rated_s = 0.0  # sum of intervals that had both swap deltas
        # Of rated_s, the seconds whose all-tier swap-in/swap-out was unknown (a reset of a
        # tier's counter; every interval's swap-out on 5.19-6.7, which lack zswpwb).
        self.unknown_in_all_s = 0.0
        self.unknown_out_all_s = 0.0
        self.totals: dict[str, int] = {}
        self.null_intervals = 0

    def add(self, iv: Interval) -> None:
        # Names bound once: at 1 Hz this runs cache-cold, where every attribute load counts.
        self.samples += 1
        end = iv.end
        if self.first_wall is None:
            self.first_wall = iv.start.wall
        self.last_wall = wall = end.wall
        secs = iv.interval_s
        if secs > 0:
            self.duration_s += secs
        deltas = iv.deltas
        totals = self.totals
        for name, d in deltas.items():
            if d is not None:
                totals[name] = totals.get(name, 0) + d
        din, dout = deltas["pswpin"], deltas["pswpout"]
        if din is None or dout is None:
            self.null_intervals += 1
            return
        self.rated_s += secs
        ain, aout = deltas[SWAP_IN_ALL], deltas[SWAP_OUT_ALL]
        row: list[float] = [din, dout, 0, 0, 0, 0]  # only read by the windows, which copy it
        if ain is None:
            row[4] = secs
            self.unknown_in_all_s += secs
        else:
            row[2] = ain
            self.peak_in_all.add(ain / secs, wall)
        if aout is None:
            row[5] = secs
            self.unknown_out_all_s += secs
        else:
            row[3] = aout
            self.peak_out_all.add(aout / secs, wall)
        start_mono, end_mono = iv.start.mono, end.mono
        for _, w in self.windows:
            w.add(start_mono, end_mono, row)
        self.peak_in.add(din / secs, wall)
        self.peak_out.add(dout / secs, wall)

    def averages(self) -> list[tuple[str, list[float | None], float]]:
        """Per window: its key, [in, out, all-tier in, all-tier out] pages/s, seconds covered."""
        out = []
        for key, w in self.windows:
            m, covered = w.means()
            out.append((key, [m[0], m[1], all_tier_mean(m, 2), all_tier_mean(m, 3)], covered))
        return out

    def run_average(self, name: str) -> float | None:
        if self.rated_s <= 0:
            return None
        return self.totals.get(name, 0) / self.rated_s

    def all_tier_average(self, name: str) -> float | None:
        """SWAP_IN_ALL's or SWAP_OUT_ALL's run average over the seconds it was known."""
        if name not in self.totals:
            return None  # no interval had it
        known = self.rated_s - (
            self.unknown_in_all_s if name == SWAP_IN_ALL else self.unknown_out_all_s
        )
        if known <= self.rated_s * _RESIDUE:
            return None
        return self.totals[name] / known


def counter_rates(
    old: dict[str, int], new: dict[str, int], seconds: float
) -> dict[str, float | None]:
    """Per-second rates of counters other than vmstat's (diskstats fields, say) over an interval.

    Same rule as ``Interval``: a missing or backwards counter, or a clock that did not advance,
    gives None for that counter.
    """
    out: dict[str, float | None] = {}
    for name, value in new.items():
        d = counter_delta(old.get(name), value)
        out[name] = None if d is None or seconds <= 0 else d / seconds
    return out
