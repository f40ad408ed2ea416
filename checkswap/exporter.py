"""The Prometheus exporter behind ``checkswap serve``.

A custom collector on its own registry reads the kernel when Prometheus scrapes: counters are
exported as counters (``_total``) and PromQL's ``rate()`` makes the rates, so nothing here
divides by time. The per-process scan and the doctor's findings are slower, so they run on their
own schedule in background threads (``Periodic``) and a scrape only picks up their last result:
a slow scan never delays the system metrics.

This module imports ``prometheus_client`` (the ``exporter`` extra) at the top, so only
``serve`` imports it, inside ``run``.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, TYPE_CHECKING, Any, Callable, Generic, TypeVar
from urllib.parse import urlsplit

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder, generate_latest, gzip_accepted
from prometheus_client.registry import Collector, CollectorRegistry

from checkswap import __version__, outfile
from checkswap.errors import BadInput, Refused
from checkswap.fields import SWAP_IN_HELP, SWAP_OUT_HELP
from checkswap.fleet.singleflight import SingleFlight
from checkswap.kernel.meminfo import swap_used
from checkswap.kernel.swaps import SwapArea, read_swaps
from checkswap.model.sample import Sample, Sampler

if TYPE_CHECKING:
    from checkswap.env import Env
    from checkswap.source.root import Root

T = TypeVar("T")

# vmstat counters exported as-is (pages or events since boot): (counter, metric, help).
# A counter the kernel lacks (zswpin without CONFIG_ZSWAP, swpin_zero before 6.12) is left out,
# never exported as 0.
VMSTAT_COUNTERS = (
    (
        "pswpin",
        "checkswap_swap_in_pages_total",
        SWAP_IN_HELP + ". rate() gives pages/s; times checkswap_page_size_bytes gives bytes/s.",
    ),
    (
        "pswpout",
        "checkswap_swap_out_pages_total",
        SWAP_OUT_HELP + ". rate() gives pages/s; times checkswap_page_size_bytes gives bytes/s.",
    ),
    (
        "pgmajfault",
        "checkswap_major_faults_total",
        "Major page faults (pgmajfault): swap-ins and file reads that made a task wait.",
    ),
    (
        "workingset_refault_anon",
        "checkswap_refault_anon_pages_total",
        "Anonymous pages swapped in soon after being evicted (workingset_refault_anon, 5.9+).",
    ),
    (
        "swpin_zero",
        "checkswap_swap_in_zero_pages_total",
        "Zero-filled pages swapped in without device I/O (swpin_zero, 6.12+); not in pswpin.",
    ),
    (
        "swpout_zero",
        "checkswap_swap_out_zero_pages_total",
        "Zero-filled pages swapped out without device I/O (swpout_zero, 6.12+); not in pswpout.",
    ),
    (
        "zswpin",
        "checkswap_zswap_in_pages_total",
        "Pages loaded back from the zswap pool (zswpin): no disk I/O.",
    ),
    (
        "zswpout",
        "checkswap_zswap_out_pages_total",
        "Pages stored into the zswap pool (zswpout): no disk I/O.",
    ),
    (
        "zswpwb",
        "checkswap_zswap_writeback_pages_total",
        "Pages written back from zswap to the swap device (zswpwb).",
    ),
)

# meminfo fields exported as gauges, in bytes: (field, metric, help).
MEMINFO_GAUGES = (
    ("SwapTotal", "checkswap_swap_total_bytes", "Swap space configured (SwapTotal)."),
    (
        "SwapCached",
        "checkswap_swap_cached_bytes",
        "Pages both in swap and in RAM (SwapCached): part of used swap, not subtracted.",
    ),
    ("MemTotal", "checkswap_memory_total_bytes", "RAM usable by the kernel (MemTotal)."),
    (
        "MemAvailable",
        "checkswap_memory_available_bytes",
        "RAM available for new work without swapping (MemAvailable).",
    ),
    ("Zswap", "checkswap_zswap_pool_bytes", "Compressed size of the zswap pool (Zswap)."),
    ("Zswapped", "checkswap_zswapped_bytes", "Uncompressed size of what zswap holds (Zswapped)."),
)

DOCTOR_SAMPLE_S = 3.0

PSI_HELP = (
    "Time tasks stalled on memory, from /proc/pressure/memory total: kind=some when at least "
    "one task waited, kind=full when all non-idle tasks waited at once. rate() gives the "
    "share of time stalled (0-1)."
)


def system_metrics(sample: Sample, areas: list[SwapArea] | None, page_size: int) -> list[Metric]:
    """Metric families for the whole machine from one raw sample and /proc/swaps."""
    out: list[Metric] = []
    vm = sample.vmstat
    for counter, name, help_text in VMSTAT_COUNTERS:
        if counter in vm:
            out.append(CounterMetricFamily(name, help_text, value=vm[counter]))
    out.append(
        GaugeMetricFamily(
            "checkswap_page_size_bytes",
            "Page size of this kernel, for turning page counts into bytes.",
            value=page_size,
        )
    )
    mem = sample.meminfo
    used = swap_used(mem)
    if used is not None:
        out.append(
            GaugeMetricFamily(
                "checkswap_swap_used_bytes",
                "Swap in use: SwapTotal - SwapFree, as free(1) shows it (SwapCached included).",
                value=used,
            )
        )
    for field, name, help_text in MEMINFO_GAUGES:
        if field in mem:
            out.append(GaugeMetricFamily(name, help_text, value=mem[field]))
    psi = sample.psi
    if psi is not None:
        stall = CounterMetricFamily(
            "checkswap_memory_pressure_stall_seconds_total", PSI_HELP, labels=["kind"]
        )
        for kind, line in (("some", psi.some), ("full", psi.full)):
            if line is not None:
                stall.add_metric([kind], line.total_us / 1e6)
        out.append(stall)
    if areas is not None:
        used_fam = GaugeMetricFamily(
            "checkswap_swap_device_used_bytes",
            "Swap in use on each swap area (Used column of /proc/swaps).",
            labels=["device"],
        )
        size_fam = GaugeMetricFamily(
            "checkswap_swap_device_size_bytes",
            "Size of each swap area (Size column of /proc/swaps).",
            labels=["device"],
        )
        prio_fam = GaugeMetricFamily(
            "checkswap_swap_device_priority",
            "Priority of each swap area: higher is used first (Priority column of /proc/swaps).",
            labels=["device"],
        )
        for a in areas:
            used_fam.add_metric([a.name], a.used_bytes)
            size_fam.add_metric([a.name], a.size_bytes)
            prio_fam.add_metric([a.name], a.priority)
        out += [used_fam, size_fam, prio_fam]
    return out


def process_metrics(top: dict[str, Any], limit: int) -> list[Metric]:
    """Per-name and per-cgroup swap from a ``top --format json`` record, ``limit`` of each.

    Processes are summed by (comm, unit) with no pid label, so a worker pool is one series and
    series do not come and go with pids; only the ``limit`` largest holders are exported, so the
    number of series is bounded whatever runs on the machine.
    """
    sums: dict[tuple[str, str], int] = {}
    for p in top.get("processes") or []:
        swap = p.get("swap_bytes")
        if not swap:
            continue
        key = (str(p.get("comm") or ""), str(p.get("unit") or ""))
        sums[key] = sums.get(key, 0) + int(swap)
    procs = GaugeMetricFamily(
        "checkswap_process_swap_bytes",
        f"Swap held (VmSwap) by processes, summed per name and unit; the {limit} largest only.",
        labels=["comm", "unit"],
    )
    for (comm, unit), swap in sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]:
        procs.add_metric([comm, unit], swap)
    cgroups = GaugeMetricFamily(
        "checkswap_cgroup_swap_bytes",
        f"Swap charged to each memory cgroup; the {limit} largest only.",
        labels=["cgroup"],
    )
    rows = [c for c in top.get("cgroups") or [] if c.get("swap_bytes")]
    rows.sort(key=lambda c: (-int(c["swap_bytes"]), str(c.get("path"))))
    for c in rows[:limit]:
        cgroups.add_metric([str(c.get("path"))], int(c["swap_bytes"]))
    out: list[Metric] = [procs, cgroups]
    unattributed = top.get("unattributed_swap_bytes")
    if unattributed is not None:
        out.append(
            GaugeMetricFamily(
                "checkswap_unattributed_swap_bytes",
                "Swap used that no process's VmSwap accounts for (shmem, tmpfs).",
                value=unattributed,
            )
        )
    return out


def finding_metrics(findings: Iterable[dict[str, Any]]) -> list[Metric]:
    fam = GaugeMetricFamily(
        "checkswap_doctor_finding",
        "1 for each finding of checkswap doctor (id, severity); see `checkswap doctor`.",
        labels=["id", "severity"],
    )
    seen = set()
    for f in findings:
        key = (str(f.get("id")), str(f.get("severity")))
        if key not in seen:  # two findings with one id (two devices) are one series
            seen.add(key)
            fam.add_metric(list(key), 1)
    return [fam]


class Periodic(Generic[T]):
    """Runs ``fn`` now and then every ``interval`` seconds in a daemon thread.

    Readers take the last result without waiting; ``None`` until the first run finishes. A run
    that fails keeps the previous result, counts the error and says why once on ``log``.
    """

    def __init__(self, name: str, fn: Callable[[], T], interval: float, log: IO[str]) -> None:
        self.name = name
        self.fn = fn
        self.interval = interval
        self.log = log
        self.result: T | None = None
        self.finished_wall: float | None = None
        self.duration_s: float | None = None
        self.errors = 0
        self._last_error = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"checkswap-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def run_once(self) -> None:
        t0 = time.monotonic()
        try:
            result = self.fn()
        except Exception as e:  # any failure of a scan must not end the exporter
            self.errors += 1
            msg = f"checkswap serve: {self.name} failed: {e}"
            if msg != self._last_error:
                self.log.write(msg + "\n")
                self.log.flush()
                self._last_error = msg
            return
        self.result = result
        self.duration_s = time.monotonic() - t0
        self.finished_wall = time.time()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)


def scan_metrics(jobs: Iterable[Periodic[Any]]) -> list[Metric]:
    duration = GaugeMetricFamily(
        "checkswap_scan_duration_seconds",
        "How long the last background scan took (processes, doctor).",
        labels=["scan"],
    )
    stamp = GaugeMetricFamily(
        "checkswap_scan_timestamp_seconds",
        "When the last background scan finished (Unix time): the age of what is exported.",
        labels=["scan"],
    )
    errors = CounterMetricFamily(
        "checkswap_scan_errors_total", "Background scans that failed.", labels=["scan"]
    )
    for job in jobs:
        if job.duration_s is not None:
            duration.add_metric([job.name], job.duration_s)
        if job.finished_wall is not None:
            stamp.add_metric([job.name], job.finished_wall)
        errors.add_metric([job.name], job.errors)
    return [duration, stamp, errors]


class SwapCollector(Collector):
    """Reads the kernel on every collect(); adds the background scans' last results."""

    def __init__(self, root: Root, jobs: Iterable[Periodic[list[Metric]]] = ()) -> None:
        self.root = root
        self.jobs = list(jobs)
        self.sampler = Sampler(root)
        self.reads = 0

    def read(self) -> tuple[Sample, list[SwapArea] | None]:
        self.reads += 1
        sample = self.sampler.take()
        try:
            areas: list[SwapArea] | None = read_swaps(self.root)
        except OSError:
            areas = None  # no /proc/swaps (CONFIG_SWAP off): no device metrics, not zeros
        return sample, areas

    def collect(self) -> Iterator[Metric]:
        sample, areas = self.read()
        yield from system_metrics(sample, areas, self.root.page_size)
        for job in self.jobs:
            if job.result is not None:
                yield from job.result
        info = GaugeMetricFamily(
            "checkswap_exporter_info", "checkswap's version; always 1.", labels=["version"]
        )
        info.add_metric([__version__], 1)
        yield info
        if self.jobs:
            yield from scan_metrics(self.jobs)


