"""The swap lab for real-kernel tests: swap areas, memory-limited cgroups and memory hogs.

These change the machine, so they only run with CHECKSWAP_KERNEL_TESTS=1 (``.ci/run`` sets it),
one test at a time across processes (a file lock), and everything they create is named
``checkswap-test-*`` and removed in ``finally`` blocks, also when the test fails.

The kernel's counters are read here with a few lines of our own, never with checkswap's readers:
a test must not check checkswap against itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator

import pytest

ENV_FLAG = "CHECKSWAP_KERNEL_TESTS"
PREFIX = "checkswap-test-"
LOCK_PATH = "/run/checkswap-kernel-tests.lock"
CGROUP_V1 = "/sys/fs/cgroup/memory"
CGROUP_V2 = "/sys/fs/cgroup"


@contextlib.contextmanager
def fstab_copy() -> Iterator[str]:
    """A copy of this machine's /etc/fstab: the tests edit it, never the real one."""
    d = tempfile.mkdtemp(prefix=f"{PREFIX}fstab-")
    path = os.path.join(d, "fstab")
    shutil.copy("/etc/fstab", path)
    try:
        yield path
    finally:
        shutil.rmtree(d)


def kernel_tests_enabled() -> bool:
    return os.environ.get(ENV_FLAG) == "1"


def require_kernel_tests() -> None:
    """Skip (with the reason) unless enabled; once enabled, anything missing is a failure."""
    if not kernel_tests_enabled():
        pytest.skip(f"changes the machine (swap, cgroups); set {ENV_FLAG}=1 to run")
    if os.geteuid() != 0:
        pytest.fail(f"{ENV_FLAG}=1 but not running as root: kernel tests cannot run")


_session_lock: object = None


def hold_session_lock() -> None:
    """Serialise kernel-test sessions across processes: they share the machine's swap areas and
    its global counters, so two at once would break each other's exact comparisons.

    Held for the whole pytest session, not per test, because module-scoped fixtures that make
    swap are set up before any function-scoped fixture could take a lock.
    """
    global _session_lock
    if _session_lock is None:
        f = open(LOCK_PATH, "w")  # noqa: SIM115 - held open until the process exits
        fcntl.flock(f, fcntl.LOCK_EX)
        _session_lock = f


