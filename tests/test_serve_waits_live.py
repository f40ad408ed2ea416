"""``serve --delayacct`` against the real kernel: a swapping hog's swap-in wait counter grows
between scrapes and adds up to what the kernel's taskstats say it waited (read by the test's
own few lines of netlink, tests/test_taskstats_live.py), and never goes down."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from typing import Any

import lab
import pytest
from test_serve_live import free_port, http_get, processes, wait_http
from test_taskstats_live import set_switch, switch, switch_restored, taskstats

WAIT = "checkswap_process_swapin_wait_seconds_total"


def _series(text: str, comm: str) -> float | None:
    m = re.search(rf'^{WAIT}\{{comm="{re.escape(comm)}",unit=""\}} (\S+)$', text, re.M)
    return None if m is None else float(m.group(1))


@pytest.mark.kernel
def test_serve_counts_a_swapping_hogs_wait_as_the_kernel_does(
    tmp_path: Any, monkeypatch: Any
) -> None:
    # The hog runs python under a name of its own (comm is the exec'd file's name, 15
    # characters): no other python on the machine adds to its series.
    link = tmp_path / "checkswap-test-hog"
    os.symlink(os.path.realpath(sys.executable), link)
    comm = link.name[:15]
    with switch_restored(), contextlib.ExitStack() as stack:
        set_switch(0)
        stack.enter_context(lab.swapfile(512))
        procs = stack.enter_context(processes())
        port = free_port()
        url = f"http://127.0.0.1:{port}/metrics"
        serve = subprocess.Popen(
            [
                *(sys.executable, "-m", "checkswap", "serve", "--delayacct"),
                *("--listen", f"127.0.0.1:{port}", "--scan-interval", "1", "--top", "1000"),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(serve)
        wait_http(url, serve)
        assert switch() == 1  # serve --delayacct switched it on
        cg = stack.enter_context(lab.memory_cgroup(32, "serve-wait"))
        monkeypatch.setattr(sys, "executable", str(link))
        hog = stack.enter_context(lab.Hog(cg, 96, 12))  # forked after the switch: accounted
        monkeypatch.undo()
        hog.wait_ready()
        with open(f"/proc/{hog.pid}/comm") as f:
            assert f.read().strip() == comm

        # Its series appears once serve has read it twice and it waited in between.
        end = time.monotonic() + 30
        first = None
        while first is None and time.monotonic() < end:
            time.sleep(0.5)
            first = _series(http_get(url).decode(), comm)
        after_first = taskstats(hog.pid)["swapin"] / 1e9
        assert first is not None and first > 0, "no wait series for the swapping hog"
        values = [first]
        for _ in range(6):
            time.sleep(1.2)
            v = _series(http_get(url).decode(), comm)
            assert v is not None
            values.append(v)
        assert values == sorted(values), values  # never down
        assert values[-1] > values[0], values  # grew between scrapes while it swapped

        hog.wait_done(timeout=60)  # touching stops: its total freezes
        final_kernel = taskstats(hog.pid)["swapin"] / 1e9
        time.sleep(3)  # two scans see the frozen total
        text = http_get(url).decode()
        final = _series(text, comm)
        assert final is not None
        # Counted from serve's first reading of it (after the hog started, before the first
        # scrape that showed it) to its last: the kernel's total, less at most what it had
        # waited by then.
        assert final_kernel - after_first - 1e-6 <= final <= final_kernel + 1e-6, (
            final,
            final_kernel,
            after_first,
        )
        if lab.cgroup_version() == 1:  # v1 has no per-cgroup pressure: no series at all
            assert "checkswap_cgroup_memory_pressure_seconds_total{" not in text
        serve.terminate()
        serve.wait(timeout=20)
        assert switch() == 0, serve.stderr.read() if serve.stderr else ""
