"""/proc/PID/status, /proc/PID/stat, /proc/PID/cgroup and /proc/PID/smaps_rollup.

status (tab after the colon; some kernels and hand-made trees use spaces)::

    Name:	peers-hog
    State:	S (sleeping)
    Uid:	0	0	0	0
    VmSwap:	  247124 kB

Kernel threads and zombies have no ``Vm*`` lines at all: no VmSwap means "not a process that
can hold swap", which is different from ``VmSwap: 0 kB``.

stat (one line; comm is in parentheses and may itself hold spaces and parentheses, so fields
are counted from the *last* ``)``)::

    24500 (peers-hog) D 1 24500 1446 0 -1 4194560 2259 0 66804 0 ... 21 0 1 0 54706 ...

After the ``)``: state is field 0, majflt field 9 (stat(5) field 12), starttime field 19
(field 22, clock ticks since boot: with the pid it identifies a process across pid reuse).

cgroup, one line per hierarchy (``hierarchy-id:controllers:path``); v2 is ``0::path``::

    4:memory:/checkswap-test-hog-123
    0::/system.slice/mysql.service

smaps_rollup (4.14+)::

    SwapPss:          123456 kB
"""

from __future__ import annotations

import os
from collections import namedtuple

from checkswap.kernel._text import kb_value, key_value

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import NamedTuple

    from checkswap.source.root import Root


if TYPE_CHECKING:

    class Status(NamedTuple):
        name: str
        state: str | None  # one letter: R, S, D, Z, ...
        uid: int | None  # real uid
        swap_bytes: int | None  # VmSwap; None for kernel threads and zombies

else:
    Status = namedtuple("Status", "name state uid swap_bytes")


if TYPE_CHECKING:

    class Stat(NamedTuple):
        state: str
        majflt: int
        starttime: int  # clock ticks after boot

else:
    Stat = namedtuple("Stat", "state majflt starttime")


def _kb(value: str | None) -> int | None:
    return None if value is None else kb_value(value)


def status_swap_bytes(text: str) -> int | None:
    """VmSwap in bytes, or None when the line is absent (kernel thread, zombie)."""
    return _kb(key_value(text, "VmSwap:"))


def status_swap_bytes_raw(data: bytes) -> int | None:
    """status_swap_bytes on the undecoded file: the per-process hot path of a scan.

    VmSwap is never the first line, and its value is always in kB (the kernel prints it with
    seq_put_decimal_ull_width(..., " kB")), so this can be a find and an int().
    """
    i = data.find(b"\nVmSwap:")
    if i < 0:
        return None
    j = data.find(b"\n", i + 8)
    fields = data[i + 8 : j if j >= 0 else len(data)].split()
    try:
        return int(fields[0]) * 1024
    except (IndexError, ValueError):
        return None


def parse_status(text: str) -> Status:
    name = key_value(text, "Name:") or ""
    state = key_value(text, "State:")
    uid_text = key_value(text, "Uid:")
    uid: int | None = None
    if uid_text:
        try:
            uid = int(uid_text.split()[0])
        except ValueError:
            uid = None
    return Status(name, state[:1] if state else None, uid, status_swap_bytes(text))


def pending_signals(text: str) -> set[int]:
    """Signal numbers pending in a status: the thread's own (SigPnd) and the process's (ShdPnd),
    hex masks where bit N-1 is signal N. A signal waiting for a thread stuck in a syscall."""
    found: set[int] = set()
    for key in ("SigPnd:", "ShdPnd:"):
        try:
            mask = int(key_value(text, key) or "0", 16)
        except ValueError:
            continue
        found.update(n + 1 for n in range(mask.bit_length()) if mask >> n & 1)
    return found


def parse_stat(text: str) -> Stat | None:
    """State, major faults and start time; None for a line too short to be a stat line."""
    _, sep, rest = text.rpartition(")")
    fields = rest.split()
    if not sep or len(fields) < 20:
        return None
    try:
        return Stat(fields[0], int(fields[9]), int(fields[19]))
    except ValueError:
        return None


if TYPE_CHECKING:

    class CgroupPaths(NamedTuple):
        v1_memory: str | None  # the path in the v1 memory controller's hierarchy
        v2: str | None  # the path in the unified hierarchy

else:
    CgroupPaths = namedtuple("CgroupPaths", "v1_memory v2")


def parse_cgroup(text: str) -> CgroupPaths:
    v1: str | None = None
    v2: str | None = None
    for line in text.split("\n"):
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hid, controllers, path = parts
        if hid == "0" and controllers == "":
            v2 = path
        elif "memory" in controllers.split(","):
            v1 = path
    return CgroupPaths(v1, v2)


def parse_smaps_rollup_swap_pss(text: str) -> int | None:
    """SwapPss in bytes: the process's proportional share of swapped pages, shmem included."""
    return _kb(key_value(text, "SwapPss:"))


def read_file(root: Root, rel: str) -> str:
    """One /proc/PID (or cgroup) file of the root as text; OSError (ENOENT, ESRCH, EACCES) to
    the caller, whose errno triage (checkswap.errors) says what it means there."""
    return read_raw(root.join(rel)).decode("utf-8", "surrogateescape")


def read_raw(path: str) -> bytes:
    """One file at a path a root gave (``root.join``) in a single read() where it fits.

    os.open + os.read avoids the buffered file object: this runs once per process per scan.
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, 65536)
        if len(data) == 65536:  # a very long status (huge Cpus_allowed masks): read the rest
            chunks = [data]
            while data:
                data = os.read(fd, 65536)
                chunks.append(data)
            data = b"".join(chunks)
    finally:
        os.close(fd)
    return data