class Exporter:
    """The registry, and scrapes rendered once for all callers that arrive together."""

    def __init__(self, collector: SwapCollector) -> None:
        self.collector = collector
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        self._flight: SingleFlight[bytes] = SingleFlight()

    def render(self, accept: str | None, accept_encoding: str | None) -> tuple[bytes, str, bool]:
        """(body, content type, gzipped) for one scrape with these request headers."""
        encoder, content_type = choose_encoder(accept or "")
        gz = gzip_accepted(accept_encoding or "")

        def bake() -> bytes:
            body: bytes = encoder(self.registry)
            return gzip.compress(body, compresslevel=1) if gz else body

        return self._flight.do((content_type, gz), bake), content_type, gz


# How long a client may take to send a whole request head (request line and headers), from
# accept, or from the first byte of a later request on a keep-alive connection. The deadline is
# for the whole head, not per read: a client trickling a byte at a time (slowloris) is closed
# when it expires. Prometheus sends its head in one packet, within milliseconds.
REQUEST_DEADLINE_S = 5.0
# A keep-alive connection waiting for its next request is closed after this, or at once when a
# new connection needs its slot. Prometheus scrapes far sooner (every 15-60 s) or reconnects.
IDLE_TIMEOUT_S = 30.0
# Each response write must finish within this; a client that does not read is closed.
WRITE_TIMEOUT_S = 10.0
# What one request head may hold. Prometheus sends a few hundred bytes; nginx's default is 8 KiB
# a line, 32 KiB in all. http.client also stops at 100 header lines.
MAX_REQUEST_LINE = 8 * 1024
MAX_HEAD_BYTES = 32 * 1024
# After an error answer, what is left of the request is read and dropped for at most this long
# and this much, so the answer reaches the client before the close.
LINGER_S = 0.5
LINGER_BYTES = 256 * 1024


