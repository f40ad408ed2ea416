"""The memory hog of ``checkswap stress``: a forked child that fills memory and keeps touching it.

It runs in a memory-limited cgroup, so what does not fit under the limit must go to swap. The
data is non-zero on purpose: since kernel 6.12 a zero-filled page is recorded as swpout_zero and
never reaches the swap device (nor pswpout), so a hog writing zeros would show no swapping.

A fork, not a new interpreter: it works the same from a zipapp, and the child dies with its
parent (PR_SET_PDEATHSIG), so a ``kill -9`` of checkswap leaves no hog behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PR_SET_NAME = 15
COMM = b"checkswap-hog"
CHUNK = 1024 * 1024
SEGMENT = 8 * 1024 * 1024  # multiple of any page size

# Exit statuses of the child, read by the parent.
DONE = 0
CANNOT_JOIN = 3


def start(size: int, duration_s: float, page_size: int, cgroup_procs: str) -> int:
    """Fork the hog; returns its pid. The child never returns."""
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        _die_with(parent)
        try:
            with open(cgroup_procs, "w") as f:
                f.write(str(os.getpid()))
        except OSError:
            status = CANNOT_JOIN
            raise
        run(size, time.monotonic() + duration_s, page_size)
        status = DONE
    finally:
        # Never return into the parent's code (its finally blocks, its atexit handlers).
        os._exit(status)


def _die_with(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(COMM), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def pattern(page_size: int) -> bytes:
    """1 MiB of non-zero bytes, different within each page."""
    page = bytes(1 + (i % 251) for i in range(page_size))
    return page * max(1, CHUNK // page_size)


def fill(size: int, page_size: int) -> bytearray:
    """``size`` bytes of non-zero data: every page is really written, none is zero-filled.

    Built by repetition, not ``bytearray(size)`` then a fill: bytearray(size) writes zeros
    first, and under the limit those zero pages are swapped out (as swpout_zero, no I/O) before
    the real data arrives.
    """
    chunk = pattern(page_size)
    buf = bytearray(chunk) * (size // len(chunk))
    buf += chunk[: size % len(chunk)]
    return buf


def touch(buf: bytearray, deadline: float, page_size: int) -> int:
    """Re-dirty one byte per page until ``deadline``; returns the number of passes begun."""
    # A pass over pages that are mostly in swap takes seconds (one fault per page), so the
    # deadline is checked every SEGMENT, not once per pass.
    passes = 0
    while time.monotonic() < deadline:
        value = bytes([1 + passes % 255])
        passes += 1
        for off in range(0, len(buf), SEGMENT):
            end = min(off + SEGMENT, len(buf))
            # One extended-slice write touches every page of the segment in C: a page that
            # was swapped out faults back in, and the limit pushes another page out.
            buf[off:end:page_size] = value * -(-(end - off) // page_size)
            if time.monotonic() >= deadline:
                break
    return passes


def run(size: int, deadline: float, page_size: int) -> int:
    return touch(fill(size, page_size), deadline, page_size)
