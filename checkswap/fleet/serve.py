"""``checkswap serve`` at work: the collector, its background jobs, and the loop that serves.

A custom collector on its own registry reads the kernel when Prometheus scrapes (SwapCollector);
the per-process scan and the doctor's findings are slower, so they run on their own schedule in
background threads (Periodic) and a scrape only picks up their last result: a slow scan never
delays the system metrics. Exporter renders a scrape once for all callers that arrive
together; serve() wires these to fleet/http.py's server and textfile writer.

Imports ``prometheus_client`` (the ``exporter`` extra) at the top, so only ``serve`` imports
it, inside ``run``.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Callable, Generic, TypeVar

from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.registry import Collector, CollectorRegistry

from checkswap import outfile
from checkswap.errors import BadInput, Refused
from checkswap.fleet.http import make_server, write_textfile
from checkswap.fleet.metrics import (
    cgroup_pressure_metrics,
    doctor_metrics,
    info_metrics,
    process_metrics,
    process_wait_metrics,
    scan_metrics,
    system_metrics,
    tier_metrics,
)
from checkswap.fleet.singleflight import SingleFlight
from checkswap.fleet.waits import Reading, WaitTotals
from checkswap.kernel.swaps import SwapArea, read_swaps
from checkswap.model.sample import Sample, Sampler
from checkswap.model.tiers import TierWatch

if TYPE_CHECKING:
    from checkswap.env import Env
    from checkswap.kernel.taskstats import Delays
    from checkswap.source.root import Root

T = TypeVar("T")

DOCTOR_SAMPLE_S = 3.0
SERVE_TIERS_EVERY_S = 5.0


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


class SwapCollector(Collector):
    """Reads the kernel on every collect(); adds the background scans' last results."""

    def __init__(self, root: Root, jobs: Iterable[Periodic[list[Metric]]] = ()) -> None:
        self.root = root
        self.jobs = list(jobs)
        self.sampler = Sampler(root)
        self.reads = 0
        self.tier_watch = TierWatch(root, every_s=SERVE_TIERS_EVERY_S)

    def read(self) -> tuple[Sample, list[SwapArea] | None]:
        self.reads += 1
        sample = self.sampler.take()
        try:
            areas: list[SwapArea] | None = read_swaps(self.root)
        except OSError:
            areas = None  # no /proc/swaps (CONFIG_SWAP off): no device metrics, not zeros
        return sample, areas

    def tiers(self, areas: list[SwapArea] | None) -> list[Metric]:
        # The areas' counters are read at every scrape (rate() needs them fresh); the slow state
        # (mm_stat, zswap, ~50 mTHP files: 1.6-2.8 ms measured here) at most every
        # SERVE_TIERS_EVERY_S, so fast scrapers share one read.
        try:
            io = self.tier_watch.counters(areas) if areas else None
        except OSError:
            io = None
        return tier_metrics(self.tier_watch.cache.get(), io)

    def collect(self) -> Iterator[Metric]:
        sample, areas = self.read()
        yield from system_metrics(sample, areas, self.root.page_size)
        yield from self.tiers(areas)
        for job in self.jobs:
            if job.result is not None:
                yield from job.result
        yield from info_metrics()
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
    jobs = background_jobs(
        root, top, scan_interval, doctor_interval, role, env.stderr, env.sleep, env.monotonic
    )
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


def wait_readings(rec: dict[str, object], delays: dict[int, tuple[int, Delays]]) -> list[Reading]:
    """Each listed process with a swap-in delay, as WaitTotals takes it: the record gives its
    series (comm, unit), the scanner's last taskstats answers its start time and delay."""
    out: list[Reading] = []
    procs = rec.get("processes")
    for p in procs if isinstance(procs, list) else []:
        pid = p.get("pid")
        if not isinstance(pid, int) or pid not in delays:
            continue
        start, d = delays[pid]
        if d.swapin_delay_ns is None:
            continue
        series = (str(p.get("comm") or ""), str(p.get("unit") or ""))
        out.append(Reading(pid, start, series, d.swapin_delay_ns / 1e9))
    return out


def background_jobs(
    root: Root,
    top: int,
    scan_interval: float,
    doctor_interval: float,
    role: str,
    log: IO[str],
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> list[Periodic[list[Metric]]]:
    """The processes and doctor jobs; the doctor samples on ``sleep``/``monotonic`` (env's)."""
    from checkswap.doctor.report import diagnose
    from checkswap.model.procs import Scanner

    scanners: list[Scanner] = []
    waits = WaitTotals()

    def scan() -> list[Metric]:
        # Reads every /proc/PID: on a busy host that takes a while, so it runs here, not in a
        # scrape. Made on first use, so that a root it cannot scan only fails this job.
        if not scanners:
            scanners.append(Scanner(root))
        scanner = scanners[0]
        rec = dict(scanner.sample())
        waits.update(wait_readings(rec, scanner.delay_readings()), monotonic())
        return [
            *process_metrics(rec, top),
            *process_wait_metrics(waits, top),
            *cgroup_pressure_metrics(scanner.cgroup_pressure_totals(), top),
        ]

    procs_job: Periodic[list[Metric]] = Periodic("processes", scan, scan_interval, log)
    # The doctor samples for a few seconds to judge activity; it runs in its own thread, so
    # that time is never spent inside a scrape.
    doctor_job: Periodic[list[Metric]] = Periodic(
        "doctor",
        lambda: doctor_metrics(diagnose(root, role, DOCTOR_SAMPLE_S, sleep, monotonic)),
        doctor_interval,
        log,
    )
    return [procs_job, doctor_job]
