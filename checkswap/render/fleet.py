"""``fleet``'s outputs: the ranked table as text, one JSON object per host plus a summary, and
a self-contained HTML page with a small swap-in/out chart per host.

The records (``host_record``, ``summary_record``) are the JSON keys docs/interface.md lists;
text and HTML print from them. The page reuses the report's charting: record/chart.py's Chart
for the points and render/html.py's vendored uPlot, inlined once for all the charts.
"""

from __future__ import annotations

import json
import time
from array import array

from checkswap.render.cells import duration
from checkswap.render.html import escape, num_list, vendor, write_page
from checkswap.units import format_bytes, iso_utc

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import IO, Any

    from checkswap.fleet.ranking import Fleet, Host


def _local(t: float | None) -> str:
    if t is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _zone() -> str:
    return time.strftime("%Z %z")


def _round(v: float | None, digits: int = 1) -> float | None:
    return None if v is None else round(v, digits)


def host_record(fleet: Fleet, h: Host, rank: int) -> dict[str, Any]:
    rec: dict[str, Any] = {"record": "host", "rank": rank}
    rec[fleet.by] = h.name
    rec["instance"] = h.name if fleet.by == "instance" else None
    rec.update(
        {
            "by": fleet.by,
            "verdict": h.verdict,
            "swap_in_pages": _round(h.swap_in_pages),
            "swap_out_pages": _round(h.swap_out_pages),
            "peak_swap_in_per_s": _round(h.peak_swap_in_per_s),
            "peak_swap_in_time": iso_utc(h.peak_swap_in_at),
            "thrashing_minutes": h.minutes["thrashing"],
            "swapping_minutes": h.minutes["swapping"],
            "quiet_minutes": h.minutes["quiet"],
            "unknown_minutes": h.minutes["unknown"],
            "swap_used_bytes": _round(h.swap_used_bytes, 0),
            "swap_used_peak_bytes": _round(h.swap_used_peak_bytes, 0),
            "findings": h.findings,
            "top_processes": h.top_processes,
            "top_cgroups": h.top_cgroups,
            "top_waiters": (
                None
                if h.top_waiters is None
                else [{**w, "swapin_wait_s": round(w["swapin_wait_s"], 3)} for w in h.top_waiters]
            ),
        }
    )
    return rec


def summary_record(fleet: Fleet, url: str, shown: int) -> dict[str, Any]:
    counts = dict.fromkeys(("thrashing", "swapping", "quiet", "unknown"), 0)
    for h in fleet.hosts:
        counts[h.verdict] += 1
    return {
        "record": "summary",
        "prometheus": url,
        "by": fleet.by,
        "match": fleet.match,
        "start": iso_utc(fleet.start),
        "end": iso_utc(fleet.end),
        "step_s": fleet.step_s,
        "rate_window_s": fleet.rate_window_s,
        "hosts": len(fleet.hosts),
        "hosts_shown": shown,
        "thrashing": counts["thrashing"],
        "swapping": counts["swapping"],
        "quiet": counts["quiet"],
        "unknown": counts["unknown"],
        "queries": fleet.calls,
    }


def render_json(fleet: Fleet, url: str, limit: int, out: IO[str]) -> None:
    shown = fleet.hosts[:limit]
    for rank, h in enumerate(shown, 1):
        out.write(json.dumps(host_record(fleet, h, rank)) + "\n")
    out.write(json.dumps(summary_record(fleet, url, len(shown))) + "\n")


def _minutes(m: float) -> str:
    return "-" if not m else f"{m:.0f}"


def _pages(v: float | None) -> str:
    if v is None:
        return "-"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= div:
            return f"{v / div:.1f}{unit}"
    return f"{v:.0f}"


def step_text(fleet: Fleet) -> str:
    step = f"{fleet.step_s / 60:g}m"
    if fleet.rate_window_s == 60:
        return f"step {step} (1-minute rates)"
    return f"step {step} (rates over {fleet.rate_window_s / 60:g}m)"


