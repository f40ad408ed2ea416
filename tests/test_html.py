"""report --html: downsampling that keeps spikes, and the page in headless Chromium."""

from __future__ import annotations

import math
import os
import re
from array import array

import browser
import pytest
from clihelp import run_cli
from lab import kernel_tests_enabled
from rechelp import write_recording

import checkswap.record.chart as chart_mod

ARTIFACTS = os.path.join(os.path.dirname(__file__), "artifacts")


def _chart(t, v, windows=(), buckets=None, monkeypatch=None):
    if buckets is not None:
        monkeypatch.setattr(chart_mod, "BUCKETS", buckets)
    c = chart_mod.Chart()
    nan = array("d", [math.nan]) * len(t)
    # In pieces, as report folds a chunk at a time.
    for a in range(0, len(t), 7777):
        b = a + 7777
        c.extend(t[a:b], [v[a:b], v[a:b], nan[a:b], nan[a:b], v[a:b]], list(windows))
    return c


def test_chart_keeps_every_spike_peak_and_bounds_the_points(monkeypatch):
    n = 300_000
    t = array("d", (float(i) for i in range(n)))
    v = array("d", (float(i % 7) for i in range(n)))
    for i in (12_345, 200_001):
        v[i] = 50_000.0 + i
    v[77_777] = math.nan
    c = _chart(t, v, buckets=1000, monkeypatch=monkeypatch)
    xs, (out, _, psi, _, _) = c.points()
    assert len(c.t0) <= 1000 and len(xs) == len(out) <= 2 * 1000
    assert 50_000.0 + 12_345 in out and 50_000.0 + 200_001 in out
    assert min(x for x in out if x == x) == 0.0
    assert all(x != x for x in psi)
    assert list(xs) == sorted(xs) and xs[0] == 0.0 and xs[-1] == n - 1
    assert c.intervals == n


def test_chart_keeps_full_resolution_around_spikes(monkeypatch):
    n = 100_000
    t = array("d", (float(i) for i in range(n)))
    v = array("d", (float(i % 3) for i in range(n)))
    c = _chart(t, v, windows=[(50_000.0, 50_100.0)], buckets=500, monkeypatch=monkeypatch)
    xs, (_out, *_) = c.points()
    inside = [x for x in xs if 50_000 <= x < 50_100]
    assert inside == [float(i) for i in range(50_000, 50_100)]
    assert list(xs) == sorted(xs)


def test_chart_memory_does_not_grow_with_the_recording(monkeypatch):
    """30 days at 1 Hz folded a chunk at a time: the buckets stay under the bound."""
    monkeypatch.setattr(chart_mod, "BUCKETS", 2000)
    c = chart_mod.Chart()
    step = 50_000
    cols = [array("d", [1.0]) * step for _ in range(5)]
    for k in range(0, 30 * 86400, step):
        c.extend(array("d", range(k, k + step)), cols, [])
        assert len(c.t0) <= 2 * 2000
    assert c.width > 1 and len(c.detail_t) == 0


def test_a_short_chart_is_every_point_as_it_came():
    t = array("d", [5.0, 6.0, 4.0, 7.0])  # a wall-clock step back holds the axis still
    v = array("d", [1.0, math.nan, 3.0, 2.0])
    c = chart_mod.Chart()
    c.extend(t, [v] * 5, [])
    xs, cols = c.points()
    assert list(xs) == [5.0, 6.0, 6.0, 7.0]
    assert cols[0][0] == 1.0 and cols[0][1] != cols[0][1] and list(cols[0][2:]) == [3.0, 2.0]


def _spiky_recording(path: str) -> None:
    rows, pin, pout = [], 0, 0
    for i in range(3000):
        hot = 1000 <= i < 1060
        pin += 20_000 if hot else (i % 5 == 0)
        pout += 25_000 if hot else 0
        rows.append((float(i), pin, pout))
    write_recording(path, rows)


def test_html_is_self_contained_and_carries_the_licence(tmp_path):
    rec, html = str(tmp_path / "r.jsonl"), str(tmp_path / "r.html")
    _spiky_recording(rec)
    status, _out, err = run_cli("report", rec, "--html", html)
    assert status == 0, err
    with open(html, encoding="utf-8") as f:
        text = f.read()
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", text)
    assert "<link" not in text
    assert "Copyright (c) 2022 Leon Sorokin" in text
    assert text.count("</script>") == 3  # data, uPlot, page script: nothing ends them early


def test_html_draws_in_headless_chromium_without_console_errors(tmp_path):
    if browser.chromium() is None:
        if kernel_tests_enabled():
            pytest.fail("chromium is not installed (tools/test installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    rec, html = str(tmp_path / "r.jsonl"), str(tmp_path / "r.html")
    _spiky_recording(rec)
    status, _out, err = run_cli("report", rec, "--html", html)
    assert status == 0, err
    attrs, console = browser.load(html)
    assert console == []
    assert attrs.get("probed") == "1", attrs
    assert attrs.get("drawn") == "3"
    assert "errors" not in attrs
    painted = [int(x) for x in attrs["painted"].split(",")]
    assert len(painted) == 3 and min(painted) > 2000, painted
    assert int(attrs["shaded"]) > 1000  # the spike band
    lo, hi = (float(x) for x in attrs["zoom"].split(","))
    wall0 = 1795737600.0
    assert lo < wall0 + 1000 and hi > wall0 + 1060 and hi - lo < 300  # clicked: zoomed in
    os.makedirs(ARTIFACTS, exist_ok=True)
    png = os.path.join(ARTIFACTS, "report.png")
    browser.screenshot(html, png)
    assert os.path.getsize(png) > 10_000


def test_chart_is_the_same_however_the_intervals_are_cut(monkeypatch):
    """report folds one chunk at a time, and the chunks' sizes follow the file's bytes: the
    chart must not depend on where the cuts fall."""
    import random

    monkeypatch.setattr(chart_mod, "BUCKETS", 300)
    rnd = random.Random(7)
    n = 20_000
    t = array("d", (float(i) for i in range(n)))
    v = array("d", (rnd.choice((0.0, 1.0, 2.0, math.nan, rnd.random() * 1e4)) for _ in range(n)))
    windows = [(5000.0, 5300.0), (12_000.0, 12_050.0)]
    got = []
    for cuts in ([n], [1, 2, 599, 601, 3000, 7777, n], [*range(997, n, 997), n]):
        c = chart_mod.Chart()
        a = 0
        for b in cuts:
            c.extend(t[a:b], [v[a:b]] * 5, windows)
            a = b
        got.append(repr(c.points()))
    assert got[0] == got[1] == got[2]
