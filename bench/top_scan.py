"""Benchmark: one full `top` scan of ~2,000 processes, some of them really in swap.

    sudo .venv/bin/python bench/top_scan.py [--processes 2000] [--in-swap 40] [--repeat 7]

Spawns the population itself (``sleep`` processes, plus small python hogs pushed into swap by a
memory-limited cgroup over a temporary swapfile), then times in the same run:

- floor:      a bare loop reading every /proc/PID/status (os.open/os.read, no parsing)
- checkswap:  procs.Scanner(...).sample(), steady state (the previous sample already taken),
              without and with --cgroups, and with the wait figures: kernel.task_delayacct
              switched on for the run (restored after), one taskstats query per process in swap
- all-files:  status + stat + cgroup for every process (what the Scanner avoids)
- psutil:     memory_full_info().swap for every process (reads smaps_rollup)
- smem:       smem -c "pid name swap" (reads every /proc/PID/smaps)

It prints the median time of each, its ratio to the floor and to checkswap, and the total swap
each method reports. Then, in the same run:

- linearity:  floor and Scanner at each population of --steps (default 500,1000,2000), in µs
              per process: a scan linear in processes keeps the same figure at every step
- start-up:   ``checkswap top --format json -n 1`` as a user runs it (a fresh interpreter,
              ``from checkswap.cli import main``) up to the moment its first scan starts, against
              ``python3 -c pass`` on the same interpreter: wall and CPU, medians of --startups
              runs taken in turns. The interpreter is the one the venv was made from, with the
              repository on PYTHONPATH: an installed package, without the editable install's
              import hook that every venv interpreter start would otherwise pay.

Everything it creates is removed at exit (the sleep children are killed and reaped). Needs root
(swap, cgroups); takes the kernel-test lock so it never runs during the real-kernel tests.
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


STARTUP_MARK = (
    "sys.stderr.write(f'SCAN {time.perf_counter()!r} {time.process_time()!r}\\n'); "
    "sys.stderr.flush()"
)
# The CLI as the console script runs it, with a mark written when the first scan starts.
STARTUP_TOP = f"""
import sys, time
import checkswap.model.procs as _procs
_sample = _procs.Scanner.sample
def _marked(self, *args, **kwargs):
    {STARTUP_MARK}
    _procs.Scanner.sample = _sample
    return _sample(self, *args, **kwargs)
