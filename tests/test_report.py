"""report: totals, averages, p95, max, gaps and spikes from a recording with known counters."""

from __future__ import annotations

import gzip
import json
import math
import os
import re

import pytest
from clihelp import run_cli
from rechelp import WALL0, header_line, raw_line, tiers_line, write_recording

from checkswap.units import iso_utc

# Per-second deltas (swap-in, swap-out): quiet, a 4-second spike, a dip, quiet.
STEPS = [
    (0, 0),
    (2, 0),
    (0, 1),
    (900, 1500),
    (3000, 200),
    (0, 0),
    (2500, 2500),
    (10, 5),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (0, 0),
    (3, 0),
]


def counters(steps=STEPS, start=(1000, 5000)):
    pin, pout = start
    out = [(0.0, pin, pout)]
    for i, (din, dout) in enumerate(steps, 1):
        pin += din
        pout += dout
        out.append((float(i), pin, pout))
    return out


def report_json(*paths: str, spike: str = "1000") -> dict:
    status, out, err = run_cli("report", *paths, "--format", "json", "--spike", spike)
    assert status == 0, err
    return json.loads(out)


def test_totals_avg_p95_max_equal_the_recorded_deltas(tmp_path):
    path = str(tmp_path / "r.jsonl")
    write_recording(path, counters())
    rep = report_json(path)
    ins = [d for d, _ in STEPS]
    outs = [d for _, d in STEPS]
    assert rep["samples"] == len(STEPS) + 1
    assert rep["swap_in_pages"] == sum(ins)
    assert rep["swap_out_pages"] == sum(outs)
    assert rep["swap_in_bytes"] == sum(ins) * 4096
    assert rep["avg"]["swap_in_per_s"] == pytest.approx(sum(ins) / len(STEPS))
    assert rep["max"]["swap_in_per_s"] == max(ins)
    assert rep["max"]["swap_in_at"] == iso_utc(WALL0 + 1 + ins.index(max(ins)))
    assert rep["max"]["swap_out_per_s"] == max(outs)
    rank = math.ceil(0.95 * len(ins))
    assert rep["p95"]["swap_in_per_s"] == sorted(ins)[rank - 1]
    assert rep["gaps"] == 0 and rep["bad_lines"] == 0
    for key in (
        "start",
        "end",
        "samples",
        "gaps",
        "bad_lines",
        "swap_in_pages",
        "swap_out_pages",
        "avg",
        "p95",
        "max",
        "spikes",
    ):
        assert key in rep


def test_spike_spans_the_intervals_above_the_threshold_and_merges_a_short_dip(tmp_path):
    path = str(tmp_path / "r.jsonl")
    write_recording(path, counters())
    rep = report_json(path)
    assert len(rep["spikes"]) == 1
    s = rep["spikes"][0]
    # Intervals 4, 5 and 7 (1-based) are above 1000 pages/s: 4 starts at second 3.
    assert s["start"] == iso_utc(WALL0 + 3)
    assert s["end"] == iso_utc(WALL0 + 7)
    assert s["duration_s"] == 4.0
    assert s["peak_swap_in_per_s"] == 3000
    assert s["peak_swap_out_per_s"] == 2500
    assert s["captured"] is None
    rep = report_json(path, spike="4000")
    assert [x["start"] for x in rep["spikes"]] == [iso_utc(WALL0 + 6)]


def test_trigger_capture_is_attached_to_its_spike(tmp_path):
    path = str(tmp_path / "r.jsonl")
    capture = {
        "type": "processes",
        "processes": [{"pid": 42, "comm": "hog", "swap_bytes": 1 << 20}],
        "cgroups": [],
    }
    trig = json.dumps(
        {
            "type": "trigger",
            "time": iso_utc(WALL0 + 4),
            "wall": WALL0 + 4,
            "swap_in_per_s": 900.0,
            "swap_out_per_s": 1500.0,
            "capture": capture,
        }
    )
    write_recording(path, counters(), extra=[trig + "\n"])
    rep = report_json(path)
    assert rep["spikes"][0]["captured"] == capture
    assert rep["spikes"][0]["triggered_at"] == iso_utc(WALL0 + 4)
    _status, out, _ = run_cli("report", path)
    assert "hog (42) 1.0 MiB in swap" in out


