"""Draining a swap area: swapoff(2) with its progress watched, and interruptible for real.

swapoff has to read every page still on the area back into RAM before it returns, and gives no
sign of progress: on a slow disk that is hours. The kernel does publish it, though: while
try_to_unuse() runs, the area stays in /proc/swaps and its Used column falls as pages come
back. So the syscall runs in the main thread and a watcher thread reads /proc/swaps, MemAvailable
and pswpin every half second.

Interrupting: try_to_unuse() checks signal_pending() between processes (mm by mm, then between
swap-cache pages, mm/swapfile.c), and then swapoff returns EINTR after putting the area back as
it was: still on, the pages read so far stay in RAM. Within one process's address space it does
not look, so a single process with gigabytes on the area is brought back whole first; nothing in
user space can stop the syscall sooner (not even SIGKILL). For the signal to count it must land
on the thread inside the syscall: the watcher blocks SIGINT and SIGTERM, so the kernel delivers
them to the main thread. Its handler (KeyboardInterrupt, which the CLI also makes of SIGTERM)
runs only once the call returns, so the watcher sees the pending signal in /proc/self/status and
says that the drain is stopping. The call is swapoff(2) itself through ctypes, never a child
process, so nothing of the drain can outlive checkswap.

For zram "back in RAM" is not all new memory: the compressed copy is freed as each page is
decompressed, so what a drain needs is the original size minus what zram already uses.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from typing import Callable, NamedTuple

from checkswap.errors import Refused
from checkswap.kernel.meminfo import read_meminfo
from checkswap.kernel.pid import pending_signals
from checkswap.kernel.swaps import SwapArea, read_swaps
from checkswap.kernel.vmstat import read_vmstat
from checkswap.kernel.zram import read_zram
from checkswap.model.rates import counter_rate
from checkswap.model.topology import Topology
from checkswap.source.root import Root
from checkswap.units import format_bytes

EVERY_S = 0.5
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class DrainPlan(NamedTuple):
    name: str  # as /proc/swaps names it: what swapoff(2) is given
    kind: str  # devices.area_kind: file, partition, zram, loop...
    size: int
    used: int  # bytes on the area when planned: what swapoff will read back
    needs: int  # the RAM that takes (for zram: the original size minus zram's own memory)
    available: int | None  # MemAvailable when planned
    zram_used: int | None  # zram's mem_used_total, for zram


class Reading(NamedTuple):
    """One look at a drain in progress."""

    elapsed: float
    moved: int  # bytes no longer on the area since the start
    left: int  # bytes still on it (0 once the area is gone from /proc/swaps)
    available: int | None  # MemAvailable
    swapin_rate: float | None  # bytes/s read from swap (pswpin) since the last look
    stopping: bool = False  # SIGINT or SIGTERM is waiting for the syscall to return


class Interrupted(Exception):
    """The drain was stopped by a signal; ``reading`` is where it stood, ``on`` whether the
    area is still active (it is, unless the signal came after swapoff had finished)."""

    def __init__(self, reading: Reading, on: bool) -> None:
        super().__init__("interrupted")
        self.reading = reading
        self.on = on


def find_area(root: Root, name: str) -> SwapArea | None:
    real = os.path.realpath(name)
    for area in read_swaps(root):
        if area.name == name or os.path.realpath(area.name) == real:
            return area
    return None


def plan_drain(root: Root, area: SwapArea, force: bool, what: str = "swapoff") -> DrainPlan:
    """The estimate; Refused (unless ``force``) when MemAvailable cannot take what comes back."""
    kind = Topology(root).kind(area)
    needs, zram_used = area.used_bytes, None
    if kind == "zram":
        z = read_zram(root, os.path.basename(area.name))
        if z is not None and z.mm is not None:
            zram_used = z.mm.mem_used_bytes
            needs = max(0, z.mm.orig_data_bytes - zram_used)
    available = read_meminfo(root).get("MemAvailable")
    plan = DrainPlan(area.name, kind, area.size_bytes, area.used_bytes, needs, available, zram_used)
    if not force and (available is None or needs > available):
        shown = format_bytes(available) if available is not None else "unknown"
        held = f"{area.name} holds {format_bytes(area.used_bytes)} of swapped-out memory"
        if zram_used is not None:
            held += (
                f" ({format_bytes(needs)} more RAM once decompressed: zram itself uses "
                f"{format_bytes(zram_used)})"
            )
        raise Refused(
            f"{held} and MemAvailable is {shown}: {what} would have to bring it all back into "
            f"RAM (out-of-memory kills, or hours of thrashing). Free memory first, or use "
            f"--force if you are sure"
        )
    return plan


def _libc_swapoff(name: str) -> int:
    """swapoff(2): 0, or the errno. ctypes releases the GIL, so the watcher runs meanwhile."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.swapoff.argtypes = [ctypes.c_char_p]
    if libc.swapoff(os.fsencode(name)) == 0:
        return 0
    return ctypes.get_errno()


