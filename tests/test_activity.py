"""Swap activity has one definition (procs.py, docs/interface.md): top --sort activity, dash's
sort and record --trigger's captures rank the same processes and cgroups the same way.

Regression: record used a hard-coded 4096-byte page and ranked bytes moved before faults; dash
added bytes to fault counts; top multiplied faults by the page size. On a 64 KiB-page machine
(arm64) the three disagreed about who is swapping most.
"""

from __future__ import annotations

import copy
import math

import pytest

from checkswap.model.procs import (
    arrange,
    cgroup_activity,
    cgroup_activity_key,
    process_activity,
    process_activity_key,
)
from checkswap.record.trigger import most_active

PAGE = 65536  # arm64 with 64 KiB pages: what a hard-coded 4096 gets wrong


def _proc(pid: int, comm: str, swap: int, delta: float | None, majflt: float | None) -> dict:
    return {
        "pid": pid,
        "comm": comm,
        "user": "root",
        "uid": 0,
        "state": "S",
        "swap_bytes": swap,
        "swap_delta_bytes_per_s": delta,
        "majflt_per_s": majflt,
        "cgroup": "/",
        "unit": None,
        "swap_pss_bytes": None,
    }


def _cgroup(
    path: str,
    swap: int,
    sin: float | None,
    sout: float | None,
    delta: float | None,
    majflt: float | None,
) -> dict:
    return {
        "path": path,
        "unit": None,
        "version": 2 if sin is not None else 1,
        "swap_bytes": swap,
        "swap_in_per_s": sin,
        "swap_out_per_s": sout,
        "swap_delta_bytes_per_s": delta,
        "majflt_per_s": majflt,
        "processes": 1,
    }


def top_object() -> dict:
    """One ``top --format json`` object, its lists in the scanner's order (swap held)."""
    return {
        "type": "processes",
        "time": "2026-12-02T00:00:00Z",
        "interval_s": 1.0,
        "processes": [
            _proc(10, "idle-big", 900 * PAGE, None, None),  # first scan of it: null rates, 0
            _proc(20, "swapin", 500 * PAGE, -30.0 * PAGE, 5.0),  # 30 pages back in + 5: 35
            _proc(30, "swapout", 400 * PAGE, 10.0 * PAGE, 0.0),  # 10 pages out: 10
            _proc(40, "faulter", 100 * PAGE, 0.0, 50.0),  # flat VmSwap, 50 faults/s: 50
            _proc(50, "tie-small", 50 * PAGE, 0.0, 10.0),  # 10, like swapout: less held, after
            _proc(60, "tie-pid", 50 * PAGE, 0.0, 10.0),  # same as 50: the lower pid first
        ],
        "cgroups": [
            # v1: no pswpin/pswpout, its own change of swap held stands in: 10 pages/s
            _cgroup("/v1-mover", 800 * PAGE, None, None, 10.0 * PAGE, 0.0),
            # v2, 6.13+: the kernel's own pages in + out: 20 pages/s
            _cgroup("/v2-counted", 200 * PAGE, 15.0, 5.0, 0.0, 0.0),
            _cgroup("/quiet", 100 * PAGE, 0.0, 0.0, 0.0, 0.0),
        ],
        "swap_used_bytes": 3000 * PAGE,
        "unattributed_swap_bytes": 0,
        "hidden_processes": False,
    }


PROCESS_ORDER = [40, 20, 30, 50, 60, 10]
CGROUP_ORDER = ["/v2-counted", "/v1-mover", "/quiet"]


def test_the_definition_is_pages_per_second() -> None:
    p = _proc(1, "x", 0, -3.0 * PAGE, 2.0)
    assert process_activity(p, PAGE) == 5.0
    assert process_activity(_proc(1, "x", 0, None, None), PAGE) == 0.0
    assert cgroup_activity(_cgroup("/a", 0, 15.0, 5.0, 1e9, 1e9), PAGE) == 20.0
    assert cgroup_activity(_cgroup("/b", 0, None, None, -10.0 * PAGE, 1.0), PAGE) == 11.0


def test_top_dash_and_record_rank_by_the_same_activity() -> None:
    pytest.importorskip("rich")
    from checkswap.fields import sample_record
    from checkswap.model.rates import Interval, Tracker
    from checkswap.model.sample import Sample
    from checkswap.render.dash import DashState, who

    rec = top_object()

    top, _ = arrange(copy.deepcopy(rec), "activity", None, PAGE)
    top_pids = [p["pid"] for p in top["processes"]]
    top_paths = [c["path"] for c in top["cgroups"]]

    captured = most_active(copy.deepcopy(rec), PAGE)
    record_pids = [p["pid"] for p in captured["processes"]]
    record_paths = [c["path"] for c in captured["cgroups"]]

    # dash takes the page size from the interval it shows: one interval on a 64K-page machine
    state = DashState("arm", "6.18", 1.0, "live")
    vm = dict.fromkeys(("pswpin", "pswpout", "pgmajfault"), 0)
    mem = {"SwapTotal": 1 << 30, "SwapFree": 1 << 29, "SwapCached": 0, "MemAvailable": 1 << 30}
    a, b = Sample(1.0, 1.0, vm, mem, None), Sample(2.0, 2.0, vm, mem, None)
    tracker = Tracker()
    iv = Interval(a, b)
    tracker.add(iv)
    state.update(sample_record(iv, tracker, PAGE), copy.deepcopy(rec), [], "quiet")
    state.next_sort()
    assert state.sort == "activity"
    key = who(state, 200, 60).key
    assert isinstance(key, tuple)
    dash_pids = [int(row[0]) for row in key[0]]
    dash_paths = [row[0] for row in key[1]]

    assert top_pids == record_pids == dash_pids == PROCESS_ORDER
    assert top_paths == record_paths == dash_paths == CGROUP_ORDER


def test_sort_keys_survive_what_a_recording_may_hold() -> None:
    # dash ranks captures read back from a recording: untrusted JSON, never a crash
    odd = [
        {"pid": "7", "swap_bytes": "x", "swap_delta_bytes_per_s": math.nan, "majflt_per_s": True},
        {"pid": 8, "swap_bytes": 1, "swap_delta_bytes_per_s": math.inf, "majflt_per_s": 1.0},
        {},
    ]
    assert [p.get("pid") for p in sorted(odd, key=process_activity_key(PAGE))] == [8, "7", None]
    cgs = [{"path": None, "swap_in_per_s": "3"}, {"path": "/a", "swap_out_per_s": 2.0}]
    assert [c["path"] for c in sorted(cgs, key=cgroup_activity_key(PAGE))] == ["/a", None]
