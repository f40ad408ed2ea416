"""``report --html``: one self-contained page with the charts, spikes marked and listed.

The page inlines uPlot (vendored from npm, MIT, licence carried in the page) and the data, so
it opens anywhere without a network. The points are record/chart.py's: every interval of a
short recording; for a long one (a week at 1 Hz is 604,800 intervals) a bounded number of
buckets, each drawn as its minimum and maximum in the order they happened (a spike always
survives: its peak is some bucket's maximum), plus every interval around each spike, so
zooming to a spike shows each second.
"""

from __future__ import annotations

import json
import pkgutil
from array import array
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from checkswap.render.report import capture_summary, duration, local, spike_waited

if TYPE_CHECKING:
    from checkswap.record.report import Analysis

MIB = 1024.0 * 1024.0


def _vendor(name: str) -> str:
    data = pkgutil.get_data("checkswap", f"vendor/uplot/{name}")
    assert data is not None, name
    return data.decode("utf-8")


def _num_list(values: Sequence[float], digits: int) -> str:
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
    for sp, srec in zip(a.spikes, rec.get("spikes") or []):  # type: ignore[call-overload]
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
    yield '"x":' + _num_list(array("d", (x - t0 for x in xs)), 1) + ",\n"
    del xs
    for (name, digits), col in zip(
        (("swap_in", 1), ("swap_out", 1), ("psi_some", 2), ("psi_full", 2), ("swap_used_mib", 2)),
        cols,
    ):
        yield f'"{name}":' + _num_list(col, digits) + ",\n"
    # "</" inside a script element would end it early (only JSON text can hold one).
    yield ('"spikes":' + json.dumps(spikes)).replace("</", "<\\/") + ",\n"
    yield ('"report":' + json.dumps(rec) + "}").replace("</", "<\\/")


def page_data(rec: dict[str, object], a: Analysis) -> str:
    return "".join(page_parts(rec, a))


def _html_parts(rec: dict[str, object], a: Analysis) -> Iterator[str]:
    title = f"checkswap report: {rec.get('hostname') or '?'}, {local(rec.get('start'))}"
    html = TEMPLATE
    for key, value in (
        ("@TITLE@", _escape(title)),
        ("@CSS@", _vendor("uPlot.min.css")),
        ("@LICENSE@", _vendor("LICENSE").replace("*/", "* /")),
        ("@UPLOT@", _vendor("uPlot.iife.min.js")),
    ):
        html = html.replace(key, value, 1)
    before, after = html.split("@DATA@", 1)
    yield before
    yield from page_parts(rec, a)
    yield after


def render_html(rec: dict[str, object], a: Analysis) -> str:
    return "".join(_html_parts(rec, a))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_html(path: str, rec: dict[str, object], a: Analysis) -> None:
    """Write through a fresh temporary name (outfile): a reader never sees half a page."""
    from checkswap import outfile
    from checkswap.errors import BadInput

    outfile.check_output(path, "--html")  # before rendering a week of samples
    try:
        # 0640: the page names the processes a trigger captured.
        with outfile.replacing(path, "--html", 0o640) as f:
            for part in _html_parts(rec, a):
                f.write(part.encode("utf-8"))
    except OSError as e:
        raise BadInput(f"--html {path}: cannot write ({e.strerror})") from None


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
<div id="summary"></div>
<div id="errors"></div>
<h2>Swap-in and swap-out, pages/s</h2>
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
<table id="spikes"><thead><tr><th>start</th><th>duration</th><th>peak in/s</th>
<th>peak out/s</th><th class="l">captured</th></tr></thead><tbody></tbody></table>
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
  function when(iso) { return iso ? new Date(iso).toLocaleString() : "-"; }
  document.getElementById("title").textContent =
    "Swap on " + (R.hostname || "?") + ": " + when(R.start) + " to " + when(R.end);
  var lines = [
    R.samples.toLocaleString() + " samples, " + R.gaps + " gaps, " + R.bad_lines +
      " bad lines skipped; Linux " + (R.kernel_release || "?") + ", page size " +
      R.page_size_bytes + " bytes",
    "swap-in: " + fmt(R.swap_in_pages, 0) + " pages; avg " + fmt(R.avg.swap_in_per_s, 1) +
      ", p95 " + fmt(R.p95.swap_in_per_s, 1) + ", max " + fmt(R.max.swap_in_per_s, 0) +
      " pages/s at " + when(R.max.swap_in_at),
    "swap-out: " + fmt(R.swap_out_pages, 0) + " pages; avg " + fmt(R.avg.swap_out_per_s, 1) +
      ", p95 " + fmt(R.p95.swap_out_per_s, 1) + ", max " + fmt(R.max.swap_out_per_s, 0) +
      " pages/s at " + when(R.max.swap_out_at)
  ];
  var summary = document.getElementById("summary");
  lines.forEach(function (l) {
    var div = document.createElement("div"); div.textContent = l; summary.appendChild(div);
  });
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
  var charts = [], drawn = 0, syncing = false;
  function onDraw() {
    drawn++;
    if (drawn === 3) {
      document.body.dataset.drawn = "3";
      document.body.dataset.drawMs = Math.round(performance.now()) + "";
    }
  }
  function make(el, series, data, yLabel) {
    var opts = {
      width: width(), height: 240,
      cursor: {sync: {key: "checkswap"}},
      scales: {x: {time: true}},
      axes: [{}, {label: yLabel, size: 70}],
      series: [{}].concat(series),
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
    [new Date(s.start * 1000).toLocaleString(), s.duration, fmt(s.peak_in, 0),
     fmt(s.peak_out, 0), s.captured]
      .forEach(function (v, i) {
        var td = document.createElement("td"); td.textContent = v;
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
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.setSize({width: width(), height: 240}); });
  });
})();
</script>
</body>
</html>
"""
