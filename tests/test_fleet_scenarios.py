"""``checkswap fleet`` against a real Prometheus holding backfilled scenarios.

What a live run cannot make is written as OpenMetrics and backfilled with promtool: a host
thrashing for 20 minutes, one thrashing without PSI (refaults), one swapping gently, a quiet
one, one with a 10-minute gap in its scrapes, and 300 quiet hosts besides. The expected figures
are the arithmetic of the generated counters, not checkswap's. No swapping happens here: these
run without CHECKSWAP_KERNEL_TESTS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from checkswap.fleet.queries import QUERIES
from tests import browser, fleetlab
from tests.clihelp import run_cli
from tests.fleetlab import Series, counter, gauge

EVERY = 15.0  # scrape interval of the generated data
# The window: 30 minutes ending a few minutes ago, on whole minutes.
END = (int(time.time()) // 60 - 3) * 60.0
START = END - 1800.0
THRASH = (START + 300, START + 1500)  # 20 minutes
GAP = (START + 600, START + 1200)  # 10 minutes without scrapes
CROWD = 300
TYPES = {
    "checkswap_swap_in_pages": "counter",
    "checkswap_swap_out_pages": "counter",
    "checkswap_memory_pressure_stall_seconds": "counter",
    "checkswap_refault_anon_pages": "counter",
    "checkswap_process_swapin_wait_seconds": "counter",
}
WAIT = "checkswap_process_swapin_wait_seconds_total"


def _host(name: str, sin, sout, psi=None, refault=None, used=1e6, gaps=()) -> list[Series]:  # type: ignore[no-untyped-def]
    a, b = START - 600, END + 60  # scrapes from before the window to after it
    lab = {"instance": name, "job": "checkswap", "env": "prod"}
    out = [
        Series("checkswap_swap_in_pages_total", lab, counter(a, b, EVERY, sin, gaps)),
        Series("checkswap_swap_out_pages_total", lab, counter(a, b, EVERY, sout, gaps)),
        Series("checkswap_swap_used_bytes", lab, gauge(a, b, EVERY, lambda t: used, gaps)),
    ]
    if psi is not None:
        out.append(
            Series(
                "checkswap_memory_pressure_stall_seconds_total",
                {**lab, "kind": "full"},
                counter(a, b, EVERY, psi, gaps),
            )
        )
    if refault is not None:
        out.append(
            Series("checkswap_refault_anon_pages_total", lab, counter(a, b, EVERY, refault, gaps))
        )
    return out


def _in_thrash(t: float) -> bool:
    return THRASH[0] <= t < THRASH[1]


def scenario() -> str:
    series = []
    series += _host(
        "thrash:9",
        lambda t: 500.0 if _in_thrash(t) else 0.0,
        lambda t: 300.0 if _in_thrash(t) else 0.0,
        psi=lambda t: 0.2 if _in_thrash(t) else 0.0,
        used=3e9,
    )
    series += _host(
        "nopsi:9",
        lambda t: 2000.0 if _in_thrash(t) else 0.0,
        lambda t: 0.0,
        refault=lambda t: 1500.0 if _in_thrash(t) else 0.0,
    )
    series += _host("gentle:9", lambda t: 10.0, lambda t: 5.0, psi=lambda t: 0.0)
    series += _host("quiet:9", lambda t: 0.0, lambda t: 0.0, psi=lambda t: 0.0)
    series += _host("gappy:9", lambda t: 0.0, lambda t: 0.0, psi=lambda t: 0.0, gaps=[GAP])
    for i in range(CROWD):
        series += _host(f"crowd-{i:03d}:9", lambda t: 0.0, lambda t: 0.0)
    lab = {"instance": "thrash:9", "job": "checkswap", "env": "prod"}
    series.append(
        Series(
            "checkswap_doctor_finding",
            {**lab, "id": "thrashing", "severity": "critical"},
            gauge(END - 600, END, EVERY, lambda t: 1),
        )
    )
    series.append(
        Series(
            "checkswap_process_swap_bytes",
            {**lab, "comm": "java", "unit": "app.service"},
            gauge(END - 600, END, EVERY, lambda t: 2e9),
        )
    )
    series.append(
        Series(
            "checkswap_cgroup_swap_bytes",
            {**lab, "cgroup": "/system.slice/app.service"},
            gauge(END - 600, END, EVERY, lambda t: 2.5e9),
        )
    )
    # serve --delayacct on thrash:9: java waits half a second per second while it thrashes,
    # sshd never waits again (its series stays flat), and postgres waits a little all along.
    # On gentle:9 the family is exported but flat: nobody waited in the window. The other
    # hosts export none, as serve without --delayacct.
    a, b = START - 600, END + 60
    for comm, unit, per_s in (
        ("java", "app.service", lambda t: 0.5 if _in_thrash(t) else 0.0),
        ("sshd", "ssh.service", lambda t: 0.0),
        ("postgres", "postgresql.service", lambda t: 0.01),
    ):
        series.append(
            Series(WAIT, {**lab, "comm": comm, "unit": unit}, counter(a, b, EVERY, per_s))
        )
    gentle = {"instance": "gentle:9", "job": "checkswap", "env": "prod"}
    series.append(
        Series(
            WAIT,
            {**gentle, "comm": "cron", "unit": "cron.service"},
            gauge(a, b, EVERY, lambda t: 4.0),
        )
    )
    return fleetlab.openmetrics(series, TYPES)


@pytest.fixture(scope="module")
def prom() -> Iterator[str]:
    with fleetlab.prometheus(scenario()) as url:
        yield url


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def fleet(url: str, *extra: str) -> tuple[int, list[dict], str]:  # type: ignore[type-arg]
    code, out, err = run_cli(
        ["fleet", "--prometheus", url, "--from", _iso(START), "--to", _iso(END), *extra]
    )
    return code, [json.loads(x) for x in out.splitlines()] if "json" in extra else [], out + err


def test_ranking_totals_and_minutes(prom: str) -> None:
    code, rows, text = fleet(prom, "--format", "json", "--limit", "1000")
    assert code == 2, text  # some host thrashing
    hosts, summary = rows[:-1], rows[-1]
    assert summary["record"] == "summary"
    assert summary["hosts"] == 5 + CROWD
    assert summary["step_s"] == 60
    assert [h["instance"] for h in hosts[:3]] == ["nopsi:9", "thrash:9", "gentle:9"]
    by = {h["instance"]: h for h in hosts}
    t = by["thrash:9"]
    assert t["verdict"] == "thrashing"
    # 20 minutes at 500 pages/s; the minute of each edge is half in, half out.
    assert abs(t["swap_in_pages"] - 500 * 1200) / (500 * 1200) < 0.03
    assert abs(t["swap_out_pages"] - 300 * 1200) / (300 * 1200) < 0.03
    assert 19 <= t["thrashing_minutes"] <= 21
    assert t["thrashing_minutes"] + t["quiet_minutes"] + t["swapping_minutes"] == 30
    assert t["peak_swap_in_per_s"] == pytest.approx(500, rel=0.02)
    peak_at = datetime.fromisoformat(t["peak_swap_in_time"]).timestamp()
    assert THRASH[0] < peak_at <= THRASH[1] + 60
    assert t["swap_used_bytes"] == 3e9
    assert t["findings"] == [{"id": "thrashing", "severity": "critical"}]
    assert t["top_processes"] == [{"comm": "java", "unit": "app.service", "swap_bytes": 2e9}]
    assert t["top_cgroups"] == [{"cgroup": "/system.slice/app.service", "swap_bytes": 2.5e9}]
    # Longest wait first, increase() of the generated counters; sshd's flat series is no
    # waiter. gentle:9's family is flat: nobody waited ([]); the rest export none (null).
    assert [(w["comm"], w["unit"]) for w in t["top_waiters"]] == [
        ("java", "app.service"),
        ("postgres", "postgresql.service"),
    ]
    java, pg = (w["swapin_wait_s"] for w in t["top_waiters"])
    assert abs(java - 0.5 * 1200) / (0.5 * 1200) < 0.03, java
    assert abs(pg - 0.01 * 1800) / (0.01 * 1800) < 0.03, pg
    assert by["gentle:9"]["top_waiters"] == []
    assert by["quiet:9"]["top_waiters"] is None and by["nopsi:9"]["top_waiters"] is None
    # Without PSI the refault rule of doctor decides: 1500 of 2000 swap-ins refaulted.
    assert by["nopsi:9"]["verdict"] == "thrashing"
    assert 19 <= by["nopsi:9"]["thrashing_minutes"] <= 21
    g = by["gentle:9"]
    assert g["verdict"] == "swapping" and g["swapping_minutes"] == 30
    assert abs(g["swap_in_pages"] - 10 * 1800) / (10 * 1800) < 0.03
    assert by["quiet:9"]["verdict"] == "quiet" and by["quiet:9"]["quiet_minutes"] == 30
    gap = by["gappy:9"]
    assert gap["verdict"] == "quiet"
    assert 9 <= gap["unknown_minutes"] <= 11, gap
    assert all(by[f"crowd-{i:03d}:9"]["verdict"] == "quiet" for i in range(CROWD))


def test_queries_do_not_grow_with_hosts(prom: str) -> None:
    _, many, _ = fleet(prom, "--format", "json")
    _, few, _ = fleet(prom, "--format", "json", "--match", 'instance=~"thrash.*|quiet.*|gentle.*"')
    assert many[-1]["hosts"] == 5 + CROWD and few[-1]["hosts"] == 3
    assert many[-1]["queries"] == few[-1]["queries"] == len(QUERIES)


def test_text_table(prom: str) -> None:
    code, _, text = fleet(prom, "--limit", "4")
    assert code == 2
    lines = text.splitlines()
    assert lines[1].endswith("; step 1m (1-minute rates)"), lines[1]
    assert (
        f"305: 2 thrashing, 1 swapping, 302 quiet, 0 unknown ({len(QUERIES)} queries)" in lines[2]
    )
    row = next(x for x in lines if x.startswith("thrash:9"))
    assert row.split()[1:3] == ["thrashing", "20"]
    assert "findings thrashing (critical); in swap java 1.9 GiB" in text
    assert "; swap-in wait java 6" in text and ", postgres 18." in text  # 600 s, 18 s
    assert "cron" not in text  # gentle:9: nobody waited, and nothing says "0 s"
    assert "... and 301 more" in text


def test_by_label_and_exit_statuses(prom: str) -> None:
    code, rows, _ = fleet(prom, "--format", "json", "--by", "env")
    assert code == 2 and rows[0]["env"] == "prod" and rows[0]["instance"] is None
    code, _, _ = fleet(prom, "--match", 'instance="gentle:9"')
    assert code == 1
    code, _, _ = fleet(prom, "--match", '{instance="quiet:9"}')
    assert code == 0


def test_selector_matching_nothing_and_bad_promql(prom: str) -> None:
    code, _, text = fleet(prom, "--match", 'job="nosuch"')
    assert code == 3
    assert text.startswith("checkswap: no checkswap series match") and "--match" in text
    assert len(text.splitlines()) == 1
    code, _, text = fleet(prom, "--match", 'job=="x"')
    assert code == 3
    assert "bad PromQL" in text and len(text.splitlines()) == 1, text


def test_long_window_step_grows(prom: str) -> None:
    """30 days at a 1-minute step would be 43,200 points: the step grows to 4 minutes."""
    code, out, err = run_cli(["fleet", "--prometheus", prom, "--since", "30d", "--format", "json"])
    assert code == 2, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["step_s"] == 240 and summary["rate_window_s"] == 240


def test_html_in_chromium(prom: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if browser.chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = str(tmp_path / "fleet.html")
    code, _, text = fleet(prom, "--limit", "6", "--html", page)
    assert code == 2, text
    with open(page, encoding="utf-8") as f:
        html = f.read()
    assert "@TITLE@" not in html and html.count("checkswap fleet: 305 hosts") == 2
    # The swap-in wait column as the browser drew it, one cell per host row.
    waits = """<script>window.addEventListener("load", function () {
  var cells = document.querySelectorAll("#hosts td.w"), names = [];
  cells.forEach(function (td) { names.push(td.parentNode.firstChild.textContent + "=" +
    td.textContent); });
  document.body.dataset.waits = names.join("|");
});</script>"""
    attrs, console = browser.load(page, probe=browser.PROBE + waits)
    assert console == [], console
    painted = [int(x) for x in attrs.get("painted", "").split(",") if x]
    assert len(painted) == 6 and all(n > 0 for n in painted), attrs
    cells = dict(c.split("=", 1) for c in attrs["waits"].split("|"))
    assert cells["thrash:9"].startswith("java 6") and ", postgres 18." in cells["thrash:9"]
    assert cells["gentle:9"] == "nobody" and cells["nopsi:9"] == "-", cells
