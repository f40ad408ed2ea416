"""A real Prometheus (Debian's package) on loopback for the fleet tests and benchmark.

Each server gets a random free port and its own temporary data directory and is killed in a
``finally``. Scenarios a live run cannot make are backfilled: OpenMetrics text written here
with a few lines of our own (not checkswap's exporter) and turned into TSDB blocks by
``promtool tsdb create-blocks-from openmetrics`` before the server starts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence

import pytest

PREFIX = "checkswap-test-"


def tools_or_skip() -> tuple[str, str]:
    """(prometheus, promtool); absent: a skip naming the package, a failure in CI (installs it)."""
    prom, tool = shutil.which("prometheus"), shutil.which("promtool")
    if prom is None or tool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("prometheus/promtool missing: tools/test installs Debian's prometheus")
        pytest.skip("needs Debian's prometheus package (prometheus, promtool)")
    return prom, tool


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Series:
    """One series of a backfill: a metric with labels and its (time, value) samples."""

    def __init__(self, name: str, labels: dict[str, str], samples: Sequence[tuple[float, float]]):
        self.name, self.labels, self.samples = name, labels, samples


def openmetrics(series: Sequence[Series], types: dict[str, str]) -> str:
    """The OpenMetrics text promtool reads: families contiguous, samples in time order."""
    by_family: dict[str, list[Series]] = {}
    for s in series:
        family = s.name[: -len("_total")] if s.name.endswith("_total") else s.name
        by_family.setdefault(family, []).append(s)
    lines = []
    for family, members in by_family.items():
        lines.append(f"# TYPE {family} {types.get(family, 'gauge')}")
        for s in members:
            lab = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            for t, v in s.samples:
                lines.append(f"{s.name}{{{lab}}} {v!r} {t:.3f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def backfill(tool: str, data_dir: str, text: str) -> None:
    src = os.path.join(data_dir, "..", "backfill.om")
    with open(src, "w", encoding="utf-8") as f:
        f.write(text)
    r = subprocess.run(
        [tool, "tsdb", "create-blocks-from", "openmetrics", src, data_dir],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    os.unlink(src)
    assert r.returncode == 0, r.stderr[-2000:]


@contextlib.contextmanager
def prometheus(
    text: str | None = None, scrape: Sequence[str] = (), interval: str = "1s"
) -> Iterator[str]:
    """A Prometheus on loopback, backfilled with ``text`` and scraping ``scrape`` (host:port),
    yielding its URL; killed and its data removed on the way out."""
    prom, tool = tools_or_skip()
    tmp = tempfile.mkdtemp(prefix=f"{PREFIX}prometheus-")
    data = os.path.join(tmp, "data")
    os.mkdir(data)
    proc = None
    try:
        if text is not None:
            backfill(tool, data, text)
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n")
            f.write("scrape_configs:\n")
            for i, target in enumerate(scrape):
                f.write(
                    f"  - job_name: checkswap-{i}\n    static_configs:\n"
                    f"      - targets: ['{target}']\n"
                )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [
                prom,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=30d",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "log"), "w"),  # noqa: SIM115 (closed with the process)
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(tmp, "log"), encoding="utf-8") as f:
                    raise AssertionError("prometheus did not start: " + f.read()[-2000:])
            time.sleep(0.2)
        yield url
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


def counter(start: float, end: float, every: float, per_s, gaps=()) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    """Samples of a counter from ``start`` to ``end`` whose rate at time t is ``per_s(t)``;
    no samples inside any (a, b) of ``gaps``."""
    out, value, t = [], 0.0, start
    while t <= end:
        if not any(a <= t < b for a, b in gaps):
            out.append((t, round(value, 3)))
        value += per_s(t) * every
        t += every
    return out


def gauge(start: float, end: float, every: float, value, gaps=()) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    out, t = [], start
    while t <= end:
        if not any(a <= t < b for a, b in gaps):
            out.append((t, float(value(t))))
        t += every
    return out
