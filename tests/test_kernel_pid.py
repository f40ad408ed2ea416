"""Parsers for /proc/PID/status, stat, cgroup and smaps_rollup, on text captured on 6.18, and
the errno triage of reading them."""

from __future__ import annotations

import errno
import os

import pytest

from checkswap.errors import denied, kernel_file_error, vanished
from checkswap.kernel.pid import (
    CgroupPaths,
    Stat,
    Status,
    parse_cgroup,
    parse_smaps_rollup_swap_pss,
    parse_stat,
    parse_status,
    status_swap_bytes,
    status_swap_bytes_raw,
)

# Captured on this machine (6.18): a sleeping process, kthreadd and a zombie, cut short.
USER = (
    "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t13609\nUid:\t1000\t1000\t1000\t1000\n"
    "VmPeak:\t    2920 kB\nVmRSS:\t    1756 kB\nVmSwap:\t  247124 kB\nHugetlbPages:\t       0 kB\n"
)
KTHREAD = (
    "Name:\tkthreadd\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t2\nUid:\t0\t0\t0\t0\n"
    "Kthread:\t1\nThreads:\t1\n"
)
ZOMBIE = (
    "Name:\ttrue\nState:\tZ (zombie)\nTgid:\t13507\nUid:\t0\t0\t0\t0\nKthread:\t0\nThreads:\t1\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (USER, Status("sleep", "S", 1000, 247124 * 1024)),
        (KTHREAD, Status("kthreadd", "S", 0, None)),
        (ZOMBIE, Status("true", "Z", 0, None)),
        # spaces instead of tabs (hand-made trees, some container runtimes' fake /proc)
        (
            "Name:   my app\nState:  R (running)\nUid:    33 33 33 33\nVmSwap:     2048 kB\n",
            Status("my app", "R", 33, 2048 * 1024),
        ),
        ("VmSwap:\t0 kB\nName:\tfirst-is-swap\n", Status("first-is-swap", None, None, 0)),
        ("Name:\tbroken\nVmSwap:\tlots kB\n", Status("broken", None, None, None)),
        ("", Status("", None, None, None)),
    ],
)
def test_parse_status(text: str, expected: Status) -> None:
    assert parse_status(text) == expected
    assert status_swap_bytes(text) == expected.swap_bytes
    if not text.startswith("VmSwap"):  # the kernel never prints VmSwap first
        assert status_swap_bytes_raw(text.encode()) == expected.swap_bytes


def test_vmswap_key_is_not_found_inside_another_key() -> None:
    assert status_swap_bytes("Name:\tx\nXVmSwap:\t5 kB\n") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "13609 (sleep) S 13560 13560 4854 0 -1 4194304 134 0 7 0 0 0 0 0 20 0 1 0 67506 "
            "2990080 412 18446744073709551615 0 0 0 0 0 0 0 0 0 1 0 0 17 1 0 0\n",
            Stat("S", 7, 67506),
        ),
        # comm with spaces and parentheses: fields count from the last ')'
        ("42 (a) b (c)) D 1 1 1 0 -1 0 0 0 99 0 0 0 0 0 20 0 1 0 555 0 0\n", Stat("D", 99, 555)),
        ("42 (short) S 1 2 3\n", None),
        ("", None),
        ("42 (bad) S 1 1 1 0 -1 0 0 0 x 0 0 0 0 0 20 0 1 0 555 0 0\n", None),
    ],
)
def test_parse_stat(text: str, expected: Stat | None) -> None:
    assert parse_stat(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # this machine: v1 memory controller plus an empty unified hierarchy
        (
            "9:name=systemd:/\n4:memory:/process_api/002d61f6\n3:cpuset:/\n0::/\n",
            CgroupPaths("/process_api/002d61f6", "/"),
        ),
        ("0::/system.slice/mysql.service\n", CgroupPaths(None, "/system.slice/mysql.service")),
        ("5:memory,cpu:/a:b\n", CgroupPaths("/a:b", None)),
        ("garbage\n", CgroupPaths(None, None)),
    ],
)
def test_parse_cgroup(text: str, expected: CgroupPaths) -> None:
    assert parse_cgroup(text) == expected


def test_smaps_rollup_swap_pss() -> None:
    text = (
        "5630d5f9b000-7ffde6bce000 ---p 00000000 00:00 0  [rollup]\nRss:   1756 kB\n"
        "Swap:              8192 kB\nSwapPss:           4096 kB\nLocked:  0 kB\n"
    )
    assert parse_smaps_rollup_swap_pss(text) == 4096 * 1024
    assert parse_smaps_rollup_swap_pss("Rss: 1 kB\n") is None


@pytest.mark.parametrize(
    ("code", "gone", "refused"),
    [
        (errno.ENOENT, True, False),  # the process exited: its directory is gone
        (errno.ESRCH, True, False),  # being reaped: some files of a dying task
        (errno.EACCES, False, True),  # hidepid=1/noaccess
        (errno.EPERM, False, True),  # ptrace check (smaps_rollup of another user)
        (errno.EIO, False, False),  # anything else is the user's to see
    ],
)
def test_errno_triage(code: int, gone: bool, refused: bool) -> None:
    e = OSError(code, os.strerror(code))
    assert vanished(e) is gone
    assert denied(e) is refused
    err = kernel_file_error("/proc/1/status", e)
    assert str(err) == f"/proc/1/status: {os.strerror(code)}"
