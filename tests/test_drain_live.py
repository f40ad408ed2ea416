"""swapfile off/remove draining real swap areas, filled by a hog in a memory-limited v1 cgroup.

The figures checkswap prints are compared with /proc/swaps, /proc/meminfo, /proc/vmstat and
zram's mm_stat as read here (tests/lab.py), not with checkswap's readers. To make a drain last
long enough to watch and to interrupt, checkswap runs in a blkio cgroup that throttles reads
from the disk under the swapfile: swapoff reads the pages in its own context, so the throttle
paces it. Everything is named checkswap-test-* and undone in finally blocks.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import lab
import pytest
from clihelp import REPO

pytestmark = pytest.mark.kernel
MiB = 2**20
BLKIO = "/sys/fs/cgroup/blkio"
# swapoff's number in /proc/PID/task/TID/syscall (include/uapi/asm-generic/unistd.h and x86's
# syscall_64.tbl): the test looks for a thread still inside it.
SWAPOFF_NR = {"x86_64": 168, "aarch64": 225, "riscv64": 225}


@pytest.fixture(autouse=True)
def _kernel() -> None:
    lab.require_kernel_tests()
    lab.hold_session_lock()


def used_bytes(name: str) -> int | None:
    with open("/proc/swaps") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if parts[0] == name:
                return int(parts[3]) * 1024
    return None


def disk_devnum(path: str) -> str:
    """MAJ:MIN of the whole disk under ``path`` (the throttle is set on it)."""
    st = os.stat(path)
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    sys_dir = os.path.realpath(f"/sys/dev/block/{major}:{minor}")
    if os.path.exists(os.path.join(sys_dir, "partition")):
        sys_dir = os.path.dirname(sys_dir)
    with open(os.path.join(sys_dir, "dev")) as f:
        return f.read().strip()


@contextlib.contextmanager
def slow_reads(devnum: str, bps: int) -> Iterator[str]:
    """A v1 blkio cgroup reading ``devnum`` at ``bps``; its cgroup.procs path."""
    path = os.path.join(BLKIO, f"{lab.PREFIX}slow-{os.getpid()}")
    os.mkdir(path)
    try:
        with open(os.path.join(path, "blkio.throttle.read_bps_device"), "w") as f:
            f.write(f"{devnum} {bps}")
        yield os.path.join(path, "cgroup.procs")
    finally:
        for _ in range(100):
            try:
                os.rmdir(path)
                break
            except OSError:
                time.sleep(0.05)


@contextlib.contextmanager
def filled(area: str, mib: int, hogs: int = 1) -> Iterator[None]:
    """``hogs`` hogs of ``mib`` MiB in all in an 80 MiB cgroup, so most of it goes to swap; then
    the limit is lifted, so that swapoff can bring it back without the cgroup's OOM killer.

    Not less than 80 MiB: a 48 MiB v1 cgroup's reclaim, waiting on the swapfile's writes, gave
    up now and then (one fill in eight, measured here) and its OOM killer took a hog."""
    with contextlib.ExitStack() as stack:
        cg = stack.enter_context(lab.memory_cgroup(80, name="drain"))
        for _ in range(hogs):
            hog = stack.enter_context(lab.Hog(cg, mib // hogs, seconds=0))
            hog.wait_ready(timeout=120)
            hog.wait_done(timeout=120)
        with open(os.path.join(cg.path, "memory.limit_in_bytes"), "w") as f:
            f.write("-1")
        used = used_bytes(area)
        assert used is not None and used > mib * MiB // 2, (area, used)
        yield


def checkswap(*argv: str, cgroup_procs: str | None = None) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "checkswap", *argv]
    if cgroup_procs is not None:
        # Into the cgroup before checkswap starts: the shell moves itself, then becomes it.
        cmd = ["sh", "-c", f'echo $$ > {cgroup_procs} && exec "$@"', "sh", *cmd]
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def threads_in_swapoff(pid: int | None = None) -> list[str]:
    """Every thread on the machine (or of ``pid``) inside swapoff(2), and any swapoff tool."""
    nr = SWAPOFF_NR[platform.machine()]
    found = []
    pids = [str(pid)] if pid is not None else [p for p in os.listdir("/proc") if p.isdigit()]
    for p in pids:
        with contextlib.suppress(OSError):
            with open(f"/proc/{p}/comm") as f:
                if f.read().strip() == "swapoff":
                    found.append(f"{p} (the swapoff tool)")
            for tid in os.listdir(f"/proc/{p}/task"):
                with contextlib.suppress(OSError), open(f"/proc/{p}/task/{tid}/syscall") as f:
                    if f.read().split(" ", 1)[0] == str(nr):
                        found.append(f"{p}/{tid}")
    return found


SIZE = r"([0-9.]+ (?:B|KiB|MiB|GiB))"


def size_of(text: str) -> int:
    num, unit = text.split()
    return int(float(num) * {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[unit])


def test_swapfile_off_drains_with_progress_lines_on_stderr() -> None:
    with lab.swapfile(256, priority=10, name="drain") as path, filled(path, 200):
        before = used_bytes(path)
        assert before is not None
        vm0 = lab.vmstat()
        # Pages still in the swap cache come back without a read; so do zero-filled ones.
        cached = lab.meminfo_kb("SwapCached") * 1024
        with slow_reads(disk_devnum(path), 16 * MiB) as procs:
            p = checkswap("swapfile", "off", path, cgroup_procs=procs)
            out, err = p.communicate(timeout=120)
        vm1 = lab.vmstat()
        reads = sum(vm1.get(k, 0) - vm0.get(k, 0) for k in ("pswpin", "swpin_zero", "zswpin"))
        pswpin = reads * os.sysconf("SC_PAGE_SIZE") + cached
        avail = lab.meminfo_kb("MemAvailable") * 1024
        assert p.returncode == 0, err
        assert used_bytes(path) is None  # off, by the kernel's own list
        assert os.path.exists(path)  # and not deleted
        m = re.search(rf"# swapped off {re.escape(path)} in (\d+):(\d\d): {SIZE} back in RAM", out)
        assert m, out
        moved = size_of(m.group(3))
        assert abs(moved - before) <= max(MiB, before // 100), (moved, before)
        # swapoff read every page back: the kernel's swap-ins (of every tier), with what sat in
        # the swap cache already, account for (at least) what moved.
        assert pswpin >= before * 0.95, (pswpin, before)
        # The estimate before it starts, from the kernel's figure.
        est = re.search(rf"{re.escape(path)} \(file, 256.0 MiB\): {SIZE} to read back", out)
        assert est and abs(size_of(est.group(1)) - before) <= MiB, out
        # The pipe form: plain lines on stderr (none on stdout), each with the figures.
        lines = [ln for ln in err.splitlines() if ln.startswith("[")]
        assert lines, err
        assert "\r" not in err and "[#" not in out and "ETA" not in out
        for ln in lines:
            assert re.search(r"\d+%  .* / .*  (-|.*/s)  ETA .*  MemAvailable .*  swap-in .*/s", ln)
        last_avail = re.findall(rf"MemAvailable {SIZE}", lines[-1])
        assert abs(size_of(last_avail[0]) - avail) < 256 * MiB, (last_avail, avail)
        elapsed = int(m.group(1)) * 60 + int(m.group(2))
        # At most one line every 3 s (and the end's): a throttled 100+ MiB takes several seconds.
        assert len(lines) <= elapsed / 3 + 2, (len(lines), elapsed)
        assert elapsed >= 3


def test_zram_off_estimate_and_drain() -> None:
    with open("/sys/class/zram-control/hot_add") as f:
        n = int(f.read())
    dev = f"/dev/zram{n}"
    on = False
    try:
        with open(f"/sys/block/zram{n}/disksize", "w") as f:
            f.write(str(256 * MiB))
        lab.run("mkswap", dev)
        lab.run("swapon", "-p", "20", dev)
        on = True
        with filled(dev, 200):
            before = used_bytes(dev)
            with open(f"/sys/block/zram{n}/mm_stat") as f:
                orig, _compr, mem_used = (int(x) for x in f.read().split()[:3])
            p = checkswap("swapfile", "off", dev)
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            on = used_bytes(dev) is not None
            assert not on
            est = re.search(
                rf"{dev} \(zram, 256.0 MiB\): {SIZE} to read back into RAM, needing {SIZE} more "
                rf"RAM \(zram already uses {SIZE}\)",
                out,
            )
            assert est, out
            assert before is not None and abs(size_of(est.group(1)) - before) <= MiB
            assert abs(size_of(est.group(2)) - (orig - mem_used)) <= MiB
            assert abs(size_of(est.group(3)) - mem_used) <= max(MiB, mem_used // 50)
            m = re.search(rf"# swapped off {dev} in \d+:\d\d: {SIZE} back in RAM", out)
            assert m and abs(size_of(m.group(1)) - before) <= MiB, out
    finally:
        if on or used_bytes(dev) is not None:
            subprocess.run(["swapoff", dev], check=False)
        for _ in range(50):
            try:
                with open("/sys/class/zram-control/hot_remove", "w") as f:
                    f.write(str(n))
                break
            except OSError:
                time.sleep(0.1)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_interrupted_drain_leaves_the_area_on(sig: signal.Signals) -> None:
    # Eight processes: the kernel looks for a signal between processes, not within one.
    with lab.swapfile(256, priority=10, name="intr") as path, filled(path, 200, hogs=8):
        before = used_bytes(path)
        assert before is not None
        with lab.fstab_copy() as fstab, slow_reads(disk_devnum(path), 4 * MiB) as procs:
            p = checkswap("swapfile", "remove", path, "--fstab", fstab, cgroup_procs=procs)
            try:
                deadline = time.monotonic() + 30
                while not threads_in_swapoff(p.pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert threads_in_swapoff(p.pid), "checkswap never entered swapoff(2)"
                time.sleep(1.5)
                os.kill(p.pid, sig)
                out, err = p.communicate(timeout=20)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        assert p.returncode == 1, (out, err)
        assert threads_in_swapoff() == []  # nothing of the drain outlives checkswap
        left = used_bytes(path)
        assert left is not None  # still on, by the kernel's own list
        assert os.path.exists(path)  # remove deleted nothing
        assert 0 < left < before
        m = re.search(
            rf"interrupted: {re.escape(path)} is still on \({SIZE} left on it\); {SIZE} of "
            rf"{SIZE} came back into RAM in \d+:\d\d \(nothing deleted, fstab unchanged\)",
            err,
        )
        assert m, err
        assert abs(size_of(m.group(1)) - left) <= MiB, (m.group(1), left)
        assert abs(size_of(m.group(2)) - (before - left)) <= MiB
        assert "Traceback" not in err


def test_tty_bar_in_tmux_then_ctrl_c() -> None:
    """On a terminal: one bar redrawn in place, with the figures; Ctrl-C from the keyboard."""
    from tmux import pane

    with lab.swapfile(256, priority=10, name="tty") as path, filled(path, 200, hogs=8):
        with slow_reads(disk_devnum(path), 4 * MiB) as procs:
            cmd = f'echo $$ > {procs} && exec "$@"'
            argv = ["sh", "-c", cmd, "sh", sys.executable, "-m", "checkswap", "swapfile", "off"]
            with pane([*argv, path], 170, 12, "drain", env={"PYTHONPATH": REPO}) as p:
                bar = re.compile(
                    r"\[#*\.*\] +\d+%  [0-9.]+ \w+ / [0-9.]+ MiB  [0-9.]+ \w+/s  ETA \d+:\d\d  "
                    r"MemAvailable [0-9.]+ \w+  swap-in [0-9.]+ \w+/s"
                )
                screen = p.wait_for(lambda s: bool(bar.search(s)), 30, "the progress bar")
                # Redrawn in place: one bar line on the screen, not one per reading.
                assert len(bar.findall(screen)) == 1, screen
                time.sleep(1)
                assert len(bar.findall(p.capture())) == 1
                p.keys("C-c")
                assert p.exit_status(timeout=30) == 1
                screen = p.capture()
        assert re.search(rf"checkswap: interrupted: {re.escape(path)} is still on", screen), screen
        assert used_bytes(path) is not None
        assert threads_in_swapoff() == []