@contextlib.contextmanager
def kernel_lock() -> Iterator[None]:
    """For scripts outside pytest (fixture captures, benchmarks that make swap)."""
    with open(LOCK_PATH, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# --- the kernel's own counters, read by the test -------------------------------------------


def vmstat() -> dict[str, int]:
    with open("/proc/vmstat") as f:
        return {k: int(v) for k, v in (line.split() for line in f)}


def meminfo_kb(field: str) -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def active_swaps() -> list[str]:
    with open("/proc/swaps") as f:
        return [line.split()[0] for line in f.readlines()[1:]]


def status_kb(pid: int, field: str) -> int | None:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


# --- zswap and debugfs ---------------------------------------------------------------------

ZSWAP = "/sys/module/zswap/parameters"
DEBUGFS = "/sys/kernel/debug"


@contextlib.contextmanager
def zswap_params(**values: str) -> Iterator[None]:
    """zswap's parameters set for the test; every one saved first and restored afterwards,
    also those set before a later write failed."""
    saved: dict[str, str] = {}
    try:
        for name, value in values.items():
            path = os.path.join(ZSWAP, name)
            with open(path) as f:
                saved[path] = f.read().strip()
            with open(path, "w") as f:
                f.write(value)
        yield
    finally:
        for path, value in saved.items():
            with open(path, "w") as f:
                f.write(value)


def _debugfs_mounted() -> bool:
    with open("/proc/mounts") as f:
        return any(line.split()[1:3] == [DEBUGFS, "debugfs"] for line in f if len(line.split()) > 2)


@contextlib.contextmanager
def debugfs() -> Iterator[str]:
    """debugfs at /sys/kernel/debug: mounted for the test if it is not, and unmounted
    afterwards only if the test mounted it (someone else's mount stays)."""
    mounted = False
    try:
        if not _debugfs_mounted():
            run("mount", "-t", "debugfs", "none", DEBUGFS)
            mounted = True
        yield DEBUGFS
    finally:
        if mounted:
            subprocess.run(["umount", DEBUGFS], check=False)


# --- swap areas ---------------------------------------------------------------------------


@contextlib.contextmanager
def swapfile(
    size_mib: int = 512,
    directory: str = "/var/tmp",
    priority: int | None = None,
    name: str = "swap",
) -> Iterator[str]:
    """A real swapfile, swapped on; swapped off and deleted afterwards."""
    path = os.path.join(directory, f"{PREFIX}{name}-{os.getpid()}")
    on = False
    try:
        run("fallocate", "-l", f"{size_mib}M", path)
        os.chmod(path, 0o600)
        run("mkswap", path)
        cmd = ["swapon", path] if priority is None else ["swapon", "-p", str(priority), path]
        try:
            run(*cmd)
        except subprocess.CalledProcessError as e:
            pytest.fail(f"swapon {path} refused: {e.stderr.strip()}")
        on = True
        yield path
    finally:
        if on or path in active_swaps():
            subprocess.run(["swapoff", path], check=False)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@contextlib.contextmanager
def loop_swap(size_mib: int = 512, name: str = "loop") -> Iterator[str]:
    """A swap area on a loop device of our own (its image under /var/tmp); yields the loop
    device's name ("loop7"). A whole block device opened for swap alone: every sector in its
    /sys/block/NAME/stat is swap I/O. Swapped off, detached and deleted afterwards."""
    image = f"/var/tmp/{PREFIX}{name}-{os.getpid()}.img"
    dev = None
    on = False
    try:
        with open(image, "wb") as f:
            f.truncate(size_mib * 1024 * 1024)
        dev = run("losetup", "--find", "--show", image).stdout.strip()
        run("mkswap", "-L", f"{PREFIX}{name}", dev)
        try:
            run("swapon", dev)
        except subprocess.CalledProcessError as e:
            pytest.fail(f"swapon {dev} refused: {e.stderr.strip()}")
        on = True
        yield os.path.basename(dev)
    finally:
        if dev and (on or dev in active_swaps()):
            subprocess.run(["swapoff", dev], check=False)
        if dev:
            subprocess.run(["losetup", "-d", dev], check=False)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(image)


def block_stat(name: str) -> dict[str, int]:
    """/sys/block/NAME/stat (Documentation/block/stat.rst): sectors are 512 bytes."""
    with open(f"/sys/block/{name}/stat") as f:
        v = [int(x) for x in f.read().split()]
    return {"read_sectors": v[2], "write_sectors": v[6], "in_flight": v[8]}


# --- memory cgroups -----------------------------------------------------------------------


def cgroup_version() -> int:
    if os.path.exists(os.path.join(CGROUP_V1, "memory.limit_in_bytes")):
        return 1
    if os.path.exists(os.path.join(CGROUP_V2, "cgroup.controllers")):
        return 2
    pytest.fail("no memory cgroup controller mounted (v1 or v2)")


class Cgroup:
    def __init__(self, path: str, version: int) -> None:
        self.path = path
        self.version = version
        self.name = os.path.basename(path)

    def add(self, pid: int) -> None:
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def pids(self) -> list[int]:
        with open(os.path.join(self.path, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]

    def read(self, name: str) -> str:
        with open(os.path.join(self.path, name)) as f:
            return f.read()

    def stat(self) -> dict[str, int]:
        return {
            k: int(v) for k, v in (line.split() for line in self.read("memory.stat").splitlines())
        }

    def oom_kills(self) -> int:
        """Processes the OOM killer took here (v1 memory.oom_control, v2 memory.events)."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        for line in self.read(name).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0


def assert_sum_between(
    counter: str,
    got: int,
    first: tuple[dict[str, int], dict[str, int]],
    last: tuple[dict[str, int], dict[str, int]],
) -> None:
    """``got``, a command's sum of deltas of ``counter`` from its first sample to its last,
    against the kernel read by the test just before and just after each of those samples
    (``first`` and ``last``, each a pair of vmstat readings). The test cannot read at the
    command's own instants; when nothing moved in those short windows the bounds are one
    number, and the sum must be exactly it."""
    lo = last[0][counter] - first[1][counter]
    hi = last[1][counter] - first[0][counter]
    assert lo <= got <= hi, (counter, got, (lo, hi))


@contextlib.contextmanager
def memory_cgroup(limit_mib: int, name: str = "hog") -> Iterator[Cgroup]:
    """A memory-limited cgroup (v1 here, v2 where mounted so); emptied and removed afterwards."""
    version = cgroup_version()
    base = CGROUP_V1 if version == 1 else CGROUP_V2
    path = os.path.join(base, f"{PREFIX}{name}-{os.getpid()}")
    os.mkdir(path)
    cg = Cgroup(path, version)
    try:
        limit = str(limit_mib * 1024 * 1024)
        with open(
            os.path.join(path, "memory.limit_in_bytes" if version == 1 else "memory.max"), "w"
        ) as f:
            f.write(limit)
        yield cg
    finally:
        for _ in range(100):
            pids = cg.pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        for _ in range(100):
            try:
                os.rmdir(path)
                break
            except OSError as e:
                last_error = e
                time.sleep(0.05)
        else:
            # Left behind, the next test of this name fails at mkdir, far from the cause: say
            # here which cgroup stays and why (EBUSY: a task or a zombie still charged to it).
            pytest.fail(f"cgroup {path} could not be removed in 5 s: {last_error}")


# --- memory hogs --------------------------------------------------------------------------

HOG = r"""
import os, sys, time
cgroup, size_mib = sys.argv[1], int(sys.argv[2])
seconds, step = float(sys.argv[3]), int(sys.argv[4])
if cgroup != "-":
    with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
buf = bytearray(size_mib * 1024 * 1024)
page = 4096
# Non-zero data: zero-filled pages go to swpout_zero, not to the swap device.
for i in range(0, len(buf), page):
    buf[i] = 1 + (i // page) % 255
    buf[i + 1:i + 64] = b"\xa5" * 63
print("ready", flush=True)
end = time.monotonic() + seconds
n = 0
while time.monotonic() < end:
    for i in range(0, len(buf), page * step):
        buf[i] = (buf[i] + 1) % 255 or 1
    n += 1
    if step > 1:
        time.sleep(0.01)
print("passes", n, flush=True)
sys.stdin.read()
"""


class Hog:
    """A python process that fills ``size_mib`` with non-zero data, then keeps re-touching it."""

    def __init__(self, cgroup: Cgroup | None, size_mib: int, seconds: float, step: int = 1):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                HOG,
                cgroup.path if cgroup else "-",
                str(size_mib),
                str(seconds),
                str(step),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pid = self.proc.pid
        # A reader thread, so that waiting for a line can time out.
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read_lines, daemon=True).start()

    def _read_lines(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of output: the hog exited

    def _line(self, timeout: float, what: str) -> str:
        """The hog's next line, or a failure after ``timeout`` seconds (never a hung test)."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise AssertionError(f"hog {self.pid}: no {what} after {timeout:.0f} s") from None

    def wait_ready(self, timeout: float = 60) -> None:
        line = self._line(timeout, "'ready'")
        if line.strip() != "ready":
            raise AssertionError(f"hog did not start: {line!r}")

    def wait_done(self, timeout: float = 120) -> int:
        """Wait until the touching loop ends; the process stays alive (in swap) until stop()."""
        line = self._line(timeout, "end of its touching loop")
        assert line.startswith("passes"), line
        return int(line.split()[1])

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait(timeout=30)

    def __enter__(self) -> Hog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
