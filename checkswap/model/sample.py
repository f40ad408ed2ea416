"""Raw samples: the kernel's counters at one moment, stamped with monotonic and wall time.

A sample holds counters, never rates; rates only exist between two samples (rates.py). The
recorder stores these raw values, and replay feeds them back through the same rate code.
"""

from __future__ import annotations

import os

from checkswap.errors import kernel_file_error
from checkswap.kernel.meminfo import parse_meminfo
from checkswap.kernel.pressure import PATH as PSI_PATH
from checkswap.kernel.pressure import Pressure, read_pressure_file
from checkswap.kernel.vmstat import parse_vmstat

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from checkswap.source.root import PreadFile, Root


class Sample:
    """Counters at one moment. ``vmstat``/``meminfo`` hold only the fields the kernel has."""

    __slots__ = ("meminfo", "mono", "psi", "vmstat", "wall")

    def __init__(
        self,
        mono: float,
        wall: float,
        vmstat: dict[str, int],
        meminfo: dict[str, int],
        psi: Pressure | None,
    ) -> None:
        self.mono = mono  # seconds on a monotonic clock: intervals come from this alone
        self.wall = wall  # epoch seconds: for display and timestamps only
        self.vmstat = vmstat
        self.meminfo = meminfo
        self.psi = psi

    def __repr__(self) -> str:
        return f"Sample(mono={self.mono!r}, wall={self.wall!r})"


class Sampler:
    """Takes samples from a root, keeping its kernel files open between ticks."""

    def __init__(
        self,
        root: Root,
        clock: Callable[[], tuple[float, float]] | None = None,
        need_vmstat: bool = True,
    ) -> None:
        self.root = root
        # A replayed root stamps samples with its captured times; a live one with the caller's
        # clock (the host's, or a test's).
        self._clock = root.clock if clock is None or root.replays else clock
        # doctor judges what it can without vmstat (no rates): its samples then have none.
        self._vmstat = self._open("proc/vmstat", required=need_vmstat)
        self._meminfo = self._open("proc/meminfo", required=True)
        self._psi = self._open(PSI_PATH, required=False)

    def _open(self, rel: str, required: bool) -> PreadFile | None:
        try:
            return self.root.open_pread(rel)
        except OSError as e:
            if not required:
                return None  # absent PSI is a fact about the kernel, reported as None
            raise kernel_file_error(self.root.join(rel), e) from None

    def take(self) -> Sample:
        mono, wall = self._clock()
        vm = "" if self._vmstat is None else self._read(self._vmstat)
        mem = self._read(self._meminfo)
        try:
            psi = read_pressure_file(self._psi)
        except OSError as e:
            raise kernel_file_error(self.root.join(PSI_PATH), e) from None
        return Sample(mono, wall, parse_vmstat(vm), parse_meminfo(mem), psi)

    @staticmethod
    def _read(f: PreadFile | None) -> str:
        assert f is not None
        try:
            return f.read()
        except OSError as e:
            raise kernel_file_error(f.path, e) from None

    def close(self) -> None:
        for f in (self._vmstat, self._meminfo, self._psi):
            if f is not None:
                f.close()


class Ticker:
    """The one pace for every command that takes samples more than once.

    Ticks fall at start + k * interval on the monotonic clock, so the time spent sampling and
    printing does not make a run drift. After a stall longer than an interval (a suspended VM,
    a stopped process) the schedule restarts from now instead of bursting. A replaying root (a
    snapshot bundle) has its samples taken already: no sleep, it only moves to the next one.
    """

    def __init__(
        self,
        root: Root,
        interval: float,
        monotonic: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.root = root
        self.interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._t0 = monotonic()  # the schedule starts now: make the Ticker at the first sample
        self._k = 0  # ticks since t0; restarts after a stall, so it does not count samples

    def wait(self) -> bool:
        """Wait for the next tick and move the root to it; False when the root has run out."""
        self._k += 1
        if not self.root.replays:
            delay = self._t0 + self._k * self.interval - self._monotonic()
            if delay > 0:
                self._sleep(delay)
            elif -delay > self.interval:
                self._t0, self._k = self._monotonic(), 0
        return self.root.advance()


def zswap_enabled(root: Root) -> bool:
    """zswap's ``enabled`` parameter now (False without zswap): whether pages can go to the pool."""
    from checkswap.kernel.zswap import read_enabled

    return read_enabled(root)


def live_samples(
    root: Root,
    interval: float,
    count: int | None,
    monotonic: Callable[[], float],
    sleep: Callable[[float], None],
    clock: Callable[[], tuple[float, float]] | None = None,
) -> Iterator[Sample]:
    """The first sample at once, then ``count`` more (None: forever), one per Ticker tick."""
    sampler = Sampler(root, clock)
    try:
        yield sampler.take()
        ticker = Ticker(root, interval, monotonic, sleep)
        taken = 0
        while count is None or taken < count:
            taken += 1
            if not ticker.wait():
                return
            yield sampler.take()
    finally:
        sampler.close()


class AreaChanges:
    """Notices a swapon or swapoff between two samples, at next to no cost to a tick that has
    none.

    Each sample already carries meminfo's SwapTotal, so comparing it is most of the per-tick
    price; /proc/swaps (and the kinds of the areas) is read only when something moved. On a
    live kernel /proc/swaps also says when its list changed: poll() on it reports POLLPRI after
    each swapon and swapoff (mm/swapfile.c swaps_poll, the event systemd watches). That
    catches what SwapTotal cannot: a swapoff and a swapon of exactly the same size between two
    ticks, which still pulled every page of the area back into RAM. A fixture tree's or a
    recording's file never reports it, and there SwapTotal alone is the test.
    """

    def __init__(self, root: Root, first: Sample) -> None:
        self.root = root
        self.total = first.meminfo.get("SwapTotal")
        self._pending = False
        self._fd = -1
        self._poll: Callable[[int], list[tuple[int, int]]] | None = None
        if not root.replays:
            try:
                self._fd = os.open(root.join("proc/swaps"), os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return  # no /proc/swaps to watch: SwapTotal still is
            import select

            poller = select.poll()
            poller.register(self._fd, select.POLLPRI | select.POLLERR)
            self._poll = poller.poll

    def check(self, s: Sample) -> tuple[int | None, list[dict[str, object]] | None] | None:
        """None when nothing changed; else (the previous SwapTotal, the areas now or None)."""
        total = s.meminfo.get("SwapTotal")
        # A regular file polls as readable and writable only, never with these events.
        fired = self._poll is not None and bool(self._poll(0))
        if total == self.total and not fired and not self._pending:
            return None
        from checkswap.model.areas import areas_with_kind  # only when the areas changed

        try:
            areas: list[dict[str, object]] | None = areas_with_kind(self.root)
        except OSError:
            areas = None
        if total == self.total and areas is not None and not self._pending:
            size = sum(n for a in areas if isinstance(n := a.get("size_bytes"), int))
            if size != total:
                # The list changed after this sample's meminfo was read: the next sample's
                # SwapTotal agrees with it (a swapoff in progress never does: once only).
                self._pending = True
                return None
        self._pending = False
        before, self.total = self.total, total
        return before, areas

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
