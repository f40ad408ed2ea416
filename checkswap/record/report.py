"""What a recording says: totals, averages, p95, peaks, gaps and spikes.

Every figure comes from ``rates.Interval`` over consecutive recorded samples and from the
``Tracker`` that ``watch`` uses (totals, peaks, run averages), so a report and a live view of
the same counters agree to the page. The per-interval series are kept in compact arrays for
the percentiles and the HTML charts.
"""

from __future__ import annotations

import bisect
import heapq
import math
import multiprocessing
import os
import signal
from array import array
from collections.abc import Callable, Iterable

from checkswap.kernel.meminfo import swap_used
from checkswap.model.rates import SWAP_IN_ALL, SWAP_OUT_ALL, Interval, Tracker
from checkswap.record.chart import SPIKE_PAD_S, Chart
from checkswap.record.quantiles import Quantiles
from checkswap.units import iso_utc

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.model.sample import Sample
    from checkswap.record.format import Reading

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

    def merge(self, later: Spike) -> None:
        self.end = later.end
        self.intervals += later.intervals
        if later.peak_in > self.peak_in:
            self.peak_in, self.peak_in_at = later.peak_in, later.peak_in_at
        if later.peak_out > self.peak_out:
            self.peak_out, self.peak_out_at = later.peak_out, later.peak_out_at


class Series:
    """Per-interval values of a run of intervals not yet folded into the bounded figures
    (a chunk's worth: ``CHUNK_BYTES`` of lines), one entry per interval, NaN where the kernel
    gave none."""

    COLUMNS = ("time", "interval", "swap_in", "swap_out", "psi_some", "psi_full", "swap_used")

    def __init__(self) -> None:
        self.time = array("d")  # end of the interval, epoch seconds
        self.interval = array("d")  # its length on the monotonic clock
        self.swap_in = array("d")
        self.swap_out = array("d")
        self.psi_some = array("d")
        self.psi_full = array("d")
        self.swap_used = array("d")

    def __len__(self) -> int:
        return len(self.time)

    def cut(self, n: int) -> None:
        """Drop the first n intervals (folded)."""
        for name in self.COLUMNS:
            del getattr(self, name)[:n]


def percentile(values: Iterable[float], pct: float) -> float | None:
    """Nearest-rank percentile of the non-NaN values; None when there are none."""
    data = sorted(v for v in values if v == v)
    if not data:
        return None
    rank = max(1, math.ceil(pct / 100.0 * len(data)))
    return data[rank - 1]


class Gaps:
    """The ``MAX_GAP_PERIODS`` longest gaps (earlier ones first among equals) and a count of all."""

    def __init__(self) -> None:
        self.count = 0
        self._heap: list[tuple[float, int, float, float]] = []

    def add(self, start: float, end: float) -> None:
        self.count += 1
        item = (end - start, -self.count, start, end)
        if len(self._heap) < MAX_GAP_PERIODS:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def periods(self) -> list[tuple[float, float]]:
        """The kept gaps in the order they happened."""
        return [(x, y) for _, _, x, y in sorted(self._heap, key=lambda g: -g[1])]