def render_text(fleet: Fleet, url: str, limit: int, out: IO[str], local_note: bool) -> None:
    s = summary_record(fleet, url, min(limit, len(fleet.hosts)))
    where = f"  match {fleet.match}" if fleet.match else ""
    out.write(f"prometheus  {url}  by {fleet.by}{where}\n")
    zone = f" ({_zone()}{', as given without an offset' if local_note else ''})"
    out.write(
        f"window      {_local(fleet.start)} to {_local(fleet.end)}{zone}, "
        f"{duration(fleet.end - fleet.start)}; {step_text(fleet)}\n"
    )
    out.write(
        f"hosts       {s['hosts']}: {s['thrashing']} thrashing, {s['swapping']} swapping, "
        f"{s['quiet']} quiet, {s['unknown']} unknown ({s['queries']} queries)\n"
    )
    out.write(
        "verdict: doctor's thresholds on each step's rates; minutes thrashing/swapping/without "
        "data; swap-in/out in pages (increase())\n\n"
    )
    name_w = max([len(fleet.by), *(len(h.name) for h in fleet.hosts[:limit])])
    head = (
        f"{fleet.by:<{name_w}}  {'verdict':<9} {'thrash':>6} {'swapng':>6} {'nodata':>6} "
        f"{'swap-in':>8} {'swap-out':>8} {'peak in/s':>9} {'at':>5}  {'used':>9} {'peak used':>9}"
    )
    out.write(head + "\n")
    for h in fleet.hosts[:limit]:
        at = time.strftime("%H:%M", time.localtime(h.peak_swap_in_at)) if h.peak_swap_in_at else "-"
        peak = "-" if h.peak_swap_in_per_s is None else f"{h.peak_swap_in_per_s:.1f}"
        out.write(
            f"{h.name or '(none)':<{name_w}}  {h.verdict:<9} "
            f"{_minutes(h.minutes['thrashing']):>6} {_minutes(h.minutes['swapping']):>6} "
            f"{_minutes(h.minutes['unknown']):>6} {_pages(h.swap_in_pages):>8} "
            f"{_pages(h.swap_out_pages):>8} {peak:>9} {at:>5}  "
            f"{format_bytes(h.swap_used_bytes):>9} {format_bytes(h.swap_used_peak_bytes):>9}\n"
        )
        extra = _details(h)
        if extra:
            out.write(" " * 2 + extra + "\n")
    if len(fleet.hosts) > limit:
        out.write(f"... and {len(fleet.hosts) - limit} more (--limit {len(fleet.hosts)})\n")


def _details(h: Host) -> str:
    parts = []
    if h.findings:
        parts.append("findings " + ", ".join(f"{f['id']} ({f['severity']})" for f in h.findings))
    if h.top_processes:
        parts.append(
            "in swap "
            + ", ".join(f"{p['comm']} {format_bytes(p['swap_bytes'])}" for p in h.top_processes)
        )
    if h.top_cgroups:
        parts.append(
            "cgroups "
            + ", ".join(f"{c['cgroup']} {format_bytes(c['swap_bytes'])}" for c in h.top_cgroups)
        )
    if h.top_waiters:  # None (not measured) and [] (nobody waited) print nothing
        parts.append(
            "swap-in wait "
            + ", ".join(f"{w['comm']} {_seconds(w['swapin_wait_s'])}" for w in h.top_waiters)
        )
    return "; ".join(parts)


def _seconds(s: float) -> str:
    return f"{s:.1f} s" if s >= 0.1 else f"{s * 1000:.0f} ms"


# --- HTML -----------------------------------------------------------------------------------


def _series(fleet: Fleet, h: Host) -> str:
    """x (seconds from the window's start) and the two rates, through the report's Chart so
    the page is drawn exactly as a report's is (gaps as NaN, min/max buckets if ever long)."""
    from checkswap.record.chart import NAN, NCOLS, Chart

    chart = Chart()
    cols: list[array[float]] = [array("d") for _ in range(NCOLS)]
    for v_in, v_out in zip(h.swap_in_per_s, h.swap_out_per_s):
        cols[0].append(NAN if v_in is None else v_in)
        cols[1].append(NAN if v_out is None else v_out)
        for c in cols[2:]:
            c.append(NAN)
    chart.extend(fleet.times, cols, [])
    xs, out = chart.points()
    x = array("d", (t - fleet.start for t in xs))
    return (
        '{"x":'
        + num_list(x, 0)
        + ',"in":'
        + num_list(out[0], 1)
        + ',"out":'
        + num_list(out[1], 1)
        + "}"
    )


def render_html(fleet: Fleet, url: str, limit: int) -> str:
    shown = fleet.hosts[:limit]
    records = [host_record(fleet, h, i) for i, h in enumerate(shown, 1)]
    data = (
        '{"t0":'
        + repr(fleet.start)
        + ',"summary":'
        + json.dumps(summary_record(fleet, url, len(shown)))
        + ',"step":'
        + json.dumps(step_text(fleet))
        + ',"hosts":'
        + json.dumps(records)
        + ',"series":['
        + ",\n".join(_series(fleet, h) for h in shown)
        + "]}"
    ).replace("</", "<\\/")
    title = (
        f"checkswap fleet: {len(fleet.hosts)} hosts, {_local(fleet.start)} to {_local(fleet.end)}"
    )
    html = TEMPLATE.replace("@TITLE@", escape(title))  # in <title> and in <h1>
    for key, value in (
        ("@CSS@", vendor("uPlot.min.css")),
        ("@LICENSE@", vendor("LICENSE").replace("*/", "* /")),
        ("@UPLOT@", vendor("uPlot.iife.min.js")),
    ):
        html = html.replace(key, value, 1)
    return html.replace("@DATA@", data, 1)


