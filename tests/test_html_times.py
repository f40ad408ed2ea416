"""The HTML report's times (issue 13, item 11): every time on the page is labelled with its zone,
and the page switches between the recording host's offset and the viewer's (and UTC).

The recording is made the way a user makes one (``record`` on a climbing fixture tree, with
the host in Asia/Kolkata, UTC+05:30), the page opened in headless Chromium running in
America/New_York (UTC-05:00 in November), and a probe script reads the page in each zone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator

import browser
import pytest
from clihelp import FIXTURES
from golden_cases import MovingTree, run
from lab import kernel_tests_enabled

HOST_TZ, VIEWER_TZ = "Asia/Kolkata", "America/New_York"

# Reads the page in each zone: the select's three choices, then the texts that carry a time.
PROBE = """
<script>
window.addEventListener("load", function () { setTimeout(function () {
  var out = {}, select = document.getElementById("zone");
  out.options = Array.prototype.map.call(select.options, function (o) {
    return [o.value, o.textContent, o.disabled];
  });
  out.initial = select.value;
  window.checkswapCharts[0].setScale("x", {min: 1795737605, max: 1795737615});  // zoomed in
  var zones = ["host", "viewer", "utc"].filter(function (z) {
    return !select.querySelector("option[value=" + z + "]").disabled;
  });
  function read(z) {
    var u = window.checkswapCharts[0];
    var legend = document.querySelector(".u-legend .u-series:first-child .u-value");
    out[z] = {
      title: document.getElementById("title").textContent,
      summary: document.getElementById("summary").textContent,
      spike: (document.querySelector("#spikes tbody td") || {}).textContent,
      labels: Array.prototype.map.call(document.querySelectorAll(".zone"),
                                       function (e) { return e.textContent; }),
      axis: u.axes[0].label,
      ticks: (u.axes[0]._values || []).join("|"),
      range: [u.scales.x.min, u.scales.x.max],
      legend: legend ? legend.textContent : null
    };
  }
  function next(i) {  // one zone at a time, each read after the charts redrew
    if (i === zones.length) {
      document.body.dataset.probe = encodeURIComponent(JSON.stringify(out));
      return;
    }
    select.value = zones[i];
    select.dispatchEvent(new Event("change"));
    var u = window.checkswapCharts[0];
    u.setCursor({left: -10, top: -10});
    u.setCursor({left: 1, top: 10});
    setTimeout(function () { read(zones[i]); next(i + 1); }, 100);
  }
  next(0);
}, 200); });
</script>
"""


@pytest.fixture
def tmp(tmp_path: object) -> str:
    return str(tmp_path)


@contextlib.contextmanager
def _in_zone(zone: str) -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


def _report(tmp: str, recording: str | None = None) -> str:
    html = os.path.join(tmp, "report.html")
    if recording is None:
        recording = os.path.join(tmp, "r.jsonl")
        moving = MovingTree(tmp)
        with _in_zone(HOST_TZ):
            argv = ["record", "-o", recording, "-n", "30", "-i", "1", "--root", moving.path]
            status, _, err = run(argv, moving)
            assert status == 0, err
    status, _, err = run(["report", recording, "--spike", "100", "--html", html])
    assert status == 0, err
    return html


def _open(html: str) -> tuple[dict[str, object], list[str]]:
    if browser.chromium() is None:
        if kernel_tests_enabled():
            pytest.fail("chromium is not installed (tools/test installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    attrs, console = browser.load(html, probe=PROBE, env={"TZ": VIEWER_TZ})
    assert "probe" in attrs, attrs
    from urllib.parse import unquote

    return json.loads(unquote(attrs["probe"])), console


def test_the_page_labels_its_zone_and_switches_between_host_and_viewer(tmp: str) -> None:
    got, console = _open(_report(tmp))
    assert console == []
    # The recording started 2026-11-27T00:00:00Z (the golden cases' fake clock): 05:30 on the
    # host, 19:00 the day before for the viewer.
    assert got["initial"] == "host"
    options = {v: (label, disabled) for v, label, disabled in got["options"]}  # type: ignore[attr-defined]
    assert options["host"] == ("the recording host's zone (UTC+05:30)", False)
    assert options["viewer"] == ("this browser's zone (UTC-05:00)", False)
    host, viewer, utc = got["host"], got["viewer"], got["utc"]
    assert isinstance(host, dict) and isinstance(viewer, dict) and isinstance(utc, dict)
    assert host["title"].endswith(": 2026-11-27 05:30:00 to 2026-11-27 05:30:30 (UTC+05:30)")
    assert viewer["title"].endswith(": 2026-11-26 19:00:00 to 2026-11-26 19:00:30 (UTC-05:00)")
    assert utc["title"].endswith(": 2026-11-27 00:00:00 to 2026-11-27 00:00:30 (UTC+00:00)")
    for zone, shown in ((host, "UTC+05:30"), (viewer, "UTC-05:00"), (utc, "UTC+00:00")):
        # Each time on the page says its zone: beside the headings, the spikes' start column
        # and the chart's time axis; the summary's peak times and the spike start follow.
        assert zone["labels"] and set(zone["labels"]) == {f"({shown})"}, zone
        assert zone["axis"] == f"time ({shown})"
    assert re.search(r"pages/s at 2026-11-27 05:30:\d\d", host["summary"]), host["summary"]
    assert re.search(r"pages/s at 2026-11-26 19:00:\d\d", viewer["summary"]), viewer["summary"]
    assert host["spike"].startswith("2026-11-27 05:30:"), host["spike"]
    assert viewer["spike"].startswith("2026-11-26 19:00:"), viewer["spike"]
    # The chart's own times (its time axis, its legend under the cursor) move with the choice,
    # and the zoom stays where it was.
    assert host["ticks"].split("|")[0].startswith("2026-11-27 05:30:"), host["ticks"]
    assert viewer["ticks"].split("|")[0].startswith("2026-11-26 19:00:"), viewer["ticks"]
    assert utc["ticks"].split("|")[0].startswith("2026-11-27 00:00:"), utc["ticks"]
    assert host["range"] == viewer["range"] == utc["range"] == [1795737605, 1795737615]
    assert str(host["legend"]).startswith("2026-11-27 05:30:0"), host["legend"]
    assert str(viewer["legend"]).startswith("2026-11-26 19:00:0"), viewer["legend"]


def test_a_recording_that_does_not_name_its_zone_is_shown_in_the_viewers(tmp: str) -> None:
    # Made by 0.1.0, before recordings carried the host's offset.
    old = os.path.join(FIXTURES, "_made-by-0.1", "moving.jsonl")
    got, console = _open(_report(tmp, old))
    assert console == []
    assert got["initial"] == "viewer"
    options = {v: (label, disabled) for v, label, disabled in got["options"]}  # type: ignore[attr-defined]
    assert options["host"] == ("the recording host's zone (not in this recording)", True)
    assert "host" not in got
    viewer = got["viewer"]
    assert isinstance(viewer, dict)
    assert viewer["title"].endswith(": 2026-11-26 19:00:00 to 2026-11-26 19:00:05 (UTC-05:00)")