class Analysis:
    """Reads samples once and keeps what the report and its charts need, in memory bounded
    whatever the recording's length: run totals and peaks (Tracker), percentiles (quantiles.py),
    the chart series (chart.py), the longest gaps and every spike."""

    def __init__(self, spike_rate: float) -> None:
        self.spike_rate = spike_rate
        self.spike_count = 0  # every spike, also those no longer kept
        # The largest spikes already behind what is folded: a min-heap of (size, -start, key)
        # and the spikes by key. A hostile recording with a spike every few seconds keeps
        # MAX_SPIKES of them.
        self._past_heap: list[tuple[float, float, int]] = []
        self._past_spikes: dict[int, Spike] = {}
        self.tracker = Tracker()
        # The report has no use for trailing windows: only run totals, peaks and averages.
        self.tracker.windows = []
        self.series = Series()  # intervals not folded yet
        self.spikes: list[Spike] = []
        self.reset_intervals = 0
        self.samples = 0
        self.first: Sample | None = None
        self.last: Sample | None = None
        self.expected_s: float | None = None  # the interval the recording was taken at
        # The first file's header says the interval (analyse_files sets these once it is read).
        self.header_seen = False
        self.header_interval: float | None = None
        self.swap_in = Quantiles()
        self.swap_out = Quantiles()
        self.chart = Chart()
        self.gaps = Gaps()
        self.max_psi_some: float | None = None
        self.max_psi_full: float | None = None
        self.max_swap_used: float | None = None
        self._first_intervals = array("d")  # the first 64 positive ones, for expected_s
        self._gap_limit: float | None = None
        self._gap_pending = Series()  # (time, interval) until the gap limit is known
        self._spike_i = 0  # spikes before this one are far behind what is folded

    def run(self, samples: Iterable[Sample]) -> None:
        """Every interval between consecutive samples, in order."""
        add = self.add
        prev = self.last
        for cur in samples:
            self.samples += 1
            if prev is None:
                self.first = cur
            else:
                add(Interval(prev, cur))
            prev = cur
        self.last = prev

    def add(self, iv: Interval) -> None:
        self.tracker.add(iv)
        series = self.series
        secs = iv.interval_s
        if iv.notes:
            self.reset_intervals += 1
        rin = iv.rate("pswpin")
        rout = iv.rate("pswpout")
        rin = NAN if rin is None else rin
        rout = NAN if rout is None else rout
        some, full = iv.psi_some_pct, iv.psi_full_pct
        used = swap_used(iv.end.meminfo)
        series.time.append(iv.end.wall)
        series.interval.append(secs)
        series.swap_in.append(rin)
        series.swap_out.append(rout)
        series.psi_some.append(NAN if some is None else some)
        series.psi_full.append(NAN if full is None else full)
        series.swap_used.append(NAN if used is None else float(used))
        rin = 0.0 if rin != rin else rin
        rout = 0.0 if rout != rout else rout
        if rin + rout > self.spike_rate:
            spike = self.spikes[-1] if self.spikes else None
            if spike is None or iv.start.wall - spike.end > SPIKE_MERGE_S:
                spike = Spike(iv.start.wall)
                self.spikes.append(spike)
                self.spike_count += 1
            spike.add(iv, rin, rout)

    def absorb(self, other: Analysis) -> None:
        """Append the analysis of the samples that follow this one's (the next chunk).

        The interval between this one's last sample and the other's first is built here;
        the result is what one pass over all the samples would have given. ``other`` is a
        chunk's analysis, not folded yet.
        """
        if other.first is None:
            return
        if self.last is None:
            self.first = other.first
        else:
            self.add(Interval(self.last, other.first))
        self.samples += other.samples
        self.last = other.last
        self.reset_intervals += other.reset_intervals
        for name in Series.COLUMNS:
            getattr(self.series, name).extend(getattr(other.series, name))
        _merge_tracker(self.tracker, other.tracker)
        spikes = other.spikes
        self.spike_count += other.spike_count
        if self.spikes and spikes and spikes[0].start - self.spikes[-1].end <= SPIKE_MERGE_S:
            self.spikes[-1].merge(spikes[0])
            spikes = spikes[1:]
            self.spike_count -= 1
        for spike in other._past_spikes.values():  # a chunk never folds; kept for completeness
            self._keep_spike(spike)
        self.spikes.extend(spikes)
        self.fold()

    def fold(self, final: bool = False) -> None:
        """Fold the intervals kept so far into the bounded figures.

        The last ``SPIKE_PAD_S`` and a bit are kept back (unless ``final``): a spike starting
        in the next chunk, or one there that merges with the last one here, changes which of
        them the chart keeps at full resolution.
        """
        s = self.series
        n = len(s)
        if not n:
            return
        if not final:
            cutoff = s.time[-1] - SPIKE_PAD_S - 2 * SPIKE_MERGE_S
            m = n
            while m > 0 and s.time[m - 1] >= cutoff and n - m < FOLD_TAIL_MAX:
                m -= 1
            n = m
            if n < FOLD_MIN:
                return
        self._fold_gaps(s, n)
        self.swap_in.extend(s.swap_in[:n])
        self.swap_out.extend(s.swap_out[:n])
        self.max_psi_some = _nanmax(self.max_psi_some, s.psi_some[:n])
        self.max_psi_full = _nanmax(self.max_psi_full, s.psi_full[:n])
        self.max_swap_used = _nanmax(self.max_swap_used, s.swap_used[:n])
        spikes = self.spikes
        lo = s.time[0]
        while self._spike_i < len(spikes) and spikes[self._spike_i].end + SPIKE_PAD_S < lo:
            self._spike_i += 1
        # Spikes that far behind can neither grow (SPIKE_PAD_S > SPIKE_MERGE_S) nor widen the
        # chart's full-resolution windows any more: only the largest are kept.
        for spike in spikes[: self._spike_i]:
            self._keep_spike(spike)
        del spikes[: self._spike_i]
        self._spike_i = 0
        windows = [(sp.start - SPIKE_PAD_S, sp.end + SPIKE_PAD_S) for sp in spikes]
        cols = (s.swap_in, s.swap_out, s.psi_some, s.psi_full, s.swap_used)
        if n == len(s):
            self.chart.extend(s.time, cols, windows)
        else:
            self.chart.extend(s.time[:n], [c[:n] for c in cols], windows)
        s.cut(n)

    def _keep_spike(self, spike: Spike) -> None:
        key = id(spike)
        item = (_spike_size(spike), -spike.start, key)
        if len(self._past_heap) < MAX_SPIKES:
            heapq.heappush(self._past_heap, item)
        elif item[:2] > self._past_heap[0][:2]:
            del self._past_spikes[heapq.heapreplace(self._past_heap, item)[2]]
        else:
            return
        self._past_spikes[key] = spike

    def listed_spikes(self) -> list[Spike]:
        """The MAX_SPIKES largest spikes (by peak swap-in + swap-out; earlier ones first among
        equals) in the order they happened; ``spike_count`` counts them all."""
        every = [*self._past_spikes.values(), *self.spikes]
        kept = heapq.nlargest(MAX_SPIKES, every, key=lambda sp: (_spike_size(sp), -sp.start))
        return sorted(kept, key=lambda sp: sp.start)

    def _fold_gaps(self, s: Series, n: int) -> None:
        """Intervals much longer than expected on the monotonic clock (a wall-clock step is
        not a gap), or across a reboot (the monotonic clock went back)."""
        first = self._first_intervals
        if len(first) < 64:
            first.extend(s.interval[: min(n, 64 - len(first))])
        pending = self._gap_pending
        pending.time.extend(s.time[:n])
        pending.interval.extend(s.interval[:n])
        if self._gap_limit is None:
            if not self.header_seen and len(pending) < GAP_PENDING_MAX:
                return  # not known yet: the first file's header may still come
            self._set_gap_limit()
        limit = self._gap_limit
        times, secs = pending.time, pending.interval
        if limit and secs and (max(secs) > limit or min(secs) <= 0):
            add = self.gaps.add
            for t, x in zip(times, secs):
                if x > limit or x <= 0:
                    if x > 0:
                        add(t - x, t)
                    else:
                        add(t, t)
        pending.cut(len(pending))

    def _set_gap_limit(self) -> None:
        positive = sorted(x for x in self._first_intervals if x > 0)
        expected = self.header_interval or (positive[len(positive) // 2] if positive else None)
        self.expected_s = expected
        self._gap_limit = expected * GAP_FACTOR if expected else 0.0

    def finish(self, header_interval: float | None) -> None:
        """Everything folded, with the first header's interval (None: the median of the first
        intervals stands in)."""
        if self._gap_limit is None:
            self.header_seen, self.header_interval = True, header_interval
        self.fold(final=True)
        if self._gap_limit is None:
            self._set_gap_limit()
            self._fold_gaps(Series(), 0)


# Gaps listed in the report: the longest ones (``gaps`` counts them all); spikes likewise.
MAX_GAP_PERIODS = 1000
MAX_SPIKES = 1000


def _spike_size(spike: Spike) -> float:
    return spike.peak_in + spike.peak_out


# Fold at least this many intervals at once (fewer: wait for the next chunk), keep back at most
# this many, and wait at most this long for the first header before finding gaps without it.
FOLD_MIN = 4096
FOLD_TAIL_MAX = 1 << 16
GAP_PENDING_MAX = 1 << 20


CHUNK_BYTES = 16 << 20
MAX_WORKERS = 4
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _worker_signals() -> None:
    """In a worker: Ctrl-C is the parent's to handle, SIGTERM (Pool.terminate) just ends it.

    A forked worker inherits the command's handlers, which raise KeyboardInterrupt: Ctrl-C (sent
    to the whole process group) and the SIGTERM that terminate() sends made every live worker
    print a KeyboardInterrupt traceback. The parent blocks both signals while it forks, so
    none arrives before these handlers are in place.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def _analyse_chunk(job: tuple[str, int, int | None, float]) -> tuple[Analysis, Reading]:
    from checkswap.record.format import Reading, chunk_lines

    path, start, end, spike_rate = job
    reading = Reading((path, start, end))
    a = Analysis(spike_rate)
    a.run(reading.samples(chunk_lines(path, start, end, reading)))
    return a, reading


def analyse_files(
    paths: list[str],
    spike_rate: float,
    workers: int | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Analysis, Reading]:
    """Analyse recordings as one timeline, files in the order of their first sample.

    Big files are cut into chunks of whole lines analysed in parallel (reading JSON is most
    of a report's time: a week at 1 Hz is 604,800 lines); ``Analysis.absorb`` joins the
    chunks in order with the interval between them, so the result is the one-pass result.
    ``progress(done, total)`` is told the bytes of the files read so far, chunk by chunk (a
    gzipped file counts as one chunk of its compressed size).
    """
    from checkswap.record.format import Reading, first_wall, split_points

    ordered = sorted(paths, key=lambda p: (first_wall(p), p))
    jobs = [(p, a, b, spike_rate) for p in ordered for a, b in split_points(p, chunk_bytes)]
    n = workers if workers is not None else min(len(jobs), os.cpu_count() or 1, MAX_WORKERS)
    total, reading = Analysis(spike_rate), Reading()
    per_file: dict[str, list[int]] = {p: [0, 0] for p in ordered}
    pool = None
    # One try from the pool's creation on: a Ctrl-C held while it forked is delivered as soon
    # as the mask is restored, and a pool not terminated then was left for the interpreter's
    # exit, which printed "Exception ignored in: Pool.__del__" with a traceback.
    try:
        if n <= 1:
            results: Iterable[tuple[Analysis, Reading]] = map(_analyse_chunk, jobs)
        else:
            # fork: the workers need nothing re-imported (a zipapp, a test run in-process).
            # Signals are held while forking (the pool's threads, which fork replacements,
            # keep them blocked): a Ctrl-C meanwhile is delivered once they are freed.
            held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
            try:
                pool = multiprocessing.get_context("fork").Pool(n, initializer=_worker_signals)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
            results = pool.imap(_analyse_chunk, jobs)
        sizes = {p: os.path.getsize(p) for p in ordered}
        lengths = [(sizes[p] if b is None else b) - a for p, a, b, _ in jobs]
        total_bytes, done_bytes = sum(lengths), 0
        for job, length, (a, r) in zip(jobs, lengths, results):
            done_bytes += length
            if progress is not None:
                progress(done_bytes, total_bytes)
            reading.absorb(r)
            if reading.header is not None and not total.header_seen:
                total.header_seen = True
                total.header_interval = _header_interval(reading)
            total.absorb(a)
            per_file[job[0]][0] += r.lines
            per_file[job[0]][1] += r.bad_lines
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    for path, (lines, bad) in per_file.items():
        reading.check_file(path, lines, bad)
    return total, reading


# The report's per-tier totals: its key, and the Interval delta summed (model/rates.py).
TIER_TOTALS = (
    ("zswap_in_pages", "zswpin"),
    ("zswap_out_pages", "zswpout"),
    ("zswap_writeback_pages", "zswpwb"),
    ("swap_in_zero_pages", "swpin_zero"),
    ("swap_out_zero_pages", "swpout_zero"),
    ("swap_in_all_pages", SWAP_IN_ALL),
    ("swap_out_all_pages", SWAP_OUT_ALL),
)


def build(reading: Reading, a: Analysis, spike_rate: float, paths: list[str]) -> dict[str, object]:
    """The ``report --format json`` object (DESIGN.md) for an analysis."""
    header = reading.header or {}
    a.finish(_header_interval(reading))
    gaps = a.gaps.periods()
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
        "utc_offset_s": _utc_offset(header),
        "duration_s": t.duration_s,
        "samples": a.samples,
        "intervals": t.samples,
        "gaps": a.gaps.count,
        "gap_periods": [
            {"start": iso_utc(x), "end": iso_utc(y), "duration_s": y - x} for x, y in gaps
        ],
        "intervals_without_rate": t.null_intervals,
        "bad_lines": reading.bad_lines,
        "swap_in_pages": s_in,
        "swap_out_pages": s_out,
        "swap_in_bytes": None if s_in is None or page is None else s_in * page,
        "swap_out_bytes": None if s_out is None or page is None else s_out * page,
        # Each tier's total, null where no interval had the counter (an older kernel).
        **{key: totals.get(counter) for key, counter in TIER_TOTALS},
        "avg": {
            "swap_in_per_s": t.run_average("pswpin"),
            "swap_out_per_s": t.run_average("pswpout"),
            "swap_in_all_per_s": t.all_tier_average(SWAP_IN_ALL),
            "swap_out_all_per_s": t.all_tier_average(SWAP_OUT_ALL),
        },
        "p95": {
            "swap_in_per_s": a.swap_in.percentile(95),
            "swap_out_per_s": a.swap_out.percentile(95),
        },
        "max": {
            "swap_in_per_s": t.peak_in.rate,
            "swap_in_at": iso_utc(t.peak_in.at),
            "swap_out_per_s": t.peak_out.rate,
            "swap_out_at": iso_utc(t.peak_out.at),
        },
        "max_psi_some_pct": a.max_psi_some,
        "max_psi_full_pct": a.max_psi_full,
        "max_swap_used_bytes": _int(a.max_swap_used),
        "spike_threshold_per_s": spike_rate,
        "spikes": _spike_records(a.listed_spikes(), reading, a.expected_s or 1.0),
        "spike_count": a.spike_count,
        "triggers": reading.triggers_seen,
        "events": [
            {k: v for k, v in e.items() if k not in ("type", "wall")} for e in reading.events
        ],
        "notes": [*reading.notes, *_omitted_events(reading)],
    }
    return rec


def _utc_offset(header: dict[str, object]) -> int | None:
    """The recording host's offset from UTC, from its header; None before 0.1 wrote it."""
    value = header.get("utc_offset_s")
    # Within a day of UTC either way (the widest real zones are -12 and +14 hours).
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 86400:
        return value
    return None


def _header_interval(reading: Reading) -> float | None:
    """The interval the first file's header says it was recorded at, if it says one."""
    interval = reading.header.get("interval_s") if reading.header else None
    return float(interval) if isinstance(interval, (int, float)) else None


def _merge_tracker(t: Tracker, u: Tracker) -> None:
    """t followed by u, as if one Tracker had seen both runs of intervals (no windows)."""
    t.samples += u.samples
    if t.first_wall is None:
        t.first_wall = u.first_wall
    if u.last_wall is not None:
        t.last_wall = u.last_wall
    t.duration_s += u.duration_s
    t.rated_s += u.rated_s
    t.unknown_in_all_s += u.unknown_in_all_s
    t.unknown_out_all_s += u.unknown_out_all_s
    t.null_intervals += u.null_intervals
    for name, d in u.totals.items():
        t.totals[name] = t.totals.get(name, 0) + d
    for mine, theirs in (
        (t.peak_in, u.peak_in),
        (t.peak_out, u.peak_out),
        (t.peak_in_all, u.peak_in_all),
        (t.peak_out_all, u.peak_out_all),
    ):
        # Peak.add keeps the first of equal rates: so does this.
        if theirs.rate is not None and (mine.rate is None or theirs.rate > mine.rate):
            mine.rate, mine.at = theirs.rate, theirs.at


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _nanmax(best: float | None, values: array[float]) -> float | None:
    """The larger of best and the largest non-NaN value."""
    total = sum(values)
    if total == total:  # no NaN: the C loop
        top = max(values, default=None)
    else:
        top = max((v for v in values if v == v), default=None)
    if top is None:
        return best
    return top if best is None or top > best else best


def _spike_records(
    spikes: list[Spike], reading: Reading, interval: float
) -> list[dict[str, object]]:
    """Each listed spike with the first trigger captured in it and how many were.

    A capture lands one tick after the crossing that fired it (two scans make a rate), so a
    spike's triggers are those from an interval before its start to two after its end. Only the
    first of each is shown whole: those few are read again from the files (Reading keeps every
    trigger's clock, not its capture).
    """
    walls = reading.trigger_walls
    order = sorted(range(len(walls)), key=walls.__getitem__)
    ordered = [walls[i] for i in order]
    firsts: list[int | None] = []
    counts: list[int] = []
    for s in spikes:
        lo = bisect.bisect_left(ordered, s.start - interval)
        hi = bisect.bisect_right(ordered, s.end + 2 * interval)
        counts.append(hi - lo)
        firsts.append(min(order[lo:hi]) if hi > lo else None)  # the first in the files
    whole = reading.load_triggers(n for n in firsts if n is not None)
    return [
        _spike_record(s, None if n is None else whole.get(n), caught)
        for s, n, caught in zip(spikes, firsts, counts)
    ]


def _spike_record(s: Spike, first: dict[str, object] | None, caught: int) -> dict[str, object]:
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
        "captures": caught,
        "waiters": _waiters(first.get("capture")) if first else [],
    }


def _omitted_events(reading: Reading) -> list[str]:
    more = reading.events_seen - len(reading.events)
    if more <= 0:
        return []
    return [f"{more} more event lines than the {len(reading.events)} listed (a damaged recording?)"]


def _finite(v: object, hi: float) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= hi


def _waiters(capture: object) -> list[dict[str, object]]:
    """Who waited for swap-in during the spike, from its capture (record/trigger.py), as the
    text report can print it: a recording is untrusted, so anything that is not a sane entry
    is left out and a name is cut to printable characters."""
    ws = capture.get("waiters") if isinstance(capture, dict) else None
    out: list[dict[str, object]] = []
    for w in ws[:10] if isinstance(ws, list) else []:
        if not isinstance(w, dict) or not isinstance(w.get("pid"), int):
            continue
        span, wait, blkio = w.get("interval_s"), w.get("swapin_wait_s"), w.get("blkio_wait_s")
        # A share summed over threads can exceed the interval; a day of waiting cannot be one.
        if not (_finite(span, 86400.0) and _finite(wait, 1e9)):
            continue
        if blkio is not None and not _finite(blkio, 1e9):
            blkio = None
        comm = w.get("comm")
        name = "".join(c if c.isprintable() else "?" for c in str(comm)[:64]) if comm else "?"
        out.append(
            {
                "pid": w["pid"],
                "comm": name,
                "swapin_wait_s": float(wait),  # type: ignore[arg-type]
                "blkio_wait_s": None if blkio is None else float(blkio),
                "interval_s": float(span),  # type: ignore[arg-type]
            }
        )
    return out
