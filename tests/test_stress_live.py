"""stress for real (root, opt-in): it makes real swap-out and leaves nothing behind.

The kernel's counters and what is left on the machine are read with the lab's own few lines,
never with checkswap's readers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import lab
import pytest

pytestmark = pytest.mark.kernel
MiB = 2**20
PAGE = os.sysconf("SC_PAGE_SIZE")
STRESS = "checkswap-stress-"
# Small and quick: 112 MiB over a 48 MiB limit must go to a 256 MiB temporary swapfile.
ARGS = ("--swapfile", "256M", "--size", "160M", "--limit", "48M", "-i", "0.5")


def stress(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "checkswap", "stress", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def cgroups() -> list[str]:
    return [n for n in os.listdir(lab.CGROUP_V1) if n.startswith(STRESS)]


def hogs() -> list[int]:
    """Live hog processes. A zombie has freed its memory and waits for init to reap it (once
    its parent was killed, the hog is re-parented), so it is not counted."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            state = stat[stat.rindex(")") + 2]
            if comm == "checkswap-hog" and state != "Z":
                found.append(int(pid))
    return found


def leftovers() -> dict[str, list[object]]:
    return {
        "cgroups": list(cgroups()),
        "swaps": [s for s in lab.active_swaps() if STRESS in s],
        "files": [n for n in os.listdir("/var/tmp") if n.startswith(STRESS)],
        "hogs": list(hogs()),
    }


NOTHING: dict[str, list[object]] = {"cgroups": [], "swaps": [], "files": [], "hogs": []}


def wait_swapping(proc: subprocess.Popen[str], timeout: float = 30) -> None:
    """Until the hog is in its cgroup and has pushed pages to swap."""
    start = lab.vmstat()["pswpout"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if hogs() and lab.vmstat()["pswpout"] - start > 1000:
            return
        time.sleep(0.1)
    raise AssertionError("stress never started swapping")


@pytest.fixture(autouse=True)
def clean_machine() -> object:
    """Starts from, and leaves, a machine with no stress objects (whatever the test did)."""
    assert leftovers() == NOTHING
    yield
    if leftovers() != NOTHING:
        subprocess.run([sys.executable, "-m", "checkswap", "stress", "--cleanup"], check=False)
        pytest.fail("stress left objects behind (removed with stress --cleanup)")


def test_swaps_out_at_least_the_excess_then_removes_everything() -> None:
    before = lab.vmstat()
    proc = stress(*ARGS, "--duration", "3")
    out, err = proc.communicate(timeout=120)
    after = lab.vmstat()
    assert proc.returncode == 0, err
    excess_pages = (160 - 48) * MiB // PAGE
    assert after["pswpout"] - before["pswpout"] >= excess_pages, err
    if "swpout_zero" in after:  # 6.12+: the hog's pages are non-zero, so they reach the device
        assert after["swpout_zero"] - before["swpout_zero"] < excess_pages // 100
    lines = [ln for ln in out.splitlines() if not ln.startswith("#")]
    assert lines[0].split()[:3] == ["date", "time", "in/s"] and len(lines) >= 5, out
    (summary,) = [ln for ln in out.splitlines() if ln.startswith("# summary:")]
    # "# summary: 8 samples over 4.0 s (...)": --duration 3 holds, give or take an interval
    # and the fill, even though one pass over pages in swap takes seconds.
    assert float(summary.split(" over ")[1].split()[0]) <= 3 + 2, summary
    assert "cleaned up: the hog, its cgroup, the swapfile removed" in err
    assert leftovers() == NOTHING


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_cleans_up(sig: signal.Signals) -> None:
    proc = stress(*ARGS, "--duration", "60")
    try:
        wait_swapping(proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "# summary:" in out  # the watch summary, as after Ctrl-C in watch
    assert "cleaned up: the hog, its cgroup, the swapfile removed" in err
    assert leftovers() == NOTHING


def test_killed_run_is_cleaned_by_the_next_run() -> None:
    proc = stress(*ARGS, "--duration", "60")
    wait_swapping(proc)
    proc.kill()  # SIGKILL: no cleanup at all
    proc.communicate()
    deadline = time.monotonic() + 10
    while hogs() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = leftovers()
    assert left["hogs"] == []  # the hog died with its parent (PR_SET_PDEATHSIG)
    assert len(left["cgroups"]) == 1 and len(left["swaps"]) == 1 and len(left["files"]) == 1

    dry = stress("--dry-run", "--cleanup")
    out, _ = dry.communicate(timeout=30)
    assert dry.returncode == 0
    assert f"rmdir {lab.CGROUP_V1}/{left['cgroups'][0]}" in out
    assert f"swapoff {left['swaps'][0]}" in out
    assert leftovers() == left  # dry-run changed nothing

    again = stress("--swapfile", "128M", "--size", "96M", "--limit", "48M", "--duration", "1")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert "removing what an earlier, killed run left behind" in err
    assert leftovers() == NOTHING


def test_dry_run_changes_nothing() -> None:
    def state() -> tuple[object, ...]:
        with open("/proc/swaps") as f:
            swaps = f.read()
        return swaps, sorted(os.listdir(lab.CGROUP_V1)), sorted(os.listdir("/var/tmp"))

    before = state()
    proc = stress(*ARGS, "--dry-run")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.splitlines()[1].startswith("set -o noclobber; exec 3>/var/tmp/checkswap-stress-")
    assert "fallocate -l 268435456 /proc/self/fd/3" in out
    assert f"mkdir {lab.CGROUP_V1}/checkswap-stress-" in out
    assert state() == before


def test_refusals() -> None:
    if lab.active_swaps() == []:  # the test machine has no swap (unless a benchmark runs)
        proc = stress("--size", "160M", "--limit", "48M", "--duration", "1")
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 1 and "no swap is configured" in err

    proc = stress("--swapfile", "64M", "--size", "1G", "--limit", "48M")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "must fit in free swap" in err


def test_second_concurrent_run_is_refused() -> None:
    first = stress(*ARGS, "--duration", "60")
    try:
        wait_swapping(first)
        second = stress(*ARGS, "--duration", "1")
        _, err = second.communicate(timeout=30)
        assert second.returncode == 1
        assert f"another checkswap stress run (pid {first.pid}) is in progress" in err
        assert len(cgroups()) == 1
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert first.returncode == 0
