"""``checkswap check`` as Nagios runs it (a process, exit status), while a hog really swaps.

The test reads /proc/vmstat itself around each run: the kernel counter the check stored must lie
between the test's readings before and after that run, and the rate it prints must be the delta
between two runs' counters over the interval it reports.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from typing import Any

import lab
import pytest
from clihelp import REPO

pytestmark = pytest.mark.kernel


def check(state: str, *args: str) -> tuple[int, str, dict[str, list[str]], tuple[int, int]]:
    """(exit status, line, perfdata, (pswpin before, pswpin after)) for one run."""
    before = lab.vmstat()["pswpin"]
    r = subprocess.run(
        [sys.executable, "-m", "checkswap", "check", "--state-file", state, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    after = lab.vmstat()["pswpin"]
    assert r.stderr == "", r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout
    perf = {}
    if " | " in lines[0]:
        for item in lines[0].split(" | ", 1)[1].split():
            k, v = item.split("=", 1)
            perf[k] = v.split(";")
    return r.returncode, lines[0], perf, (before, after)


def counter(perf: dict[str, list[str]], key: str) -> int:
    return int(perf[key][0].rstrip("c"))


def test_check_statuses_while_swapping(tmp_path: Any) -> None:
    state = os.path.join(str(tmp_path), "state")
    with contextlib.ExitStack() as stack:
        swap = stack.enter_context(lab.swapfile(256, name="check"))
        cg = stack.enter_context(lab.memory_cgroup(64, name="check"))
        hog = stack.enter_context(lab.Hog(cg, 160, 30))
        hog.wait_ready()
        time.sleep(2)
        status, line, perf, (b0, a0) = check(state)  # first run: samples briefly
        assert "sampled" in line and "first run" in line
        assert b0 <= counter(perf, "swap_in_pages") <= a0
        assert float(perf["swap_in"][0]) > 0  # swapping during the brief sample too

        time.sleep(2)
        # Swap-in above 10 pages/s is CRITICAL; the rate is since the previous run.
        status, line, perf2, (b1, a1) = check(state, "-w", "1", "-c", "10")
        assert status == 2 and line.startswith("CHECKSWAP CRITICAL - "), line
        assert "sampled" not in line
        assert b1 <= counter(perf2, "swap_in_pages") <= a1
        interval = float(perf2["interval"][0].rstrip("s"))
        delta = counter(perf2, "swap_in_pages") - counter(perf, "swap_in_pages")
        assert float(perf2["swap_in"][0]) == pytest.approx(delta / interval, rel=1e-5)
        assert 1.5 < interval < 30

        status, line, _, _ = check(state, "-w", "1", "-c", "1e9")
        assert status == 1 and line.startswith("CHECKSWAP WARNING - "), line
        status, line, _, _ = check(state, "-w", "1e9", "-c", "1e9")
        assert status == 0 and line.startswith("CHECKSWAP OK - "), line
        # Used % of the real swapfile, as the kernel's /proc/meminfo has it.
        status, line, perf3, _ = check(state, "-w", "1e9", "-c", "1e9", "--used-warning", "1")
        total_kb = lab.meminfo_kb("SwapTotal")
        assert perf3["swap_used"][4] == str(total_kb * 1024)
        assert status == 1 and "swap used" in line and "(WARNING: > 1)" in line
        assert swap in lab.active_swaps()
        # A typo is UNKNOWN, never CRITICAL.
        status, line, _, _ = check(state, "-c", "1O")
        assert status == 3 and line.startswith("CHECKSWAP UNKNOWN - --critical '1O'")