def test_gap_is_counted_and_its_interval_keeps_exact_totals(tmp_path):
    path = str(tmp_path / "r.jsonl")
    rows = [(0.0, 0, 0), (1.0, 10, 0), (2.0, 20, 0), (60.0, 600, 0), (61.0, 610, 0)]
    write_recording(path, rows)
    rep = report_json(path)
    assert rep["gaps"] == 1
    assert rep["gap_periods"][0]["duration_s"] == 58.0
    assert rep["swap_in_pages"] == 610


def test_counter_reset_gives_no_rate_never_a_negative_one(tmp_path):
    path = str(tmp_path / "r.jsonl")
    write_recording(path, [(0.0, 500, 0), (1.0, 510, 0), (2.0, 3, 0), (3.0, 13, 0)])
    rep = report_json(path)
    assert rep["intervals_without_rate"] == 1
    assert rep["swap_in_pages"] == 20
    assert rep["max"]["swap_in_per_s"] == 10


def test_garbage_and_truncated_lines_are_skipped_and_counted(tmp_path):
    path = str(tmp_path / "r.jsonl")
    write_recording(path, counters()[:5])
    good = raw_line(1005.0, WALL0 + 5, 1000 + 3902 + 100, 5000 + 1701)
    with open(path, "a") as f:
        f.write("this is not json\n")
        f.write('{"type": "raw", "mono": "soon"}\n')
        f.write("[1, 2, 3]\n")
        f.write(
            '{"type": "raw", "mono": 1004.5, "wall": 1, "page_size_bytes": 4096, '
            '"vmstat": {"pswpin": true}, "meminfo": {}}\n'
        )
        f.write("\x00\x00\x00garbage\n")
        f.write(good)
        f.write(good[: len(good) // 2])  # the line being written at kill -9
    rep = report_json(path)
    assert rep["bad_lines"] == 6
    assert rep["samples"] == 6
    assert rep["swap_in_pages"] == 3902 + 100


def test_empty_file_is_reported_as_empty_not_an_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    status, out, err = run_cli("report", str(path))
    assert status == 0, err
    assert "no samples" in out and "empty recording" in out
    rep = report_json(str(path))
    assert rep["samples"] == 0 and rep["swap_in_pages"] is None and rep["spikes"] == []


def test_not_a_recording_is_bad_input_with_one_line(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\nworld\n")
    status, _out, err = run_cli("report", str(path))
    assert status == 2
    assert err.count("\n") == 1 and "not a checkswap recording" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "/nonexistent/r.jsonl"], "no such recording"),
        (["report", "R", "--spike", "lots"], "invalid --spike 'lots'"),
        (["report", "R", "--spike", "1000/s"], "give the number alone: 1000"),
        (["report", "R", "--html", "out.png"], "must end in .html"),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path, argv, message):
    path = str(tmp_path / "r.jsonl")
    write_recording(path, counters())
    argv = [path if a == "R" else a for a in argv]
    status, _out, err = run_cli(*argv)
    assert status == 2
    assert message in err and err.count("\n") == 1


def test_rotated_files_in_any_order_and_gzipped_read_as_one_timeline(tmp_path):
    rows = counters()
    a, b, c = str(tmp_path / "r.jsonl.2.gz"), str(tmp_path / "r.jsonl.1"), str(tmp_path / "r.jsonl")
    write_recording(str(tmp_path / "tmp"), rows[:7])
    with open(tmp_path / "tmp", "rb") as src, gzip.open(a, "wb") as dst:
        dst.write(src.read())
    write_recording(b, rows[7:12])
    write_recording(c, rows[12:])
    rep = report_json(c, a, b)
    assert rep["samples"] == len(rows)
    assert rep["swap_in_pages"] == sum(d for d, _ in STEPS)
    assert rep["gaps"] == 0


