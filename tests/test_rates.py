"""Rates, windows and peaks: exact on simple cases, and properties over random runs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from checkswap.kernel.pressure import Pressure, PressureLine
from checkswap.model.rates import (
    NO_WRITEBACK_COUNTER,
    Interval,
    RollingWindow,
    Tracker,
    counter_delta,
)
from checkswap.model.sample import Sample


def sample(
    mono: float,
    pswpin: int,
    pswpout: int,
    wall: float | None = None,
    psi_total: int | None = None,
    **extra: int,
) -> Sample:
    vm = {"pswpin": pswpin, "pswpout": pswpout, "pgmajfault": 0, **extra}
    psi = None
    if psi_total is not None:
        line = PressureLine(0.0, 0.0, 0.0, psi_total)
        psi = Pressure(line, line)
    return Sample(mono, 1_700_000_000.0 + mono if wall is None else wall, vm, {}, psi)


def test_counter_delta() -> None:
    assert counter_delta(5, 9) == 4
    assert counter_delta(9, 5) is None
    assert counter_delta(None, 5) is None
    assert counter_delta(5, None) is None
    assert counter_delta(7, 7) == 0


def test_interval_exact_rates() -> None:
    iv = Interval(sample(10.0, 100, 0), sample(12.0, 130, 8))
    assert iv.interval_s == 2.0
    assert iv.deltas["pswpin"] == 30 and iv.deltas["pswpout"] == 8
    assert iv.rate("pswpin") == 15.0 and iv.rate("pswpout") == 4.0
    assert iv.notes == []


def test_reset_gives_no_rate_and_a_note() -> None:
    iv = Interval(sample(0.0, 1000, 50), sample(1.0, 3, 60))
    assert iv.deltas["pswpin"] is None and iv.rate("pswpin") is None
    assert iv.deltas["pswpout"] == 10
    assert "pswpin" in iv.notes[0]


def test_missing_counter_is_none_without_note() -> None:
    iv = Interval(sample(0.0, 1, 1), sample(1.0, 2, 2))
    assert iv.deltas["zswpin"] is None and iv.notes == []


def test_clock_not_advancing_gives_no_rates() -> None:
    iv = Interval(sample(5.0, 1, 1), sample(5.0, 9, 9))
    assert iv.rate("pswpin") is None and iv.notes


def test_wall_clock_step_does_not_change_interval() -> None:
    # The wall clock jumped back an hour (NTP, a manual date): intervals use the monotonic clock.
    iv = Interval(sample(0.0, 0, 0, wall=1e9), sample(1.0, 10, 0, wall=1e9 - 3600))
    assert iv.interval_s == 1.0 and iv.rate("pswpin") == 10.0


def test_psi_share_from_totals() -> None:
    iv = Interval(sample(0.0, 0, 0, psi_total=1_000_000), sample(2.0, 0, 0, psi_total=1_500_000))
    assert iv.psi_some_pct == 25.0 and iv.psi_full_pct == 25.0
    assert Interval(sample(0.0, 0, 0), sample(1.0, 0, 0)).psi_some_pct is None


def test_tracker_peak_totals_and_average() -> None:
    t = Tracker()
    s = [sample(0, 0, 0), sample(1, 10, 0), sample(3, 50, 4), sample(4, 0, 5), sample(5, 3, 5)]
    for a, b in zip(s, s[1:]):
        t.add(Interval(a, b))
    assert t.samples == 4
    assert t.peak_in.rate == 20.0 and t.peak_in.at == s[2].wall
    assert t.peak_out.rate == 2.0
    # The reset interval (50 -> 0) is excluded from totals and from the rated time.
    assert t.totals["pswpin"] == 10 + 40 + 3
    assert t.null_intervals == 1
    assert t.run_average("pswpin") == 53 / 4.0


def test_peak_of_zero_has_no_time() -> None:
    t = Tracker()
    t.add(Interval(sample(0, 0, 0), sample(1, 0, 0)))
    assert t.peak_in.rate == 0.0 and t.peak_in.at is None


def test_window_covers_what_there_is_until_full() -> None:
    w = RollingWindow(60.0, ("x",))
    w.add(0.0, 1.0, [10])
    (mean,), covered = w.means()
    assert mean == 10.0 and covered == 1.0
    for i in range(1, 200):
        w.add(float(i), float(i + 1), [0 if i < 150 else 6])
    (mean,), covered = w.means()
    assert abs(covered - 60.0) < 1e-9
    assert abs(mean - 50 * 6 / 60) < 1e-9


def brute_mean(intervals: list[tuple[float, float, int]], window: float) -> float | None:
    now = intervals[-1][1]
    cutoff = now - window
    num = den = 0.0
    for s, e, d in intervals:
        overlap = min(e, now) - max(s, cutoff)
        if overlap <= 0:
            continue
        frac = overlap / (e - s)
        num += d * frac
        den += (e - s) * frac
    return None if den == 0 else num / den


durations = st.floats(min_value=0.2, max_value=30.0, allow_nan=False)
deltas = st.integers(min_value=0, max_value=100_000)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(durations, deltas), min_size=1, max_size=120))
def test_window_equals_brute_force(steps: list[tuple[float, int]]) -> None:
    # Intervals at least one bucket long are never merged, so the window is exact.
    window = 60.0
    w = RollingWindow(window, ("x",), buckets=600)
    t = 0.0
    seen = []
    for dur, d in steps:
        w.add(t, t + dur, [d])
        seen.append((t, t + dur, d))
        t += dur
        (mean,), covered = w.means()
        expected = brute_mean(seen, window)
        assert expected is not None and mean is not None
        assert abs(mean - expected) <= 1e-6 * max(1.0, abs(expected))
        assert covered <= window + 1e-6


@settings(max_examples=25, deadline=None)
@given(st.lists(deltas, min_size=300, max_size=1200), st.floats(0.001, 0.05))
def test_window_memory_bounded_for_tiny_intervals(ds: list[int], dur: float) -> None:
    window = 5.0
    w = RollingWindow(window, ("x",), buckets=100)
    seen = []
    t = 0.0
    for d in ds:
        w.add(t, t + dur, [d])
        seen.append((t, t + dur, d))
        t += dur
    assert len(w) <= 101
    (mean,), _covered = w.means()
    expected = brute_mean(seen, window)
    assert mean is not None and expected is not None
    # Merged buckets blur the window's edge by at most one bucket's worth of traffic.
    bucket_pages = max(ds) * (window / 100 / dur + 1)
    assert abs(mean - expected) <= 2 * bucket_pages / min(window, t) + 1e-9


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.01, 10.0), st.integers(-50, 10_000)), min_size=1, max_size=200)
)
def test_tracker_never_reports_negative_or_reset_rates(steps: list[tuple[float, int]]) -> None:
    # Counters that sometimes go backwards (a negative step is a reset to a smaller value).
    t = Tracker()
    mono, counter = 0.0, 10_000
    prev = sample(mono, counter, counter)
    expected_total = 0
    for dur, step in steps:
        mono += dur
        counter = counter + step if step >= 0 else max(0, counter + step * 100)
        cur = sample(mono, counter, counter)
        iv = Interval(prev, cur)
        t.add(iv)
        if counter >= prev.vmstat["pswpin"]:
            expected_total += counter - prev.vmstat["pswpin"]
            assert iv.rate("pswpin") is not None and iv.rate("pswpin") >= 0  # type: ignore[operator]
        else:
            assert iv.rate("pswpin") is None and iv.notes
        prev = cur
    assert t.totals.get("pswpin", 0) == expected_total
    for _, means, _ in t.averages():
        assert all(m is None or m >= 0 for m in means)
    assert t.peak_in.rate is None or t.peak_in.rate >= 0


def test_long_run_memory_is_bounded() -> None:
    t = Tracker()
    prev = sample(0.0, 0, 0)
    for i in range(1, 20_001):
        cur = sample(i * 0.01, i, i)
        t.add(Interval(prev, cur))
        prev = cur
    assert all(len(w) <= 601 for _, w in t.windows)
    (_, (rin, _, ain, _), covered) = t.averages()[0]
    assert abs(covered - 60.0) < 1e-6 and abs(rin - 100.0) < 1e-6  # type: ignore[operator]
    # No tier but the devices: the all-tier mean is the devices', computed the same way.
    assert ain == rin


# --- the all-tier totals ---------------------------------------------------------------------


def _tiers(**counters: int) -> dict[str, int]:
    return {"zswpin": 0, "zswpout": 0, "zswpwb": 0, "swpin_zero": 0, "swpout_zero": 0, **counters}


def test_all_tiers_6_18_formulas() -> None:
    # 6.18: every tier counted. Writeback (zswpwb) is in pswpout again and comes off once.
    a = sample(0.0, 1000, 2000, **_tiers(zswpin=10, zswpout=20, zswpwb=5, swpin_zero=1))
    b = sample(
        2.0,
        1007,
        2050,
        **_tiers(zswpin=110, zswpout=320, zswpwb=45, swpin_zero=31, swpout_zero=60),
    )
    iv = Interval(a, b)
    assert iv.deltas["swap_in_all"] == 7 + 100 + 30
    assert iv.deltas["swap_out_all"] == 300 + (50 - 40) + 60
    assert iv.rate("swap_in_all") == 137 / 2.0
    assert not iv.notes


def test_all_tiers_kernel_without_zswap_or_zero_counters() -> None:
    # 4.19, or no CONFIG_ZSWAP: the devices are the only tier, so the totals are pswpin/pswpout.
    iv = Interval(sample(0.0, 10, 20), sample(1.0, 15, 29))
    assert iv.deltas["swap_in_all"] == 5 and iv.deltas["swap_out_all"] == 9
    assert iv.deltas["zswpin"] is None and iv.deltas["swpin_zero"] is None
    assert not iv.notes


def test_all_tiers_zswpout_without_zswpwb_is_null_with_a_note() -> None:
    # 5.19-6.7: pages written back are in pswpout and zswpout with nothing to take them off.
    a = sample(0.0, 10, 20, zswpin=0, zswpout=0)
    b = sample(1.0, 15, 29, zswpin=4, zswpout=6)
    iv = Interval(a, b)
    assert iv.deltas["swap_in_all"] == 5 + 4
    assert iv.deltas["swap_out_all"] is None
    assert NO_WRITEBACK_COUNTER in iv.notes


def test_all_tiers_unknown_when_a_present_counter_resets() -> None:
    a = sample(0.0, 10, 20, **_tiers(zswpin=50))
    b = sample(1.0, 15, 29, **_tiers(zswpin=3))
    iv = Interval(a, b)
    assert iv.deltas["swap_in_all"] is None
    assert iv.deltas["swap_out_all"] == 9


def test_tracker_totals_the_all_tier_deltas() -> None:
    t = Tracker()
    s = [sample(float(i), 10 * i, 0, **_tiers(zswpout=7 * i, swpin_zero=i)) for i in range(4)]
    for x, y in zip(s, s[1:]):
        t.add(Interval(x, y))
    assert t.totals["swap_in_all"] == 30 + 3
    assert t.totals["swap_out_all"] == 21


def _run(samples: list[Sample]) -> Tracker:
    t = Tracker()
    for x, y in zip(samples, samples[1:]):
        t.add(Interval(x, y))
    return t


def test_tracker_windows_peaks_and_averages_of_every_tier() -> None:
    # 1 s intervals: the devices move 10 in/s, zswap 40 in and 70 out, zero-filled 5 in/s;
    # the third interval has a burst of 200 zswap stores.
    s = [
        sample(0.0, 0, 0, **_tiers()),
        sample(1.0, 10, 0, **_tiers(zswpin=40, zswpout=70, swpin_zero=5)),
        sample(2.0, 20, 0, **_tiers(zswpin=80, zswpout=140, swpin_zero=10)),
        sample(3.0, 30, 0, **_tiers(zswpin=120, zswpout=340, swpin_zero=15)),
    ]
    t = _run(s)
    for _key, (rin, rout, ain, aout), covered in t.averages():
        assert covered == 3.0
        assert rin == 10.0 and rout == 0.0
        assert ain == (30 + 120 + 15) / 3.0 and aout == 340 / 3.0
    assert t.peak_in_all.rate == 55.0 and t.peak_in_all.at == s[1].wall  # the first of equals
    assert t.peak_out_all.rate == 200.0 and t.peak_out_all.at == s[3].wall
    assert t.all_tier_average("swap_in_all") == 165 / 3.0
    assert t.all_tier_average("swap_out_all") == 340 / 3.0


def test_tracker_all_tier_figures_skip_the_seconds_they_were_unknown() -> None:
    # zswpin resets in the second interval (2 s long): the devices' figures keep it, the
    # all-tier swap-in leaves its 2 s out of its windows and run average; swap-out keeps all.
    s = [
        sample(0.0, 0, 0, **_tiers(zswpin=100)),
        sample(1.0, 10, 5, **_tiers(zswpin=130)),
        sample(3.0, 30, 15, **_tiers(zswpin=2)),
        sample(4.0, 40, 20, **_tiers(zswpin=12)),
    ]
    t = _run(s)
    (_, (rin, rout, ain, aout), covered) = t.averages()[0]
    assert covered == 4.0 and rin == 10.0 and rout == 5.0
    assert ain is not None and abs(ain - (10 + 30 + 10 + 10) / 2.0) < 1e-9
    assert aout == 5.0
    assert t.unknown_in_all_s == 2.0 and t.unknown_out_all_s == 0.0
    assert t.all_tier_average("swap_in_all") == 60 / 2.0
    assert t.peak_in_all.rate == 40.0


def test_tracker_all_tier_swap_out_is_none_without_zswpwb() -> None:
    # 5.19-6.7: no interval has an all-tier swap-out, so its window, peak and average are
    # None, never 0; the all-tier swap-in is known.
    s = [sample(float(i), 3 * i, 2 * i, zswpin=i, zswpout=4 * i) for i in range(3)]
    t = _run(s)
    for _key, (_, _, ain, aout), _covered in t.averages():
        assert ain == 4.0 and aout is None
    assert t.peak_out_all.rate is None and t.peak_out_all.at is None
    assert t.all_tier_average("swap_out_all") is None
    assert t.all_tier_average("swap_in_all") == 4.0


def test_all_tier_window_returns_to_exact_after_the_unknown_leaves() -> None:
    # An unknown interval that has left the window leaves no residue behind.
    t = Tracker()
    prev = sample(0.0, 0, 0, **_tiers(zswpin=100))
    cur = sample(1.0, 1, 1, **_tiers(zswpin=0))  # reset: all-tier unknown
    t.add(Interval(prev, cur))
    prev = cur
    for i in range(2, 200):
        cur = sample(float(i), i, i, **_tiers(zswpin=3 * (i - 1)))
        t.add(Interval(prev, cur))
        prev = cur
    (_, (rin, _, ain, _), covered) = t.averages()[0]  # the 1-minute window
    assert covered == 60.0 and rin == 1.0 and ain == 4.0
