"""The fleet question asked of Prometheus: per host, what swapped, what thrashed, who held swap.

``ask()`` sends a fixed set of PromQL queries, each aggregated ``by`` one label (instance by
default), so the number of HTTP calls does not depend on the number of hosts: totals as
``increase()`` computes them, 1-minute rates over the window at a step chosen under
Prometheus's 11,000-points limit, swap used now and at its peak, the doctor findings exported
now, the top holders of swap and who waited longest for swap-in. Each step of the rates is
judged by model/verdict.py, the one home of doctor's thresholds, so a minute is "thrashing"
here exactly when doctor would say so of a 1-minute sample. Hosts are ranked by harm:
thrashing minutes, then pages swapped in.

The metric names are the field registry's (fields.py) and, for the families serve builds
itself, fleet/names.py's; nothing here formats output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from checkswap.fields import FIELDS, cgroup_field, process_field
from checkswap.fleet.names import FINDING, PROCESS_SWAPIN_WAIT
from checkswap.fleet.prom import FleetError, clean
from checkswap.fleet.queries import QUERIES
from checkswap.model.verdict import (
    THRASH_NO_PSI_SWAP_IN_PAGES_PER_S,
    THRASH_SWAP_IN_PAGES_PER_S,
    verdict,
)

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Any

    from checkswap.fleet.prom import Client

# Prometheus refuses a range query of more than 11,000 points per series
# (web/api/v1/api.go: "exceeded maximum resolution of 11,000 points per timeseries").
MAX_POINTS = 11_000
MIN_STEP_S = 60.0  # doctor's thresholds are for 1-minute rates
# "Now" is the last scrape within this much before the window's end.
NOW_LOOKBACK_S = 300
VERDICTS = ("thrashing", "swapping", "quiet", "unknown")  # worst first
TOP = 3  # processes and cgroups shown per host


def metric(key: str) -> str:
    m = FIELDS[key].metric
    assert m is not None, key
    return m.name + ("_total" if m.type == "counter" and not m.name.endswith("_total") else "")


def choose_step(window_s: float, rate_window_s: float = MIN_STEP_S) -> float:
    """The step of the range queries: a whole number of minutes, 1 unless the window would
    then need more than MAX_POINTS points (beyond ~7.6 days), and never below the rate window
    (a step shorter than the rate would count a minute twice)."""
    minutes = max(1, math.ceil(window_s / MAX_POINTS / 60.0))
    return max(minutes * 60.0, math.ceil(rate_window_s / 60.0) * 60.0)


def selector(name: str, match: str, *extra: str) -> str:
    """``name{match,extra...}``; ``match`` with or without braces (``job="node"``)."""
    inner = match.strip()
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1].strip()
    parts = [p for p in (inner, *extra) if p]
    return name + "{" + ",".join(parts) + "}"


def _dur(seconds: float) -> str:
    return f"{round(seconds)}s"


@dataclass
class Host:
    """One value of the ``by`` label and what the window held for it."""

    name: str
    swap_in_pages: float | None = None
    swap_out_pages: float | None = None
    peak_swap_in_per_s: float | None = None
    peak_swap_in_at: float | None = None
    minutes: dict[str, float] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0.0))
    swap_used_bytes: float | None = None
    swap_used_peak_bytes: float | None = None
    findings: list[dict[str, str]] = field(default_factory=list)
    top_processes: list[dict[str, Any]] = field(default_factory=list)
    top_cgroups: list[dict[str, Any]] = field(default_factory=list)
    # Who waited longest for swap-in over the window (increase() of serve's taskstats
    # counter); None when the host exports no such series (serve without --delayacct).
    top_waiters: list[dict[str, Any]] | None = None
    # The 1-minute rates at each step (None: no data), for the charts.
    swap_in_per_s: list[float | None] = field(default_factory=list)
    swap_out_per_s: list[float | None] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """The worst verdict of any step; unknown only when no step had data."""
        for v in VERDICTS:
            if self.minutes[v] > 0:
                return v
        return "unknown"

    def harm(self) -> tuple[float, float, float, str]:
        return (
            -self.minutes["thrashing"],
            -(self.swap_in_pages or 0.0),
            -self.minutes["swapping"],
            self.name,
        )


@dataclass
class Fleet:
    by: str
    match: str
    start: float
    end: float
    step_s: float
    rate_window_s: float
    times: list[float]
    hosts: list[Host]  # ranked, most harmed first
    calls: int


def _value(sample: Any) -> float | None:
    """The float of a Prometheus sample pair [t, "v"]; NaN and ±Inf are no value."""
    try:
        v = float(sample[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    return v if math.isfinite(v) else None


def _labels(series: dict[str, Any]) -> dict[str, Any]:
    labels = series.get("metric")
    return labels if isinstance(labels, dict) else {}  # the server's answer is not trusted


def _key(series: dict[str, Any], by: str) -> str:
    value = _labels(series).get(by)
    return clean(value) if value is not None else ""


def _per_host(result: list[dict[str, Any]], by: str) -> dict[str, float]:
    out = {}
    for s in result:
        v = _value(s.get("value") or [])
        if v is not None:
            out[_key(s, by)] = v
    return out


def _grid(
    result: list[dict[str, Any]], by: str, times: list[float]
) -> dict[str, list[float | None]]:
    """Each host's range series on the step grid; a step without a point is None."""
    index = {round(t, 3): i for i, t in enumerate(times)}
    out: dict[str, list[float | None]] = {}
    for s in result:
        row = out.setdefault(_key(s, by), [None] * len(times))
        values = s.get("values")
        if not isinstance(values, list):
            continue
        for pair in values:
            if not isinstance(pair, list) or len(pair) != 2:
                continue
            try:
                i = index.get(round(float(pair[0]), 3))
            except (TypeError, ValueError):
                continue
            if i is not None:
                row[i] = _value(pair)
    return out


