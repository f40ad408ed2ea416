"""``report --html``: one self-contained page with the charts, spikes marked and listed.

The page inlines uPlot (vendored from npm, MIT, licence carried in the page) and the data, so
it opens anywhere without a network. The points are record/chart.py's: every interval of a
short recording; for a long one (a week at 1 Hz is 604,800 intervals) a bounded number of
buckets, each drawn as its minimum and maximum in the order they happened (a spike always
survives: its peak is some bucket's maximum), plus every interval around each spike, so
zooming to a spike shows each second.

Times: the data are UTC; the page shows every time (title, summary, spike table, the charts'
axis and legend) in one zone, named beside it, and switches between the recording host's
offset (the recording header's ``utc_offset_s``), the browser's, and UTC. A recording that does
not carry the offset is shown in the browser's zone, saying so.
"""

from __future__ import annotations

import json
import pkgutil
from array import array
from collections.abc import Iterable, Iterator, Sequence

from checkswap.render.cells import duration, local_iso
from checkswap.render.report import capture_summary, spike_waited

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.record.report import Analysis

MIB = 1024.0 * 1024.0


def vendor(name: str) -> str:
    """A vendored uPlot file (script, style, licence), inlined by every --html page."""
    data = pkgutil.get_data("checkswap", f"vendor/uplot/{name}")
    assert data is not None, name
    return data.decode("utf-8")


def num_list(values: Sequence[float], digits: int) -> str:
    """A JSON array, rounded for size; NaN becomes null (a gap in the line)."""
    parts = []
    for v in values:
        if v != v:
            parts.append("null")
        else:
            r = round(v, digits)
            parts.append(str(int(r)) if r == int(r) else repr(r))
    return "[" + ",".join(parts) + "]"


def page_parts(rec: dict[str, object], a: Analysis) -> Iterator[str]:
    """The page's data (a JSON object) in pieces, one column at a time: a long recording's
    page is written without ever holding all of it as one string."""
    xs, cols = a.chart.points()
    cols[4] = array("d", (v / MIB for v in cols[4]))
    t0 = xs[0] if xs else 0.0
    spikes = []
    for sp, srec in zip(a.listed_spikes(), rec.get("spikes") or []):  # type: ignore[call-overload]
        spikes.append(
            {
                "start": sp.start,
                "end": sp.end,
                "duration": duration(srec["duration_s"]),
                "peak_in": sp.peak_in,
                "peak_out": sp.peak_out,
                "captured": " ".join(
                    filter(None, (capture_summary(srec.get("captured")), spike_waited(srec)))
                ),
            }
        )
    yield '{"t0":' + repr(t0) + ',"points":' + str(len(xs))
    yield ',"intervals":' + str(a.chart.intervals) + ",\n"
    yield '"x":' + num_list(array("d", (x - t0 for x in xs)), 1) + ",\n"
    del xs
    for (name, digits), col in zip(
        (("swap_in", 1), ("swap_out", 1), ("psi_some", 2), ("psi_full", 2), ("swap_used_mib", 2)),
        cols,
    ):
        yield f'"{name}":' + num_list(col, digits) + ",\n"
    # "</" inside a script element would end it early (only JSON text can hold one).
    yield ('"spikes":' + json.dumps(spikes)).replace("</", "<\\/") + ",\n"
    yield ('"report":' + json.dumps(rec) + "}").replace("</", "<\\/")


def page_data(rec: dict[str, object], a: Analysis) -> str:
    return "".join(page_parts(rec, a))


def _html_parts(rec: dict[str, object], a: Analysis) -> Iterator[str]:
    title = f"checkswap report: {rec.get('hostname') or '?'}, {local_iso(rec.get('start'))}"
    html = TEMPLATE
    for key, value in (
        ("@TITLE@", escape(title)),
        ("@CSS@", vendor("uPlot.min.css")),
        ("@LICENSE@", vendor("LICENSE").replace("*/", "* /")),
        ("@UPLOT@", vendor("uPlot.iife.min.js")),
    ):
        html = html.replace(key, value, 1)
    before, after = html.split("@DATA@", 1)
    yield before
    yield from page_parts(rec, a)
    yield after


