"""``checkswap stress``: make real swapping, contained, and take everything down afterwards.

A memory cgroup with a limit below what the hog touches: the kernel must push the excess to
swap while the rest of the machine is left alone. Everything it creates is named
``checkswap-stress-*`` (the cgroup, the temporary swapfile), so a later run finds and removes
what a killed run left behind; a lock makes sure that no other run is in progress when it does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable, Iterator
from functools import partial
from typing import Callable, NamedTuple

from checkswap.errors import BadInput, CheckswapError, Refused
from checkswap.kernel.meminfo import read_meminfo
from checkswap.kernel.swaps import read_swaps
from checkswap.lab import hog
from checkswap.lab.change import Step, run_command
from checkswap.lab.swapfile import AddPlan, plan_add
from checkswap.model.cgroups import (
    V1_MOUNT,
    V2_MOUNTS,
    Hierarchy,
    find_memory_hierarchy,
    memory_hierarchies,
)
from checkswap.model.sample import Sample
from checkswap.source.root import Root
from checkswap.units import format_bytes

PREFIX = "checkswap-stress-"
SWAP_DIR = "/var/tmp"  # disk-backed by convention (FHS), unlike /tmp on many systems
MiB = 1024 * 1024
MIN_LIMIT = 32 * MiB  # the hog's own interpreter needs ~10 MiB inside the cgroup
SWAP_HEADROOM = 0.9  # leave 10 % of free swap: the interpreter and page tables count too


# The file that limits a cgroup's memory, by cgroup version.
LIMIT_FILE = {1: "memory.limit_in_bytes", 2: "memory.max"}


def memory_hierarchy(root: Root) -> Hierarchy:
    """The memory hierarchy the hog's cgroup is made in (model/cgroups' discovery, the one top
    and snapshot use), refused when it cannot hold a limited child cgroup."""
    h = find_memory_hierarchy(root)
    if h is None:
        raise Refused(
            "no memory cgroup controller is mounted (neither cgroup v1 at "
            f"{root.join(V1_MOUNT)} nor cgroup v2 with memory at {root.join(V2_MOUNTS[0])}): "
            "stress cannot contain the hog"
        )
    if h.version == 2:
        try:
            enabled = root.read_text(f"{h.mount}/cgroup.subtree_control").split()
        except OSError:
            enabled = []
        if "memory" not in enabled:
            where = root.join(h.mount)
            raise Refused(
                f"the memory controller is not enabled for child cgroups of {where}: "
                f"echo +memory > {where}/cgroup.subtree_control"
            )
    return h


# --- what a killed run left behind ----------------------------------------------------------


class Leftovers(NamedTuple):
    cgroups: list[str]
    swap_areas: list[str]
    files: list[str]

    def __bool__(self) -> bool:
        return bool(self.cgroups or self.swap_areas or self.files)


def find_leftovers(root: Root) -> Leftovers:
    cgroups = []
    for rel in [h.mount for h in memory_hierarchies(root)]:
        with contextlib.suppress(OSError):
            cgroups += [
                root.join(f"{rel}/{n}") for n in sorted(root.listdir(rel)) if n.startswith(PREFIX)
            ]
    areas = [a.name for a in read_swaps(root) if os.path.basename(a.name).startswith(PREFIX)]
    files = []
    with contextlib.suppress(OSError):
        files = [
            os.path.join(SWAP_DIR, n) for n in sorted(os.listdir(SWAP_DIR)) if n.startswith(PREFIX)
        ]
    return Leftovers(cgroups, areas, files)


def remove_cgroup(path: str) -> None:
    """Kill what is in it, wait for it to empty, remove it."""
    procs = os.path.join(path, "cgroup.procs")
    deadline = time.monotonic() + 10
    while True:
        try:
            with open(procs) as f:
                pids = [int(p) for p in f.read().split()]
        except FileNotFoundError:
            return
        if not pids:
            try:
                os.rmdir(path)
                return
            except FileNotFoundError:
                return
            except OSError:
                # EBUSY for a moment after the last task exits.
                if time.monotonic() > deadline:
                    raise
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise Refused(f"{path}: processes {pids} would not die; remove it by hand")
        time.sleep(0.05)


def cleanup_steps(left: Leftovers) -> list[Step]:
    steps = []
    for cg in left.cgroups:
        steps.append(
            Step(["rmdir", cg], partial(remove_cgroup, cg), note="after killing its tasks")
        )
    for name in left.swap_areas:
        steps.append(Step(["swapoff", name]))
    for path in sorted(set(left.files) | set(left.swap_areas)):
        steps.append(Step(["rm", "-f", path], partial(_unlink, path)))
    return steps


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


# --- the plan -------------------------------------------------------------------------------


class StressPlan(NamedTuple):
    size: int
    limit: int
    duration_s: float
    hierarchy: Hierarchy
    cgroup: str
    swapfile: AddPlan | None
    zero_share: float = 0.0  # share of the hog's pages left zero-filled (hog.py)
    data: str = "pattern"  # what the other pages hold: hog.DATA_KINDS


def plan_stress(
    root: Root,
    size: int,
    limit: int,
    duration_s: float,
    swapfile_size: int | None,
    zero_share: float = 0.0,
    data: str = "pattern",
) -> StressPlan:
    if not 0.0 <= zero_share <= 1.0:
        raise BadInput(f"--zero-share {zero_share:g}: a fraction from 0 to 1")
    if data not in hog.DATA_KINDS:
        raise BadInput(f"--data {data!r}: one of {', '.join(hog.DATA_KINDS)}")
    if limit < MIN_LIMIT:
        raise BadInput(f"--limit {format_bytes(limit)}: at least 32 MiB (the hog itself needs it)")
    if size <= limit:
        raise BadInput(
            f"--size {format_bytes(size)} must be larger than --limit {format_bytes(limit)}: "
            "only what exceeds the limit is swapped out"
        )
    mem = read_meminfo(root)
    available = mem.get("MemAvailable", 0)
    swap_free = mem.get("SwapFree", 0)
    swap_total = mem.get("SwapTotal", 0)
    swapfile = None
    if swapfile_size is not None:
        path = os.path.join(SWAP_DIR, f"{PREFIX}{os.getpid()}.swap")
        swapfile = plan_add(root, swapfile_size, path, None, None, zero_fill=False)
        swap_free += swapfile_size
    elif swap_total == 0:
        raise Refused(
            "no swap is configured, so nothing can be swapped out (the hog would just be "
            "OOM-killed): add --swapfile 512M for a temporary swapfile, removed afterwards"
        )
    excess = size - limit
    if excess > swap_free * SWAP_HEADROOM:
        raise Refused(
            f"the excess over the limit ({format_bytes(excess)}) must fit in free swap "
            f"({format_bytes(swap_free)}, of which checkswap uses at most 90 %): lower --size, "
            "raise --limit, or add --swapfile SIZE"
        )
    if size > available + swap_free:
        raise Refused(
            f"--size {format_bytes(size)} is more than MemAvailable ({format_bytes(available)}) "
            f"plus free swap ({format_bytes(swap_free)})"
        )
    if limit >= available:
        raise Refused(
            f"--limit {format_bytes(limit)} is not below MemAvailable "
            f"({format_bytes(available)}): the whole machine would run short, not just the hog"
        )
    hierarchy = memory_hierarchy(root)
    cgroup = root.join(f"{hierarchy.mount}/{PREFIX}{os.getpid()}")
    return StressPlan(size, limit, duration_s, hierarchy, cgroup, swapfile, zero_share, data)


def cgroup_steps(plan: StressPlan) -> list[Step]:
    limit_path = os.path.join(plan.cgroup, LIMIT_FILE[plan.hierarchy.version])

    def write_limit() -> None:
        with open(limit_path, "w") as f:
            f.write(str(plan.limit))

    return [
        Step(["mkdir", plan.cgroup], lambda: os.mkdir(plan.cgroup)),
        Step(["sh", "-c", f"echo {plan.limit} > {limit_path}"], write_limit),
    ]


_DATA_WORDS = {
    "pattern": "a repeating pattern (compresses well)",
    "half-random": "half-random data (compresses about 2:1)",
    "random": "random data (does not compress)",
}


def describe(plan: StressPlan) -> str:
    if plan.zero_share > 0:
        what = f"{plan.zero_share:.0%} zero-filled pages and {_DATA_WORDS[plan.data]}"
    else:
        what = "non-zero data" if plan.data == "pattern" else _DATA_WORDS[plan.data]
    return (
        f"hog: {format_bytes(plan.size)} of {what} in cgroup v{plan.hierarchy.version} "
        f"{plan.cgroup} limited to {format_bytes(plan.limit)}, touched for "
        f"{plan.duration_s:g} s: at least {format_bytes(plan.size - plan.limit)} must go to swap"
    )


# --- running it -----------------------------------------------------------------------------


class HogWatch:
    """Passes samples through until the hog has exited; remembers how it ended."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.status: int | None = None  # os.waitpid status once reaped

    def poll(self) -> bool:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return self.status is not None

    def samples(self, samples: Iterable[Sample]) -> Iterator[Sample]:
        for s in samples:
            yield s
            if self.poll():
                return

    def kill(self) -> None:
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            _, self.status = os.waitpid(self.pid, 0)

    def failure(self) -> str | None:
        """Why the hog did not finish normally, or None."""
        status = self.status
        if status is None or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == hog.DONE):
            return None
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == hog.CANNOT_JOIN:
            return "the hog could not join its cgroup"
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            return (
                "the hog was killed (SIGKILL): out of memory in its cgroup, most likely because "
                "swap ran out; try a smaller --size or a larger --swapfile"
            )
        if os.WIFSIGNALED(status):
            return f"the hog was killed by signal {os.WTERMSIG(status)}"
        return f"the hog failed (exit status {os.WEXITSTATUS(status)})"


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Let a cleanup finish even if Ctrl-C or SIGTERM arrives again meanwhile."""
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def start_hog(plan: StressPlan, page_size: int) -> HogWatch:
    procs = os.path.join(plan.cgroup, "cgroup.procs")
    return HogWatch(
        hog.start(plan.size, plan.duration_s, page_size, procs, plan.zero_share, plan.data)
    )


def take_down(
    plan: StressPlan, watch: HogWatch | None, made: list[str], say: Callable[[str], None]
) -> None:
    """Undo in reverse: hog, cgroup, swapfile. ``made`` names what was created."""
    errors = []
    if watch is not None:
        watch.kill()
    if "cgroup" in made:
        say(f"$ rmdir {plan.cgroup}")
        try:
            remove_cgroup(plan.cgroup)
        except (OSError, CheckswapError) as e:
            errors.append(str(e))
    if "swapfile" in made and plan.swapfile is not None:
        path = plan.swapfile.path
        if any(a.name == path for a in read_swaps(Root("/"))):
            say(f"$ swapoff {path}")
            try:
                run_command(["swapoff", path])
            except CheckswapError as e:
                errors.append(str(e))
        say(f"$ rm -f {path}")
        _unlink(path)
    if errors:
        raise Refused("cleanup incomplete: " + "; ".join(errors))
    gone = ["the hog"] if watch is not None else []
    gone += [{"cgroup": "its cgroup", "swapfile": "the swapfile"}[m] for m in reversed(made)]
    if gone:
        say(f"cleaned up: {', '.join(gone)} removed")
