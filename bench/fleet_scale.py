"""How ``checkswap fleet`` scales with the number of hosts: time and HTTP calls for 10, 1,000
and 10,000 synthetic hosts backfilled into a real Prometheus on loopback.

Each host has swap-in/out counters and swap used scraped every 30 s over a 30-minute window
(1 % of them swapping, 0.1 % thrashing with PSI). For each size a fresh Prometheus is started
on the backfilled blocks; fleet runs three times (the median is reported), and, as a yardstick
from the same run on the same server, ``promtool query range`` of one of fleet's range queries.

    .venv/bin/python bench/fleet_scale.py [--hosts 10,1000,10000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from common import checkswap_cmd  # noqa: E402

from tests import fleetlab  # noqa: E402

EVERY = 30.0
WINDOW = 1800.0


def openmetrics(n: int, start: float, end: float) -> str:
    """Written line by line (10,000 hosts are ~2 million lines): families contiguous."""
    a, b = start - 120, end + 30
    times = []
    t = a
    while t <= b:
        times.append(t)
        t += EVERY
    thrash = {i for i in range(n) if i % 1000 == 7}
    swapping = {i for i in range(n) if i % 100 == 3}
    out = ["# TYPE checkswap_swap_in_pages counter"]
    for i in range(n):
        rate = 500.0 if i in thrash else 10.0 if i in swapping else 0.0
        lab = f'{{instance="host-{i:05d}:9947",job="checkswap"}}'
        out += [
            f"checkswap_swap_in_pages_total{lab} {k * rate * EVERY} {t:.0f}"
            for k, t in enumerate(times)
        ]
    out.append("# TYPE checkswap_swap_out_pages counter")
    for i in range(n):
        rate = 300.0 if i in thrash else 5.0 if i in swapping else 0.0
        lab = f'{{instance="host-{i:05d}:9947",job="checkswap"}}'
        out += [
            f"checkswap_swap_out_pages_total{lab} {k * rate * EVERY} {t:.0f}"
            for k, t in enumerate(times)
        ]
    out.append("# TYPE checkswap_memory_pressure_stall_seconds counter")
    for i in sorted(thrash):
        lab = f'{{instance="host-{i:05d}:9947",job="checkswap",kind="full"}}'
        out += [
            f"checkswap_memory_pressure_stall_seconds_total{lab} {k * 0.2 * EVERY} {t:.0f}"
            for k, t in enumerate(times)
        ]
    out.append("# TYPE checkswap_swap_used_bytes gauge")
    for i in range(n):
        lab = f'{{instance="host-{i:05d}:9947",job="checkswap"}}'
        out += [f"checkswap_swap_used_bytes{lab} {1e6 + i} {t:.0f}" for t in times]
    out.append("# EOF")
    return "\n".join(out) + "\n"


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", default="10,1000,10000")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    end = (int(time.time()) // 60 - 2) * 60.0
    start = end - WINDOW
    promtool = shutil.which("promtool") or "promtool"
    rows = []
    for n in (int(x) for x in args.hosts.split(",")):
        t0 = time.monotonic()
        text = openmetrics(n, start, end)
        with fleetlab.prometheus(text) as url:
            load_s = time.monotonic() - t0
            times, summary = [], {}
            for _ in range(args.runs):
                t = time.monotonic()
                r = subprocess.run(
                    [
                        *checkswap_cmd(),
                        *("fleet", "--prometheus", url, "--from", iso(start), "--to", iso(end)),
                        *("--format", "json", "--limit", "1"),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                times.append(time.monotonic() - t)
                summary = json.loads(r.stdout.splitlines()[-1])
            yard = []
            for _ in range(args.runs):
                t = time.monotonic()
                subprocess.run(
                    [
                        *(promtool, "query", "range", "--start", iso(start + 60)),
                        *("--end", iso(end), "--step", "1m", url),
                        "sum by (instance) (rate(checkswap_swap_in_pages_total[1m]))",
                    ],
                    capture_output=True,
                    check=True,
                )
                yard.append(time.monotonic() - t)
        fleet_s, yard_s = statistics.median(times), statistics.median(yard)
        rows.append((n, summary["hosts"], summary["queries"], fleet_s, yard_s, load_s))
        print(
            f"{n:>6} hosts: fleet {fleet_s:6.2f} s, {summary['queries']} HTTP calls, "
            f"{summary['thrashing']} thrashing / {summary['swapping']} swapping; one promtool "
            f"range query {yard_s:5.2f} s (ratio {fleet_s / yard_s:.1f}); "
            f"backfill+start {load_s:.0f} s",
            flush=True,
        )
    print("\n| hosts | HTTP calls | fleet (median of 3) | one `promtool query range` | ratio |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for _, found, calls, f_s, y_s, _ in rows:
        print(f"| {found:,} | {calls} | {f_s:.2f} s | {y_s:.2f} s | {f_s / y_s:.1f} |")


if __name__ == "__main__":
    main()