def test_gzip_cut_short_counts_one_bad_line_and_keeps_what_was_read(tmp_path):
    rows = counters()
    plain = str(tmp_path / "r.jsonl")
    write_recording(plain, rows)
    with open(plain, "rb") as f:
        data = gzip.compress(f.read())
    cut = str(tmp_path / "cut.jsonl.gz")
    with open(cut, "wb") as f:
        f.write(data[: len(data) * 2 // 3])
    rep = report_json(cut)
    assert rep["bad_lines"] >= 1
    assert 0 < rep["samples"] < len(rows)
    assert any("ends early" in n for n in rep["notes"])


def test_text_report_names_directions_and_units(tmp_path):
    path = str(tmp_path / "r.jsonl")
    write_recording(path, counters())
    status, out, err = run_cli("report", path)
    assert status == 0, err
    assert "swap-in = pages read back from swap into RAM (pswpin)" in out
    assert f"swap-in     {sum(d for d, _ in STEPS):,} pages" in out
    assert "spikes      1 above 1,000 pages/s" in out
    assert os.path.basename(path) not in err


def test_wall_clock_step_back_is_not_a_gap_and_changes_no_rate(tmp_path):
    path = tmp_path / "r.jsonl"
    lines = [header_line()]
    pin = 0
    for i in range(10):
        wall = WALL0 + i - (3600 if i >= 5 else 0)  # the clock stepped back an hour
        lines.append(raw_line(1000.0 + i, wall, pin, 0))
        pin += 100 * i
    path.write_text("".join(lines))
    rep = report_json(str(path))
    assert rep["gaps"] == 0
    assert rep["swap_in_pages"] == sum(100 * i for i in range(9))
    assert rep["max"]["swap_in_per_s"] == 800.0
    html = str(tmp_path / "r.html")
    assert run_cli("report", str(path), "--html", html)[0] == 0


def test_chunks_in_parallel_give_exactly_the_one_pass_report(tmp_path):
    from checkswap.record.report import analyse_files, build

    rows, pin, pout, t = [], 0, 0, 0.0
    for i in range(400):
        t += 1.0 if i != 200 else 30.0  # one gap
        hot = 50 <= i < 90 or 150 <= i < 152 or 154 <= i < 158 or 300 <= i < 340
        pin += 3000 + i if hot else i % 3
        pout += 2000 if hot else 0
        if i == 250:
            pin = 5  # a counter reset
        rows.append((t, pin, pout))
    path = str(tmp_path / "r.jsonl")
    bad = ["garbage\n", '{"type": "raw"}\n']
    write_recording(path, rows, extra=bad)
    with open(path) as f:
        lines = f.readlines()
    lines[120:120] = bad  # bad lines in the middle too
    with open(path, "w") as f:
        f.writelines(lines)
    one = analyse_files([path], 1000.0, workers=1, chunk_bytes=1 << 30)
    many = analyse_files([path], 1000.0, workers=3, chunk_bytes=4000)
    rec_one = build(one[1], one[0], 1000.0, [path])
    rec_many = build(many[1], many[0], 1000.0, [path])
    assert rec_many == rec_one
    assert rec_one["bad_lines"] == 4 and rec_one["gaps"] == 1
    assert len(rec_one["spikes"]) == 3  # the 2 close ones merged
    assert rec_one["intervals_without_rate"] == 1
    assert repr(one[0].chart.points()) == repr(many[0].chart.points())  # NaN != NaN


# --- bounded memory (issue 12) ---------------------------------------------------------------


def _noisy_rows(n: int, seed: int, gap_every: int = 0) -> list[tuple[float, int, int]]:
    """Quiet seconds, bursts of heavy swapping, optionally a 3-10 s gap every gap_every."""
    import random

    rnd = random.Random(seed)
    rows, pin, pout, t = [], 0, 0, 0.0
    for i in range(n):
        t += 1.0 + (rnd.randint(2, 9) if gap_every and i % gap_every == gap_every - 1 else 0)
        hot = i % 500 < 40
        pin += rnd.randint(2000, 60000) if hot else rnd.choice((0, 0, 0, 1, 3, 17))
        pout += rnd.randint(100, 90000) if hot else rnd.choice((0, 0, 2))
        rows.append((t, pin, pout))
    return rows


def test_percentiles_past_the_exact_limit_are_within_the_stated_error(tmp_path, monkeypatch):
    """Beyond EXACT_MAX values only a log histogram is kept: p95 (and any percentile) stays
    within RELATIVE_ERROR of the exact nearest-rank one computed over every interval."""
    from checkswap.model.rates import Interval
    from checkswap.record import quantiles
    from checkswap.record.format import Reading, chunk_lines
    from checkswap.record.report import Analysis, percentile

    monkeypatch.setattr(quantiles, "EXACT_MAX", 1000)
    path = str(tmp_path / "r.jsonl")
    write_recording(path, _noisy_rows(20_000, seed=3))
    reading = Reading()
    samples = list(reading.samples(chunk_lines(path, 0, None, reading)))
    exact_in = [Interval(a, b).rate("pswpin") for a, b in zip(samples, samples[1:])]
    exact_out = [Interval(a, b).rate("pswpout") for a, b in zip(samples, samples[1:])]
    a = Analysis(1000.0)
    # In pieces, as chunks are absorbed, so the histogram is merged too.
    for k in range(0, len(samples), 3000):
        part = Analysis(1000.0)
        part.run(samples[k : k + 3000])
        a.absorb(part)
    a.finish(1.0)
    assert a.swap_in.exact is None and a.swap_in.n == len(exact_in)
    for pct in (50, 90, 95, 99, 100):
        for q, exact in ((a.swap_in, exact_in), (a.swap_out, exact_out)):
            want = percentile(exact, pct)
            got = q.percentile(pct)
            assert want is not None and got is not None
            assert abs(got - want) <= quantiles.RELATIVE_ERROR * want + 1e-12, (pct, got, want)


def test_short_recordings_keep_exact_percentiles():
    from checkswap.record.quantiles import Quantiles

    q = Quantiles()
    q.extend([3.0, float("nan"), 0.0, 1.5, 7.25])
    q.extend([2.0])
    assert q.percentile(95) == 7.25 and q.percentile(50) == 2.0 and q.percentile(1) == 0.0


def test_gap_periods_are_the_longest_ones_and_gaps_counts_them_all(tmp_path):
    """A recording with a gap every few seconds listed every one (1.45 GB for a bomb of 1.92 M
    lines): now the MAX_GAP_PERIODS longest, in time order, and ``gaps`` counts them all."""
    path = str(tmp_path / "r.jsonl")
    rows = _noisy_rows(6000, seed=5, gap_every=4)
    write_recording(path, rows)
    rec = report_json(path)
    assert rec["gaps"] == 1500
    periods = rec["gap_periods"]
    assert len(periods) == 1000
    assert [p["start"] for p in periods] == sorted(p["start"] for p in periods)
    ts = [r[0] for r in rows]
    every = sorted((b - a for a, b in zip(ts, ts[1:]) if b - a > 2.5), reverse=True)
    assert sorted((p["duration_s"] for p in periods), reverse=True) == pytest.approx(every[:1000])
    status, out, _err = run_cli("report", path)
    assert status == 0
    assert "gap         ... and 1480 more (980 of them in --format json)" in out


def test_analysis_memory_does_not_grow_with_the_recording(tmp_path, monkeypatch):
    """What the analysis keeps is bounded: 4x the intervals keep about the same memory. It
    was ~56 bytes an interval more (the whole series), +8 MiB a recorded day."""
    import importlib
    import tracemalloc

    from checkswap.record import report as report_mod

    # Bounds made small, so that 40,000 intervals are far beyond them.
    for module, name in (
        ("chart", "BUCKETS"),
        ("chart", "FULL_RES_CAP"),
        ("quantiles", "EXACT_MAX"),
    ):
        try:
            mod = importlib.import_module(f"checkswap.record.{module}")
        except ImportError:  # before the bounds existed: the test must still run, and fail
            continue
        monkeypatch.setattr(mod, name, 500)
    kept = []
    for n in (10_000, 40_000):
        path = str(tmp_path / f"r{n}.jsonl")
        write_recording(path, _noisy_rows(n, seed=n))
        tracemalloc.start()
        a, reading = report_mod.analyse_files([path], 1000.0, workers=1, chunk_bytes=1 << 19)
        rec = report_mod.build(reading, a, 1000.0, [path])
        del rec, reading
        kept.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
        del a
    # 30,000 more intervals: the whole series was 1.7 MB more.
    assert kept[1] - kept[0] < 300_000, kept


def test_past_the_exact_limit_a_bucket_of_one_value_gives_it_exactly(monkeypatch):
    """A week of quiet seconds has p95 of 3 pages/s exactly, not 2.989 (a bucket's middle)."""
    from checkswap.record import quantiles

    monkeypatch.setattr(quantiles, "EXACT_MAX", 10)
    q = quantiles.Quantiles()
    q.extend([0.0] * 50 + [3.0] * 60)
    other = quantiles.Quantiles()
    other.extend([3.0] * 40 + [1000.5] * 5)
    q.merge(other)
    assert q.exact is None
    assert q.percentile(95) == 3.0 and q.percentile(10) == 0.0 and q.percentile(100) == 1000.5


def test_report_totals_every_tier_and_leaves_absent_ones_null(tmp_path):
    # A 6.18-like recording: zswap and zero-filled pages move while the devices stay at 0.
    path = str(tmp_path / "tiers.jsonl")
    lines = [header_line()]
    for i in range(5):
        rec = json.loads(raw_line(float(i), WALL0 + i, 100, 200))
        rec["vmstat"].update(zswpin=1000 * i, zswpout=1500 * i, zswpwb=10 * i)
        rec["vmstat"].update(swpin_zero=20 * i, swpout_zero=30 * i)
        lines.append(json.dumps(rec) + "\n")
    with open(path, "w") as f:
        f.writelines(lines)
    rep = report_json(path)
    assert rep["swap_in_pages"] == 0 and rep["swap_out_pages"] == 0
    assert rep["zswap_in_pages"] == 4000 and rep["zswap_writeback_pages"] == 40
    assert rep["swap_in_all_pages"] == 4000 + 80
    assert rep["swap_out_all_pages"] == 6000 - 40 + 120
    assert rep["avg"]["swap_in_all_per_s"] == pytest.approx(4080 / 4)
    status, text, _ = run_cli("report", path)
    assert status == 0 and "all tiers   4,080 pages in, 6,080 out" in text
    # A recording from a kernel without those counters: null, never 0.
    old = str(tmp_path / "old.jsonl")
    write_recording(old, counters())
    rep = report_json(old)
    assert rep["zswap_in_pages"] is None and rep["swap_in_zero_pages"] is None
    assert rep["swap_in_all_pages"] == rep["swap_in_pages"]


def test_spikes_listed_are_the_largest_and_spike_count_counts_them_all(tmp_path, monkeypatch):
    """A recording with a spike every 8 s listed every one (a hostile file grows the report
    without bound): now the MAX_SPIKES largest, in time order, and ``spike_count`` counts all."""
    from checkswap.record import report as report_mod

    monkeypatch.setattr(report_mod, "MAX_SPIKES", 50)
    monkeypatch.setattr(report_mod, "FOLD_MIN", 64)  # fold often: spikes move behind the fold
    rows, pin, pout, t, sizes = [], 0, 0, 0.0, []
    for i in range(2400):
        t += 1.0
        hot = i % 8 == 3
        size = 2000 + (i * 7919) % 5000  # distinct peaks, in no order
        if hot:
            sizes.append(size)
        pin += size if hot else 0
        pout += 0
        rows.append((t, pin, pout))
    path = str(tmp_path / "r.jsonl")
    write_recording(path, rows)
    a, reading = report_mod.analyse_files([path], 1000.0, workers=1, chunk_bytes=4000)
    rec = report_mod.build(reading, a, 1000.0, [path])
    assert rec["spike_count"] == len(sizes) == 300
    spikes = rec["spikes"]
    assert len(spikes) == 50
    assert [s["start"] for s in spikes] == sorted(s["start"] for s in spikes)
    assert sorted((s["peak_swap_in_per_s"] for s in spikes), reverse=True) == pytest.approx(
        sorted(sizes, reverse=True)[:50]
    )
    # what the analysis keeps of folded spikes is bounded too
    assert len(a._past_spikes) <= 50 and len(a.spikes) < 300
    status, out, _err = run_cli("report", path, "--spike", "1000")
    assert status == 0
    assert "spikes      300 above 1,000 pages/s (swap-in + swap-out), the 50 largest listed" in out


# --- triggers and tiers lines: every one counted, the few shown read again -----------------


def _trigger_line(t: float, capture: object) -> str:
    rec = {"type": "trigger", "time": "", "wall": WALL0 + t, "swap_in_per_s": 900.0}
    return json.dumps({**rec, "swap_out_per_s": 1500.0, "capture": capture}) + "\n"


def _capture(tag: int, processes: int = 1) -> dict:
    procs = [
        {"pid": tag * 100 + i, "comm": f"hog{tag}", "swap_bytes": 1 << 20} for i in range(processes)
    ]
    return {"type": "processes", "processes": procs, "cgroups": []}


def _spiky_recording(path: str, spikes: int, every: int = 40) -> dict[float, dict]:
    """A spike of 5 intervals every ``every`` samples, with two triggers in each (the first is
    the one a report shows) and a tiers line a minute, as record writes them. Returns the
    captures by trigger wall."""
    rows, lines, pin, captures = [], [], 0, {}
    for i in range(spikes * every):
        hot = i % every in range(10, 15)
        pin += 5000 if hot else 1
        rows.append((float(i), pin, 0))
    write_recording(path, rows)
    with open(path) as f:
        lines = f.readlines()
    extra: dict[int, list[str]] = {}
    for k in range(spikes):
        for dt in (11.5, 13.5):
            t = k * every + dt
            captures[WALL0 + t] = _capture(len(captures))
            extra.setdefault(int(t) + 1, []).append(_trigger_line(t, captures[WALL0 + t]))
    for i in range(0, spikes * every, 60):
        extra.setdefault(i + 1, []).append(tiers_line(i, True, 50))
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        out.append(line)
        out += extra.get(i, [])
    with open(path, "w") as f:
        f.writelines(out)
    return captures


def test_triggers_read_in_parallel_chunks_attach_as_in_one_pass(tmp_path):
    from checkswap.record.report import analyse_files, build

    path = str(tmp_path / "r.jsonl")
    captures = _spiky_recording(path, 12)
    one = analyse_files([path], 1000.0, workers=1, chunk_bytes=1 << 30)
    many = analyse_files([path], 1000.0, workers=3, chunk_bytes=3000)
    assert len(many[1].sources) > 12  # the triggers are spread over many chunks
    rec_one = build(one[1], one[0], 1000.0, [path])
    rec_many = build(many[1], many[0], 1000.0, [path])
    assert rec_many == rec_one
    assert rec_one["triggers"] == 24 and len(rec_one["spikes"]) == 12
    firsts = sorted(captures)[::2]  # each spike's first trigger
    assert [s["captured"] for s in rec_one["spikes"]] == [captures[w] for w in firsts]
    assert [s["captures"] for s in rec_one["spikes"]] == [2] * 12


def test_reading_memory_does_not_grow_with_triggers_and_tiers_lines(tmp_path):
    # A month of record --trigger on a host that never stops swapping: a trigger a minute,
    # each with a capture of 20 processes, and a tiers line a minute. Every one used to be
    # kept parsed (~250 MB for a month of tiers lines alone); now a trigger is its clock.
    import tracemalloc

    from checkswap.record.format import Reading

    def lines(n: int) -> list[str]:
        out = []
        for i in range(n):
            out.append(_trigger_line(60.0 * i, _capture(i, processes=20)))
            out.append(tiers_line(60.0 * i, True, 50))
        return out

    kept = []
    for n in (500, 2500):
        text = lines(n)
        tracemalloc.start()
        reading = Reading()
        list(reading.samples(text))
        kept.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
        assert reading.triggers_seen == n and reading.tiers_seen == n
        assert reading.last_trigger is not None and reading.tiers is not None
        del reading
    # 2,000 more of each: they were ~20 KB a trigger and ~5 KB a tiers line.
    assert kept[1] - kept[0] < 100_000, kept


def test_a_recording_rewritten_after_it_was_read_shows_no_capture_rather_than_another(
    tmp_path,
):
    from checkswap.record.report import analyse_files, build

    path = str(tmp_path / "r.jsonl")
    _spiky_recording(path, 2)
    a, reading = analyse_files([path], 1000.0, workers=1)
    with open(path) as f:
        text = f.read()
    # The same lines, each trigger moved a second and given another capture.
    text = re.sub(
        r'"wall": (\d+\.\d+), "swap_in_per_s"',
        lambda m: f'"wall": {float(m[1]) + 1}, "swap_in_per_s"',
        text,
    )
    text = text.replace('"comm": "hog', '"comm": "other')
    with open(path, "w") as f:
        f.write(text)
    rec = build(reading, a, 1000.0, [path])
    assert [s["captured"] for s in rec["spikes"]] == [None, None]
    assert [s["captures"] for s in rec["spikes"]] == [2, 2]  # counted at the first reading


def test_a_trigger_spelling_its_type_with_escapes_is_found_again(tmp_path):
    path = str(tmp_path / "r.jsonl")
    escaped = _trigger_line(4, _capture(7)).replace('"trigger"', '"\\u0074rigger"')
    assert b"trigger" not in escaped.encode()
    write_recording(path, counters(), extra=[escaped, _trigger_line(5, _capture(8))])
    rep = report_json(path)
    assert rep["triggers"] == 2
    assert rep["spikes"][0]["captured"] == _capture(7)
