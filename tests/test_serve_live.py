"""``serve`` against a real Prometheus and node_exporter while a hog swaps.

Debian's ``prometheus`` scrapes ``checkswap serve`` every second on loopback (temporary config
and data directory, the repository's rules loaded); ``prometheus-node-exporter`` reads the
``--textfile`` output. The test samples /proc/vmstat itself every few milliseconds and checks
that every value Prometheus stored is the kernel's counter at the moment of that scrape, and that
PromQL's rate() over the window is the one those samples give. Then every PromQL expression in
monitoring/ (rules and dashboard) is evaluated against that Prometheus and must return data.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import lab
import pytest
from clihelp import REPO

MONITORING = os.path.join(REPO, "monitoring")
WINDOW_S = 10


def need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.fail(f"{binary} is not installed (tools/test installs it from APT_PACKAGES)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 10) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # loopback only
        return bytes(r.read())


def wait_http(url: str, proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args!r} exited with {proc.returncode}")
        try:
            http_get(url, timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer in {timeout} s")


@contextlib.contextmanager
def processes() -> Iterator[list[subprocess.Popen[Any]]]:
    procs: list[subprocess.Popen[Any]] = []
    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


@contextlib.contextmanager
def loop_swap(size_mib: int) -> Iterator[str]:
    """Swap on a loop device over a file: a set-up doctor flags (swap-on-loop-device)."""
    backing = f"/var/tmp/{lab.PREFIX}loop-{os.getpid()}"
    dev = None
    on = False
    try:
        lab.run("fallocate", "-l", f"{size_mib}M", backing)
        os.chmod(backing, 0o600)
        dev = lab.run("losetup", "-f", "--show", backing).stdout.strip()
        lab.run("mkswap", dev)
        lab.run("swapon", dev)
        on = True
        yield dev
    finally:
        if dev is not None:
            if on or dev in lab.active_swaps():
                subprocess.run(["swapoff", dev], check=False)
            subprocess.run(["losetup", "-d", dev], check=False)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(backing)


@contextlib.contextmanager
def zram_device(size_mib: int, limit_mib: int) -> Iterator[str]:
    """A zram device of our own (hot_add; zram0 is left alone), set up with a mem_limit but
    not swapped on: the dashboard's zram panel needs one to show."""
    name = None
    try:
        with open("/sys/class/zram-control/hot_add") as f:
            name = f"zram{int(f.read())}"
        for attr, value in (("disksize", size_mib), ("mem_limit", limit_mib)):
            with open(f"/sys/block/{name}/{attr}", "w") as f:
                f.write(str(value << 20))
        yield name
    finally:
        if name is not None:
            with open("/sys/class/zram-control/hot_remove", "w") as f:
                f.write(name[4:])


