"""``serve``'s exporter on fixture trees: names and types as docs/interface.md, values as the
kernel's text, shared scrapes, and a server that survives whatever a client sends."""

from __future__ import annotations

import contextlib
import errno
import http.client
import io
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from clihelp import FIXTURES

pytest.importorskip("prometheus_client")

from prometheus_client.parser import text_string_to_metric_families

from checkswap.cli import main
from checkswap.env import Env
from checkswap.fleet import http as web
from checkswap.fleet import metrics, serve
from checkswap.source.root import Root

SWAPPING = os.path.join(FIXTURES, "check-swapping-6.18")

# docs/interface.md's core metrics (test_interface.py checks them all): name -> (type, labels).
DESIGN_METRICS = {
    "checkswap_swap_in_pages_total": ("counter", ()),
    "checkswap_swap_out_pages_total": ("counter", ()),
    "checkswap_page_size_bytes": ("gauge", ()),
    "checkswap_swap_used_bytes": ("gauge", ()),
    "checkswap_swap_total_bytes": ("gauge", ()),
    "checkswap_swap_device_used_bytes": ("gauge", ("device",)),
    "checkswap_swap_device_info": ("gauge", ("device", "kind", "rotational", "network")),
    "checkswap_memory_pressure_stall_seconds_total": ("counter", ("kind",)),
    "checkswap_process_swap_bytes": ("gauge", ("comm", "unit")),
    "checkswap_cgroup_swap_bytes": ("gauge", ("cgroup", "pod_uid", "container_id")),
    "checkswap_doctor_finding": ("gauge", ("id", "severity")),
}

TOP = {
    "type": "processes",
    "processes": [
        {"pid": 10, "comm": "postgres", "unit": "postgresql.service", "swap_bytes": 4096},
        {"pid": 11, "comm": "postgres", "unit": "postgresql.service", "swap_bytes": 8192},
        {"pid": 12, "comm": "java", "unit": None, "swap_bytes": 1 << 20},
        {"pid": 13, "comm": "idle", "unit": None, "swap_bytes": 0},
        {"pid": 14, "comm": "small", "unit": "x.service", "swap_bytes": 1},
    ],
    "cgroups": [
        {"path": "/system.slice/postgresql.service", "swap_bytes": 12288},
        {"path": "/user.slice", "swap_bytes": 1 << 20},
        {"path": "/empty", "swap_bytes": 0},
    ],
    "unattributed_swap_bytes": 4096,
}
DOCTOR = {
    "findings": [
        {"id": "swap-on-loop-device", "severity": "warning"},
        {"id": "swap-on-loop-device", "severity": "warning"},
        {"id": "swap-on-rotational", "severity": "info"},
    ],
    "devices": [
        {"name": "/dev/loop3", "kind": "loop", "rotational": False, "network": False},
        {"name": "/swap file", "kind": "file", "rotational": None, "network": False},
    ],
}


def kernel_counter(path: str, name: str) -> int:
    """The fixture's own text, read here with two lines rather than checkswap's parser."""
    with open(path) as f:
        return next(int(v) for k, v in (line.split() for line in f) if k == name)


def meminfo_bytes(path: str, name: str) -> int:
    with open(path) as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(name)


def fixed_job(name: str, metrics: list[metrics.Metric]) -> serve.Periodic[list[metrics.Metric]]:
    job: serve.Periodic[list[metrics.Metric]] = serve.Periodic(
        name, lambda: metrics, 60, io.StringIO()
    )
    job.run_once()
    return job


def full_exporter(root_path: str = SWAPPING) -> serve.Exporter:
    jobs = [
        fixed_job("processes", metrics.process_metrics(TOP, 2)),
        fixed_job("doctor", metrics.doctor_metrics(DOCTOR)),
    ]
    return serve.Exporter(serve.SwapCollector(Root(root_path), jobs))


def scrape_text(exp: serve.Exporter) -> str:
    body, ctype, gz = exp.render(None, None)
    assert not gz and ctype.startswith("text/plain")
    return body.decode()


