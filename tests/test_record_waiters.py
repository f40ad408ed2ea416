"""record --trigger names who waited for swap-in (the scan top uses, with a stand-in for
taskstats on a fixture tree), and report prints who waited during each spike, from a capture
that may be hostile."""

from __future__ import annotations

import json
from typing import Any

from clihelp import run_cli
from rechelp import WALL0, write_recording
from test_report import counters
from test_taskstats import FakeTaskstats, _tree

from checkswap.model.procs import Scanner
from checkswap.model.rates import Interval
from checkswap.model.sample import Sample
from checkswap.record.trigger import Trigger, most_active
from checkswap.units import iso_utc


def _sample(t: float, pin: int) -> Sample:
    return Sample(t, WALL0 + t, {"pswpin": pin, "pswpout": 0}, {}, None)


def test_the_trigger_capture_names_who_waited_even_when_cut_from_the_list(
    tmp_path: Any, monkeypatch: Any
) -> None:
    # Only one process kept by activity (java, the largest holder, as nothing moves here):
    # mysqld, who waits, is named among the waiters all the same.
    monkeypatch.setattr("checkswap.record.trigger.CAPTURE_PROCESSES", 1)
    scanner = Scanner(_tree(tmp_path, "1"), cgroups=False)  # its clock: 2 s a scan
    scanner._taskstats = FakeTaskstats(  # type: ignore[assignment]
        {812: 1_000_000_000, 900: 200_000_000}
    )
    trig = Trigger(1000.0, lambda: most_active(scanner.sample(), 4096))
    samples = [_sample(float(i), p) for i, p in enumerate([0, 5000, 10000, 15000])]
    got = [trig.check(Interval(a, b)) for a, b in zip(samples, samples[1:])]
    rec = next(r for r in got if r is not None)
    capture: Any = rec["capture"]
    assert [p["pid"] for p in capture["processes"]] == [1500]
    who = capture["waiters"]
    assert [w["pid"] for w in who] == [812, 900]
    assert who[0]["comm"] == "mysqld"
    assert who[0]["swapin_wait_s"] == 1.0 and who[0]["interval_s"] == 2.0
    assert who[0]["blkio_wait_s"] == 2.0  # the stand-in's block I/O is twice its swap-in


def _recording(tmp_path: Any, waiters: object) -> str:
    path = str(tmp_path / "r.jsonl")
    capture = {"type": "processes", "processes": [], "cgroups": [], "waiters": waiters}
    trig = {"type": "trigger", "time": iso_utc(WALL0 + 4), "wall": WALL0 + 4, "capture": capture}
    write_recording(path, counters(), extra=[json.dumps(trig) + "\n"])
    return path


def test_report_shows_who_waited_during_the_spike(tmp_path: Any) -> None:
    waiters = [
        {"pid": 812, "comm": "mysqld", "swapin_wait_s": 3.2, "blkio_wait_s": 1.1, "interval_s": 5},
        {"pid": 900, "comm": "nginx", "swapin_wait_s": 0.4, "blkio_wait_s": None, "interval_s": 5},
    ]
    path = _recording(tmp_path, waiters)
    status, out, err = run_cli("report", path, "--spike", "1000")
    assert status == 0, err
    line = next(x for x in out.splitlines() if "waited:" in x)
    assert "mysqld (pid 812) waited 3.2 s of the last 5.0 s for swap-in (and 1.1 s on block" in line
    assert "nginx (pid 900) waited 0.4 s of the last 5.0 s for swap-in" in line
    html = str(tmp_path / "r.html")
    status, _, err = run_cli("report", path, "--spike", "1000", "--html", html)
    assert status == 0, err
    with open(html) as f:
        assert "mysqld (pid 812) waited 3.2 s of the last 5.0 s for swap-in" in f.read()
    status, out, _ = run_cli("report", path, "--spike", "1000", "--format", "json")
    (spike,) = json.loads(out)["spikes"]
    assert [w["pid"] for w in spike["waiters"]] == [812, 900]


def test_a_hostile_capture_s_waiters_are_filtered_never_a_traceback(tmp_path: Any) -> None:
    waiters = [
        {"pid": 1, "comm": "\x1b[2Jevil\n", "swapin_wait_s": 1.0, "interval_s": 2.0},
        {"pid": 2, "comm": "huge", "swapin_wait_s": 1e12, "interval_s": 2.0},
        {"pid": "3", "comm": "strpid", "swapin_wait_s": 1.0, "interval_s": 2.0},
        {"pid": 4, "comm": "bool", "swapin_wait_s": True, "interval_s": 2.0},
        {"pid": 5, "comm": "neg", "swapin_wait_s": -1.0, "interval_s": 2.0},
        {"pid": 6, "comm": "blk", "swapin_wait_s": 1.0, "blkio_wait_s": "x", "interval_s": 2},
        7,
    ]
    path = _recording(tmp_path, waiters)
    status, out, err = run_cli("report", path, "--spike", "1000")
    assert status == 0 and "Traceback" not in err, err
    line = next(x for x in out.splitlines() if "waited:" in x)
    assert "\x1b" not in out
    assert "?[2Jevil? (pid 1) waited 1.0 s" in line
    assert "blk (pid 6) waited 1.0 s of the last 2.0 s for swap-in." in line
    for name in ("huge", "strpid", "bool", "neg"):
        assert name not in line
    (tmp_path / "b").mkdir()
    path = _recording(tmp_path / "b", "not a list")
    status, out, err = run_cli("report", path, "--spike", "1000")
    assert status == 0 and "waited:" not in out, err
