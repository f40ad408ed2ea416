"""Each command requires only the kernel files it cannot do without.

Every command once refused a root without proc/vmstat, top and doctor included, though top
reads /proc/PID and meminfo and doctor can judge the setup without rates. Now watch and check
(swap-in/out rates are what they show) refuse it with a line naming the file; top, doctor and
``swapfile list`` carry on, and doctor says what it could not read.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import pytest
from clihelp import FIXTURES, no_sleep, run_cli


def tree_without(tmp_path: Any, source: str, *rels: str) -> str:
    tree = str(tmp_path / "tree")
    shutil.copytree(os.path.join(FIXTURES, source), tree, symlinks=True)
    for rel in rels:
        os.unlink(os.path.join(tree, rel))
    return tree


@pytest.fixture
def no_vmstat(tmp_path: Any) -> str:
    # two processes in swap, a swapfile, meminfo: everything but the counters
    return tree_without(tmp_path, "top-no-cgroup", "proc/vmstat")


def test_watch_refuses_naming_the_file(no_vmstat: str) -> None:
    status, out, err = run_cli("watch", "-n", "1", "--root", no_vmstat, sleep=no_sleep)
    assert status == 2 and out == ""
    assert err.strip() == (
        f"checkswap: --root {no_vmstat}: no proc/vmstat (the swap-in/swap-out counters), "
        "which watch needs"
    )


def test_check_refuses_as_a_plugin(no_vmstat: str, tmp_path: Any) -> None:
    state = str(tmp_path / "state")
    status, out, _ = run_cli("check", "--state-file", state, "--root", no_vmstat, sleep=no_sleep)
    assert status == 3
    assert out.startswith("CHECKSWAP UNKNOWN - ") and "no proc/vmstat" in out
    assert "which check needs" in out


def test_top_carries_on(no_vmstat: str) -> None:
    status, out, err = run_cli("top", "--root", no_vmstat, sleep=no_sleep)
    assert status == 0, err
    assert "2 of 2 processes in swap" in out and "in processes 80.0 MiB" in out
    status, out, err = run_cli("top", "-n", "2", "-i", "1", "--root", no_vmstat, sleep=no_sleep)
    assert status == 0, err


def test_top_refuses_without_meminfo(tmp_path: Any) -> None:
    tree = tree_without(tmp_path, "top-no-cgroup", "proc/meminfo")
    status, _, err = run_cli("top", "--root", tree, sleep=no_sleep)
    assert status == 2
    assert "no proc/meminfo (swap used and total), which top needs" in err


def test_doctor_judges_what_it_can(no_vmstat: str) -> None:
    status, out, err = run_cli(
        "doctor", "--sample", "1", "--format", "json", "--root", no_vmstat, sleep=no_sleep
    )
    assert status in (0, 1), err
    report = json.loads(out)
    assert report["verdict"] == "unknown"
    assert [d["name"] for d in report["devices"]] == ["/swapfile"]  # the areas are judged
    assert report["mem_total_bytes"] == 24684716 * 1024
    assert any("proc/vmstat missing" in n and "no rates" in n for n in report["notes"]), report[
        "notes"
    ]
    status, text, err = run_cli("doctor", "--sample", "1", "--root", no_vmstat, sleep=no_sleep)
    assert "proc/vmstat missing" in text and "swap areas:" in text


def test_doctor_finds_what_needs_no_rates(tmp_path: Any) -> None:
    """topo-old-kernel's 0644 swapfile is critical with or without the counters."""
    tree = tree_without(tmp_path, "topo-old-kernel", "proc/vmstat")
    status, out, _ = run_cli(
        "doctor", "--sample", "1", "--format", "json", "--root", tree, sleep=no_sleep
    )
    assert status == 2
    ids = {f["id"] for f in json.loads(out)["findings"]}
    assert {"swapfile-insecure-permissions", "swap-on-rotational"} <= ids


def test_swapfile_list_needs_only_swaps(no_vmstat: str) -> None:
    status, out, err = run_cli("swapfile", "list", "--root", no_vmstat, sleep=no_sleep)
    assert status == 0 and "/swapfile" in out, err


def test_a_root_without_proc_is_not_a_kernel_tree(tmp_path: Any) -> None:
    for argv in (["watch", "-n", "1"], ["top"], ["doctor", "--sample", "1"]):
        status, out, err = run_cli(*argv, "--root", str(tmp_path), sleep=no_sleep)
        assert status in (2, 3), argv
        assert f"--root {tmp_path}: not a kernel tree, it has no proc/" in err + out, argv