def families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_every_design_metric_is_exported_with_its_type_and_labels() -> None:
    text = scrape_text(full_exporter())
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    for name, (kind, labels) in DESIGN_METRICS.items():
        assert types.get(name) == kind, name
        samples = [
            line
            for line in text.splitlines()
            if line.startswith(name + "{") or line.startswith(name + " ")
        ]
        assert samples, f"{name} has no sample"
        for line in samples:
            got = sorted(re.findall(r'(\w+)="', line.rsplit(" ", 1)[0]))
            assert got == sorted(labels), line
    # Every counter ends in _total; every name has a unit or is an info/finding.
    for name, kind in types.items():
        assert name.startswith("checkswap_")
        assert (kind == "counter") == name.endswith("_total"), name


def test_values_are_the_kernel_text() -> None:
    text = scrape_text(serve.Exporter(serve.SwapCollector(Root(SWAPPING))))
    fams = families(text)
    vm = os.path.join(SWAPPING, "proc/vmstat")
    mi = os.path.join(SWAPPING, "proc/meminfo")

    def value(name: str, **labels: str) -> float:
        fam = fams[name.removesuffix("_total") if name.endswith("_total") else name]
        for s in fam.samples:  # type: ignore[attr-defined]
            if s.labels == labels:
                return float(s.value)
        raise KeyError((name, labels))

    assert value("checkswap_swap_in_pages_total") == kernel_counter(vm, "pswpin")
    assert value("checkswap_swap_out_pages_total") == kernel_counter(vm, "pswpout")
    assert value("checkswap_major_faults_total") == kernel_counter(vm, "pgmajfault")
    assert value("checkswap_swap_total_bytes") == meminfo_bytes(mi, "SwapTotal")
    assert value("checkswap_swap_used_bytes") == meminfo_bytes(mi, "SwapTotal") - meminfo_bytes(
        mi, "SwapFree"
    )
    assert value("checkswap_page_size_bytes") == os.sysconf("SC_PAGE_SIZE")
    # /proc/pressure/memory: total=4745778 us (some), 3736093 us (full).
    assert value("checkswap_memory_pressure_stall_seconds_total", kind="some") == 4.745778
    assert value("checkswap_memory_pressure_stall_seconds_total", kind="full") == 3.736093
    # /proc/swaps: 262140 KiB, 152424 KiB used.
    dev = "/var/tmp/checkswap-test-wt7capture-14925"
    assert value("checkswap_swap_device_size_bytes", device=dev) == 262140 * 1024
    assert value("checkswap_swap_device_used_bytes", device=dev) == 152424 * 1024


def test_missing_counters_are_absent_not_zero(tmp_path: object) -> None:
    root = os.path.join(str(tmp_path), "old")
    shutil.copytree(SWAPPING, root)
    os.unlink(os.path.join(root, "proc/pressure/memory"))
    vm = os.path.join(root, "proc/vmstat")
    with open(vm) as f:
        lines = [x for x in f if not x.startswith(("swpin_zero", "swpout_zero", "zswp"))]
    with open(vm, "w") as f:
        f.writelines(lines)
    text = scrape_text(serve.Exporter(serve.SwapCollector(Root(root))))
    for name in (
        "checkswap_memory_pressure_stall_seconds",
        "checkswap_swap_in_zero_pages",
        "checkswap_zswap_in_pages",
    ):
        assert name not in text
    assert "checkswap_swap_in_pages_total " in text


def test_processes_summed_per_name_and_unit_bounded() -> None:
    fams = families(scrape_text(full_exporter()))
    procs = {
        (s.labels["comm"], s.labels["unit"]): s.value
        for s in fams["checkswap_process_swap_bytes"].samples
    }  # type: ignore[attr-defined]
    # pids 10 and 11 are one series; the top 2 only; zero swap is not a holder.
    assert procs == {("java", ""): 1 << 20, ("postgres", "postgresql.service"): 12288}
    cg = {s.labels["cgroup"]: s.value for s in fams["checkswap_cgroup_swap_bytes"].samples}  # type: ignore[attr-defined]
    assert cg == {"/user.slice": 1 << 20, "/system.slice/postgresql.service": 12288}
    info = {tuple(sorted(s.labels.items())) for s in fams["checkswap_swap_device_info"].samples}  # type: ignore[attr-defined]
    assert (
        ("device", "/swap file"),
        ("kind", "file"),
        ("network", "false"),
        ("rotational", "unknown"),
    ) in info
    findings = fams["checkswap_doctor_finding"].samples  # type: ignore[attr-defined]
    assert len(findings) == 2  # one series per (id, severity)


