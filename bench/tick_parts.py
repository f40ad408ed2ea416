#!/usr/bin/env python3
"""What one sampling tick costs, part by part, when it runs cache-cold after a sleep.

    .venv/bin/python bench/tick_parts.py [--samples 100] [--sleep 0.2] [--root /]

A 1 Hz `watch` spends nearly all its time asleep, so every tick starts with the interpreter's
code and data evicted from the CPU caches by whatever ran meanwhile: the warm cost of a loop of
back-to-back calls (timeit) says little about it. Here each tick follows a sleep, as in `watch`,
and the parts of `Sampler.take` are timed in the order it runs them (the pread of each file,
then each parse on the text just read). The whole `take` is timed too, in its own ticks, since
the parts warm one another. Then a whole `watch -i 1` tick (text output to /dev/null), part by
part in the order watch runs them: the sleep call, `Sampler.take`, `Interval`, `Tracker.add`
and the renderer's line with its write; the sleep and the whole tick in on-CPU time of the
thread (what schedstat counts: the wait itself is not CPU), the rest in wall time.

Medians and 90th percentiles in microseconds (perf_counter); on a loaded machine compare runs
made back to back, not absolute figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from checkswap.kernel.meminfo import parse_meminfo
from checkswap.kernel.pressure import PATH as PSI_PATH
from checkswap.kernel.pressure import parse_pressure
from checkswap.kernel.vmstat import parse_vmstat
from checkswap.model.rates import Interval, Tracker
from checkswap.model.sample import Sampler
from checkswap.render.watch import make_renderer
from checkswap.source.root import Root

PARTS = (
    "pread vmstat",
    "pread meminfo",
    "pread pressure",
    "parse pressure",
    "parse vmstat",
    "parse meminfo",
    "parts total",
    "Sampler.take",
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(root: Root, samples: int, sleep: float) -> dict[str, list[float]]:
    clock = time.perf_counter_ns
    vm_f = root.open_pread("proc/vmstat")
    mem_f = root.open_pread("proc/meminfo")
    try:
        psi_f = root.open_pread(PSI_PATH)
    except OSError:
        psi_f = None
    sampler = Sampler(root)
    out: dict[str, list[float]] = {name: [] for name in PARTS}
    try:
        for i in range(samples + 3):
            time.sleep(sleep)
            t0 = clock()
            vm = vm_f.read()
            t1 = clock()
            mem = mem_f.read()
            t2 = clock()
            psi = psi_f.read() if psi_f is not None else ""
            t3 = clock()
            parse_pressure(psi)
            t4 = clock()
            parse_vmstat(vm)
            t5 = clock()
            parse_meminfo(mem)
            t6 = clock()
            time.sleep(sleep)
            t7 = clock()
            sampler.take()
            t8 = clock()
            if i < 3:
                continue  # the first ticks compile regexes and fill the parsers' memory
            stamps = (t0, t1, t2, t3, t4, t5, t6)
            for name, a, b in zip(PARTS, stamps, stamps[1:]):
                out[name].append((b - a) / 1000)
            out["parts total"].append((t6 - t0) / 1000)
            out["Sampler.take"].append((t8 - t7) / 1000)
    finally:
        sampler.close()
        for f in (vm_f, mem_f, psi_f):
            if f is not None:
                f.close()
    return out


WATCH_PARTS = ("sleep (CPU)", "take", "Interval", "Tracker.add", "render+write", "tick (CPU)")


def measure_watch(root: Root, samples: int, sleep: float) -> dict[str, list[float]]:
    clock = time.perf_counter_ns
    cpu = time.thread_time_ns  # on-CPU time, as schedstat counts it: the sleep call's own cost
    out: dict[str, list[float]] = {name: [] for name in WATCH_PARTS}
    sampler = Sampler(root)
    tracker = Tracker()
    page_size = root.page_size
    with open(os.devnull, "w") as devnull:
        renderer = make_renderer("text", devnull, zswap=False)
        prev = sampler.take()
        try:
            for i in range(samples + 3):
                c0 = cpu()
                time.sleep(sleep)
                c1 = cpu()
                t1 = clock()
                cur = sampler.take()
                t2 = clock()
                iv = Interval(prev, cur)
                t3 = clock()
                tracker.add(iv)
                t4 = clock()
                renderer.interval(iv, tracker, page_size)
                t5 = clock()
                c2 = cpu()
                prev = cur
                if i < 3:
                    continue
                out["sleep (CPU)"].append((c1 - c0) / 1000)
                for name, a, b in zip(WATCH_PARTS[1:], (t1, t2, t3, t4), (t2, t3, t4, t5)):
                    out[name].append((b - a) / 1000)
                out["tick (CPU)"].append((c2 - c0) / 1000)
        finally:
            sampler.close()
    return out


def report(result: dict[str, list[float]], names: tuple[str, ...]) -> None:
    print(f"{'part':<16} {'median':>8} {'p90':>8}")
    for name in names:
        values = result[name]
        print(f"{name:<16} {statistics.median(values):8.1f} {percentile(values, 0.9):8.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--sleep", type=float, default=0.2, help="seconds asleep before each tick")
    ap.add_argument("--root", default="/")
    args = ap.parse_args()
    with open("/proc/loadavg") as f:
        print(f"# load average {' '.join(f.read().split()[:3])} on {os.cpu_count()} CPUs")
    print(f"# {args.samples} ticks, each after {args.sleep:g} s asleep; µs of wall time")
    root = Root(args.root)
    report(measure(root, args.samples, args.sleep), PARTS)
    print("\n# a watch tick, text to /dev/null; sleep and tick in on-CPU time of the thread")
    report(measure_watch(root, args.samples, args.sleep), WATCH_PARTS)


if __name__ == "__main__":
    main()
