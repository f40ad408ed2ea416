"""Helpers shared by the benchmarks: on-CPU time from schedstat, and process control."""

from __future__ import annotations

import glob
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(REPO, ".venv", "bin")


def venv_python() -> str:
    path = os.path.join(VENV_BIN, "python")
    return path if os.path.exists(path) else sys.executable


def checkswap_cmd() -> list[str]:
    script = os.path.join(VENV_BIN, "checkswap")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "checkswap"]


def oncpu_ns(pid: int) -> int:
    """Total on-CPU time of every thread of pid, from /proc/PID/task/*/schedstat (field 1)."""
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def cpu_per_second_us(
    pids: dict[str, int], warmup: float, seconds: float
) -> dict[str, tuple[float, float]]:
    """(mean, median) µs of CPU per second for each process, side by side over one window.

    Read once a second: the mean is the whole window's cost, garbage collections and all; the
    median of the seconds is the typical tick, which two copies of one program agree on far
    better (their means differ by up to a third over a minute on a 2-CPU VM).
    """
    time.sleep(warmup)
    last = {name: oncpu_ns(pid) for name, pid in pids.items()}
    first = dict(last)
    per_second: dict[str, list[float]] = {name: [] for name in pids}
    t0 = prev = time.monotonic()
    for i in range(1, max(1, round(seconds)) + 1):
        time.sleep(max(0.0, t0 + i - time.monotonic()))
        now = time.monotonic()
        for name, pid in pids.items():
            ns = oncpu_ns(pid)
            per_second[name].append((ns - last[name]) / 1000 / (now - prev))
            last[name] = ns
        prev = now
    elapsed = prev - t0
    return {
        name: ((last[name] - first[name]) / 1000 / elapsed, statistics.median(per_second[name]))
        for name in pids
    }


def side_by_side(cmds: dict[str, list[str]], seconds: float) -> dict[str, tuple[float, float]]:
    """cpu_per_second_us of long-running commands started 0.3 s apart, so that each wakes
    alone, as it does on a server: woken in the same instant, the first to run pays for the
    cold CPU and the others ride its warm caches (two copies of watch started together
    differed by half; started apart, by under a tenth). Each is stopped afterwards."""
    procs = {}
    try:
        for name, cmd in cmds.items():
            procs[name] = spawn(cmd)
            time.sleep(0.3)
        return cpu_per_second_us({k: p.pid for k, p in procs.items()}, 3.0, seconds)
    finally:
        for p in procs.values():
            p.terminate()
            p.wait()


def spawn(cmd: list[str], **kw: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)  # type: ignore[call-overload, no-any-return]


def paired_wall(
    a: list[str], b: list[str], runs: int, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Median wall seconds of a and of b, run in turns (a b a b ...) so that a machine whose
    speed drifts during the runs moves both alike."""
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(runs):
        for cmd, times in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            subprocess.run(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env
            )
            times.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)
