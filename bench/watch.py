#!/usr/bin/env python3
"""Benchmark ``checkswap watch`` against vmstat and sar's collector, side by side.

    .venv/bin/python bench/watch.py [--seconds 62]

1. Steady-state on-CPU time per 1 Hz sample (schedstat, after a warm-up, start-up excluded):
   `checkswap watch -i 1`, `vmstat 1` and `sadc 1` run at the same time over the same window,
   each waking in its own part of the second; the mean and the median second.
2. Start-up: wall time of `checkswap watch -n 1 -i 0.01` (the target's text, and with
   `--format json`) minus its interval, against `python -c pass` and an empty argparse parser
   on the same interpreter (medians of runs in turns), for the venv's interpreter and the
   system's.
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

from common import checkswap_cmd, paired_wall, side_by_side, venv_python

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
    ap.add_argument("--seconds", type=float, default=62.0)  # the target: 60+ samples
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()

    # Ratios hold under load (the processes share the window), absolute figures do not: say
    # how busy the machine was.
    with open("/proc/loadavg") as f:
        print(f"# load average {' '.join(f.read().split()[:3])} on {os.cpu_count()} CPUs")
    print(f"# 1. CPU per 1 Hz sample, measured side by side over {args.seconds:.0f} s")
    cmds = {"checkswap watch -i 1": [*checkswap_cmd(), "watch", "-i", "1"]}
    if shutil.which("vmstat"):
        cmds["vmstat 1"] = ["vmstat", "1"]
    tmp = tempfile.mkdtemp()
    if os.path.exists(SADC):
        cmds["sadc 1"] = [SADC, "1", os.path.join(tmp, "sa")]
    try:
        cpu = side_by_side(cmds, args.seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mean, median = cpu["checkswap watch -i 1"]
    print(f"{'':<24} {'mean':>9} {'median second':>14}   checkswap's mean/median over it")
    for name, (m, med) in cpu.items():
        mine = name == "checkswap watch -i 1"
        ratio = "" if mine or m <= 0 or med <= 0 else f"{mean / m:5.2f}x {median / med:5.2f}x"
        print(f"{name:<24} {m:6.0f} µs {med:11.0f} µs   {ratio}")

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
        _, bare = paired_wall([py, "-c", "pass"], [py, "-c", floor], args.runs, env)
        print(f"{label}: an empty argparse parser takes {bare * 1000:.1f} ms")
        watch = [py, "-c", console, "watch", "-n", "1", "-i", "0.01"]
        for name, argv in (("text", watch), ("--format json", [*watch, "--format", "json"])):
            base, ours = paired_wall([py, "-c", "pass"], argv, args.runs, env)
            ours -= 0.010
            print(
                f"  watch {name:<14} {ours * 1000:6.1f} ms, python -c pass {base * 1000:6.1f} ms"
                f" ({ours / base:.2f}x; argparse alone {bare / base:.2f}x)"
            )

    print("\n# 3. RSS after N samples at a tiny interval")
    small, large = rss_kib(100), rss_kib(100_000)
    print(f"after 100 samples      {small:8d} KiB")
    print(f"after 100,000 samples  {large:8d} KiB   difference {large - small:+d} KiB")


if __name__ == "__main__":
    main()
