#!/usr/bin/env python3
"""Benchmark ``checkswap watch`` against vmstat and sar's collector, side by side.

    .venv/bin/python bench/watch.py [--seconds 30]

1. Steady-state on-CPU time per 1 Hz sample (schedstat, after a warm-up, start-up excluded):
   `checkswap watch -i 1`, `vmstat 1` and `sadc 1` run at the same time over the same window.
2. Start-up: wall time of `checkswap watch -n 1 -i 0.01 --format json` minus its interval,
   against `python -c pass` and an empty argparse parser on the same interpreter (medians of
   runs in turns), for the venv's interpreter and the system's.
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

from common import checkswap_cmd, cpu_per_tick_us, paired_wall, spawn, venv_python

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

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

    print(
        f"\n# 2. Start-up, medians of {args.runs} runs in turns, minus watch's 10 ms interval"
        " (bytecode cached, as an installed package has it)"
    )
    # As the console script runs it (no runpy), with the repository on the path for the system
    # interpreter; PYTHONDONTWRITEBYTECODE would make every run compile every module.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = REPO
    console = "import sys; from checkswap.cli import main; sys.exit(main())"
    floor = "import argparse; argparse.ArgumentParser().parse_args([])"
    for label, py in (("venv python", venv_python()), ("system python3", "/usr/bin/python3")):
        if not os.path.exists(py):
            continue
        subprocess.run(
            [py, "-m", "compileall", "-q", os.path.join(REPO, "checkswap")],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        watch = [py, "-c", console, "watch", "-n", "1", "-i", "0.01", "--format", "json"]
        base, ours = paired_wall([py, "-c", "pass"], watch, args.runs, env)
        _, bare = paired_wall([py, "-c", "pass"], [py, "-c", floor], args.runs, env)
        ours -= 0.010
        print(
            f"{label:<16} python -c pass {base * 1000:6.1f} ms, checkswap watch {ours * 1000:6.1f}"
            f" ms ({ours / base:.2f}x); an empty argparse parser {bare * 1000:6.1f} ms"
            f" ({bare / base:.2f}x)"
        )

    print("\n# 3. RSS after N samples at a tiny interval")
    small, large = rss_kib(100), rss_kib(100_000)
    print(f"after 100 samples      {small:8d} KiB")
    print(f"after 100,000 samples  {large:8d} KiB   difference {large - small:+d} KiB")


if __name__ == "__main__":
    main()