def test_concurrent_scrapes_share_one_kernel_read() -> None:
    exp = serve.Exporter(serve.SwapCollector(Root(SWAPPING)))
    real_read = exp.collector.read
    gate = threading.Event()

    def slow_read():  # type: ignore[no-untyped-def]
        gate.wait(5)
        return real_read()

    exp.collector.read = slow_read  # type: ignore[method-assign]
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(exp.render(None, None)[0]))
        for _ in range(20)
    ]
    for t in threads:
        t.start()
    # Until all twenty wait on the one read in flight: a fixed sleep was too short when loaded.
    end = time.monotonic() + 10
    while exp._flight.shared < 19 and time.monotonic() < end:
        time.sleep(0.01)
    gate.set()
    for t in threads:
        t.join(10)
    assert len(results) == 20 and len(set(results)) == 1
    assert exp.collector.reads == 1
    # A later scrape reads the kernel again: nothing is cached across scrapes.
    exp.render(None, None)
    assert exp.collector.reads == 2


def test_a_failing_background_scan_keeps_the_last_result() -> None:
    log = io.StringIO()
    calls = []

    def fn() -> list[metrics.Metric]:
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("proc vanished")
        return metrics.process_metrics(TOP, 5)

    job: serve.Periodic[list[metrics.Metric]] = serve.Periodic("processes", fn, 60, log)
    job.run_once()
    job.run_once()
    job.run_once()
    assert job.result is not None and job.errors == 2
    assert log.getvalue().count("proc vanished") == 1  # said once, not once per run


@pytest.fixture
def server() -> Iterator[tuple[web.MetricsServer, int]]:
    srv = web.make_server(full_exporter(), "127.0.0.1", 0, max_connections=8)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv, int(srv.server_address[1])
    finally:
        srv.shutdown()
        srv.server_close()


