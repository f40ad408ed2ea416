"""The memory hog of ``checkswap stress``: a forked child that fills memory and keeps touching it.

It runs in a memory-limited cgroup, so what does not fit under the limit must go to swap. The
data is non-zero on purpose: since kernel 6.12 a zero-filled page is recorded as swpout_zero and
never reaches the swap device (nor pswpout), so a hog writing zeros would show no swapping.

Each swap tier can be made on purpose (``stress --zero-share``, ``--data``): pages left
zero-filled go to the zero map (swpout_zero/swpin_zero, 6.12+); ``half-random`` pages compress
about 2:1, as zswap and zram store them; ``random`` pages do not compress (older zswap rejects
them to the swap device, 6.18's keeps them as they are); the default repeating pattern
compresses very well.

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


DATA_KINDS = ("pattern", "half-random", "random")


def start(
    size: int,
    duration_s: float,
    page_size: int,
    cgroup_procs: str,
    zero_share: float = 0.0,
    data: str = "pattern",
) -> int:
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
        run(size, time.monotonic() + duration_s, page_size, zero_share, data)
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


def zero_pages(page_size: int, zero_share: float) -> list[bool]:
    """Which pages of a CHUNK stay zero-filled: the first ``zero_share`` of them, in one run.

    One run, not spread out: a bytearray's data does not start on a page boundary, so each of
    its "pages" straddles two of the kernel's. Only the kernel's pages inside a run of zero
    pages are all zeros (one per run is lost at its edges); spread out, none would be.
    """
    n = max(1, CHUNK // page_size)
    run = round(n * zero_share)
    return [j < run for j in range(n)]


def pattern(page_size: int, zero_share: float = 0.0, data: str = "pattern") -> bytes:
    """1 MiB of pages: zero-filled ones (``zero_share``), the rest non-zero in every page.

    ``data``: "pattern" (a short repeating sequence: compresses very well), "half-random" (the
    first half of each page random, the rest a pattern: about 2:1) or "random" (does not
    compress). A page of random bytes is never all zeros, so none turns into a zero page.
    """
    zeros = zero_pages(page_size, zero_share)
    fixed = bytes(1 + (i % 251) for i in range(page_size))
    pages = []
    for zero in zeros:
        if zero:
            pages.append(bytes(page_size))
        elif data == "random":
            pages.append(os.urandom(page_size))
        elif data == "half-random":
            half = page_size // 2
            pages.append(os.urandom(half) + fixed[half:])
        else:
            pages.append(fixed)
    return b"".join(pages)


def fill(size: int, page_size: int, zero_share: float = 0.0, data: str = "pattern") -> bytearray:
    """``size`` bytes of the chosen data: every page is really written, zero pages included.

    Built by repetition, not ``bytearray(size)`` then a fill: bytearray(size) writes zeros
    first, and under the limit those zero pages are swapped out (as swpout_zero, no I/O) before
    the real data arrives.
    """
    chunk = pattern(page_size, zero_share, data)
    buf = bytearray(chunk) * (size // len(chunk))
    buf += chunk[: size % len(chunk)]
    return buf


def touch(buf: bytearray, deadline: float, page_size: int, zero_share: float = 0.0) -> int:
    """Re-dirty one byte per page until ``deadline``; returns the number of passes begun.

    A zero-filled page is written a zero: dirtied, so reclaim must swap it out again, and still
    all zeros, so the kernel keeps it in the zero map rather than on the device.
    """
    # A pass over pages that are mostly in swap takes seconds (one fault per page), so the
    # deadline is checked every SEGMENT, not once per pass.
    keep = bytes(0 if z else 1 for z in zero_pages(page_size, zero_share))
    mask = keep * max(1, SEGMENT // CHUNK)
    passes = 0
    while time.monotonic() < deadline:
        value = 1 + passes % 255
        values = mask.translate(bytes([0, value]) + bytes(254))
        passes += 1
        for off in range(0, len(buf), SEGMENT):
            end = min(off + SEGMENT, len(buf))
            # One extended-slice write touches every page of the segment in C: a page that
            # was swapped out faults back in, and the limit pushes another page out.
            buf[off:end:page_size] = values[: -(-(end - off) // page_size)]
            if time.monotonic() >= deadline:
                break
    return passes


def run(
    size: int, deadline: float, page_size: int, zero_share: float = 0.0, data: str = "pattern"
) -> int:
    return touch(fill(size, page_size, zero_share, data), deadline, page_size, zero_share)