class KernelSampler:
    """The test's own record of /proc/vmstat: (wall time, pswpin, pswpout) every few ms."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            t0 = time.time()
            vm = lab.vmstat()
            t1 = time.time()
            # Stamp the read with the interval it happened in, on the safe side of each bound.
            self.rows.append((t0, vm["pswpin"], vm["pswpout"]))
            self.rows.append((t1, vm["pswpin"], vm["pswpout"]))
            self._stop.wait(0.005)

    def __enter__(self) -> KernelSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def bracket(self, start: float, end: float, col: int) -> tuple[int, int]:
        """Kernel values that bound a read made some time in [start, end]."""
        times = [r[0] for r in self.rows]
        i = bisect.bisect_right(times, start) - 1
        j = bisect.bisect_left(times, end)
        assert i >= 0 and j < len(self.rows), "test sampler did not cover the scrape"
        return self.rows[i][col], self.rows[j][col]


class Prom:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.base}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        doc = json.loads(http_get(url))
        assert doc["status"] == "success", doc
        return doc["data"]

    def wait_scraped(self, job: str, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while not self.query(f'up{{job="{job}"}} == 1'):
            if time.monotonic() > end:
                pytest.fail(f"Prometheus did not scrape job {job} in {timeout} s")
            time.sleep(0.2)

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self.api("query", **params)
        return list(data["result"])


def prometheus_rate(samples: list[tuple[float, float]], range_end: float) -> float:
    """Prometheus 2.x extrapolatedRate (promql/functions.go) for a counter without resets.

    Times are whole milliseconds there: computed the same way, the result matches to the bit.
    """
    ms = [(round(t * 1000), v) for t, v in samples]
    (t_first, v_first), (t_last, v_last) = ms[0], ms[-1]
    range_end_ms = round(range_end * 1000)
    range_start_ms = range_end_ms - WINDOW_S * 1000
    delta = v_last - v_first
    sampled = (t_last - t_first) / 1000
    to_start = (t_first - range_start_ms) / 1000
    to_end = (range_end_ms - t_last) / 1000
    avg = sampled / (len(ms) - 1)
    if delta > 0 and v_first >= 0:
        to_zero = sampled * (v_first / delta)
        to_start = min(to_start, to_zero)
    threshold = avg * 1.1
    extrapolate = sampled
    extrapolate += to_start if to_start < threshold else avg / 2
    extrapolate += to_end if to_end < threshold else avg / 2
    return delta * (extrapolate / sampled) / WINDOW_S


def with_bool(expr: str) -> str:
    """``a > 1`` -> ``a > bool 1``: the expression then returns its series whatever the value."""
    out = []
    i, depth, quote = 0, 0, ""
    while i < len(expr):
        c = expr[i]
        if quote:
            out.append(c)
            if c == "\\":
                out.append(expr[i + 1])
                i += 2
                continue
            if c == quote:
                quote = ""
            i += 1
            continue
        if c in "\"'`":
            quote = c
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
        elif depth == 0 and expr[i : i + 2] in ("==", "!=", ">=", "<="):
            out.append(expr[i : i + 2] + " bool")
            i += 2
            continue
        elif depth == 0 and c in "<>":
            out.append(c + " bool")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def test_with_bool() -> None:
    assert (
        with_bool('a{x!="1",y=~">"} > 0.5 and b == 1')
        == 'a{x!="1",y=~">"} > bool 0.5 and b == bool 1'
    )
    assert with_bool("rate(x[5m]) >= 2") == "rate(x[5m]) >= bool 2"


def rule_expressions() -> list[tuple[str, str]]:
    """(name, expr) of every rule; a small reader for the rule file's block scalars."""
    with open(os.path.join(MONITORING, "checkswap.rules.yml")) as f:
        text = f.read()
    out = []
    for m in re.finditer(
        r"- (record|alert): (\S+)\n(?:\s+#.*\n)*\s+expr: (>-\n((?:\s{10,}.*\n)+)|.*\n)", text
    ):
        expr = m.group(4) if m.group(4) is not None else m.group(3)
        out.append((m.group(2), " ".join(expr.split())))
    return out


def dashboard_expressions() -> list[tuple[str, str]]:
    with open(os.path.join(MONITORING, "grafana-dashboard.json")) as f:
        dash = json.load(f)
    return [(p["title"], t["expr"]) for p in dash["panels"] for t in p.get("targets", [])]


def grafana_to_promql(expr: str) -> str:
    return expr.replace("$__rate_interval", f"{WINDOW_S}s").replace('"$instance"', '".+"')


def test_rule_reader_finds_every_rule() -> None:
    names = [n for n, _ in rule_expressions()]
    with open(os.path.join(MONITORING, "checkswap.rules.yml")) as f:
        text = f.read()
    assert names == re.findall(r"- (?:record|alert): (\S+)", text)
    assert all(e and "expr" not in e for _, e in rule_expressions())


