"""The dashboard's screen, drawn on rich's recording console at 80×24 and 200×60.

The state is fed the way ``dash`` feeds it: raw samples → rates.Interval/Tracker →
fields.sample_record. The counters are those of the swapping scenario in PEERS.md (kernel 6.18,
a hog in a 64 MiB cgroup): 155,847 pages swapped in and 154,169 out in 5 s.
"""

from __future__ import annotations

import io
import re
import time

import pytest

pytest.importorskip("rich")

from rich.console import Console

from checkswap.fields import sample_record
from checkswap.kernel.pressure import Pressure, PressureLine
from checkswap.model.rates import Interval, Tracker
from checkswap.model.sample import Sample
from checkswap.render.dash import DashState, Screen, chart_rows, frame_text

PAGE = 4096
T0 = 1795000000.0  # wall clock of the first sample
GIB = 1024**3


def sample(t: float, pswpin: int, pswpout: int, psi_full_us: int) -> Sample:
    vm = {
        "pswpin": pswpin,
        "pswpout": pswpout,
        "pgmajfault": pswpin // 8,
        "workingset_refault_anon": pswpin // 2,
        "swpin_zero": 0,
        "swpout_zero": 0,
        "zswpin": 0,
        "zswpout": 0,
        "zswpwb": 0,
    }
    mem = {
        "SwapTotal": GIB,
        "SwapFree": GIB - 300 * 1024 * 1024,
        "SwapCached": 63 * 1024 * 1024,
        "MemAvailable": 23 * GIB,
        "Zswap": 0,
        "Zswapped": 0,
    }
    psi = Pressure(
        PressureLine(15.0, 10.0, 3.0, psi_full_us + psi_full_us // 50),
        PressureLine(14.9, 9.9, 2.9, psi_full_us),
    )
    return Sample(1000.0 + t, T0 + t, vm, mem, psi)


def fed_state(seconds: int = 90) -> tuple[DashState, list[dict[str, object]]]:
    """A state after ``seconds`` intervals: quiet, then 31,169 pages/s out from t=60."""
    state = DashState("vm", "6.18.44", 1.0, "live")
    state.local_time = time.gmtime  # the screen shows local time: pin it for the test
    tracker = Tracker()
    pin = pout = psi = 0
    prev = sample(0, pin, pout, psi)
    recs = []
    for t in range(1, seconds + 1):
        if t > 60:
            pin += 31169
            pout += 30834 if t != 75 else 40112  # the peak, at t=75
            psi += 150_000
        cur = sample(t, pin, pout, psi)
        iv = Interval(prev, cur)
        tracker.add(iv)
        rec = sample_record(iv, tracker, PAGE)
        state.add(rec)
        recs.append(rec)
        prev = cur
    state.verdict = "thrashing"
    state.devices = [
        {
            "name": "/var/tmp/swapfile",
            "kind": "file",
            "size_bytes": GIB // 2,
            "used_bytes": 245 * 1024 * 1024,
            "priority": -2,
            "disks": ["vda"],
            "rotational": True,
            "virtual": True,
            "network": False,
            "loop": False,
        },
        {
            "name": "/dev/zram1",
            "kind": "zram",
            "size_bytes": GIB // 2,
            "used_bytes": 55 * 1024 * 1024,
            "priority": 100,
            "disks": [],
            "rotational": False,
            "virtual": True,
            "network": False,
            "loop": False,
        },
    ]
    state.top = {
        "type": "processes",
        "processes": [
            {
                "pid": 24673,
                "comm": "peers-hog",
                "user": "root",
                "swap_bytes": 245 * 1024 * 1024,
                "swap_delta_bytes_per_s": -4096.0 * 300,
                "majflt_per_s": 3896.0,
                "cgroup": "/checkswap-test-hog-1",
                "unit": None,
            },
            {
                "pid": 123,
                "comm": "mysqld",
                "user": "mysql",
                "swap_bytes": 1048576,
                "swap_delta_bytes_per_s": 0.0,
                "majflt_per_s": 0.0,
                "cgroup": "/system.slice/mysql.service",
                "unit": "mysql.service",
            },
        ],
        "cgroups": [
            {
                "path": "/checkswap-test-hog-1",
                "swap_bytes": 245 * 1024 * 1024,
                "swap_in_per_s": None,
                "swap_out_per_s": None,
            },
            {
                "path": "/system.slice/mysql.service",
                "swap_bytes": 1048576,
                "swap_in_per_s": None,
                "swap_out_per_s": None,
            },
        ],
        "unattributed_swap_bytes": 0,
        "hidden_processes": False,
    }
    return state, recs


def record(state: DashState, width: int, height: int) -> list[str]:
    console = Console(record=True, width=width, height=height, file=io.StringIO())
    console.print(frame_text(state, width, height))
    return console.export_text().splitlines()


@pytest.mark.parametrize(("width", "height"), [(80, 24), (200, 60)])
def test_screen_shows_every_panel_and_the_figures(width: int, height: int) -> None:
    state, recs = fed_state()
    rows = record(state, width, height)
    assert len(rows) == height
    assert all(len(r) <= width for r in rows)
    text = "\n".join(rows)
    last = recs[-1]
    # The figures are the sample record's, rounded for display only.
    assert last["swap_out_per_s"] == 30834.0
    out_row = next(r for r in rows if r.startswith("swap-out "))
    assert re.search(r"\b30,834\s+120\.4\b", out_row), out_row  # pages/s, MiB/s
    avg_1m = last["avg_1m"]
    assert isinstance(avg_1m, dict)
    assert f"{avg_1m['swap_out_per_s']:,.0f}" in out_row
    peak_at = time.strftime("%H:%M:%S", time.gmtime(T0 + 75))
    assert "40,112" in out_row and peak_at in out_row  # the peak and when it happened
    in_row = next(r for r in rows if r.startswith("swap-in "))
    assert "31,169" in in_row
    assert "some 15.3%" in text and "full 15.0%" in text  # PSI share of the interval
    assert "THRASHING" in rows[0] and "vm" in rows[0]
    # Charts with their direction spelled out, and the spike drawn.
    assert "RAM→swap" in text and "swap→RAM" in text
    assert "█" in text
    # Swap areas, disk and zram told apart.
    assert "/var/tmp/swapfile" in text and "file on vda" in text
    assert "/dev/zram1" in text and "zram" in text
    # Who: the hog first (most swap), and its cgroup.
    procs = [r for r in rows if "peers-hog" in r or "mysqld" in r]
    assert "peers-hog" in procs[0]
    assert "/checkswap-test-hog-1" in text
    assert "q  quit" in rows[-1]


def test_wide_screen_puts_processes_and_cgroups_side_by_side() -> None:
    state, _ = fed_state()
    rows = record(state, 200, 60)
    hog = next(r for r in rows if "peers-hog" in r)
    assert "/checkswap-test-hog-1" in hog[110:]  # the cgroup table's row, to the right
    # A chart spans more of the past when the terminal is wider.
    out_80 = next(r for r in record(state, 80, 24) if "▕" in r)
    out_200 = next(r for r in rows if "▕" in r)
    assert len(out_200.split("▕")[1]) > len(out_80.split("▕")[1])


def test_sort_by_activity_puts_the_busiest_first() -> None:
    state, _ = fed_state()
    assert state.top is not None
    procs = state.top["processes"]
    assert isinstance(procs, list)
    procs.append(
        {
            "pid": 7,
            "comm": "churner",
            "user": "root",
            "swap_bytes": 4096,
            "swap_delta_bytes_per_s": 50e6,
            "majflt_per_s": 10.0,
            "cgroup": "/",
            "unit": None,
        }
    )
    by_swap = [r for r in record(state, 80, 24) if "churner" in r or "peers-hog" in r]
    assert "peers-hog" in by_swap[0]
    state.next_sort()
    assert state.sort == "activity"
    rows = record(state, 80, 24)
    by_act = [r for r in rows if "churner" in r or "peers-hog" in r]
    assert "churner" in by_act[0]
    assert "sort: activity" in rows[-1]


def test_help_replaces_the_body_and_keeps_the_figures() -> None:
    state, _ = fed_state()
    state.help = True
    text = "\n".join(record(state, 80, 24))
    assert "keys and figures" in text and "pswpin" in text and "30,834" in text


def test_too_small_a_terminal_says_so() -> None:
    state, _ = fed_state()
    rows = record(state, 50, 10)
    assert "terminal too small (50×10)" in rows[0]
    assert len(rows) == 10


def test_missing_figures_show_a_dash_not_zero() -> None:
    state = DashState(None, None, 1.0, "live")
    a = sample(0, 0, 0, 0)
    b = sample(1, 5, 0, 0)
    b.psi = None
    b.vmstat = {"pswpin": 5}  # an old kernel: no pswpout line at all
    tracker = Tracker()
    iv = Interval(a, b)
    tracker.add(iv)
    state.add(sample_record(iv, tracker, PAGE))
    rows = record(state, 80, 24)
    out_row = next(r for r in rows if r.startswith("swap-out "))
    assert out_row.split()[1] == "-"
    assert "some -" in "\n".join(rows)


def test_chart_marks_missing_rates_and_never_hides_a_small_spike() -> None:
    rows, top = chart_rows([0.0, None, 1.0, 1000.0], 3, 6, 10.0)
    assert top == 1000.0
    assert rows[-1] == "   ·▁█" and rows[0][-1] == "█" and rows[0][-2] == " "
    assert len({len(r) for r in rows}) == 1


def test_screen_writes_only_the_rows_that_changed() -> None:
    state, _ = fed_state(30)
    console = Console(
        file=io.StringIO(), width=80, height=24, force_terminal=True, color_system="256"
    )
    screen = Screen(console)
    first = screen.update(state, 80, 24)
    assert first.startswith("\x1b[0m\x1b[2J") and first.count("\x1b[") > 24
    n = screen.rendered_sections
    assert screen.update(state, 80, 24) == ""  # nothing changed: nothing rendered or written
    assert screen.rendered_sections == n
    state.sort = "activity"  # only the process list and the footer change
    again = screen.update(state, 80, 24)
    assert screen.rendered_sections == n + 2
    moved_to = [int(m) for m in re.findall(r"\x1b\[(\d+);1H", again)]
    assert moved_to and min(moved_to) > 12  # the header, figures and charts were not rewritten


def test_no_color_keeps_emphasis_and_drops_colour() -> None:
    state, _ = fed_state()
    colour = Console(
        file=io.StringIO(), width=80, height=24, force_terminal=True, color_system="256"
    )
    plain = Console(
        file=io.StringIO(),
        width=80,
        height=24,
        force_terminal=True,
        color_system="256",
        no_color=True,
    )
    with_colour = Screen(colour).update(state, 80, 24)
    without = Screen(plain).update(state, 80, 24)
    sgr = re.compile(r"\x1b\[([0-9;]*)m")
    colours = [p for m in sgr.findall(without) for p in m.split(";") if p[:1] in ("3", "4")]
    assert colours == []
    assert "\x1b[1m" in without  # bold stays
    assert any(p[:1] == "3" for m in sgr.findall(with_colour) for p in m.split(";"))


def test_zswap_gets_its_own_row_when_it_holds_pages() -> None:
    state = DashState("vm", None, 1.0, "live")
    state.local_time = time.gmtime
    a, b = sample(0, 0, 0, 0), sample(1, 0, 0, 0)
    b.vmstat = dict(b.vmstat, zswpout=2500, zswpin=100)
    b.meminfo = dict(b.meminfo, Zswap=8 * 1024 * 1024, Zswapped=32 * 1024 * 1024)
    tracker = Tracker()
    iv = Interval(a, b)
    tracker.add(iv)
    state.update(sample_record(iv, tracker, PAGE), None, [], "quiet")
    zrow = next(r for r in record(state, 100, 30) if "zswap" in r)
    assert "pool 8.0 MiB holding 32.0 MiB" in zrow and "no disk I/O" in zrow
    assert "stored 2,500/s loaded 100/s" in zrow
    # An empty, idle pool is not worth a row.
    idle = DashState("vm", None, 1.0, "live")
    c = sample(2, 0, 0, 0)
    c.vmstat = dict(b.vmstat)
    c.meminfo = dict(b.meminfo, Zswap=0, Zswapped=0)
    iv2 = Interval(b, c)
    tracker.add(iv2)
    idle.update(sample_record(iv2, tracker, PAGE), None, [], "quiet")
    assert not [r for r in record(idle, 100, 30) if "zswap" in r]


def test_tiers_panel_zram_area_io_zswap_limit_and_mthp() -> None:
    from clihelp import FIXTURES

    from checkswap.model.tiers import TierWatch
    from checkswap.source.root import Root

    # The tiers of a real tree (zram1 as swap, zswap at its limit, 64 kB folios split), and the
    # per-area rates TierWatch makes between two readings of it: 0/s on a still tree.
    clock = [100.0]
    watch = TierWatch(Root(f"{FIXTURES}/tiers-zram-zswap-6.18"), monotonic=lambda: clock[0])
    watch.update()
    clock[0] += 1
    state = DashState("vm", None, 1.0, "live")
    state.local_time = time.gmtime
    a, b = sample(0, 0, 0, 0), sample(1, 0, 0, 0)
    tracker = Tracker()
    iv = Interval(a, b)
    tracker.add(iv)
    devices = [{"name": "/dev/zram1", "kind": "zram", "size_bytes": 1, "used_bytes": 1}]
    state.update(sample_record(iv, tracker, PAGE), None, devices, "quiet")
    state.tiers = watch.update()
    rows = record(state, 120, 45)  # a tall screen: room for every tier row
    zram1 = next(r for r in rows if "zram1 stores" in r)
    assert "stores 250.0 MiB of 256.0 MiB in 80.1 MiB of RAM (3.1:1), no mem_limit" in zram1
    assert any("zram2 stores 100.0 MiB" in r and "limit 128.0 MiB" in r for r in rows)
    assert any("area I/O" in r and "/dev/zram1 read 0 B/s written 0 B/s" in r for r in rows)
    assert any("zswap pool 239.3 MiB of its 241.0 MiB limit (99 %)" in r for r in rows)
    assert any("mTHP split before swap-out" in r and "64 kB 88 %" in r for r in rows)
    # No tiers in use: no tier rows at all.
    bare = DashState("vm", None, 1.0, "live")
    bare.update(sample_record(iv, tracker, PAGE), None, [], "quiet")
    bare.tiers = {"zswap": None, "zram": [], "mthp": [], "areas": []}
    assert not [r for r in record(bare, 120, 40) if "stores" in r or "area I/O" in r]


def _tier_state(all_tiers: bool) -> tuple[DashState, list[float], list[float]]:
    """20 intervals of zswap traffic in front of an idle swapfile: the devices read 0/s."""
    state = DashState("vm", None, 1.0, "live")
    state.local_time = time.gmtime
    state.all_tiers = all_tiers
    tracker = Tracker()
    prev = sample(0, 0, 0, 0)
    ins, outs = [], []
    zin = zout = zero = 0
    for t in range(1, 21):
        zin += 4000 if t != 12 else 9000  # the swap-in peak, at t=12
        zout += 5000
        zero += 250
        cur = sample(t, 0, 0, 0)
        cur.vmstat = dict(cur.vmstat, zswpin=zin, zswpout=zout, swpin_zero=zero)
        ins.append(4250.0 if t != 12 else 9250.0)
        outs.append(5000.0)
        iv = Interval(prev, cur)
        tracker.add(iv)
        state.update(sample_record(iv, tracker, PAGE), None, [], "swapping")
        prev = cur
    return state, ins, outs


@pytest.mark.parametrize(("width", "height"), [(80, 24), (200, 60)])
def test_every_tier_gets_rows_beside_the_devices(width: int, height: int) -> None:
    state, ins, outs = _tier_state(all_tiers=True)
    rows = record(state, width, height)
    assert len(rows) == height
    dev_out = next(r for r in rows if r.startswith("swap-out "))
    assert re.match(r"swap-out\s+0\s+0\.0\s+0\s+0\s+0\s+0\s", dev_out), dev_out
    all_out = next(r for r in rows if r.startswith("all out "))
    all_in = next(r for r in rows if r.startswith("all in "))
    # now, (no MiB/s), 1m, 5m, 15m, peak and its time: the figures the test made.
    assert all_out.split()[2:7] == [f"{outs[-1]:,.0f}"] * 5, all_out  # a steady 5,000/s
    mean_in = f"{sum(ins) / len(ins):,.0f}"
    at = time.strftime("%H:%M:%S", time.gmtime(T0 + 12))
    assert all_in.split()[2:8] == ["4,250", mean_in, mean_in, mean_in, "9,250", at]


def test_no_every_tier_rows_without_the_condition_or_room() -> None:
    state, _, _ = _tier_state(all_tiers=False)
    assert not [r for r in record(state, 100, 30) if r.startswith(("all out", "all in"))]
    # Below 24 rows the lists would have no room left: the devices' rows only.
    tall, _, _ = _tier_state(all_tiers=True)
    rows = record(tall, 80, 20)
    assert len(rows) == 20
    assert not [r for r in rows if r.startswith("all ")]
