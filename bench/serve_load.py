#!/usr/bin/env python3
"""Load on ``checkswap serve`` and on node_exporter, side by side in the same run.

    .venv/bin/python bench/serve_load.py [--clients 50] [--scrapes 1000] [--rounds 4]

Starts ``checkswap serve`` and ``prometheus-node-exporter`` restricted to the collectors that
cover the same ground (vmstat, meminfo, pressure), both on loopback ports. Then CLIENTS
concurrent clients each scrape each exporter SCRAPES times over keep-alive connections with the
headers Prometheus sends (OpenMetrics preferred, gzip), in ROUNDS alternating rounds so that
drift in the machine's load hits both alike. Every response must be 200 with a complete body:
any error is counted and makes the exit status 1. node_exporter's --web.max-requests is raised
to let every client in (its default, 40, answers 503 beyond that). Prints p50/p90/p99/max
latency, scrapes/s, each exporter's CPU time per scrape, and the ratios checkswap /
node_exporter.

The load generator is one asyncio thread (a separate process from both exporters), so it
measures the two exporters with the same overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                r.read()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"port {port} did not answer")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the whole process, threads that already ended included."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Result:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.error_kinds: dict[str, int] = {}
        self.wall = 0.0
        self.cpu = 0.0
        self.bytes = 0

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


async def client(port: int, scrapes: int, res: Result) -> None:
    request = (
        f"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: {ACCEPT}\r\n"
        "Accept-Encoding: gzip\r\nUser-Agent: bench\r\n\r\n"
    ).encode()
    reader = writer = None
    for _ in range(scrapes):
        t0 = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            lines = head.decode("latin-1").split("\r\n")
            status = lines[0].split(" ", 2)[1]
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            if headers.get("transfer-encoding") == "chunked":
                body = b""
                while True:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    chunk = await asyncio.wait_for(reader.readexactly(size + 2), 30)
                    body += chunk[:-2]
                    if size == 0:
                        break
            else:
                length = int(headers["content-length"])
                body = await asyncio.wait_for(reader.readexactly(length), 30)
            if status != "200" or not body:
                res.error(f"status {status}")
            res.bytes += len(body)
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.TimeoutError,
            KeyError,
            ValueError,
            IndexError,
        ) as e:
            res.error(type(e).__name__)
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        res.latencies.append(time.perf_counter() - t0)
    if writer is not None:
        writer.close()


async def round_of(port: int, clients: int, scrapes: int, res: Result, pid: int) -> None:
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(*(client(port, scrapes, res) for _ in range(clients)))
    res.wall += time.perf_counter() - t0
    res.cpu += cpu_seconds(pid) - cpu0


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--scrapes", type=int, default=1000, help="per client and exporter")
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    node_exporter = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if node_exporter is None:
        sys.exit(
            "prometheus-node-exporter is not installed (apt-get install prometheus-node-exporter)"
        )
    cs_port, ne_port = free_port(), free_port()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "checkswap", "serve", "--listen", f"127.0.0.1:{cs_port}"],
            cwd=REPO,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [
                node_exporter,
                f"--web.listen-address=127.0.0.1:{ne_port}",
                "--collector.disable-defaults",
                "--collector.vmstat",
                "--collector.meminfo",
                "--collector.pressure",
                # Its default (40) answers 503 to the 41st concurrent scrape: let all 50 in.
                f"--web.max-requests={args.clients * 2}",
            ],
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        wait_ready(cs_port, procs[0])
        wait_ready(ne_port, procs[1])
        targets = {"checkswap": (cs_port, procs[0].pid), "node_exporter": (ne_port, procs[1].pid)}
        results = {name: Result() for name in targets}
        per_round = args.scrapes // args.rounds
        for r in range(args.rounds):
            order = list(targets) if r % 2 == 0 else list(reversed(targets))
            for name in order:
                port, pid = targets[name]
                n = per_round if r < args.rounds - 1 else args.scrapes - per_round * r
                asyncio.run(round_of(port, args.clients, n, results[name], pid))
        print(
            f"{args.clients} concurrent clients x {args.scrapes} scrapes each, per exporter, "
            f"in {args.rounds} alternating rounds; kernel {os.uname().release}, "
            f"{os.cpu_count()} CPUs"
        )
        print(
            f"{'exporter':14} {'scrapes':>8} {'errors':>6} {'p50 ms':>8} {'p90 ms':>8} "
            f"{'p99 ms':>8} {'max ms':>8} {'scrapes/s':>10} {'CPU ms/scrape':>13} {'body B':>7}"
        )
        for name, res in results.items():
            n = len(res.latencies)
            print(
                f"{name:14} {n:8d} {res.errors:6d} {pct(res.latencies, 50) * 1e3:8.2f} "
                f"{pct(res.latencies, 90) * 1e3:8.2f} {pct(res.latencies, 99) * 1e3:8.2f} "
                f"{max(res.latencies) * 1e3:8.2f} {n / res.wall:10.0f} "
                f"{res.cpu / max(n, 1) * 1e3:13.3f} {res.bytes // max(n, 1):7d}"
            )
            if res.error_kinds:
                print(f"  errors: {res.error_kinds}")
        cs, ne = results["checkswap"], results["node_exporter"]
        print(
            "ratio checkswap / node_exporter: "
            f"p50 {pct(cs.latencies, 50) / pct(ne.latencies, 50):.2f}, "
            f"p99 {pct(cs.latencies, 99) / pct(ne.latencies, 99):.2f}, "
            f"throughput {len(cs.latencies) / cs.wall / (len(ne.latencies) / ne.wall):.2f}, "
            f"CPU per scrape {(cs.cpu / len(cs.latencies)) / (ne.cpu / len(ne.latencies)):.2f}"
        )
        return 1 if cs.errors or ne.errors else 0
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


if __name__ == "__main__":
    sys.exit(main())