def ask(
    client: Client,
    start: float,
    end: float,
    match: str = "",
    by: str = "instance",
    rate_window_s: float = MIN_STEP_S,
    top: int = TOP,
) -> Fleet:
    """Ask Prometheus about [start, end]: len(QUERIES) queries whatever the number of hosts."""
    window = end - start
    step = choose_step(window, rate_window_s)
    # The first point ends the first whole step: each point's rate covers (t - step, t].
    n = max(1, int(window // step))
    times = [end - (n - 1 - i) * step for i in range(n)]
    rate_w = _dur(max(step, rate_window_s))
    sin = selector(metric("swap_in_pages"), match)
    sout = selector(metric("swap_out_pages"), match)
    used = selector(metric("swap_used_bytes"), match)
    psi_m = FIELDS["psi_full_pct"].metric
    assert psi_m is not None and psi_m.label is not None
    psi = selector(psi_m.name, match, f'{psi_m.label[0]}="{psi_m.label[1]}"')
    refault = selector(metric("refault_anon_per_s"), match)
    w = _dur(window)
    b = f"by ({by})"
    now = _dur(NOW_LOOKBACK_S)
    rate_in_q = f"sum {b} (rate({sin}[{rate_w}]))"
    proc = selector(_gauge(process_field("swap_bytes").metric), match)
    cg = selector(_gauge(cgroup_field("swap_bytes").metric), match)
    wait = selector(PROCESS_SWAPIN_WAIT, match)
    finding = selector(FINDING, match)
    promql = {
        "swap-in total": f"sum {b} (increase({sin}[{w}]))",
        "swap-out total": f"sum {b} (increase({sout}[{w}]))",
        "swap-in rate": rate_in_q,
        "swap-out rate": f"sum {b} (rate({sout}[{rate_w}]))",
        # PSI and refaults matter only where swap-in reaches a thrashing bar: fetched only for
        # those steps, so a quiet fleet's answer stays small.
        "PSI where swap-in thrashes": (
            f"max {b} (rate({psi}[{rate_w}])) * 100 and on ({by}) "
            f"({rate_in_q} >= {THRASH_SWAP_IN_PAGES_PER_S!r})"
        ),
        "refaults where swap-in thrashes without PSI": (
            f"sum {b} (rate({refault}[{rate_w}])) and on ({by}) "
            f"({rate_in_q} >= {THRASH_NO_PSI_SWAP_IN_PAGES_PER_S!r})"
        ),
        "swap used now": f"sum {b} (last_over_time({used}[{now}]))",
        "swap used peak": f"max {b} (max_over_time({used}[{w}]))",
        "findings": f"max by ({by}, id, severity) (last_over_time({finding}[{now}])) == 1",
        "top holders of swap": (
            f"topk by ({by}) ({top}, sum by ({by}, comm, unit) (last_over_time({proc}[{now}])) > 0)"
        ),
        "top cgroups by swap": (
            f"topk by ({by}) ({top}, sum by ({by}, cgroup) (last_over_time({cg}[{now}])) > 0)"
        ),
        # No "> 0" here: a host whose serve exports the family (--delayacct) but where nobody
        # waited in the window is "none waited" ([]), one without it "not measured" (None).
        "top swap-in waiters": (
            f"topk by ({by}) ({top}, sum by ({by}, comm, unit) (increase({wait}[{w}])))"
        ),
    }
    assert tuple(promql) == tuple(name for name, _ in QUERIES)
    answers = {}
    for name, kind in QUERIES:
        if kind == "range":
            answers[name] = client.query_range(promql[name], times[0], times[-1], step)
        else:
            answers[name] = client.query(promql[name], end)
    inc_in, inc_out = answers["swap-in total"], answers["swap-out total"]
    rate_in, rate_out = answers["swap-in rate"], answers["swap-out rate"]
    psi_r = answers["PSI where swap-in thrashes"]
    refault_r = answers["refaults where swap-in thrashes without PSI"]
    used_now, used_peak = answers["swap used now"], answers["swap used peak"]
    findings = answers["findings"]
    procs, cgroups = answers["top holders of swap"], answers["top cgroups by swap"]
    waiters = answers["top swap-in waiters"]

    if not inc_in and not inc_out and not rate_in:
        raise FleetError(
            f"no checkswap series match {sin} between {_iso(start)} and {_iso(end)}: is "
            "`checkswap serve` scraped by this Prometheus? (check --match, such as "
            'job="checkswap", and that the window holds scrapes)'
        )
    hosts: dict[str, Host] = {}

    def host(name: str) -> Host:
        h = hosts.get(name)
        if h is None:
            h = hosts[name] = Host(name, swap_in_per_s=[None] * n, swap_out_per_s=[None] * n)
        return h

    for name, v in _per_host(inc_in, by).items():
        host(name).swap_in_pages = v
    for name, v in _per_host(inc_out, by).items():
        host(name).swap_out_pages = v
    for name, row in _grid(rate_in, by, times).items():
        host(name).swap_in_per_s = row
    for name, row in _grid(rate_out, by, times).items():
        host(name).swap_out_per_s = row
    for name, v in _per_host(used_now, by).items():
        host(name).swap_used_bytes = v
    for name, v in _per_host(used_peak, by).items():
        host(name).swap_used_peak_bytes = v
    for s in findings:
        labels = _labels(s)
        host(_key(s, by)).findings.append(
            {"id": clean(labels.get("id", "")), "severity": clean(labels.get("severity", ""))}
        )
    for s in procs:
        labels = _labels(s)
        held = _value(s.get("value"))
        if held is not None:
            host(_key(s, by)).top_processes.append(
                {
                    "comm": clean(labels.get("comm", "")),
                    "unit": clean(labels.get("unit", "")),
                    "swap_bytes": held,
                }
            )
    for s in cgroups:
        labels = _labels(s)
        held = _value(s.get("value"))
        if held is not None:
            host(_key(s, by)).top_cgroups.append(
                {"cgroup": clean(labels.get("cgroup", "")), "swap_bytes": held}
            )
    for s in waiters:
        waited = _value(s.get("value"))
        if waited is None:
            continue
        h = host(_key(s, by))
        if h.top_waiters is None:
            h.top_waiters = []  # the family is there: measured, even if nobody waited
        if waited > 0:
            labels = _labels(s)
            h.top_waiters.append(
                {
                    "comm": clean(labels.get("comm", "")),
                    "unit": clean(labels.get("unit", "")),
                    "swapin_wait_s": waited,
                }
            )
    psi_g = _grid(psi_r, by, times)
    refault_g = _grid(refault_r, by, times)
    step_min = step / 60.0
    for h in hosts.values():
        _judge(h, psi_g.get(h.name), refault_g.get(h.name), times, step_min)
        h.findings.sort(key=lambda f: (f["severity"] != "critical", f["id"]))
        h.top_processes.sort(key=lambda p: (-p["swap_bytes"], p["comm"]))
        h.top_cgroups.sort(key=lambda c: (-c["swap_bytes"], c["cgroup"]))
        if h.top_waiters:
            h.top_waiters.sort(key=lambda p: (-p["swapin_wait_s"], p["comm"]))
    ranked = sorted(hosts.values(), key=Host.harm)
    return Fleet(by, match, start, end, step, max(step, rate_window_s), times, ranked, client.calls)


def _iso(t: float) -> str:
    from checkswap.units import iso_utc

    return (iso_utc(t) or "?")[:19] + "Z"


def _gauge(m: object) -> str:
    name = getattr(m, "name", None)
    assert isinstance(name, str)
    return name


def _judge(
    h: Host,
    psi: list[float | None] | None,
    refault: list[float | None] | None,
    times: list[float],
    step_min: float,
) -> None:
    """Minutes in each verdict, and the peak swap-in, from the host's rates at each step."""
    for i, t in enumerate(times):
        sin, sout = h.swap_in_per_s[i], h.swap_out_per_s[i]
        record = {
            "swap_in_per_s": sin,
            "swap_out_per_s": sout,
            # None where swap-in was below the bar: the verdict then needs no PSI.
            "psi_full_pct": psi[i] if psi else None,
            "refault_anon_per_s": refault[i] if refault else None,
        }
        v, _ = verdict(record)
        h.minutes[v if v in h.minutes else "unknown"] += step_min
        if sin is not None and (h.peak_swap_in_per_s is None or sin > h.peak_swap_in_per_s):
            h.peak_swap_in_per_s = sin
            h.peak_swap_in_at = t if sin > 0 else None  # a peak of nothing has no time


def exit_status(fleet: Fleet) -> int:
    """0 all quiet, 1 some host swapping, 2 some host thrashing; FleetError (3) when the
    question has no answer: no host at all, or not one minute of data for any of them ("all
    quiet" would then be a guess). Hosts without data beside hosts with data are counted as
    unknown in the summary, and the others answer."""
    if not fleet.hosts:
        raise FleetError(
            f"no host between {_iso(fleet.start)} and {_iso(fleet.end)}: the checkswap series "
            "found hold no value that is a number (NaN or infinite only; check --match)"
        )
    verdicts = {h.verdict for h in fleet.hosts}
    if verdicts == {"unknown"}:
        n = len(fleet.hosts)
        who = "the one host found has no" if n == 1 else f"none of the {n} hosts found has a"
        raise FleetError(
            f"{who} swap-in rate in any minute between {_iso(fleet.start)} and "
            f"{_iso(fleet.end)}, so whether it swapped is unknown: rate() over "
            f"{_dur(fleet.rate_window_s)} needs two scrapes within it (with scrapes 30 s or "
            "more apart, give --rate-window 2m or more)"
        )
    if "thrashing" in verdicts:
        return 2
    if "swapping" in verdicts:
        return 1
    return 0
