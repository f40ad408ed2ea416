"""Benchmark: one full `top` scan of ~2,000 processes, some of them really in swap.

    sudo .venv/bin/python bench/top_scan.py [--processes 2000] [--in-swap 40] [--repeat 7]

Spawns the population itself (``sleep`` processes, plus small python hogs pushed into swap by a
memory-limited cgroup over a temporary swapfile), then times in the same run:

- floor:      a bare loop reading every /proc/PID/status (os.open/os.read, no parsing)
- checkswap:  procs.Scanner(...).sample(), steady state (the previous sample already taken),
              without and with --cgroups
- all-files:  status + stat + cgroup for every process (what the Scanner avoids)
- psutil:     memory_full_info().swap for every process (reads smaps_rollup)
- smem:       smem -c "pid name swap" (reads every /proc/PID/smaps)

It prints the median time of each, its ratio to the floor and to checkswap, and the total swap
each method reports. Everything it creates is removed at exit. Needs root (swap, cgroups); takes
the kernel-test lock so it never runs during the real-kernel tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, ".."))

import lab  # noqa: E402

from checkswap.model.procs import Scanner  # noqa: E402
from checkswap.source.root import Root  # noqa: E402

SMALL_HOG = r"""
import os, sys, time
with open(os.path.join(sys.argv[1], "cgroup.procs"), "w") as f:
    f.write(str(os.getpid()))
