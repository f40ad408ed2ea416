"""A real swapon and swapoff during a watch run, and a check state across them.

Opt-in (CHECKSWAP_KERNEL_TESTS=1, root): the swapfile is the lab's, named checkswap-test-*,
swapped off and deleted in its own finally. The totals are compared with /proc/meminfo as the
test reads it itself.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import lab
import pytest
from clihelp import REPO

pytestmark = pytest.mark.kernel


@contextlib.contextmanager
def _watch(*argv: str) -> Iterator[subprocess.Popen[str]]:
    """``watch ARGV --format json``, killed on the way out if the test left it running."""
    watch = subprocess.Popen(
        [sys.executable, "-m", "checkswap", "watch", *argv, "--format", "json"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield watch
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()


def test_watch_says_when_a_real_swapon_and_swapoff_happen() -> None:
    with _watch("-i", "0.2", "-n", "25") as watch:
        time.sleep(1.0)
        before_kb = lab.meminfo_kb("SwapTotal")
        with lab.swapfile(64, name="watch-areas") as path:
            time.sleep(1.0)
            on_kb = lab.meminfo_kb("SwapTotal")
        out, err = watch.communicate(timeout=60)
    assert watch.returncode == 0, err
    changes = [r for r in map(json.loads, out.splitlines()) if r["type"] == "swap_areas"]
    assert len(changes) == 2, changes  # the swapon, then the swapoff
    on, off = changes
    assert on["previous_swap_total_bytes"] == before_kb * 1024
    assert on["swap_total_bytes"] == on_kb * 1024
    assert path in [a["name"] for a in on["swap_areas"]]
    assert off["swap_total_bytes"] == before_kb * 1024
    assert path not in [a["name"] for a in off["swap_areas"]]


def test_watch_sees_a_swapoff_and_swapon_of_the_same_size_within_one_interval() -> None:
    # SwapTotal is the same at both ticks: only /proc/swaps's poll event can tell. The area
    # was swapped off (every page of it read back into RAM) and on again between two samples.
    with lab.swapfile(64, name="watch-again") as path, _watch("-i", "2", "-n", "3") as watch:
        assert watch.stdout is not None
        assert json.loads(watch.stdout.readline())["type"] == "header"
        # The first interval's line: the next tick is 2 s away, and both commands take tens
        # of milliseconds.
        assert json.loads(watch.stdout.readline())["type"] == "sample"
        t0 = time.monotonic()
        lab.run("swapoff", path)
        lab.run("swapon", path)
        assert time.monotonic() - t0 < 1.0, "swapoff and swapon took longer than expected"
        total_kb = lab.meminfo_kb("SwapTotal")
        out, err = watch.communicate(timeout=60)
    assert watch.returncode == 0, err
    records = [json.loads(x) for x in out.splitlines()]
    changes = [r for r in records if r["type"] == "swap_areas"]
    assert len(changes) == 1, changes
    change = changes[0]
    assert change["previous_swap_total_bytes"] == change["swap_total_bytes"] == total_kb * 1024
    assert path in [a["name"] for a in change["swap_areas"]]
    # Said at the tick after the swapon: the record comes before that tick's sample.
    assert [r["type"] for r in records] == ["swap_areas", "sample", "sample", "summary"]


def check(state: str) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "checkswap", "check", "--sample", "0.5", "--state-file", state],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode in (0, 1, 2), r.stdout + r.stderr
    return r.stdout


def test_check_does_not_use_a_state_from_before_a_real_swapoff(tmp_path: Any) -> None:
    state = str(tmp_path / "state")
    with lab.swapfile(64, name="check-areas"):
        check(state)  # the state is left with this swapfile on
    line = check(state)
    assert "swap areas changed since the last run" in line, line