class HeadTimeout(socket.timeout):
    """The request head did not arrive before its deadline."""


class HeadTooLarge(http.client.LineTooLong):
    """The request head is larger than MAX_HEAD_BYTES (parse_request answers 431)."""

    def __init__(self) -> None:
        super().__init__(f"request head over {MAX_HEAD_BYTES} bytes")


class HeadReader:
    """The handler's rfile: reads request heads from the socket against a deadline and a budget.

    A buffered file from ``makefile`` would loop over recv() inside one readline(), with the
    socket's timeout applying to each recv anew: one byte every few seconds keeps it alive for
    ever. Here every recv waits only for what is left of the head's deadline, and the buffer
    never holds more than the budget plus one recv.
    """

    RECV = 4096

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.deadline = 0.0
        self.budget = 0

    def start(self, deadline_s: float = REQUEST_DEADLINE_S, budget: int = MAX_HEAD_BYTES) -> None:
        self.deadline = time.monotonic() + deadline_s
        self.budget = budget

    def _fill(self) -> bool:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise HeadTimeout("request head not received in time")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(self.RECV)
        except socket.timeout:
            raise HeadTimeout("request head not received in time") from None
        finally:
            # What follows a head is a response: its writes get their own timeout.
            self.sock.settimeout(WRITE_TIMEOUT_S)
        self.buf += data
        return bool(data)

    def wait(self, timeout: float) -> bool:
        """Whether a byte of a next request arrives within ``timeout`` (False: closed or idle)."""
        if self.buf:
            return True
        self.deadline = time.monotonic() + timeout
        try:
            return self._fill()
        except socket.timeout:
            return False

    def readline(self, limit: int = -1) -> bytes:
        buf = self.buf
        while True:
            end = buf.find(b"\n") + 1
            if end:
                break
            if 0 <= limit <= len(buf):
                end = limit
                break
            if len(buf) >= self.budget:
                raise HeadTooLarge()
            if not self._fill():
                end = len(buf)  # the client closed: what came is the last line
                break
        if 0 <= limit < end:
            end = limit
        if end > self.budget:
            raise HeadTooLarge()
        line = bytes(buf[:end])
        del buf[:end]
        self.budget -= end
        return line

    def close(self) -> None:
        self.buf = bytearray()