def write_html(path: str, fleet: Fleet, url: str, limit: int) -> None:
    write_page(path, [render_html(fleet, url, limit)])


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>@CSS@</style>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .3em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
td, th { padding: 2px 8px; text-align: right; border-bottom: 1px solid #ddd; }
td.l, th.l { text-align: left; }
tr.thrashing td.v { color: #b00; font-weight: bold; }
tr.swapping td.v { color: #b60; }
.note { color: #666; }
.host { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
.host h2 { font-size: .95em; margin: 0; }
#errors { color: #b00; white-space: pre; }
</style>
</head>
<body>
<h1>@TITLE@</h1>
<p class="note" id="summary"></p>
<table id="hosts"><thead></thead><tbody></tbody></table>
<div id="charts"></div>
<div id="errors"></div>
<script>/* uPlot, MIT licence:
@LICENSE@ */
@UPLOT@</script>
<script>
var DATA = @DATA@;
(function () {
  "use strict";
  function text(tag, s, cls) {
    var e = document.createElement(tag); e.textContent = s; if (cls) e.className = cls; return e;
  }
  function num(v, d) { return v === null || v === undefined ? "-" : v.toFixed(d); }
  function mib(v) {
    return v === null || v === undefined ? "-" : (v / 1048576).toFixed(1) + " MiB";
  }
  // null: the host exports no wait series (serve without --delayacct); []: nobody waited.
  function waits(list) {
    if (list === null || list === undefined) return "-";
    if (!list.length) return "nobody";
    return list.map(function (w) {
      return w.comm + " " + (w.swapin_wait_s >= 0.1 ? w.swapin_wait_s.toFixed(1) + " s"
        : (w.swapin_wait_s * 1000).toFixed(0) + " ms");
    }).join(", ");
  }
  var s = DATA.summary;
  document.getElementById("summary").textContent = s.hosts + " hosts (" + s.thrashing +
    " thrashing, " + s.swapping + " swapping, " + s.quiet + " quiet, " + s.unknown +
    " unknown), " + DATA.step + ", " + s.queries + " queries to " + s.prometheus +
    (s.match ? ", match " + s.match : "") + "; times local.";
  var cols = [[s.by, "l"], ["verdict", "l"], ["thrashing min", ""], ["swapping min", ""],
    ["no data min", ""], ["swap-in pages", ""], ["swap-out pages", ""],
    ["peak swap-in/s", ""], ["at", "l"], ["used", ""], ["peak used", ""], ["findings", "l"],
    ["swap-in wait", "l"]];
  var hr = document.createElement("tr");
  cols.forEach(function (c) { hr.appendChild(text("th", c[0], c[1])); });
  document.querySelector("#hosts thead").appendChild(hr);
  var body = document.querySelector("#hosts tbody");
  DATA.hosts.forEach(function (h) {
    var tr = document.createElement("tr"); tr.className = h.verdict;
    var at = h.peak_swap_in_time ? new Date(h.peak_swap_in_time).toLocaleString() : "-";
    [[h[s.by] || "(none)", "l"], [h.verdict, "l v"], [num(h.thrashing_minutes, 0), ""],
     [num(h.swapping_minutes, 0), ""], [num(h.unknown_minutes, 0), ""],
     [num(h.swap_in_pages, 0), ""], [num(h.swap_out_pages, 0), ""],
     [num(h.peak_swap_in_per_s, 1), ""], [at, "l"], [mib(h.swap_used_bytes), ""],
     [mib(h.swap_used_peak_bytes), ""],
     [h.findings.map(function (f) { return f.id; }).join(", "), "l"],
     [waits(h.top_waiters), "l w"]].forEach(function (c) {
      tr.appendChild(text("td", c[0], c[1]));
    });
    body.appendChild(tr);
  });
  window.checkswapCharts = [];
  var box = document.getElementById("charts");
  DATA.series.forEach(function (ser, i) {
    var div = document.createElement("div"); div.className = "host";
    div.appendChild(text("h2", (DATA.hosts[i][s.by] || "(none)") + ": " + DATA.hosts[i].verdict));
    box.appendChild(div);
    var x = ser.x.map(function (v) { return DATA.t0 + v; });
    var opts = { width: 420, height: 160, series: [{},
      { label: "swap-in/s", stroke: "#c33", width: 1 },
      { label: "swap-out/s", stroke: "#36c", width: 1 }],
      axes: [{}, { size: 50 }], legend: { show: true } };
    window.checkswapCharts.push(new uPlot(opts, [x, ser["in"], ser.out], div));
  });
})();
</script>
</body>
</html>
"""