_procs.Scanner.sample = _marked
from checkswap.cli import main
sys.exit(main())
"""
STARTUP_PASS = f"import sys, time\n{STARTUP_MARK}"


def _startup_once(python: str, code: str, args: list[str]) -> tuple[float, float]:
    """(wall seconds from spawn to the mark, CPU seconds of the child at the mark)."""
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, ".."))
    t = time.perf_counter()  # CLOCK_MONOTONIC: the child's perf_counter is on the same clock
    p = subprocess.run([python, "-c", code, *args], env=env, capture_output=True, text=True)
    for line in p.stderr.splitlines():
        if line.startswith("SCAN "):
            _, wall, cpu = line.split()
            return float(wall) - t, float(cpu)
    raise RuntimeError(f"{args or 'pass'}: no start mark (exit {p.returncode}): {p.stderr}")


def startup(runs: int) -> dict[str, float]:
    """Medians of start-up before the scan, top and `python3 -c pass` taken in turns."""
    python = os.path.join(sys.base_prefix, "bin", "python3")
    top = ["top", "--format", "json", "-n", "1"]
    base_w, base_c, top_w, top_c = [], [], [], []
    for _ in range(runs):
        w, c = _startup_once(python, STARTUP_PASS, [])
        base_w.append(w)
        base_c.append(c)
        w, c = _startup_once(python, STARTUP_TOP, top)
        top_w.append(w)
        top_c.append(c)
    m = statistics.median
    return {
        "pass_wall_s": m(base_w),
        "pass_cpu_s": m(base_c),
        "top_wall_s": m(top_w),
        "top_cpu_s": m(top_c),
    }


def per_process(rounds: int) -> tuple[float, float, int]:
    """CPU µs per process of the floor and of a steady-state Scanner at this population."""
    scanner = Scanner(Root("/"), cgroups=False)
    scanner.sample()
    n = len([x for x in os.listdir("/proc") if x.isdigit()])
    rows = measure([("floor", floor, 1), ("scanner", scanner.sample, 1)], rounds)
    return rows[0][2] / n * 1e6, rows[1][2] / n * 1e6, n


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
    import psutil  # type: ignore[import-untyped]

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


DELAYACCT = "/proc/sys/kernel/task_delayacct"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", type=int, default=2000, help="population size (default 2000)")
    ap.add_argument("--in-swap", type=int, default=40, help="hogs pushed into swap (default 40)")
    ap.add_argument("--repeat", type=int, default=15, help="rounds; medians (default 15)")
    ap.add_argument("--smem-every", type=int, default=3, help="smem runs every Nth round (3)")
    ap.add_argument(
        "--steps",
        default="500,1000,2000",
        help="populations for the linearity check (default 500,1000,2000)",
    )
    ap.add_argument("--startups", type=int, default=21, help="start-up runs; medians (21)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench/top_scan.py: needs root (swapfile, memory cgroup)", file=sys.stderr)
        return 1
    if shutil.which("smem") is None:
        print("bench/top_scan.py: smem is not installed (apt-get install smem)", file=sys.stderr)
        return 1

    with open(DELAYACCT) as f:
        delayacct_was = f.read().strip()
    with open(DELAYACCT, "w") as f:
        f.write("1\n")  # for the taskstats row; put back below, whatever happens
    try:
        return _bench(args)
    finally:
        with open(DELAYACCT, "w") as f:
            f.write(delayacct_was + "\n")


def _bench(args: argparse.Namespace) -> int:
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
            linear: list[tuple[int, float, float]] = []
            for step in sorted({int(x) for x in args.steps.split(",")} | {args.processes}):
                base = len([n for n in os.listdir("/proc") if n.isdigit()])
                for _ in range(max(0, step - base)):
                    sleepers.append(subprocess.Popen(["sleep", "3600"]))
                time.sleep(1)  # let the population settle
                if step != args.processes:
                    floor_us, ours_us, n = per_process(args.repeat)
                    linear.append((n, floor_us, ours_us))
            time.sleep(1)  # and the memcg stats flush
            population = len([n for n in os.listdir("/proc") if n.isdigit()])

            scanner = Scanner(Root("/"), cgroups=False, delays=False)
            scanner.sample()  # steady state: the next samples know last sample's holders
            scanner_ts = Scanner(Root("/"), cgroups=False, delays=True)
            scanner_ts.sample()
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
                    ("checkswap top, wait figures", ours(scanner_ts, "taskstats"), 1),
                    ("checkswap top --cgroups", ours(scanner_cg, "cgroups"), 1),
                    ("status+stat+cgroup, every pid", all_files, 1),
                    ("psutil memory_full_info().swap", psutil_total, 1),
                    ('smem -c "pid name swap"', smem_total, args.smem_every),
                ],
                args.repeat,
            )
            floor_us, ours_us, n = per_process(args.repeat)
            linear.append((n, floor_us, ours_us))
            started = startup(args.startups)
            rec = last["plain"]
            procs = rec["processes"]
            assert isinstance(procs, list)
            in_swap = sum(1 for p in procs if isinstance(p, dict) and p["swap_bytes"])
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
    print("linearity: CPU µs per process at each population")
    print(f"{'processes':>10} {'floor':>8} {'Scanner':>8} {'x floor':>8}")
    for n, f_us, o_us in linear:
        print(f"{n:>10} {f_us:8.2f} {o_us:8.2f} {o_us / f_us:8.2f}")
    if len(linear) > 1:
        # The cost of one more process, between the smallest and the largest population: the
        # fixed part of a scan (meminfo, the holders' stat and cgroup) drops out.
        (n0, f0, o0), (n1, f1, o1) = linear[0], linear[-1]
        f_slope = (f1 * n1 - f0 * n0) / (n1 - n0)
        o_slope = (o1 * n1 - o0 * n0) / (n1 - n0)
        print(
            f"{'marginal':>10} {f_slope:8.2f} {o_slope:8.2f} {o_slope / f_slope:8.2f}"
            "   (CPU µs per added process)"
        )
    tw, pw = started["top_wall_s"], started["pass_wall_s"]
    tc, pc = started["top_cpu_s"], started["pass_cpu_s"]
    print(
        f"start-up of `top --format json -n 1` before its scan, medians of {args.startups}: "
        f"wall {tw * 1000:.1f} ms vs `python3 -c pass` {pw * 1000:.1f} ms (x{tw / pw:.2f}); "
        f"CPU {tc * 1000:.1f} vs {pc * 1000:.1f} ms (x{tc / pc:.2f})"
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
                    "linearity": [
                        {"processes": n, "floor_cpu_us": f_us, "scanner_cpu_us": o_us}
                        for n, f_us, o_us in linear
                    ],
                    "startup": started,
                },
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the finally blocks
    sys.exit(main())