def get(
    port: int, path: str = "/metrics", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def send(port: int, data: bytes) -> socket.socket:
    """A fresh connection with ``data`` sent, or as much of it as the server read before closing."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    # The server may answer an error and close while the rest is still on its way.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        s.sendall(data)
    return s


def reply(s: socket.socket) -> bytes:
    """Everything the server sends until it closes; then closes ``s``.

    The server may have closed first: an error answer lingers at most LINGER_S, and a loaded
    machine can take longer than that to get here. Our shutdown then finds the connection gone
    (ENOTCONN) or the read finds it reset: that is the server's close, not a failure, and what
    had arrived is the reply.
    """
    out = b""
    with s:
        try:
            # Without it a keep-alive answer (a 200) would wait for the idle timeout to end.
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            if e.errno != errno.ENOTCONN:
                raise
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return out
            if not chunk:
                return out
            out += chunk


def raw(port: int, data: bytes, close_early: bool = False) -> bytes:
    s = send(port, data)
    if close_early:
        s.close()
        return b""
    return reply(s)


def closed_by_peer(s: socket.socket, timeout: float = 10.0) -> bool:
    """Whether the other end closed ``s`` for good (TCP state CLOSE: reset) within ``timeout``."""
    tcp_close = 7  # TCP_CLOSE in include/net/tcp_states.h; tcpi_state is TCP_INFO's first byte
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == tcp_close:
            return True
        time.sleep(0.01)
    return False


def test_http_metrics_gzip_and_openmetrics(server: tuple[web.MetricsServer, int]) -> None:
    import gzip

    _, port = server
    status, headers, body = get(port)
    assert status == 200 and b"checkswap_swap_in_pages_total" in body
    status, headers, body = get(port, headers={"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip"
    assert b"checkswap_swap_out_pages_total" in gzip.decompress(body)
    status, headers, body = get(port, headers={"Accept": "application/openmetrics-text"})
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")
    assert get(port, "/nope")[0] == 404
    assert get(port, "/")[0] == 200


@pytest.mark.parametrize(
    "junk",
    [
        b"\x00\xff\xfe garbage\r\n\r\n",
        b"GET /metrics HTTP/9.9\r\n\r\n",
        b"GET " + b"/a" * 40000 + b" HTTP/1.1\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
        b"BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"\r\n\r\n",
    ],
)
def test_malformed_requests_never_kill_the_server(
    server: tuple[web.MetricsServer, int], junk: bytes
) -> None:
    _, port = server
    reply = raw(port, junk)
    # An error page (or, for what is not HTTP/1.x, HTTP/0.9's bare body) and never a traceback.
    assert b"Traceback" not in reply
    raw(port, junk[: len(junk) // 2], close_early=True)
    assert get(port)[0] == 200


def test_reading_a_reply_after_the_server_closed_first(
    server: tuple[web.MetricsServer, int],
) -> None:
    # What the helpers above meet on a loaded machine, made certain: an error answer whose
    # linger ran out before the client shut down its side. More than LINGER_BYTES of request
    # line is left unread, so the server's close is a reset; raw() used to call shutdown() on
    # that dead socket and fail the test with ENOTCONN, though the server did nothing wrong.
    _, port = server
    s = send(port, b"GET /" + b"a" * (4 * web.LINGER_BYTES) + b" HTTP/1.1\r\n\r\n")
    assert closed_by_peer(s)
    assert b"Traceback" not in reply(s)
    assert get(port)[0] == 200


def test_at_the_limit_the_oldest_waiting_connection_makes_room(
    server: tuple[web.MetricsServer, int],
) -> None:
    srv, port = server
    silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(8)]
    try:
        end = time.monotonic() + 5
        while srv.connections()[web.ARRIVING] < 8 and time.monotonic() < end:
            time.sleep(0.01)
        assert get(port)[0] == 200  # served at once, not refused nor queued
        assert srv.evicted == 1 and srv.refused == 0
        assert silent[0].recv(100) == b""  # the oldest one was closed for it
    finally:
        for s in silent:
            s.close()


def test_connections_beyond_the_limit_are_closed_when_all_are_served() -> None:
    exp = full_exporter()
    real_read = exp.collector.read
    gate = threading.Event()

    def slow_read():  # type: ignore[no-untyped-def]
        gate.wait(10)
        return real_read()

    exp.collector.read = slow_read  # type: ignore[method-assign]
    srv = web.make_server(exp, "127.0.0.1", 0, max_connections=4)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = int(srv.server_address[1])
    busy = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(4)]
    try:
        for s in busy:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        end = time.monotonic() + 5
        while srv.connections()[web.BUSY] < 4 and time.monotonic() < end:
            time.sleep(0.01)
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        extra.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert extra.recv(100) == b""  # closed at once: a scrape in progress is never cut
        extra.close()
        assert srv.refused == 1 and srv.evicted == 0
        gate.set()
        for s in busy:
            assert s.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        gate.set()
        for s in busy:
            s.close()
        srv.shutdown()
        srv.server_close()


def test_textfile_is_written_whole_and_removed_on_stop(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "checkswap.prom")
    exp = full_exporter()
    web.write_textfile(path, exp.registry)
    with open(path) as f:
        text = f.read()
    assert "checkswap_swap_in_pages_total" in text
    assert os.listdir(str(tmp_path)) == ["checkswap.prom"]  # no temporary file left
    assert families(text)["checkswap_page_size_bytes"]


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        (":9947", "say which address"),
        ("9947", "give HOST:PORT"),
        ("127.0.0.1:http", "is not a number"),
        ("127.0.0.1:70000", "0-65535"),
        ("::1:9947", "brackets"),
        ("myhost:9947", "not an IP address"),
    ],
)
def test_bad_listen_is_bad_input(listen: str, message: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    status = main(["serve", "--listen", listen, "--root", SWAPPING], Env(stdout=out, stderr=err))
    assert status == 2
    assert message in err.getvalue() and "Traceback" not in err.getvalue()


@pytest.mark.parametrize(("value", "message"), [("0", "at least 1"), ("5000", "at most 4096")])
def test_max_connections_is_bounded(value: str, message: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["serve", "--max-connections", value, "--root", SWAPPING]
    status = main(argv, Env(stdout=out, stderr=err))
    assert status == 2
    assert message in err.getvalue() and "Traceback" not in err.getvalue()


def test_serve_help_states_the_server_bounds() -> None:
    from checkswap.commands.serve import DESCRIPTION

    text = " ".join(DESCRIPTION.split())
    assert f"{web.REQUEST_DEADLINE_S:g} s from connecting" in text
    assert f"{web.MAX_REQUEST_LINE // 1024} KiB for the request line" in text
    assert f"{web.MAX_HEAD_BYTES // 1024} KiB in all" in text
    assert f"after {web.IDLE_TIMEOUT_S:g} s idle" in text


def test_textfile_must_be_named_prom(tmp_path: object) -> None:
    err = io.StringIO()
    status = main(
        ["serve", "--textfile", os.path.join(str(tmp_path), "x.txt")],
        Env(stdout=io.StringIO(), stderr=err),
    )
    assert status == 2 and "*.prom" in err.getvalue()


def test_parse_listen() -> None:
    from checkswap.commands.serve import parse_listen

    assert parse_listen("127.0.0.1:9947") == ("127.0.0.1", 9947)
    assert parse_listen("0.0.0.0:1") == ("0.0.0.0", 1)
    assert parse_listen("[::1]:9947") == ("::1", 9947)
    assert parse_listen("localhost:0") == ("localhost", 0)


def test_serve_textfile_only_writes_and_cleans_up(tmp_path: object) -> None:
    import signal
    import subprocess
    import sys

    path = os.path.join(str(tmp_path), "checkswap.prom")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "checkswap",
            "serve",
            "--root",
            SWAPPING,
            "--textfile",
            path,
            "--textfile-interval",
            "0.2s",
        ],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        end = time.monotonic() + 20
        while not os.path.exists(path) and time.monotonic() < end:
            time.sleep(0.05)
        with open(path) as f:
            fams = families(f.read())
        assert fams["checkswap_swap_in_pages"].samples[0].value == kernel_counter(  # type: ignore[attr-defined]
            os.path.join(SWAPPING, "proc/vmstat"), "pswpin"
        )
        time.sleep(0.5)  # rewritten on its interval, never seen half-written
        assert sorted(os.listdir(str(tmp_path))) == ["checkswap.prom"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert not os.path.exists(path)


def test_a_slow_process_scan_never_delays_a_scrape() -> None:
    release = threading.Event()

    def slow_scan() -> list[metrics.Metric]:
        release.wait(10)  # a scan stuck on a huge /proc
        return metrics.process_metrics(TOP, 5)

    job: serve.Periodic[list[metrics.Metric]] = serve.Periodic(
        "processes", slow_scan, 60, io.StringIO()
    )
    exp = serve.Exporter(serve.SwapCollector(Root(SWAPPING), [job]))
    job.start()
    try:
        t0 = time.monotonic()
        text = scrape_text(exp)
        assert time.monotonic() - t0 < 1.0
        assert "checkswap_swap_in_pages_total" in text
        assert "checkswap_process_swap_bytes" not in text  # no result yet: absent, not zero
        release.set()
        end = time.monotonic() + 5
        while job.result is None and time.monotonic() < end:
            time.sleep(0.01)
        assert "checkswap_process_swap_bytes{" in scrape_text(exp)
    finally:
        release.set()
        job.stop()


def test_sigterm_with_an_idle_keep_alive_client_exits_at_once() -> None:
    # Prometheus keeps its connection open between scrapes. server_close() waits for every
    # handler thread, and an idle one sits in its read for up to the idle timeout (30 s):
    # SIGTERM must not wait for it.
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "checkswap", "serve", "--root", SWAPPING, "--listen", "127.0.0.1:0"],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    client = None
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        client.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while b"checkswap_swap_in_pages_total" not in got:
            chunk = client.recv(65536)
            assert chunk, "the server closed before answering"
            got += chunk
        # The connection is now idle and kept alive, as Prometheus leaves it.
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=25)
        took = time.monotonic() - start
    finally:
        if client is not None:
            client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert took < 5, f"serve took {took:.1f} s to stop with an idle client connected"
