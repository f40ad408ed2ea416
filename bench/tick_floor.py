#!/usr/bin/env python3
"""What a 1 Hz tick costs at the least in Python, beside `checkswap watch -i 1` and `vmstat 1`.

    .venv/bin/python bench/tick_floor.py [--seconds 62]

`watch`'s target is at most twice `vmstat 1`'s on-CPU time per sample. This measures how much
of that budget the language itself takes: two floors run side by side with watch and vmstat
(on-CPU time from schedstat, started 0.3 s apart so that each wakes alone, as bench/watch.py
does), each a loop that does no more than any Python tick reading the same files must:

  reads   sleep to the next second, pread /proc/vmstat, /proc/meminfo and
          /proc/pressure/memory into bytes, write one line; nothing parsed.
  parse   the same, and each file parsed for what watch's text line shows, by the cheapest
          parse measured (one compiled regex a file: findall over the 13 vmstat counters,
          the swap lines of meminfo, PSI's two totals), then that line's arithmetic: rates,
          MiB/s, swap used, a 5-minute running sum, stall shares, the all-tier sums, and
          one %-formatted line, in a single function with no objects, no checks and no notes.

`parse` is the least a Python watch can cost; what watch spends above it is its model (samples,
intervals, counter resets, three trailing windows, peaks, run totals, swap area changes) and its
renderer. Its ratio to vmstat is the best the per-tick target could be met by in Python.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from collections import deque

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import checkswap_cmd, side_by_side

from checkswap.kernel.vmstat import COUNTERS

VMSTAT_NAMES = COUNTERS  # the counters watch parses from /proc/vmstat
MIB = 1 << 20
# watch's text line with the zswap and all-tier columns: time, in, in MiB/s, out, out MiB/s,
# swap used, 5m in, 5m out, some%, full%, majflt/s, zswap in/out, all-tier in/out.
LINE = (
    "{} {:8.1f} {:8.2f} {:8.1f} {:8.2f} {:10.0f} {:8.1f} {:8.1f} {:6.1f} {:6.1f}"
    " {:8.1f} {:8.1f} {:8.1f} {:8.1f} {:8.1f}\n"
)


def floor_loop(parse: bool) -> None:
    """One tick a second, forever, to stdout (the harness sends it to /dev/null)."""
    vm_fd = os.open("/proc/vmstat", os.O_RDONLY)
    mem_fd = os.open("/proc/meminfo", os.O_RDONLY)
    psi_fd = os.open("/proc/pressure/memory", os.O_RDONLY)
    alternatives = "|".join(sorted(VMSTAT_NAMES, key=len, reverse=True))
    vm_rx = re.compile(f"\n({alternatives}) ([0-9]+)(?=\n)").findall
    mem_rx = re.compile("\n(SwapTotal|SwapFree):\\s+([0-9]+) kB").findall
    psi_rx = re.compile("total=([0-9]+)").findall
    pread, monotonic, sleep, out = os.pread, time.monotonic, time.sleep, sys.stdout.fileno()
    page = os.sysconf("SC_PAGE_SIZE")

    def take() -> tuple[float, float, dict[str, int], dict[str, int], list[str]]:
        mono, wall = monotonic(), time.time()
        vm_text = pread(vm_fd, 16384, 0).decode()
        mem_text = pread(mem_fd, 16384, 0).decode()
        psi_text = pread(psi_fd, 256, 0).decode()
        vm = {k: int(v) for k, v in vm_rx(f"\n{vm_text}\n")}
        mem = {k: int(v) * 1024 for k, v in mem_rx(f"\n{mem_text}")}
        return mono, wall, vm, mem, psi_rx(psi_text)

    def reads() -> None:
        for fd in (vm_fd, mem_fd):
            pread(fd, 16384, 0)
        pread(psi_fd, 256, 0)

    prev = take()
    window: deque[tuple[float, float, int, int]] = deque()
    sum_in = sum_out = covered = 0.0
    start, k = monotonic(), 0
    while True:
        k += 1
        delay = start + k - monotonic()
        if delay > 0:
            sleep(delay)
        if not parse:
            reads()
            os.write(out, b"tick\n")
            continue
        cur = take()
        mono, wall, vm, mem, psi = cur
        old = prev[2]
        secs = mono - prev[0]
        d_in, d_out = vm["pswpin"] - old["pswpin"], vm["pswpout"] - old["pswpout"]
        z_in, z_out = vm["zswpin"] - old["zswpin"], vm["zswpout"] - old["zswpout"]
        all_in = d_in + z_in + vm["swpin_zero"] - old["swpin_zero"]
        all_out = (
            d_out + z_out - (vm["zswpwb"] - old["zswpwb"]) + vm["swpout_zero"] - old["swpout_zero"]
        )
        window.append((mono, secs, d_in, d_out))
        sum_in, sum_out, covered = sum_in + d_in, sum_out + d_out, covered + secs
        while window[0][0] < mono - 300:
            _, s, i, o = window.popleft()
            sum_in, sum_out, covered = sum_in - i, sum_out - o, covered - s
        some = (int(psi[0]) - int(prev[4][0])) / 1e4 / secs
        full = (int(psi[1]) - int(prev[4][1])) / 1e4 / secs
        line = LINE.format(
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall)),
            d_in / secs,
            d_in / secs * page / MIB,
            d_out / secs,
            d_out / secs * page / MIB,
            (mem["SwapTotal"] - mem["SwapFree"]) / MIB,
            sum_in / covered,
            sum_out / covered,
            some,
            full,
            (vm["pgmajfault"] - old["pgmajfault"]) / secs,
            z_in / secs,
            z_out / secs,
            all_in / secs,
            all_out / secs,
        )
        os.write(out, line.encode())
        prev = cur


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=62.0)
    ap.add_argument("--floor", choices=("reads", "parse"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.floor:
        floor_loop(args.floor == "parse")
        return
    if not os.path.exists("/proc/pressure/memory"):
        sys.exit("tick_floor: this kernel has no PSI; the floors read what watch reads")
    with open("/proc/loadavg") as f:
        print(f"# load average {' '.join(f.read().split()[:3])} on {os.cpu_count()} CPUs")
    me = [sys.executable, os.path.abspath(__file__), "--floor"]
    cmds = {"vmstat 1": ["vmstat", "1"]} if shutil.which("vmstat") else {}
    cmds["checkswap watch -i 1"] = [*checkswap_cmd(), "watch", "-i", "1"]
    cmds["floor: reads only"] = [*me, "reads"]
    cmds["floor: reads + parse"] = [*me, "parse"]
    cpu = side_by_side(cmds, args.seconds)
    base = cpu.get("vmstat 1")
    print(f"# on-CPU time per 1 Hz sample over {args.seconds:.0f} s, side by side")
    print(f"{'':<24} {'mean':>9} {'median second':>14}   mean/median over vmstat 1")
    for name, (mean, median) in cpu.items():
        ratio = "" if base is None else f"{mean / base[0]:5.2f}x {median / base[1]:5.2f}x"
        print(f"{name:<24} {mean:6.0f} µs {median:11.0f} µs   {ratio}")


if __name__ == "__main__":
    main()
