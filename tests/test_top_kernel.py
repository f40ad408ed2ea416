"""`top` against the real kernel: hogs in memory-limited cgroups (v1 here), and churn.

The kernel's figures are read with the lab's own few lines (VmSwap from /proc/PID/status, the
cgroup's memory.stat), never with checkswap's readers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

import lab
import pytest

from checkswap.procs import Scanner
from checkswap.root import Root

MiB = 1024 * 1024


def _scan_between_equal_kernel_reads(
    scanner: Scanner, hogs: tuple[lab.Hog, ...], cgroups: tuple[lab.Cgroup, ...]
) -> tuple[dict[str, Any], dict[int, int | None], dict[str, int]]:
    """A scan with the kernel's figures read just before and just after, and equal both times:
    what the scan saw is then the kernel's figure at the moment of the scan."""
    for _ in range(20):
        before = (
            {h.pid: lab.status_kb(h.pid, "VmSwap") for h in hogs},
            {c.name: c.stat()["swap"] for c in cgroups},
        )
        rec = scanner.sample()
        after = (
            {h.pid: lab.status_kb(h.pid, "VmSwap") for h in hogs},
            {c.name: c.stat()["swap"] for c in cgroups},
        )
        if before == after:
            return rec, before[0], before[1]
        time.sleep(0.2)
    raise AssertionError(f"kernel figures did not settle: {before} then {after}")


@pytest.mark.kernel
def test_hogs_in_limited_cgroups_match_the_kernel() -> None:
    with contextlib.ExitStack() as stack:
        stack.enter_context(lab.swapfile(512))
        cga = stack.enter_context(lab.memory_cgroup(32, "top-a"))
        cgb = stack.enter_context(lab.memory_cgroup(24, "top-b"))
        hog_a = stack.enter_context(lab.Hog(cga, 96, 4))
        hog_b = stack.enter_context(lab.Hog(cgb, 64, 4))
        hog_a.wait_ready()
        hog_b.wait_ready()
        scanner = Scanner(Root("/"))
        first = scanner.sample()
        assert all(p["majflt_per_s"] is None for p in first["processes"])
        time.sleep(1)
        busy = scanner.sample()
        procs = {p["pid"]: p for p in busy["processes"]}
        cgroups = {c["path"]: c for c in busy["cgroups"]}
        for hog, cg in ((hog_a, cga), (hog_b, cgb)):
            p = procs[hog.pid]
            assert p["cgroup"] == f"/{cg.name}"  # the hog's memory cgroup is named
            assert p["majflt_per_s"] > 0  # swapping in while it re-touches its pages
            c = cgroups[f"/{cg.name}"]
            assert c["version"] == 1
            assert c["majflt_per_s"] > 0
            assert c["swap_in_per_s"] is None  # v1 has no per-cgroup pswpin
            assert c["processes"] == 1

        hog_a.wait_done()
        hog_b.wait_done()
        # memcg statistics are flushed every 2 s when few pages change: let them catch up
        time.sleep(2.5)
        rec, kernel, kernel_cg = _scan_between_equal_kernel_reads(
            scanner, (hog_a, hog_b), (cga, cgb)
        )
        procs = {p["pid"]: p for p in rec["processes"]}
        cgroups = {c["path"]: c for c in rec["cgroups"]}
        for hog, cg, size in ((hog_a, cga, 96), (hog_b, cgb, 64)):
            assert procs[hog.pid]["swap_bytes"] == kernel[hog.pid] * 1024
            # known amounts: most of the hog beyond its cgroup's limit is in swap
            assert procs[hog.pid]["swap_bytes"] > (size - 40) * MiB
            assert cgroups[f"/{cg.name}"]["swap_bytes"] == kernel_cg[cg.name]
            assert kernel_cg[cg.name] > 0
        time.sleep(0.5)
        quiet = scanner.sample()
        procs = {p["pid"]: p for p in quiet["processes"]}
        cgroups = {c["path"]: c for c in quiet["cgroups"]}
        for hog, cg in ((hog_a, cga), (hog_b, cgb)):
            assert procs[hog.pid]["swap_delta_bytes_per_s"] == 0.0
            assert procs[hog.pid]["majflt_per_s"] == 0.0
            assert cgroups[f"/{cg.name}"]["majflt_per_s"] == 0.0
            assert cgroups[f"/{cg.name}"]["swap_delta_bytes_per_s"] == 0.0


CHURNER = r"""
import os, sys, time
with open(os.path.join(sys.argv[1], "cgroup.procs"), "w") as f:
    f.write(str(os.getpid()))
buf = bytearray(6 * 1024 * 1024)
for i in range(0, len(buf), 4096):
    buf[i] = 1 + (i // 4096) % 255
time.sleep(30)
"""

# Runs as its own process group, so the scanning test is not slowed by sharing a GIL with it.
DRIVER = r"""
import collections, subprocess, sys, time
alive = collections.deque()
while True:
    alive.append(subprocess.Popen([sys.executable, "-c", sys.argv[2], sys.argv[1]]))
    for _ in range(5):  # short-lived processes too
        subprocess.Popen(["true"]).wait()
    while len(alive) > 6:
        old = alive.popleft()
        old.kill()
        old.wait()
    time.sleep(0.02)
"""


@pytest.mark.kernel
def test_churn_1000_scans_while_processes_come_and_go() -> None:
    """Processes holding swap are created and killed while scanning: no crash, no error."""
    with lab.swapfile(256), lab.memory_cgroup(16, "top-churn") as cg:
        driver = subprocess.Popen(
            [sys.executable, "-c", DRIVER, cg.path, CHURNER], start_new_session=True
        )
        try:
            time.sleep(1.5)  # some churners are in swap before scanning starts
            scanner = Scanner(Root("/"), pss=True)
            in_swap: set[int] = set()
            started = time.monotonic()
            for _ in range(1000):
                rec = scanner.sample()
                in_swap.update(p["pid"] for p in rec["processes"] if p["cgroup"] == f"/{cg.name}")
                assert rec["unreadable_processes"] == 0
            elapsed = time.monotonic() - started
        finally:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    # processes really came and went during the scans, and were seen in swap
    assert len(in_swap) >= 10, (len(in_swap), elapsed)