LANDING = b"""<!doctype html>
<html><head><title>checkswap exporter</title></head>
<body><h1>checkswap exporter</h1><p><a href="/metrics">/metrics</a></p></body></html>
"""

# A connection's state, for choosing which one to close when the limit is reached.
IDLE, ARRIVING, BUSY = "idle", "arriving", "busy"


class MetricsHandler(BaseHTTPRequestHandler):
    """GET /metrics; keep-alive like Prometheus uses; every error is an HTTP status, not a crash."""

    protocol_version = "HTTP/1.1"
    server_version = f"checkswap/{__version__}"
    # The socket's timeout for writes; reads of a head set their own (HeadReader).
    timeout = WRITE_TIMEOUT_S
    # Headers and body go out in two writes: with Nagle's algorithm on, the body would wait for
    # the client's delayed ACK of the headers (40 ms on Linux) on every keep-alive scrape.
    disable_nagle_algorithm = True
    exporter: Exporter  # set on the subclass made by make_server
    server: MetricsServer
    rfile: HeadReader  # type: ignore[assignment]

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the buffered file from makefile(): HeadReader reads instead
        self.rfile = HeadReader(self.connection)
        self.rfile.start()  # the first request's deadline runs from accept

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        super().send_error(code, message, explain)
        self._linger = True

    def finish(self) -> None:
        super().finish()
        if getattr(self, "_linger", False):
            self._lingering_close()

    def _lingering_close(self) -> None:
        # An error answer (414, 431) often leaves part of the request unread; closing then
        # makes the kernel send a reset, which can destroy the answer before the client reads
        # it. So stop writing and drain for a short, bounded while first (as Apache does).
        sock = self.connection
        end = time.monotonic() + LINGER_S
        drained = 0
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
            while drained < LINGER_BYTES:
                left = end - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                data = sock.recv(65536)
                if not data:
                    break
                drained += len(data)

    def handle(self) -> None:
        while True:
            self.handle_one_request()
            if self.close_connection:
                return
            srv = self.server
            if not srv.set_state(self.request, IDLE):
                return
            if not self.rfile.wait(srv.idle_timeout):
                return
            if not srv.set_state(self.request, ARRIVING):
                return
            self.rfile.start(srv.request_deadline)

    def handle_one_request(self) -> None:
        # BaseHTTPRequestHandler's, with the head read against its deadline and bounds, and a
        # connection closed to make room (set_state False) giving up before it is served.
        self.close_connection = True
        self.raw_requestline = b""
        try:
            line = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if not line:
                return
            if len(line) > MAX_REQUEST_LINE:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            self.raw_requestline = line
            if not self.parse_request():
                return
        except HeadTimeout:
            self.server.timed_out += 1
            return
        if not self.server.set_state(self.request, BUSY):
            return
        method = getattr(self, "do_" + self.command, None)
        if method is None:
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")
            return
        method()
        self.wfile.flush()

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, head: bool) -> None:
        path = urlsplit(self.path).path
        headers = [("Cache-Control", "no-store")]
        if path == "/metrics":
            try:
                body, ctype, gz = self.exporter.render(
                    self.headers.get("Accept"), self.headers.get("Accept-Encoding")
                )
            except Exception as e:
                # The kernel could not be read (a vanished --root, EACCES): Prometheus records
                # the scrape as failed (up == 0) and the message says why.
                self._send(500, "text/plain; charset=utf-8", f"checkswap: {e}\n".encode(), head)
                return
            if gz:
                headers.append(("Content-Encoding", "gzip"))
            self._send(200, ctype, body, head, headers)
        elif path in ("/", ""):
            self._send(200, "text/html; charset=utf-8", LANDING, head, headers)
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics\n", head)

    def _send(
        self,
        code: int,
        ctype: str,
        body: bytes,
        head: bool,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers or ():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per scrape would fill the journal; errors are counted instead


class MetricsServer(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` of them, and never all held by idlers.

    When the limit is reached, a new connection makes room: the keep-alive connection idle the
    longest is closed, else the one whose request head has been arriving the longest (a slow
    client that would time out anyway). Only when every connection is being served is the new
    one closed at once. So slow or idle clients cannot keep a fresh scrape out, and the number
    of threads stays bounded.

    Whatever a client sends (garbage, a half request, a reset), the error stays in its thread:
    the handler answers malformed requests with 400/414/431/501, and a broken connection is
    counted here instead of printing a traceback.
    """

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[MetricsHandler],
        max_connections: int,
        request_deadline: float = REQUEST_DEADLINE_S,
        idle_timeout: float = IDLE_TIMEOUT_S,
    ) -> None:
        host = address[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.max_connections = max_connections
        self.request_deadline = request_deadline
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        # socket -> [state, since (monotonic)]; a socket absent from it was closed to make room.
        self._conns: dict[socket.socket, list[Any]] = {}
        self.request_errors = 0
        self.refused = 0
        self.evicted = 0
        self.timed_out = 0
        super().__init__(address, handler)

    def set_state(self, request: socket.socket, state: str) -> bool:
        """Record a connection's state; False if it was closed to make room (then give up)."""
        with self._lock:
            entry = self._conns.get(request)
            if entry is None:
                return False
            entry[0], entry[1] = state, time.monotonic()
            return True

    def _make_room(self) -> bool:
        # Called with the lock held, at most max_connections entries to look through.
        victim = None
        for state in (IDLE, ARRIVING):
            candidates = [(e[1], id(s), s) for s, e in self._conns.items() if e[0] == state]
            if candidates:
                victim = min(candidates)[2]
                break
        if victim is None:
            return False
        del self._conns[victim]
        self.evicted += 1
        # Wakes the victim's thread out of recv() (it reads 0 bytes and ends); its socket is
        # closed by that thread, so the descriptor cannot be reused under it.
        with contextlib.suppress(OSError):
            victim.shutdown(socket.SHUT_RDWR)
        return True

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            if len(self._conns) >= self.max_connections and not self._make_room():
                self.refused += 1
                admitted = False
            else:
                self._conns[request] = [ARRIVING, time.monotonic()]
                admitted = True
        if not admitted:
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._forget(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            # Forgotten before the close, so _make_room never shuts down a closed socket.
            self._forget(request)
            self.shutdown_request(request)

    def _forget(self, request: Any) -> None:
        with self._lock:
            self._conns.pop(request, None)

    def connections(self) -> dict[str, int]:
        """How many connections are in each state (for tests and the bench)."""
        with self._lock:
            out = {IDLE: 0, ARRIVING: 0, BUSY: 0}
            for state, _ in self._conns.values():
                out[state] += 1
            return out

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.request_errors += 1


def make_server(
    exporter: Exporter, host: str, port: int, max_connections: int = 64
) -> MetricsServer:
    handler = type("Handler", (MetricsHandler,), {"exporter": exporter})
    return MetricsServer((host, port), handler, max_connections)


def write_textfile(path: str, registry: CollectorRegistry) -> None:
    # Not prometheus_client's write_to_textfile: it opens PATH.<pid>.<thread> with a plain open(),
    # through any link planted at that predictable name, and renames it over whatever PATH is.
    # outfile uses a random O_EXCL name and replaces only our own regular file; node_exporter
    # reads only *.prom, so it never sees the temporary file. 0644: node_exporter runs as its
    # own user, and the same figures are served on /metrics without authentication anyway.
    outfile.write(path, generate_latest(registry), "--textfile", 0o644)


def serve(
    env: Env,
    root: Root,
    listen: tuple[str, int] | None,
    textfile: str | None,
    textfile_interval: float,
    top: int,
    scan_interval: float,
    doctor_interval: float,
    max_connections: int,
    role: str = "general",
) -> int:
    jobs = background_jobs(root, top, scan_interval, doctor_interval, role, env.stderr)
    collector = SwapCollector(root, jobs)
    exp = Exporter(collector)
    collector.read()  # fail now, with one line, if the kernel files cannot be read
    for job in jobs:
        job.start()
    server = None
    writer: Periodic[None] | None = None
    try:
        if textfile is not None:
            writer = Periodic(
                "textfile",
                lambda: write_textfile(textfile, exp.registry),
                textfile_interval,
                env.stderr,
            )
            writer.run_once()
            if writer.errors:
                raise BadInput(f"--textfile {textfile}: cannot write it")
        if listen is None:
            assert writer is not None
            while True:
                env.sleep(textfile_interval)
                writer.run_once()
        if writer is not None:
            writer.start()
        host, port = listen
        try:
            server = make_server(exp, host, port, max_connections)
        except OSError as e:
            raise Refused(f"--listen {host}:{port}: {e.strerror or e}") from None
        bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        env.stderr.write(f"checkswap serve: listening on http://{shown}:{bound_port}/metrics\n")
        env.stderr.flush()
        server.serve_forever()
        return 0
    finally:
        for job in jobs:
            job.stop()
        if writer is not None:
            writer.stop()
        if server is not None:
            server.server_close()
        if textfile is not None:
            # Stale figures would look current to node_exporter: leave no file behind (but only
            # our own: whatever else is at the name now is not ours to remove).
            outfile.remove(textfile)


def device_metrics(devices: Iterable[dict[str, Any]]) -> list[Metric]:
    """``checkswap_swap_device_info`` from the doctor's device facts (topology.py)."""
    fam = GaugeMetricFamily(
        "checkswap_swap_device_info",
        "1 for each swap area, with what it is: kind (file, partition, zram...), whether its "
        "disk is flagged rotational (true, false, unknown) and network-backed.",
        labels=["device", "kind", "rotational", "network"],
    )
    for d in devices:
        fam.add_metric(
            [
                str(d.get("name")),
                str(d.get("kind")),
                _flag(d.get("rotational")),
                _flag(d.get("network")),
            ],
            1,
        )
    return [fam]


def _flag(value: object) -> str:
    return "unknown" if value is None else str(bool(value)).lower()


def doctor_metrics(report: dict[str, Any]) -> list[Metric]:
    return finding_metrics(report.get("findings") or []) + device_metrics(
        report.get("devices") or []
    )


def background_jobs(
    root: Root, top: int, scan_interval: float, doctor_interval: float, role: str, log: IO[str]
) -> list[Periodic[list[Metric]]]:
    from checkswap.doctor.report import diagnose
    from checkswap.model.procs import Scanner

    scanners: list[Scanner] = []

    def scan() -> list[Metric]:
        # Reads every /proc/PID: on a busy host that takes a while, so it runs here, not in a
        # scrape. Made on first use, so that a root it cannot scan only fails this job.
        if not scanners:
            scanners.append(Scanner(root))
        return process_metrics(dict(scanners[0].sample()), top)

    procs_job: Periodic[list[Metric]] = Periodic("processes", scan, scan_interval, log)
    # The doctor samples for a few seconds to judge activity; it runs in its own thread, so
    # that time is never spent inside a scrape.
    doctor_job: Periodic[list[Metric]] = Periodic(
        "doctor",
        lambda: doctor_metrics(diagnose(root, role, DOCTOR_SAMPLE_S)),
        doctor_interval,
        log,
    )
    return [procs_job, doctor_job]
