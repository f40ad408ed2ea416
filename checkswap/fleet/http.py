"""The HTTP side of ``checkswap serve``: /metrics for Prometheus, and the node_exporter textfile.

HeadReader reads each request head against a deadline and a size budget (no slowloris);
MetricsHandler answers GET/HEAD /metrics over keep-alive, every error as an HTTP status;
MetricsServer bounds the threads, and at the limit closes an idle or slow connection to make
room. What a scrape returns comes from a ``Scrapes`` (serve.Exporter): this module knows
nothing of the kernel or of metric families.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from prometheus_client.exposition import generate_latest
from prometheus_client.registry import CollectorRegistry

from checkswap import __version__, outfile


class Scrapes(Protocol):
    """What the handler needs to answer /metrics (serve.Exporter)."""

    def render(
        self, accept: str | None, accept_encoding: str | None
    ) -> tuple[bytes, str, bool]: ...


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
    exporter: Scrapes  # set on the subclass made by make_server
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

    # Daemon handler threads are also what lets SIGTERM stop serve at once: server_close()
    # joins only non-daemon threads, and an idle keep-alive one waits up to IDLE_TIMEOUT_S.
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
    exporter: Scrapes, host: str, port: int, max_connections: int = 64
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