class _Watcher(threading.Thread):
    def __init__(
        self,
        root: Root,
        plan: DrainPlan,
        report: Callable[[Reading], None],
        clock: Callable[[], float],
        every_s: float,
    ) -> None:
        super().__init__(name="checkswap-drain-watch", daemon=True)
        self.root = root
        self.plan = plan
        self.report = report
        self.clock = clock
        self.every_s = every_s
        self.stop = threading.Event()
        self.start_t = clock()
        self.page = root.page_size
        self._last: tuple[float, int | None] = (self.start_t, self._pswpin())
        self.error: BaseException | None = None
        # The thread in the syscall: its own pending set, and the process's shared one.
        main = threading.main_thread().native_id
        self._status = [f"/proc/self/task/{main}/status", "/proc/self/status"]

    def _stopping(self) -> bool:
        for path in self._status:
            try:
                with open(path) as f:
                    if pending_signals(f.read()) & _SIGNALS:
                        return True
            except OSError:
                pass
        return False

    def _pswpin(self) -> int | None:
        try:
            return read_vmstat(self.root).get("pswpin")
        except OSError:
            return None

    def look(self) -> Reading:
        now = self.clock()
        area = find_area(self.root, self.plan.name)
        left = area.used_bytes if area is not None else 0
        try:
            available = read_meminfo(self.root).get("MemAvailable")
        except OSError:
            available = None
        pswpin = self._pswpin()
        t0, p0 = self._last
        rate = counter_rate(p0, pswpin, now - t0)
        self._last = (now, pswpin)
        return Reading(
            now - self.start_t,
            max(0, self.plan.used - left),
            left,
            available,
            rate * self.page if rate is not None else None,
            self._stopping(),
        )

    def run(self) -> None:
        try:
            while not self.stop.wait(self.every_s):
                self.report(self.look())
        except BaseException as e:  # shown by the main thread, after the syscall
            self.error = e


def drain(
    root: Root,
    plan: DrainPlan,
    report: Callable[[Reading], None],
    every_s: float = EVERY_S,
    clock: Callable[[], float] = time.monotonic,
    call: Callable[[str], int] = _libc_swapoff,
) -> Reading:
    """swapoff ``plan.name`` in this (the main) thread; the final reading, or Interrupted.

    ``report`` is called from the watcher thread every ``every_s`` seconds while it runs.
    """
    # Blocked while the watcher starts, so it inherits the mask: no signal can reach it, not
    # even in the instant before it could block them itself.
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        watcher = _Watcher(root, plan, report, clock, every_s)
        watcher.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    err: int | None = None
    try:
        err = call(plan.name)
    except KeyboardInterrupt:
        err = None
        interrupted = True
    else:
        interrupted = False
    finally:
        watcher.stop.set()
        watcher.join()
    last = watcher.look()
    if interrupted or err == errno.EINTR:  # a signal without a Python handler raising
        raise Interrupted(last, find_area(root, plan.name) is not None)
    if watcher.error is not None:
        raise watcher.error
    if err:
        hint = ""
        if err == errno.ENOMEM:  # the overcommit check (security_vm_enough_memory_mm) said no
            hint = ": not enough memory to take the pages back (commit limit)"
        raise Refused(f"swapoff {plan.name} failed: {os.strerror(err)}{hint}")
    return last
