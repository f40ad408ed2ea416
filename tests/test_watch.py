"""``watch`` end to end: the CLI in-process on fixture trees, and as a subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable

import pytest
from clihelp import FIXTURES as FIX
from clihelp import run_cli

from checkswap.cli import main
from checkswap.fields import CSV_COLUMNS

SAMPLE_KEYS = [
    "type",
    "time",
    "interval_s",
    "swap_in_pages",
    "swap_out_pages",
    "swap_in_per_s",
    "swap_out_per_s",
    "page_size_bytes",
    "swap_used_bytes",
    "swap_total_bytes",
    "swap_cached_bytes",
    "majflt_per_s",
    "psi_some_avg10",
    "psi_full_avg10",
    "zswap_in_per_s",
    "zswap_out_per_s",
    "swap_in_zero_per_s",
    "swap_out_zero_per_s",
    "avg_1m",
    "avg_5m",
    "avg_15m",
    "max",
]
SUMMARY_KEYS = ["type", "samples", "duration_s", "swap_in_pages", "swap_out_pages", "max", "avg"]


class FakeClock:
    """A clock that only moves when the program sleeps (plus simulated work per tick)."""

    def __init__(self, work: float = 0.0) -> None:
        self.now = 1000.0
        self.work = work
        self.on_sleep: Callable[[], None] | None = None
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_795_000_000.0 + self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s
        if self.on_sleep:
            self.on_sleep()
        self.now += self.work  # reading and printing take time too


def run(argv: list[str], clock: FakeClock | None = None) -> tuple[int, str, str]:
    if clock is None:
        return run_cli(argv)
    return run_cli(argv, monotonic=clock.monotonic, sleep=clock.sleep, wall=clock.wall)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def live_tree(tmp_path: os.PathLike[str]) -> str:
    dst = os.path.join(str(tmp_path), "root")
    shutil.copytree(os.path.join(FIX, "linux-6.18-swapping"), dst)
    return dst


def set_counters(root: str, **values: int) -> None:
    path = os.path.join(root, "proc/vmstat")
    with open(path) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        name = line.split()[0]
        out.append(f"{name} {values[name]}" if name in values else line)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# --- the JSON contract ------------------------------------------------------------------------


def test_static_tree_reads_live_with_zero_deltas() -> None:
    status, out, err = run(
        [
            "watch",
            "-n",
            "2",
            "-i",
            "0.01",
            "--format",
            "json",
            "--root",
            os.path.join(FIX, "linux-6.18-swapping"),
        ]
    )
    assert status == 0, err
    recs = json_lines(out)
    assert [r["type"] for r in recs] == ["header", "sample", "sample", "summary"]
    for rec in recs[1:3]:
        assert list(rec)[: len(SAMPLE_KEYS)] != []  # keys present, order free
        assert set(SAMPLE_KEYS) <= set(rec)
        assert rec["swap_in_pages"] == 0 and rec["swap_out_pages"] == 0
        assert rec["swap_in_per_s"] == 0.0
        assert rec["swap_used_bytes"] == (1048560 - 925676) * 1024 or rec["swap_used_bytes"]
        assert str(rec["time"]).endswith("+00:00")
        assert set(rec["avg_5m"]) == {  # type: ignore[arg-type]
            "swap_in_per_s",
            "swap_out_per_s",
            "covered_s",
            "swap_in_all_per_s",
            "swap_out_all_per_s",
        }
        # A static tree of 6.18 with every tier's counter: nothing moved, so 0, not null.
        assert rec["avg_5m"]["swap_in_all_per_s"] == 0.0  # type: ignore[index]
    assert set(SUMMARY_KEYS) <= set(recs[-1])
    header = recs[0]
    assert header["since_boot"]["swap_in_pages"] == 174083  # type: ignore[index]
    assert header["swap_areas"][0]["name"] == "/var/tmp/checkswap-test-my swap"  # type: ignore[index]


def test_meminfo_figures_are_the_kernels(live_tree: str) -> None:
    _, out, _ = run(["-n", "1", "-i", "0.01", "--format", "json", "--root", live_tree])
    rec = json_lines(out)[1]
    mem = {}
    with open(os.path.join(live_tree, "proc/meminfo")) as f:
        for line in f:
            k, v = line.split(":")
            mem[k] = int(v.split()[0]) * 1024
    assert rec["swap_total_bytes"] == mem["SwapTotal"]
    assert rec["swap_used_bytes"] == mem["SwapTotal"] - mem["SwapFree"]
    assert rec["swap_cached_bytes"] == mem["SwapCached"]  # reported apart, not subtracted
    assert rec["psi_some_avg10"] == 1.44


def test_exact_deltas_rates_reset_and_peak(live_tree: str) -> None:
    clock = FakeClock()
    steps = iter([(174083 + 500, 234890 + 100), (174083 + 1500, 234890 + 100), (12, 5), (20, 5)])

    def bump() -> None:
        pin, pout = next(steps)
        set_counters(live_tree, pswpin=pin, pswpout=pout)

    clock.on_sleep = bump
    status, out, err = run(["-n", "4", "-i", "2", "--format", "json", "--root", live_tree], clock)
    assert status == 0, err
    recs = json_lines(out)
    samples = [r for r in recs if r["type"] == "sample"]
    assert [s["interval_s"] for s in samples] == [2.0, 2.0, 2.0, 2.0]
    assert [s["swap_in_pages"] for s in samples] == [500, 1000, None, 8]
    assert [s["swap_in_per_s"] for s in samples] == [250.0, 500.0, None, 4.0]
    assert [s["swap_out_pages"] for s in samples] == [100, 0, None, 0]
    assert "backwards" in str(samples[2]["note"])
    assert samples[1]["swap_in_bytes_per_s"] == 500.0 * 4096
    assert samples[3]["max"] == {  # the peak and when it happened
        "swap_in_per_s": 500.0,
        "swap_in_at": samples[1]["time"],
        "swap_out_per_s": 50.0,
        "swap_out_at": samples[0]["time"],
        # Only the devices moved (the tree's zswap and zero counters stand still), so every
        # tier's peak is theirs; the reset interval has none.
        "swap_in_all_per_s": 500.0,
        "swap_in_all_at": samples[1]["time"],
        "swap_out_all_per_s": 50.0,
        "swap_out_all_at": samples[0]["time"],
    }
    # 1-minute average: 1508 pages in over the 6 s of rated intervals.
    assert samples[3]["avg_1m"]["swap_in_per_s"] == pytest.approx(1508 / 6)  # type: ignore[index]
    assert samples[3]["avg_1m"]["covered_s"] == pytest.approx(6.0)  # type: ignore[index]
    summary = recs[-1]
    assert summary["swap_in_pages"] == 1508 and summary["samples"] == 4
    assert summary["max"] == samples[3]["max"]
    assert summary["avg"]["swap_in_per_s"] == pytest.approx(1508 / 6)  # type: ignore[index]


def test_ticks_do_not_drift() -> None:
    # Each tick's work takes 0.3 s of a 1 s interval: the sleeps make up for it exactly.
    clock = FakeClock(work=0.3)
    start = clock.now
    status, _, _ = run(
        [
            "-n",
            "100",
            "-i",
            "1",
            "--format",
            "json",
            "--root",
            os.path.join(FIX, "linux-6.18-swapping"),
        ],
        clock,
    )
    assert status == 0
    assert clock.now - start == pytest.approx(100 + 0.3, abs=1e-6)
    assert all(s == pytest.approx(0.7) for s in clock.sleeps[1:])


def test_count_is_honoured_when_every_tick_overruns() -> None:
    # Regression: the stall handling restarted the tick counter that -n was compared with, so
    # a run whose ticks overran their interval (tiny -i, a slow machine) never ended.
    clock = FakeClock(work=5.0)
    status, out, _ = run(
        [
            "-n",
            "5",
            "-i",
            "0.5",
            "--format",
            "json",
            "--root",
            os.path.join(FIX, "linux-6.18-swapping"),
        ],
        clock,
    )
    assert status == 0
    assert len([r for r in json_lines(out) if r["type"] == "sample"]) == 5


def test_old_kernel_without_psi_gives_null_not_zero() -> None:
    _, out, _ = run(
        [
            "-n",
            "1",
            "-i",
            "0.01",
            "--format",
            "json",
            "--root",
            os.path.join(FIX, "linux-4.19-no-psi"),
        ]
    )
    rec = json_lines(out)[1]
    for key in (
        "psi_some_avg10",
        "psi_full_avg10",
        "psi_some_pct",
        "zswap_in_per_s",
        "zswap_out_per_s",
        "swap_in_zero_per_s",
        "swap_out_zero_per_s",
        "refault_anon_per_s",
        "zswap_pool_bytes",
    ):
        assert rec[key] is None, key
    assert rec["swap_in_per_s"] == 0.0


def test_64k_pages_from_the_manifest(live_tree: str) -> None:
    root = os.path.join(FIX, "arm64-64k-pages")
    _, out, _ = run(["-n", "1", "-i", "0.01", "--format", "json", "--root", root])
    header, rec = json_lines(out)[:2]
    assert header["page_size_bytes"] == 65536 and rec["page_size_bytes"] == 65536
    _, text, _ = run(["-n", "1", "-i", "0.01", "--root", root])
    assert "page size 65536 bytes" in text
    # 174,083 pages of 64 KiB = 10.6 GiB, not the 680 MiB a 4 KiB assumption would give.
    assert "174,083 pages swapped in = 10.6 GiB" in text


def test_no_manifest_notes_the_assumed_page_size(tmp_path: os.PathLike[str]) -> None:
    dst = os.path.join(str(tmp_path), "r")
    shutil.copytree(os.path.join(FIX, "linux-6.18-swapping"), dst)
    os.unlink(os.path.join(dst, "checkswap-manifest.json"))
    _, out, _ = run(["-n", "1", "-i", "0.01", "--format", "json", "--root", dst])
    assert "page size" in json_lines(out)[0]["notes"][0]  # type: ignore[index]


# --- text and CSV -----------------------------------------------------------------------------


def test_text_lines_are_stable_columns(live_tree: str) -> None:
    clock = FakeClock()
    n = iter(range(1, 100))
    clock.on_sleep = lambda: set_counters(live_tree, pswpin=174083 + next(n) * 1_000_000)
    status, out, _ = run(["-n", "5", "-i", "1", "--root", live_tree], clock)
    assert status == 0
    lines = out.splitlines()
    data = [line for line in lines if not line.startswith("#")]
    header_row, rows = data[0], data[1:]
    assert header_row.startswith("date")
    assert len(rows) == 5
    assert len({len(r.split()) for r in rows}) == 1  # same field count on every line
    assert len({len(r) for r in rows}) == 1  # and the same width, even at 1,000,000 pages/s
    assert rows[0].split()[2] == "1000000"
    joined = "\n".join(lines)
    assert "swap-in:  pages read back from swap into RAM" in joined
    assert "swap-out: pages written from RAM to swap" in joined
    assert "# since boot: 174,083 pages swapped in = 680.0 MiB" in joined
    # The tree has zero-filled pages since boot: the summary adds every tier's two lines.
    assert lines[-5].startswith("# summary: 5 samples")
    assert "max 1,000,000.0 pages/s" in lines[-4]
    assert lines[-2].startswith("#   swap-in (all tiers): 5,000,000 pages (19.1 GiB)")
    assert "max 1,000,000.0 pages/s" in lines[-2]
    assert lines[-1].startswith("#   swap-out (all tiers): 0 pages (0 B)")


def test_csv_header_and_null_as_empty() -> None:
    status, out, _ = run(
        [
            "-n",
            "2",
            "-i",
            "0.01",
            "--format",
            "csv",
            "--root",
            os.path.join(FIX, "linux-4.19-no-psi"),
        ]
    )
    assert status == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == list(CSV_COLUMNS)
    assert "avg_5m.swap_in_per_s" in rows[0] and "max.swap_in_at" in rows[0]
    assert len(rows) == 3
    row = dict(zip(rows[0], rows[1]))
    assert row["psi_some_avg10"] == "" and row["swap_in_per_s"] == "0.0"


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["-i", "0"], "greater than 0"),
        (["-i", "-1"], "invalid interval '-1': it must be greater than 0"),
        (["-i", "abc"], "give seconds such as"),
        (["-i", "2 fortnights"], "units are"),
        (["-i", "1y"], "units are"),
        (["-n", "0"], "at least 1"),
        (["-n", "ten"], "whole number"),
        (["--format", "xml"], "invalid choice"),
        (["--format", "jsno"], "did you mean 'json'"),
        (["wach"], "did you mean 'watch'"),
        (["--root", "/nonexistent/x"], "no such file"),
        (["--root", os.path.join(FIX, "linux-6.18-swapping", "proc")], "did you mean --root"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_input_is_one_line_and_status_2(argv: list[str], needle: str) -> None:
    status, out, err = run(argv)
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert needle in err
    assert "Traceback" not in err


def test_unreadable_kernel_file_is_one_line(tmp_path: os.PathLike[str]) -> None:
    dst = os.path.join(str(tmp_path), "r")
    shutil.copytree(os.path.join(FIX, "linux-6.18-swapping"), dst)
    os.unlink(os.path.join(dst, "proc/meminfo"))
    status, _, err = run(["-n", "1", "-i", "0.01", "--root", dst])
    assert status == 2 and err.count("\n") == 1 and "proc/meminfo" in err


def test_version_and_help() -> None:
    from checkswap import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    proc = subprocess.run(
        [sys.executable, "-m", "checkswap", "watch", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "pages read back from swap into RAM" in proc.stdout
    assert "default: 1" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "checkswap", "--version"], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == f"checkswap {__version__}"


# --- as a subprocess: pipes and signals -------------------------------------------------------


def cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "checkswap", *args]


def test_closed_pipe_exits_quietly() -> None:
    proc = subprocess.run(
        f"{' '.join(cmd('-i', '0.01', '--format', 'json'))} | head -3",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        executable="/bin/bash",
        env={**os.environ, "PIPESTATUS_CHECK": "1"},
    )
    assert len(proc.stdout.splitlines()) == 3
    assert proc.stderr == ""
    status = subprocess.run(
        f"set -o pipefail; {' '.join(cmd('-i', '0.01'))} | head -2; echo ${{PIPESTATUS[0]}}",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        executable="/bin/bash",
    )
    assert status.stdout.splitlines()[-1] == "0"
    assert status.stderr == ""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_prints_summary_and_exits_0(sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        cmd("-i", "0.05"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    lines = []
    while len([ln for ln in lines if ln[:1].isdigit()]) < 2:
        lines.append(proc.stdout.readline())
    proc.send_signal(sig)
    rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "# summary:" in rest
    assert "Traceback" not in err


def test_lines_reach_a_pipe_one_by_one() -> None:
    # Line-buffered: `| tee log` shows each line as it is made, not at exit.
    proc = subprocess.Popen(cmd("-i", "0.2", "--format", "json"), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        t0 = time.monotonic()
        proc.stdout.readline()  # header
        first = json.loads(proc.stdout.readline())
        assert first["type"] == "sample"
        assert time.monotonic() - t0 < 10
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_text_missing_values_keep_the_columns() -> None:
    # No PSI and no zswap on this kernel: "-" in place of a figure, in the same column width.
    _, out, _ = run(["-n", "2", "-i", "0.01", "--root", os.path.join(FIX, "linux-4.19-no-psi")])
    # A row's trailing "  # ..." note (the 5m coverage of an early row) is past the columns.
    data = [line.split("  # ")[0] for line in out.splitlines() if not line.startswith("#")]
    header, rows = data[0], data[1:]
    assert len(rows) == 2
    assert all(len(r) == len(header) for r in rows)
    assert rows[0].split()[-3:-1] == ["-", "-"]  # some% and full%
    assert "# PSI: not available on this kernel" in out


def test_zram_area_is_named_as_such(live_tree: str) -> None:
    # /proc/swaps calls a zram device a "partition"; the header says it is compressed RAM.
    with open(os.path.join(live_tree, "proc/swaps"), "w") as f:
        f.write(
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
            "/dev/zram1                              partition\t4194300\t\t0\t\t100\n"
            "/swapfile                               file\t\t1048572\t\t0\t\t-2\n"
        )
    _, out, _ = run(["-n", "1", "-i", "0.01", "--format", "json", "--root", live_tree])
    kinds = [a["kind"] for a in json_lines(out)[0]["swap_areas"]]  # type: ignore[union-attr]
    assert kinds == ["zram", "file"]
    _, text, _ = run(["-n", "1", "-i", "0.01", "--root", live_tree])
    assert "/dev/zram1 (zram: compressed RAM, no disk I/O, 4.0 GiB)" in text
    assert "/swapfile (file, 1024.0 MiB)" in text


def test_text_clock_equals_strftime_across_minutes_and_dst(monkeypatch: pytest.MonkeyPatch) -> None:
    from checkswap.render.watch import TextRenderer

    # Europe/Berlin leaves summer time at 2026-10-25 01:00 UTC; Kathmandu is +05:45.
    for tz in ("Europe/Berlin", "Asia/Kathmandu", "UTC"):
        monkeypatch.setenv("TZ", tz)
        time.tzset()
        r = TextRenderer(io.StringIO(), zswap=False)
        for wall in [1792890000 + i * 7.3 for i in range(1200)] + [59.99, 60.0, 1e9 + 0.5]:
            expected = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall))
            assert r._clock(wall) == expected, (tz, wall)
    monkeypatch.delenv("TZ")
    time.tzset()


def test_text_interval_line_equals_the_record_line() -> None:
    """The record-free text path prints what the record path prints, tick after tick, with
    remembered cells changing, repeating, missing and signed zero."""
    from checkswap.fields import sample_record
    from checkswap.model.rates import Interval, Tracker
    from checkswap.model.sample import Sample
    from checkswap.render.watch import TextRenderer

    fast_out, slow_out = io.StringIO(), io.StringIO()
    fast, slow = TextRenderer(fast_out, zswap=True), TextRenderer(slow_out, zswap=True)
    tracker = Tracker()
    mem = {"SwapTotal": 8 << 20, "SwapFree": 4 << 20}
    counts = [0, 0, 5, 5, 5, 100, 100, 3, 3]  # 3: backwards, no rate and a note
    prev = Sample(0.0, 1792890000.0, {"pswpin": 0, "pswpout": 0, "zswpin": 0}, mem, None)
    for i, n in enumerate(counts, 1):
        vm = {"pswpin": n, "pswpout": n // 2, "pgmajfault": n}
        if i % 3:
            vm["zswpin"] = n  # present on some ticks only: a missing cell in between
        cur = Sample(float(i), 1792890000.0 + i, vm, mem, None)
        iv = Interval(prev, cur)
        tracker.add(iv)
        fast.interval(iv, tracker, 4096)
        slow.sample(sample_record(iv, tracker, 4096), cur.wall)
        prev = cur
    assert fast_out.getvalue() == slow_out.getvalue()
    # A cell that printed 0 must not stand in for -0.0, which prints "-0". Only a hand-made
    # interval of negative length gives one (0 / -1.0 == -0.0).
    out = io.StringIO()
    r = TextRenderer(out, zswap=False)
    for secs in (1.0, -1.0, -1.0, 1.0):
        fake = types.SimpleNamespace(
            end=cur, deltas={"pswpin": 0}, interval_s=secs, notes=[], psi_some_pct=None
        )
        fake.psi_full_pct = None
        r.interval(fake, tracker, 4096)  # type: ignore[arg-type]
    firsts = [line.split()[2] for line in out.getvalue().splitlines()]
    assert firsts == ["0", "-0", "-0", "0"]


def test_text_to_a_real_file_equals_text_to_a_stream(live_tree: str, tmp_path: str) -> None:
    """Interval lines go straight to the descriptor of a real file (render/watch.py): what
    lands in the file is what an in-memory stream gets, header, notes and summary in order."""

    def one_run(stdout: io.TextIOBase | None) -> str:
        set_counters(live_tree, pswpin=174083)
        clock = FakeClock()
        values = iter([5, 7, 3, 3, 9])  # 3 after 7: a backwards counter, a note on the line
        clock.on_sleep = lambda: set_counters(live_tree, pswpin=174083 + next(values))
        argv = ["-n", "5", "-i", "1", "--root", live_tree]
        kw = {"monotonic": clock.monotonic, "sleep": clock.sleep, "wall": clock.wall}
        return run_cli(argv, stdout=stdout, **kw)[1]  # type: ignore[arg-type]

    expected = one_run(None)
    path = os.path.join(str(tmp_path), "out.txt")
    with open(path, "w") as f:
        one_run(f)
    with open(path) as f:
        got = f.read()
    assert got == expected
    assert "counter went backwards" in got


# --- swap tiers ------------------------------------------------------------------------------


def _tier_sample(tree: str) -> dict[str, object]:
    code, out, _ = run_cli(
        ["watch", "-n", "1", "-i", "1", "--format", "json", "--root", os.path.join(FIX, tree)],
        sleep=lambda s: None,
    )
    assert code == 0
    return next(r for r in json_lines(out) if r["type"] == "sample")


def test_tiers_a_kernel_lacks_are_null_and_the_totals_sum_what_exists() -> None:
    old = _tier_sample("linux-4.19-no-psi")  # no zswap counters, no swpin_zero
    for key in ("zswap_in_pages", "zswap_out_pages", "zswap_writeback_pages"):
        assert old[key] is None
    assert old["swap_in_zero_pages"] is None and old["swap_out_zero_pages"] is None
    assert old["swap_in_all_pages"] == 0 and old["swap_out_all_pages"] == 0
    six_one = _tier_sample("linux-6.1-zswap")  # zswpout without zswpwb
    assert six_one["zswap_out_pages"] == 0 and six_one["zswap_writeback_pages"] is None
    assert six_one["swap_in_all_pages"] == 0
    assert six_one["swap_out_all_pages"] is None and six_one["swap_out_all_per_s"] is None
    assert "zswpwb" in str(six_one["note"])


def test_text_shows_all_tier_columns_only_when_there_is_another_tier() -> None:
    def titles(tree: str) -> str:
        _, out, _ = run_cli(
            ["watch", "-n", "2", "-i", "1", "--root", os.path.join(FIX, tree)],
            sleep=lambda s: None,
        )
        return next(line for line in out.splitlines() if line.startswith("date"))

    assert "all in/s" in titles("linux-6.1-zswap")  # zswap enabled
    assert "all in/s" in titles("linux-6.18-swapping")  # zero-filled pages since boot
    assert "all in/s" not in titles("linux-4.19-no-psi")  # the devices are every tier


# --- every tier in the windows, peaks, summary and since-boot header ----------------------------


def _vmstat(root: str) -> dict[str, int]:
    with open(os.path.join(root, "proc/vmstat")) as f:
        return {k: int(v) for k, v in (line.split() for line in f)}


def _tiers_tree(tmp_path: os.PathLike[str], name: str) -> str:
    dst = os.path.join(str(tmp_path), name)
    shutil.copytree(os.path.join(FIX, name), dst)
    return dst


def test_every_tier_in_windows_peaks_summary_and_since_boot(tmp_path: os.PathLike[str]) -> None:
    root = _tiers_tree(tmp_path, "tiers-zram-zswap-6.18")
    boot = _vmstat(root)
    # Per 2 s interval, what each tier moved: zswap and the zero map carry most of it.
    steps = [
        {"pswpin": 10, "zswpin": 300, "swpin_zero": 90, "zswpout": 400, "swpout_zero": 100},
        {"pswpin": 0, "zswpin": 900, "swpin_zero": 10, "pswpout": 50, "zswpwb": 30},
        {"pswpin": 4, "zswpin": 0, "swpin_zero": 0, "zswpout": 12},
    ]
    moves = iter(steps)
    now = dict(boot)

    def bump() -> None:
        for k, v in next(moves).items():
            now[k] += v
        set_counters(root, **now)

    clock = FakeClock()
    clock.on_sleep = bump
    status, out, err = run(["-n", "3", "-i", "2", "--format", "json", "--root", root], clock)
    assert status == 0, err
    recs = json_lines(out)
    header, samples, summary = recs[0], recs[1:-1], recs[-1]

    def all_in(c: dict[str, int]) -> int:
        return c.get("pswpin", 0) + c.get("zswpin", 0) + c.get("swpin_zero", 0)

    def all_out(c: dict[str, int]) -> int:
        return (
            c.get("zswpout", 0) + c.get("pswpout", 0) - c.get("zswpwb", 0) + c.get("swpout_zero", 0)
        )

    assert header["since_boot"] == {  # type: ignore[comparison-overlap]
        **header["since_boot"],  # type: ignore[dict-item]
        "swap_in_all_pages": all_in(boot),
        "swap_out_all_pages": all_out(boot),
    }
    ins = [all_in(s) / 2.0 for s in steps]
    outs = [all_out(s) / 2.0 for s in steps]
    assert [s["swap_in_all_per_s"] for s in samples] == ins
    last = samples[-1]
    for key in ("avg_1m", "avg_5m", "avg_15m"):
        window = last[key]
        assert window["swap_in_all_per_s"] == pytest.approx(sum(ins) / 3)  # type: ignore[index]
        assert window["swap_out_all_per_s"] == pytest.approx(sum(outs) / 3)  # type: ignore[index]
    assert last["max"]["swap_in_all_per_s"] == max(ins)  # type: ignore[index]
    assert last["max"]["swap_in_all_at"] == samples[1]["time"]  # type: ignore[index]
    assert last["max"]["swap_out_all_per_s"] == max(outs)  # type: ignore[index]
    assert last["max"]["swap_out_all_at"] == samples[0]["time"]  # type: ignore[index]
    assert summary["max"] == last["max"]
    assert summary["swap_in_all_pages"] == sum(all_in(s) for s in steps)
    assert summary["swap_in_all_bytes"] == sum(all_in(s) for s in steps) * 4096
    assert summary["avg"]["swap_in_all_per_s"] == pytest.approx(sum(ins) / 3)  # type: ignore[index]
    assert summary["avg"]["swap_out_all_per_s"] == pytest.approx(sum(outs) / 3)  # type: ignore[index]

    # The text view: the since-boot line and the summary's two lines, from the same figures.
    moves = iter(steps)
    now = dict(boot)
    set_counters(root, **boot)
    clock = FakeClock()
    clock.on_sleep = bump
    status, out, err = run(["-n", "3", "-i", "2", "--root", root], clock)
    assert status == 0, err
    lines = out.splitlines()
    assert f"# since boot, all tiers: {all_in(boot):,} pages in = " in out
    assert lines[-2].startswith(
        f"#   swap-in (all tiers): {sum(all_in(s) for s in steps):,} pages ("
    )
    assert f"max {max(ins):,.1f} pages/s at " in lines[-2]
    assert lines[-1].startswith(
        f"#   swap-out (all tiers): {sum(all_out(s) for s in steps):,} pages ("
    )


def test_every_tier_swap_out_is_null_without_zswpwb(tmp_path: os.PathLike[str]) -> None:
    # 6.1 counts zswpout but not zswpwb: every tier's swap-out is null in the windows, the peak,
    # the summary and the since-boot header (never 0); every tier's swap-in is there.
    root = _tiers_tree(tmp_path, "linux-6.1-zswap")
    boot = _vmstat(root)
    now = dict(boot)

    def bump() -> None:
        now["zswpin"] += 20
        now["zswpout"] += 40
        set_counters(root, **now)

    clock = FakeClock()
    clock.on_sleep = bump
    status, out, err = run(["-n", "2", "-i", "1", "--format", "json", "--root", root], clock)
    assert status == 0, err
    recs = json_lines(out)
    header, last, summary = recs[0], recs[-2], recs[-1]
    assert header["since_boot"]["swap_out_all_pages"] is None  # type: ignore[index]
    assert header["since_boot"]["swap_in_all_pages"] == boot["pswpin"] + boot["zswpin"]  # type: ignore[index]
    for key in ("avg_1m", "avg_5m", "avg_15m"):
        assert last[key]["swap_out_all_per_s"] is None  # type: ignore[index]
        assert last[key]["swap_in_all_per_s"] == 20.0  # type: ignore[index]
    assert last["max"]["swap_out_all_per_s"] is None  # type: ignore[index]
    assert last["max"]["swap_out_all_at"] is None  # type: ignore[index]
    assert summary["swap_out_all_pages"] is None and summary["swap_out_all_bytes"] is None
    assert summary["avg"]["swap_out_all_per_s"] is None  # type: ignore[index]
    assert summary["avg"]["swap_in_all_per_s"] == 20.0  # type: ignore[index]