buf = bytearray(int(sys.argv[2]) * 1024 * 1024)
for i in range(0, len(buf), 4096):
    buf[i] = 1 + (i // 4096) % 255
print("ready", flush=True)
time.sleep(3600)
"""


def floor() -> None:
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fd = os.open(f"/proc/{name}/status", os.O_RDONLY)
        except OSError:
            continue
        try:
            os.read(fd, 65536)
        except OSError:
            pass
        finally:
            os.close(fd)


def all_files() -> int:
    """status, stat and cgroup of every process: the cost the Scanner's rule avoids."""
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        for f in ("status", "stat", "cgroup"):
            try:
                fd = os.open(f"/proc/{name}/{f}", os.O_RDONLY)
            except OSError:
                break
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            finally:
                os.close(fd)
            if f == "status":
                i = data.find(b"\nVmSwap:")
                if i >= 0:
                    total += int(data[i + 8 : data.index(b"\n", i + 1)].split()[0]) * 1024
    return total


def psutil_total() -> int:
    import psutil

    total = 0
    for p in psutil.process_iter():
        try:
            total += p.memory_full_info().swap
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return total


def smem_total() -> int:
    out = subprocess.run(
        ["smem", "-c", "pid name swap"], check=True, capture_output=True, text=True
    ).stdout
    total = 0
    for line in out.splitlines()[1:]:
        parts = line.split()
        if parts and parts[-1].isdigit():
            total += int(parts[-1]) * 1024  # smem prints KiB
    return total


def cpu_seconds() -> float:
    """CPU time (user + system) of this process, precise to the nanosecond (the scheduler's
    own runtime), plus that of waited-for children (smem; tick-grained, fine for seconds)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def measure(
    methods: list[tuple[str, Callable[[], object], int]], rounds: int
) -> list[tuple[str, float, float, object]]:
    """Median wall and CPU seconds per method. The methods take turns, round after round, so
    a burst of load from elsewhere on the machine falls on all of them alike."""
    wall: dict[str, list[float]] = {name: [] for name, _, _ in methods}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in methods}
    result: dict[str, object] = {}
    for r in range(rounds):
        for name, fn, every in methods:
            if r % every:
                continue  # smem is slow: it runs every few rounds only
            c, t = cpu_seconds(), time.perf_counter()
            result[name] = fn()
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(cpu_seconds() - c)
    return [
        (name, statistics.median(wall[name]), statistics.median(cpu[name]), result[name])
        for name, _, _ in methods
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", type=int, default=2000, help="population size (default 2000)")
    ap.add_argument("--in-swap", type=int, default=40, help="hogs pushed into swap (default 40)")
    ap.add_argument("--repeat", type=int, default=15, help="rounds; medians (default 15)")
    ap.add_argument("--smem-every", type=int, default=3, help="smem runs every Nth round (3)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench/top_scan.py: needs root (swapfile, memory cgroup)", file=sys.stderr)
        return 1
    if shutil.which("smem") is None:
        print("bench/top_scan.py: smem is not installed (apt-get install smem)", file=sys.stderr)
        return 1

    sleepers: list[subprocess.Popen[bytes]] = []
    hogs: list[subprocess.Popen[str]] = []
    with (
        lab.kernel_lock(),
        lab.swapfile(1024, name="bench"),
        lab.memory_cgroup(max(32, args.in_swap * 2), "bench") as cg,
    ):
        try:
            for _ in range(args.in_swap):
                p = subprocess.Popen(
                    [sys.executable, "-c", SMALL_HOG, cg.path, "8"],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                hogs.append(p)
            for p in hogs:
                assert p.stdout is not None and p.stdout.readline().strip() == "ready"
            base = len([n for n in os.listdir("/proc") if n.isdigit()])
            for _ in range(max(0, args.processes - base)):
                sleepers.append(subprocess.Popen(["sleep", "3600"]))
            time.sleep(2)  # let the population settle (and memcg stats flush)
            population = len([n for n in os.listdir("/proc") if n.isdigit()])

            scanner = Scanner(Root("/"), cgroups=False)
            scanner.sample()  # steady state: the next samples know last sample's holders
            scanner_cg = Scanner(Root("/"), cgroups=True)
            scanner_cg.sample()
            last: dict[str, dict[str, object]] = {}

            def ours(sc: Scanner, key: str) -> Callable[[], object]:
                def run() -> object:
                    last[key] = sc.sample()
                    return last[key]["process_swap_bytes"]

                return run

            rows = measure(
                [
                    ("floor: read every status", floor, 1),
                    ("checkswap top (Scanner)", ours(scanner, "plain"), 1),
                    ("checkswap top --cgroups", ours(scanner_cg, "cgroups"), 1),
                    ("status+stat+cgroup, every pid", all_files, 1),
                    ("psutil memory_full_info().swap", psutil_total, 1),
                    ('smem -c "pid name swap"', smem_total, args.smem_every),
                ],
                args.repeat,
            )
            rec = last["plain"]
            in_swap = sum(1 for p in rec["processes"] if isinstance(p, dict) and p["swap_bytes"])
            used = rec["swap_used_bytes"]
        finally:
            for s in sleepers:
                s.kill()
            for s in sleepers:
                s.wait()
            for h in hogs:
                h.kill()
                h.wait()

    floor_c = rows[0][2]
    ours_w, ours_c = rows[1][1], rows[1][2]
    assert isinstance(used, int)
    print(
        f"population: {population} processes ({in_swap} holding swap), swap used "
        f"{used / 2**20:.1f} MiB; medians of {args.repeat} rounds (smem: one "
        f"round in {args.smem_every})"
    )
    print(
        f"{'method':<32} {'wall ms':>8} {'cpu ms':>8} {'cpu x floor':>11} "
        f"{'cpu x checkswap':>15} {'wall x checkswap':>16} {'total swap MiB':>14}"
    )
    for name, w, c, total in rows:
        tot = f"{total / 2**20:.1f}" if isinstance(total, int) else "-"
        print(
            f"{name:<32} {w * 1000:8.1f} {c * 1000:8.1f} {c / floor_c:11.2f} "
            f"{c / ours_c:15.2f} {w / ours_w:16.2f} {tot:>14}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "population": population,
                    "in_swap": in_swap,
                    "swap_used_bytes": used,
                    "rows": [
                        {"method": n, "wall_s": w, "cpu_s": c, "total_bytes": tot}
                        for n, w, c, tot in rows
                    ],
                },
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the finally blocks
    sys.exit(main())
