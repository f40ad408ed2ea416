"""Headless Debian Chromium for the HTML report's tests and benchmark.

No DevTools connection: the page is loaded with ``--dump-dom`` (after its timers ran, with a
virtual time budget) and a probe script appended to a copy of it writes what it found into
``data-*`` attributes of <body>; console messages come from ``--enable-logging=stderr``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]

PROBE = """
<script>
window.addEventListener("load", function () { setTimeout(function () {
  var b = document.body, painted = [], shaded = 0;
  document.querySelectorAll("canvas").forEach(function (cv, k) {
    var d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data, n = 0;
    for (var i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0) n++;
      if (k === 0 && d[i] > 200 && d[i + 1] < 60 && d[i + 3] > 25 && d[i + 3] < 50) shaded++;
    }
    painted.push(n);
  });
  b.dataset.painted = painted.join(",");
  b.dataset.shaded = shaded + "";
  var row = document.querySelector("#spikes tbody tr");
  if (row) row.click();
  setTimeout(function () {
    var s = window.checkswapCharts[2].scales.x;  // the last chart: zoom reached all three
    b.dataset.zoom = s.min + "," + s.max;
    b.dataset.probed = "1";
  }, 100);
}, 100); });
</script>
"""


def chromium() -> str | None:
    return shutil.which("chromium")


def load(
    html_path: str,
    timeout: float = 120,
    probe: str = PROBE,
    env: dict[str, str] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """(data-* attributes of <body> after the probe ran, console messages). ``probe`` is the
    script appended to the page, ``env`` what the browser runs with besides ours (TZ...)."""
    with open(html_path, encoding="utf-8") as f:
        text = f.read()
    with tempfile.TemporaryDirectory(prefix="checkswap-test-chromium-") as tmp:
        page = os.path.join(tmp, "page.html")
        with open(page, "w", encoding="utf-8") as f:
            f.write(text.replace("</body>", probe + "</body>", 1))
        proc = subprocess.run(
            [
                chromium() or "chromium",
                *FLAGS,
                f"--user-data-dir={tmp}/profile",
                "--virtual-time-budget=10000",
                "--dump-dom",
                "file://" + page,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
    body = re.search(r"<body([^>]*)>", proc.stdout)
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1))) if body else {}
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return attrs, console


def screenshot(html_path: str, png: str, size: str = "1400,1300") -> None:
    with tempfile.TemporaryDirectory(prefix="checkswap-test-chromium-") as tmp:
        subprocess.run(
            [
                chromium() or "chromium",
                *FLAGS,
                f"--user-data-dir={tmp}/profile",
                f"--window-size={size}",
                "--virtual-time-budget=10000",
                f"--screenshot={png}",
                "file://" + os.path.abspath(html_path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
