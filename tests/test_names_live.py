"""A process that names itself with a terminal escape, in a cgroup whose name holds one, seen
by `checkswap top` on the live machine: the text shows every control byte as \\xNN, the JSON
carries the names as the kernel gives them. Opt-in: CHECKSWAP_KERNEL_TESTS=1.

The name is set by the process itself (prctl PR_SET_NAME through ctypes), as any process can;
the kernel's own /proc/PID/comm is read back by the test to be sure it took.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time

import lab
import pytest
from clihelp import REPO

# An OSC "set the window title" sequence, then an 8-bit CSI byte (not UTF-8): 11 of the 15
# bytes a comm holds.
EVIL = b"\x1b]0;pwned\x07\x9b"
SHOWN = "\\x1b]0;pwned\\x07\\x9b"
PR_SET_NAME = 15
RENAME = f"""
import ctypes
if ctypes.CDLL(None, use_errno=True).prctl({PR_SET_NAME}, {EVIL!r}, 0, 0, 0) != 0:
    raise SystemExit("prctl failed")
"""


def _vmswap_kb(pid: int) -> int:
    # As bytes: the status file's Name line holds the hostile name, which is not UTF-8.
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmSwap:"):
                return int(line.split()[1])
    return 0


@pytest.mark.kernel
def test_top_prints_a_hostile_comm_and_cgroup_name_safely() -> None:
    lab.require_kernel_tests()
    with contextlib.ExitStack() as stack:
        stack.enter_context(lab.swapfile(256, name="names"))
        cg = stack.enter_context(lab.memory_cgroup(32, name="esc\x1b[7m"))
        # lab.HOG, renamed first: it joins the cgroup and fills 64 MiB of non-zero data.
        proc = subprocess.Popen(
            [sys.executable, "-c", RENAME + lab.HOG, cg.path, "64", "5", "1"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        stack.callback(proc.wait, 30)
        stack.callback(proc.kill)
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        with open(f"/proc/{proc.pid}/comm", "rb") as f:
            assert f.read() == EVIL + b"\n"  # the kernel holds the name as given
        deadline = time.monotonic() + 30
        while _vmswap_kb(proc.pid) < 1024:  # in swap: top lists it
            assert time.monotonic() < deadline, "the renamed hog never reached swap"
            time.sleep(0.2)

        # The command as a user runs it, its text on a pipe (stdout encodes strictly).
        env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
        run = subprocess.run(
            [sys.executable, "-m", "checkswap", "top", "-n", "1", "--cgroups", "--limit", "1000"],
            cwd=REPO,
            capture_output=True,
            env=env,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        text = run.stdout.decode("utf-8")
        row = next((ln for ln in text.splitlines() if ln.split()[:1] == [str(proc.pid)]), None)
        assert row is not None and SHOWN in row, text
        assert "checkswap-test-esc\\x1b[7m" in text, text  # the cgroup table, the unit column
        assert not any(c in text for c in "\x1b\x07\x9b"), text

        run = subprocess.run(
            [sys.executable, "-m", "checkswap", "top", "-n", "1", "--format", "json"],
            cwd=REPO,
            capture_output=True,
            env=env,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        (rec,) = [json.loads(x) for x in run.stdout.decode().splitlines()]
        (p,) = [p for p in rec["processes"] if p["pid"] == proc.pid]
        # JSON keeps the kernel's name (the byte that is not UTF-8 as its surrogate escape).
        assert p["comm"] == EVIL.decode("utf-8", "surrogateescape"), p
