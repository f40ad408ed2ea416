"""``serve`` under hostile clients, for real on 127.0.0.1: slow clients trickling a request head
(slowloris), idle keep-alive connections holding every slot, and a flood of malformed requests.
The server runs in a subprocess, as ``checkswap serve`` on a fixture root, so its RSS can be read
from /proc/PID/status and its stderr checked for tracebacks."""

from __future__ import annotations

import http.client
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from clihelp import FIXTURES, REPO

pytest.importorskip("prometheus_client")

from prometheus_client.parser import text_string_to_metric_families

SWAPPING = os.path.join(FIXTURES, "check-swapping-6.18")
SLOW_CLIENTS = 150
# What the server is started with; the deadline is serve's default (http.REQUEST_DEADLINE_S).
MAX_CONNECTIONS = 64
DEADLINE_S = 5.0


class Served:
    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.port = port
        self.stderr = b""

    def rss_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")


@pytest.fixture
def served() -> Iterator[Served]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "checkswap",
            "serve",
            "--root",
            SWAPPING,
            "--listen",
            "127.0.0.1:0",
            "--max-connections",
            str(MAX_CONNECTIONS),
            "--scan-interval",
            "1h",
            "--doctor-interval",
            "1h",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        line = b""
        end = time.monotonic() + 20
        while not line.endswith(b"\n") and time.monotonic() < end:
            ready, _, _ = select.select([proc.stderr], [], [], 0.2)
            if ready:
                byte = os.read(proc.stderr.fileno(), 1)
                if not byte:
                    break
                line += byte
        assert b"listening on http://127.0.0.1:" in line, line
        port = int(line.rsplit(b":", 1)[1].split(b"/")[0])
        s = Served(proc, port)
        yield s
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate(timeout=20)
    assert b"Traceback" not in err, err.decode(errors="replace")


def scrape(port: int) -> float:
    """One scrape from a fresh client: its latency, after checking it is a valid exposition."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    took = time.monotonic() - t0
    assert r.status == 200
    names = {f.name for f in text_string_to_metric_families(body.decode())}
    assert "checkswap_swap_in_pages" in names
    return took


class Tricklers:
    """Slow clients, each sending one more byte of a request head every 0.5 s."""

    HEAD = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200

    def __init__(self, port: int, n: int) -> None:
        self.socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.setblocking(False)
            self.socks.append(s)
        self.sent = 0
        self.closed: dict[int, float] = {}  # index -> when the server closed it
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.started = time.monotonic()
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set() and self.sent < len(self.HEAD):
            for i, s in enumerate(self.socks):
                if i in self.closed:
                    continue
                try:
                    s.send(self.HEAD[self.sent : self.sent + 1])
                    if s.recv(1) == b"":
                        self.closed[i] = time.monotonic()
                except BlockingIOError:
                    pass  # nothing to read: the server is still waiting for the head
                except OSError:
                    self.closed[i] = time.monotonic()
            self.sent += 1
            self._stop.wait(0.5)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for s in self.socks:
            s.close()


def test_a_fresh_scrape_gets_through_150_slowloris_clients(served: Served) -> None:
    slow = Tricklers(served.port, SLOW_CLIENTS)
    try:
        time.sleep(1.5)  # every slot is held by a client still sending its head
        latencies = [scrape(served.port) for _ in range(5)]
        print(f"fresh scrape under {SLOW_CLIENTS} slowloris clients: max {max(latencies):.3f} s")
        assert max(latencies) < 1.0
    finally:
        slow.stop()


def test_a_head_still_arriving_past_its_deadline_is_closed(served: Served) -> None:
    slow = Tricklers(served.port, 3)  # below the limit: nothing to make room for
    try:
        end = time.monotonic() + DEADLINE_S + 5
        while len(slow.closed) < 3 and time.monotonic() < end:
            time.sleep(0.1)
        assert len(slow.closed) == 3, "a trickling client kept its connection past the deadline"
        for when in slow.closed.values():
            assert when - slow.started < DEADLINE_S + 1.5
    finally:
        slow.stop()


def test_a_fresh_scrape_gets_through_150_idle_keepalive_connections(served: Served) -> None:
    idle = []
    try:
        for _ in range(SLOW_CLIENTS):
            conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
            idle.append(conn)
            try:
                conn.request("GET", "/metrics")
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                pass  # closed to make room for a later one, or refused
        latencies = [scrape(served.port) for _ in range(5)]
        print(
            f"fresh scrape under {SLOW_CLIENTS} idle keep-alive connections: "
            f"max {max(latencies):.3f} s"
        )
        assert max(latencies) < 1.0
    finally:
        for conn in idle:
            conn.close()


def _malformed(i: int) -> tuple[bytes, str]:
    kind = i % 8
    if kind == 0:
        return bytes((i * 37 + k) % 256 for k in range(300)) + b"\r\n\r\n", "garbage"
    if kind == 1:
        return b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", "oversized request line"
    if kind == 2:
        return b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * 1000 + b"\r\n", "header flood"
    if kind == 3:
        return (
            b"GET /metrics HTTP/1.1\r\n" + (b"X-Big: " + b"b" * 8000 + b"\r\n") * 8 + b"\r\n",
            "large headers",
        )
    if kind == 4:
        return b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Half: ", "half request"
    if kind == 5:
        return b"GET /metrics HTTP/1.1\r\nHost: x\r\n", "reset"
    if kind == 6:
        return b"GET /metrics HTTP/7.1\r\nHost: x\r\n\r\n", "bad version"
    return b"BREW /metrics HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", "bad method"


def _send_malformed(port: int, i: int) -> None:
    data, kind = _malformed(i)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        if kind == "reset":
            s.sendall(data)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        try:
            s.sendall(data)
        except OSError:
            return  # the server answered and closed before the client finished sending
        if kind == "half request":
            return  # close with half a head sent
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError:
        pass
    finally:
        s.close()


def test_rss_stays_flat_over_10000_malformed_requests(served: Served) -> None:
    def flood(start: int, count: int, step: int) -> None:
        for i in range(start, start + count * step, step):
            _send_malformed(served.port, i)

    def run(total: int) -> float:
        t0 = time.monotonic()
        workers = [threading.Thread(target=flood, args=(k, total // 4, 4)) for k in range(4)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(300)
        assert not any(t.is_alive() for t in workers)
        return time.monotonic() - t0

    run(800)  # warm-up: every code path once, allocator arenas made
    scrape(served.port)
    time.sleep(0.5)
    before = served.rss_kib()
    took = run(10000)
    time.sleep(0.5)
    scrape(served.port)
    after = served.rss_kib()
    print(f"10000 malformed requests in {took:.1f} s: RSS {before} -> {after} KiB")
    assert after - before < 5 * 1024
