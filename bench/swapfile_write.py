#!/usr/bin/env python3
"""How checkswap's zero-filling writer (the swapfile fallback) compares with dd.

    sudo .venv/bin/python bench/swapfile_write.py [--size-mib 512] [--runs 3] [--dir /var/tmp]

Alternates, on the same filesystem: ``dd if=/dev/zero of=F bs=1M count=N conv=fsync`` (what the
original author ran by hand) and ``checkswap.lab.swapfile.write_zeros`` (4 MiB writes, fdatasync and
FADV_DONTNEED every 32 MiB). Reports the median seconds, the ratio, and the peak of
Dirty + Writeback in /proc/meminfo during each (the page cache a write leaves to the kernel: it
matters because this runs when memory is short). Takes the kernel-test lock so it does not run
while tests swap. Files are named checkswap-test-bench-write-* and removed afterwards.
"""

from __future__ import annotations

import argparse
import fcntl
import io
import os
import statistics
import subprocess
import sys
import threading
import time
from functools import partial

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from checkswap.lab.swapfile import write_zeros
from checkswap.render.progress import Progress

LOCK = "/run/checkswap-kernel-tests.lock"


def dirty_kib() -> int:
    total = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(("Dirty:", "Writeback:")):
                total += int(line.split()[1])
    return total


class PeakDirty:
    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, dirty_kib())
            time.sleep(0.02)

    def __enter__(self) -> PeakDirty:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(action: object, path: str) -> tuple[float, int]:
    with PeakDirty() as peak:
        t0 = time.monotonic()
        action()  # type: ignore[operator]
        elapsed = time.monotonic() - t0
    os.unlink(path)
    return elapsed, peak.peak


def checkswap_zeros(path: str, size: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        write_zeros(fd, size, Progress(size, io.StringIO(), False))
    finally:
        os.close(fd)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=512)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="/var/tmp")
    a = ap.parse_args()
    size = a.size_mib * 2**20
    path = os.path.join(a.dir, f"checkswap-test-bench-write-{os.getpid()}")
    results: dict[str, list[tuple[float, int]]] = {"dd": [], "checkswap": []}
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for _ in range(a.runs):
                dd = ["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={a.size_mib}",
                      "conv=fsync", "status=none"]  # fmt: skip
                results["dd"].append(timed(partial(subprocess.run, dd, check=True), path))
                results["checkswap"].append(timed(partial(checkswap_zeros, path, size), path))
        finally:
            if os.path.exists(path):
                os.unlink(path)
    print(f"{a.size_mib} MiB of zeros to {a.dir}, {a.runs} runs each, alternated")
    med = {k: statistics.median(t for t, _ in v) for k, v in results.items()}
    for k, v in results.items():
        runs = ", ".join(f"{t:.2f}" for t, _ in v)
        peak = max(p for _, p in v) / 1024
        print(f"{k:>10}: median {med[k]:.2f} s ({a.size_mib / med[k]:.0f} MiB/s)  runs [{runs}]"
              f"  peak Dirty+Writeback {peak:.0f} MiB")  # fmt: skip
    print(f"ratio checkswap/dd time: {med['checkswap'] / med['dd']:.2f}")


if __name__ == "__main__":
    main()
