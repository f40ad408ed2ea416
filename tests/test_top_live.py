"""`top` against the real kernel: hogs in memory-limited cgroups (v1 here), and churn.

The kernel's figures are read with the lab's own few lines (VmSwap from /proc/PID/status, the
cgroup's memory.stat), never with checkswap's readers.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import lab
import pytest

from checkswap.cli import main
from checkswap.env import Env

MiB = 1024 * 1024


def top_json(*args: str) -> list[dict[str, Any]]:
    """`checkswap top --format json ARGS`, in-process: the records, and no error line."""
    out, err = io.StringIO(), io.StringIO()
    status = main(["top", "--format", "json", "--cgroups", *args], Env(stdout=out, stderr=err))
    assert (status, err.getvalue()) == (0, "")
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _scan_between_equal_kernel_reads(
    hogs: tuple[lab.Hog, ...], cgroups: tuple[lab.Cgroup, ...]
) -> tuple[dict[str, Any], dict[int, int | None], dict[str, int]]:
    """A scan with the kernel's figures read just before and just after, and equal both times:
    what the scan saw is then the kernel's figure at the moment of the scan."""
    for _ in range(20):
        before = (
            {h.pid: lab.status_kb(h.pid, "VmSwap") for h in hogs},
            {c.name: c.stat()["swap"] for c in cgroups},
        )
        (rec,) = top_json()
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
        first, busy = top_json("-n", "2", "-i", "1")
        assert all(p["majflt_per_s"] is None for p in first["processes"])
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
        rec, kernel, kernel_cg = _scan_between_equal_kernel_reads((hog_a, hog_b), (cga, cgb))
        procs = {p["pid"]: p for p in rec["processes"]}
        cgroups = {c["path"]: c for c in rec["cgroups"]}
        for hog, cg, size in ((hog_a, cga, 96), (hog_b, cgb, 64)):
            assert procs[hog.pid]["swap_bytes"] == kernel[hog.pid] * 1024
            # known amounts: most of the hog beyond its cgroup's limit is in swap
            assert procs[hog.pid]["swap_bytes"] > (size - 40) * MiB
            assert cgroups[f"/{cg.name}"]["swap_bytes"] == kernel_cg[cg.name]
            assert kernel_cg[cg.name] > 0
        # Idle: no major faults at all. Swap held may still drift for a moment while reclaim
        # unmaps swap-cache pages (no I/O), so its change must reach exactly 0 within a few tries.
        for _ in range(10):
            _, quiet = top_json("-n", "2", "-i", "0.5")
            procs = {p["pid"]: p for p in quiet["processes"]}
            cgroups = {c["path"]: c for c in quiet["cgroups"]}
            for hog, cg in ((hog_a, cga), (hog_b, cgb)):
                assert procs[hog.pid]["majflt_per_s"] == 0.0
                assert cgroups[f"/{cg.name}"]["majflt_per_s"] == 0.0
            deltas = [procs[h.pid]["swap_delta_bytes_per_s"] for h in (hog_a, hog_b)] + [
                cgroups[f"/{c.name}"]["swap_delta_bytes_per_s"] for c in (cga, cgb)
            ]
            if deltas == [0.0] * 4:
                break
        assert deltas == [0.0] * 4


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
            started = time.monotonic()
            recs = top_json("--pss", "-n", "1000", "-i", "0.001")
            elapsed = time.monotonic() - started
        finally:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    assert len(recs) == 1000
    assert all(r["unreadable_processes"] == 0 for r in recs)
    # processes really came and went during the scans, and were seen in swap
    in_swap = {p["pid"] for r in recs for p in r["processes"] if p["cgroup"] == f"/{cg.name}"}
    assert len(in_swap) >= 10, (len(in_swap), elapsed)


@contextlib.contextmanager
def proc_mounted_with(hidepid: str) -> Iterator[str]:
    """A root directory holding a fresh proc mount with ``hidepid``; unmounted afterwards."""
    top = tempfile.mkdtemp(prefix=lab.PREFIX + "proc-")
    os.chmod(top, 0o755)  # the unprivileged scan must reach it
    mnt = os.path.join(top, "proc")
    os.mkdir(mnt)
    mounted = False
    try:
        lab.run("mount", "-t", "proc", "-o", f"hidepid={hidepid}", "proc", mnt)
        mounted = True
        yield top
    finally:
        if mounted:
            subprocess.run(["umount", mnt], check=False)
        os.rmdir(mnt)
        os.rmdir(top)


def top_as_nobody(root: str, *args: str) -> dict[str, Any]:
    """`checkswap top --format json --root ROOT` run in a forked child as uid/gid 65534.

    Forked rather than exec'd: the test's interpreter may live where nobody cannot read it.
    """
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root, scan, send back status, stdout and stderr
        code = 1
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            out, err = io.StringIO(), io.StringIO()
            argv = ["top", "--format", "json", "--root", root, *args]
            status = main(argv, Env(stdout=out, stderr=err))
            payload = json.dumps([status, out.getvalue(), err.getvalue()]).encode()
            with os.fdopen(wfd, "wb") as w:
                w.write(payload)
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as r:
        data = r.read()
    _, wait_status = os.waitpid(pid, 0)
    assert wait_status == 0 and data, "the unprivileged scan failed"
    status, stdout, stderr = json.loads(data)
    assert (status, stderr) == (0, "")
    rec: dict[str, Any] = json.loads(stdout)
    return rec


@pytest.mark.kernel
def test_hidepid_as_an_unprivileged_user() -> None:
    """hidepid=noaccess: other users' processes are listed but unreadable, and counted;
    hidepid=invisible: they are not listed at all, and mountinfo says so."""
    with lab.swapfile(128), lab.memory_cgroup(16, "top-hidepid") as cg, lab.Hog(cg, 48, 0.1) as hog:
        hog.wait_ready()  # a root process in swap that nobody cannot see
        with proc_mounted_with("noaccess") as root:
            rec = top_as_nobody(root)
        assert rec["hidepid"] == "noaccess"
        assert rec["hidden_processes"] is True
        assert rec["unreadable_processes"] > 10  # every root process on the machine
        assert any("run as root" in n for n in rec["notes"])
        assert hog.pid not in {p["pid"] for p in rec["processes"]}
        assert rec["unattributed_swap_bytes"] > 16 * MiB  # the hog's swap, not ours to see
        with proc_mounted_with("invisible") as root:
            rec = top_as_nobody(root)
        assert rec["hidepid"] == "invisible"
        assert rec["hidden_processes"] is True
        assert rec["unreadable_processes"] == 0  # hidden, so not even counted
        assert rec["scanned_processes"] <= 2  # the scan itself (and nothing of root's)
        assert any("hidepid=invisible" in n for n in rec["notes"])
        with proc_mounted_with("off") as root:
            rec = top_as_nobody(root, "--pss")
        # without hidepid, status is world-readable: the hog is listed with its swap; its
        # smaps_rollup needs ptrace access, so SwapPss is unknown and a note says why
        assert rec["hidden_processes"] is False
        hog_rec = {p["pid"]: p for p in rec["processes"]}[hog.pid]
        assert hog_rec["swap_bytes"] > 16 * MiB
        assert hog_rec["swap_pss_bytes"] is None
        assert any("SwapPss of" in n and "run as root" in n for n in rec["notes"])