def render_html(rec: dict[str, object], a: Analysis) -> str:
    return "".join(_html_parts(rec, a))


def escape(text: str) -> str:
    """Text safe in an HTML element or attribute value: a page title names hosts and windows."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_page(path: str, parts: Iterable[str]) -> None:
    """An --html page written through a fresh temporary name (outfile), so a reader never sees
    half a page; 0640, since a page names the processes and cgroups it saw."""
    from checkswap import outfile
    from checkswap.errors import BadInput

    try:
        with outfile.replacing(path, "--html", 0o640) as f:
            for part in parts:
                f.write(part.encode("utf-8"))
    except OSError as e:
        raise BadInput(f"--html {path}: cannot write ({e.strerror})") from None


def write_html(path: str, rec: dict[str, object], a: Analysis) -> None:
    from checkswap import outfile

    outfile.check_output(path, "--html")  # before rendering a week of samples
    write_page(path, _html_parts(rec, a))


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
h2 { font-size: 1.05em; margin: 1.2em 0 .2em; }
table { border-collapse: collapse; }
td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd; }
td:first-child, th:first-child, td.l, th.l { text-align: left; }
#spikes tbody tr { cursor: pointer; }
#spikes tbody tr:hover { background: #fde8e8; }
.note { color: #666; }
button { margin: .5em 0; }
#errors { color: #b00; white-space: pre; }
</style>
</head>
<body>
<h1 id="title"></h1>
<div id="zone-choice"><label>Times in <select id="zone">
<option value="host">the recording host's zone</option>
<option value="viewer">this browser's zone</option>
<option value="utc">UTC</option>
</select></label> <span class="note" id="zone-note"></span></div>
<div id="summary"></div>
<div id="errors"></div>
<h2>Swap-in and swap-out, pages/s <span class="zone note"></span></h2>
<div class="note">swap-in: pages read back from swap into RAM (pswpin), processes wait for
these; swap-out: pages written from RAM to swap (pswpout). Spikes are shaded. Drag to zoom.
</div>
<button id="reset">Show the whole period</button>
<div id="chart-rates"></div>
<h2>Memory pressure (PSI), % of each interval stalled on memory</h2>
<div id="chart-psi"></div>
<h2>Swap used, MiB</h2>
<div id="chart-used"></div>
<h2 id="spikes-title">Spikes</h2>
<table id="spikes"><thead><tr><th>start <span class="zone"></span></th><th>duration</th>
<th>peak in/s</th><th>peak out/s</th><th class="l">captured</th></tr></thead><tbody></tbody></table>
<p class="note" id="points"></p>
<script type="application/json" id="data">
@DATA@
</script>
<script>
/* uPlot 1.6.32, https://github.com/leeoniya/uPlot
@LICENSE@
*/
@UPLOT@
</script>
<script>
(function () {
  "use strict";
  var errors = document.getElementById("errors");
  window.addEventListener("error", function (e) {
    errors.textContent += "error: " + e.message + "\\n";
    document.body.dataset.errors = (+(document.body.dataset.errors || 0) + 1) + "";
  });
  var D = JSON.parse(document.getElementById("data").textContent);
  var R = D.report;
  function fmt(v, d) {
    return v == null ? "-" : v.toLocaleString(undefined, {maximumFractionDigits: d});
  }
  // Times: the recording's are UTC; the page shows them in one zone at a time, named beside
  // each of them: the recording host's offset (from its header), the browser's, or UTC.
  var HOST = typeof R.utc_offset_s === "number" ? R.utc_offset_s : null;
  var zone = HOST !== null ? "host" : "viewer";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function offsetAt(t) {  // seconds east of UTC, at epoch second t, in the chosen zone
    if (zone === "host") return HOST;
    if (zone === "utc") return 0;
    return -new Date(t * 1000).getTimezoneOffset() * 60;
  }
  function zoneLabel(o) {
    var a = Math.abs(o);
    return "UTC" + (o < 0 ? "-" : "+") + pad(Math.floor(a / 3600)) + ":" +
      pad(Math.floor(a % 3600 / 60));
  }
  function stamp(t) {  // 2026-11-27 14:05:09, in the chosen zone
    var d = new Date((t + offsetAt(t)) * 1000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }
  function when(iso) { return iso ? stamp(Date.parse(iso) / 1000) : "-"; }
  var startT = R.start ? Date.parse(R.start) / 1000 : Date.now() / 1000;
  var select = document.getElementById("zone");
  select.options[0].textContent = HOST !== null ?
    "the recording host's zone (" + zoneLabel(HOST) + ")" :
    "the recording host's zone (not in this recording)";
  select.options[0].disabled = HOST === null;
  select.options[1].textContent = "this browser's zone (" +
    zoneLabel(-new Date(startT * 1000).getTimezoneOffset() * 60) + ")";
  select.value = zone;
  var summary = document.getElementById("summary");
  var spikeStarts = [], charts = [], specs = [], syncing = false;
  function showTimes(remake) {
    var name = zoneLabel(offsetAt(startT));
    document.getElementById("title").textContent = "Swap on " + (R.hostname || "?") + ": " +
      when(R.start) + " to " + when(R.end) + " (" + name + ")";
    document.getElementById("zone-note").textContent = zone === "host" ?
      "as the clocks of " + (R.hostname || "the recording host") + " read" :
      zone === "viewer" ? "as this computer's clock reads" : "";
    document.querySelectorAll(".zone").forEach(function (el) {
      el.textContent = "(" + name + ")";
    });
    summary.textContent = "";
    summaryLines().forEach(function (l) {
      var div = document.createElement("div"); div.textContent = l; summary.appendChild(div);
    });
    spikeStarts.forEach(function (p) { p[0].textContent = stamp(p[1]); });
    document.body.dataset.zone = zone + " " + name;
    // uPlot lays a time axis out once (a redraw keeps the old tick labels): made anew, the
    // charts label their axis in the new zone, the zoom kept.
    if (remake) {
      var min = charts[0].scales.x.min, max = charts[0].scales.x.max;
      charts.forEach(function (c) { c.destroy(); });
      charts.length = 0;
      specs.forEach(function (sp) { build(sp[0], sp[1], sp[2], sp[3], name); });
      if (min != null) zoom(min, max);
    }
  }
  function summaryLines() { return [
    R.samples.toLocaleString() + " samples, " + R.gaps + " gaps, " + R.bad_lines +
      " bad lines skipped; Linux " + (R.kernel_release || "?") + ", page size " +
      R.page_size_bytes + " bytes",
    "swap-in: " + fmt(R.swap_in_pages, 0) + " pages; avg " + fmt(R.avg.swap_in_per_s, 1) +
      ", p95 " + fmt(R.p95.swap_in_per_s, 1) + ", max " + fmt(R.max.swap_in_per_s, 0) +
      " pages/s at " + when(R.max.swap_in_at),
    "swap-out: " + fmt(R.swap_out_pages, 0) + " pages; avg " + fmt(R.avg.swap_out_per_s, 1) +
      ", p95 " + fmt(R.p95.swap_out_per_s, 1) + ", max " + fmt(R.max.swap_out_per_s, 0) +
      " pages/s at " + when(R.max.swap_out_at)
  ]; }
  select.addEventListener("change", function () { zone = select.value; showTimes(true); });
  document.getElementById("points").textContent = D.points.toLocaleString() +
    " points drawn for " + D.intervals.toLocaleString() +
    " intervals (min and max per time bucket; every interval around a spike).";

  var t0 = D.t0;
  var x = new Float64Array(D.x.length);
  for (var i = 0; i < x.length; i++) x[i] = D.x[i] + t0;
  var spikes = D.spikes;
  document.getElementById("spikes-title").textContent = "Spikes (" + spikes.length +
    " above " + fmt(R.spike_threshold_per_s, 1) + " pages/s swap-in + swap-out)";

  var shade = {
    hooks: {
      draw: [function (u) {
        var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
        ctx.save();
        ctx.fillStyle = "rgba(220, 40, 40, 0.15)";
        spikes.forEach(function (s) {
          var a = u.valToPos(s.start, "x", true), b = u.valToPos(s.end, "x", true);
          ctx.fillRect(a, top, Math.max(b - a, 2), h);
        });
        ctx.restore();
      }]
    }
  };
  var width = function () { return Math.max(400, document.body.clientWidth - 20); };
  var drawn = 0;
  function tickLabels(u, splits) {
    // 24-hour times, the date where it changes; days only when the span is days.
    var span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0, last = "";
    return splits.map(function (t) {
      var full = stamp(t), day = full.slice(0, 10), clock = full.slice(11);
      if (span >= 2 * 86400) return full.slice(0, 16);
      var shown = day !== last ? day + " " + clock : clock;
      last = day;
      return shown;
    });
  }
  function onDraw() {
    drawn++;
    if (drawn === 3) {
      document.body.dataset.drawn = "3";
      document.body.dataset.drawMs = Math.round(performance.now()) + "";
    }
  }
  function make(el, series, data, yLabel) {
    specs.push([el, series, data, yLabel]);
    return build(el, series, data, yLabel, zoneLabel(offsetAt(startT)));
  }
  function build(el, series, data, yLabel, name) {
    var opts = {
      width: width(), height: 240,
      cursor: {sync: {key: "checkswap"}},
      scales: {x: {time: true}},
      // uPlot shows a Date's local fields: hand it one whose local fields are the chosen
      // zone's.
      tzDate: function (ts) {
        if (zone === "viewer") return new Date(ts * 1000);
        var d = new Date((ts + offsetAt(ts)) * 1000);
        return new Date(d.getTime() + d.getTimezoneOffset() * 60000);
      },
      axes: [{label: "time (" + name + ")", values: tickLabels}, {label: yLabel, size: 70}],
      // The legend's time as everywhere else on the page, in the chosen zone.
      series: [{value: function (u, v) { return v == null ? "-" : stamp(v); }}].concat(
        series.map(function (x) { return Object.assign({}, x); })),
      plugins: [shade],
      hooks: {
        draw: [onDraw],
        setScale: [function (u, key) {
          if (key !== "x" || syncing) return;
          syncing = true;
          charts.forEach(function (c) {
            if (c !== u) c.setScale("x", {min: u.scales.x.min, max: u.scales.x.max});
          });
          syncing = false;
        }]
      }
    };
    var u = new uPlot(opts, [x].concat(data), document.getElementById(el));
    charts.push(u);
    return u;
  }
  make("chart-rates", [
    {label: "swap-in pages/s", stroke: "#1f77b4", width: 1},
    {label: "swap-out pages/s", stroke: "#d62728", width: 1}
  ], [D.swap_in, D.swap_out], "pages/s");
  make("chart-psi", [
    {label: "some %", stroke: "#9467bd", width: 1},
    {label: "full %", stroke: "#8c564b", width: 1}
  ], [D.psi_some, D.psi_full], "%");
  make("chart-used", [
    {label: "swap used MiB", stroke: "#2ca02c", width: 1}
  ], [D.swap_used_mib], "MiB");

  window.checkswapCharts = charts;  // for scripted checks: the tests and the benchmark
  function zoom(min, max) { charts[0].setScale("x", {min: min, max: max}); }
  document.getElementById("reset").onclick = function () { zoom(x[0], x[x.length - 1]); };
  var tbody = document.querySelector("#spikes tbody");
  spikes.forEach(function (s) {
    var tr = document.createElement("tr");
    [stamp(s.start), s.duration, fmt(s.peak_in, 0), fmt(s.peak_out, 0), s.captured]
      .forEach(function (v, i) {
        var td = document.createElement("td"); td.textContent = v;
        if (i === 0) spikeStarts.push([td, s.start]);
        if (i === 4) td.className = "l";
        tr.appendChild(td);
      });
    tr.title = "zoom to this spike";
    tr.onclick = function () {
      var pad = Math.max(30, (s.end - s.start) * 0.5);
      zoom(s.start - pad, s.end + pad);
    };
    tbody.appendChild(tr);
  });
  showTimes(false);
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.setSize({width: width(), height: 240}); });
  });
})();
</script>
</body>
</html>
"""
