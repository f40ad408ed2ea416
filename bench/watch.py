#!/usr/bin/env python3
"""Benchmark ``checkswap watch`` against vmstat and sar's collector, side by side.

    .venv/bin/python bench/watch.py [--seconds 30]

1. Steady-state on-CPU time per 1 Hz sample (schedstat, after a warm-up, start-up excluded):
   `checkswap watch -i 1`, `vmstat 1` and `sadc 1` run at the same time over the same window.
2. Start-up: wall time of `checkswap watch -n 1 -i 0.01 --format json` against `python -c pass`
   with the same interpreter (median of repeated runs).
3. Memory: RSS after 100,000 samples at a tiny interval against RSS after 100.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import checkswap_cmd, cpu_per_tick_us, median_wall, spawn, venv_python

SADC = "/usr/lib/sysstat/sadc"

RSS_PROBE = """
import io, sys
from checkswap.cli import main
from checkswap.env import Env
main(["watch", "-n", sys.argv[1], "-i", "0.00001", "--format", "json"],
     Env(stdout=open("/dev/null", "w")))
with open("/proc/self/status") as f:
    print(next(line.split()[1] for line in f if line.startswith("VmRSS:")))
"""


def rss_kib(samples: int) -> int:
    out = subprocess.run(
        [venv_python(), "-c", RSS_PROBE, str(samples)], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()

    # Ratios hold under load (the processes share the window), absolute figures do not: say
    # how busy the machine was.
    with open("/proc/loadavg") as f:
        print(f"# load average {' '.join(f.read().split()[:3])} on {os.cpu_count()} CPUs")
    print(f"# 1. CPU per 1 Hz sample, measured side by side over {args.seconds:.0f} s")
    procs = {"checkswap watch -i 1": spawn([*checkswap_cmd(), "watch", "-i", "1"])}
    if shutil.which("vmstat"):
        procs["vmstat 1"] = spawn(["vmstat", "1"])
    tmp = tempfile.mkdtemp()
    if os.path.exists(SADC):
        procs["sadc 1"] = spawn([SADC, "1", os.path.join(tmp, "sa")])
    try:
        cpu = cpu_per_tick_us({k: p.pid for k, p in procs.items()}, 3.0, args.seconds)
    finally:
        for p in procs.values():
            p.terminate()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    ours = cpu["checkswap watch -i 1"]
    for name, us in cpu.items():
        ratio = f"{ours / us:5.2f}x" if name != "checkswap watch -i 1" and us > 0 else ""
        print(f"{name:<24} {us:9.0f} µs/sample   checkswap/{name.split()[0]}: {ratio}")

    print(f"\n# 2. Start-up, median wall time of {args.runs} runs (each with its 10 ms interval)")
    for label, py, ours_cmd in (
        ("venv console script", venv_python(), checkswap_cmd()),
        (
            "system python3 -m checkswap",
            "/usr/bin/python3",
            ["/usr/bin/python3", "-m", "checkswap"],
        ),
    ):
        if not os.path.exists(py):
            continue
        base = median_wall([py, "-c", "pass"], args.runs)
        ours = median_wall(
            [*ours_cmd, "watch", "-n", "1", "-i", "0.01", "--format", "json"], args.runs
        )
        print(
            f"{label:<28} python -c pass {base * 1000:6.1f} ms, checkswap {ours * 1000:6.1f} ms,"
            f" ratio {ours / base:.2f}x"
        )

    print("\n# 3. RSS after N samples at a tiny interval")
    small, large = rss_kib(100), rss_kib(100_000)
    print(f"after 100 samples      {small:8d} KiB")
    print(f"after 100,000 samples  {large:8d} KiB   difference {large - small:+d} KiB")


if __name__ == "__main__":
    main()