@pytest.mark.kernel
def test_prometheus_scrapes_serve_while_a_hog_swaps(tmp_path: Any) -> None:
    prometheus = need("prometheus")
    promtool = need("promtool")
    node_exporter = need("prometheus-node-exporter")
    tmp = str(tmp_path)
    textdir = os.path.join(tmp, "textfile")
    os.mkdir(textdir)
    serve_port, node_port, prom_port = free_port(), free_port(), free_port()
    with (
        loop_swap(256) as swapdev,
        zram_device(64, 32),
        lab.memory_cgroup(64, name="serve") as cg,
        processes() as ps,
    ):
        # --- checkswap serve and node_exporter's textfile collector ----------------------
        ps.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "checkswap",
                    "serve",
                    "--listen",
                    f"127.0.0.1:{serve_port}",
                    "--textfile",
                    os.path.join(textdir, "checkswap.prom"),
                    "--textfile-interval",
                    "1s",
                    "--scan-interval",
                    "1s",
                    "--doctor-interval",
                    "2s",
                    "--top",
                    "5",
                ],
                cwd=REPO,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        serve = ps[-1]
        wait_http(f"http://127.0.0.1:{serve_port}/metrics", serve)
        ps.append(
            subprocess.Popen(
                [
                    node_exporter,
                    f"--web.listen-address=127.0.0.1:{node_port}",
                    "--collector.disable-defaults",
                    "--collector.textfile",
                    f"--collector.textfile.directory={textdir}",
                ],
                stderr=subprocess.DEVNULL,
            )
        )
        wait_http(f"http://127.0.0.1:{node_port}/metrics", ps[-1])
        # --- Prometheus, scraping every second, with the repository's rules ---------------
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w") as f:
            f.write(
                "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
                f"rule_files: [{os.path.join(MONITORING, 'checkswap.rules.yml')}]\n"
                "scrape_configs:\n"
                "  - job_name: checkswap\n"
                f"    static_configs: [{{targets: ['127.0.0.1:{serve_port}']}}]\n"
            )
        ps.append(
            subprocess.Popen(
                [
                    prometheus,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp}/data",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--log.level=warn",
                ],
                stderr=subprocess.DEVNULL,
            )
        )
        wait_http(f"http://127.0.0.1:{prom_port}/-/ready", ps[-1], timeout=60)
        prom = Prom(prom_port)
        # Prometheus starts scraping a few seconds after it is ready: in a good run its first
        # scrape came ~9 s before the query below, leaving 8 of the window's 10 samples, and
        # CI once got 7. From its first scrape on, the window is all scraped.
        prom.wait_scraped("checkswap")

        with KernelSampler() as kernel, lab.Hog(cg, 160, 40) as hog:
            hog.wait_ready()
            time.sleep(WINDOW_S + 4)
            at = round(time.time() - 1.5, 3)  # already scraped, inside the sampler's record
            # --- rate() through the HTTP API, and the samples it was computed from -------
            result = prom.query(f"rate(checkswap_swap_out_pages_total[{WINDOW_S}s])", at)
            assert len(result) == 1, result
            rate = float(result[0]["value"][1])
            raw = prom.query(f"checkswap_swap_out_pages_total[{WINDOW_S}s]", at)[0]["values"]
            durations = dict(
                (round(float(t), 3), float(v))
                for t, v in prom.query(
                    f'scrape_duration_seconds{{job="checkswap"}}[{WINDOW_S}s]', at
                )[0]["values"]
            )
            samples = [(float(t), float(v)) for t, v in raw]
            assert len(samples) >= WINDOW_S - 2
            assert rate > 0
            assert rate == pytest.approx(prometheus_rate(samples, at), rel=1e-9)
            # Every stored value is the kernel's pswpout at the moment of that scrape.
            for t, v in samples:
                lo, hi = kernel.bracket(t - 0.001, t + durations[round(t, 3)] + 0.002, 2)
                assert lo <= v <= hi, (t, v, lo, hi)
            # So the delta over the window is the kernel's delta between those scrapes.
            k_lo = (
                kernel.bracket(samples[-1][0], samples[-1][0], 2)[0]
                - kernel.bracket(samples[0][0], samples[0][0] + 1, 2)[1]
            )
            assert samples[-1][1] - samples[0][1] >= k_lo
            swap_in = prom.query(f"rate(checkswap_swap_in_pages_total[{WINDOW_S}s])", at)
            assert float(swap_in[0]["value"][1]) > 0

            # --- node_exporter's textfile collector reads --textfile ---------------------
            node = http_get(f"http://127.0.0.1:{node_port}/metrics").decode()
            assert "node_textfile_scrape_error 0" in node
            m = re.search(r"^checkswap_swap_out_pages_total (\S+)$", node, re.M)
            assert m, node[:2000]
            assert kernel.rows[0][2] <= float(m.group(1)) <= lab.vmstat()["pswpout"]
            assert re.search(
                r'^checkswap_memory_pressure_stall_seconds_total\{kind="some"\}', node, re.M
            )

            # --- promtool's linter on a scrape taken while swapping -----------------------
            scrape = http_get(f"http://127.0.0.1:{serve_port}/metrics")
            lint = subprocess.run([promtool, "check", "metrics"], input=scrape, capture_output=True)
            assert lint.returncode == 0, lint.stdout + lint.stderr
            text = scrape.decode()
            assert f'checkswap_swap_device_info{{device="{swapdev}"' in text
            assert (
                'checkswap_doctor_finding{id="swap-on-loop-device",severity="warning"} 1.0' in text
            )

            # --- every expression in monitoring/ returns data from this Prometheus -------
            time.sleep(2)  # the recording rules have evaluated on swapping data
            rules = prom.api("rules")
            for group in rules["groups"]:
                for rule in group["rules"]:
                    assert rule["health"] == "ok", rule
            for name, expr in rule_expressions():
                assert prom.query(with_bool(expr)), (
                    f"rule {name}: {with_bool(expr)} returned no data"
                )
            for title, expr in dashboard_expressions():
                q = grafana_to_promql(expr)
                assert prom.query(q), f"dashboard panel {title!r}: {q} returned no data"
            hog.stop()
        assert serve.poll() is None, "serve died"
    assert serve.stderr is not None
    err = serve.stderr.read()
    assert "Traceback" not in err, err
    # Stopped with SIGTERM: exit status 0 and no stale textfile left for node_exporter.
    assert serve.returncode == 0
    assert os.listdir(textdir) == []
