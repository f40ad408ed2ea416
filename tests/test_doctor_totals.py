"""One swap total in every command (meminfo's SwapTotal), and doctor's accounting finding."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from typing import Any

import pytest
from clihelp import CHECKSWAP, FIXTURES, REPO, no_sleep, run_cli

TREES = [
    "lxcfs-container",
    "lxcfs-swap-mismatch",  # SwapTotal 4 GiB, areas 8 GiB
    "swaptotal-zero-area-in-use",  # SwapTotal 0, one area in use
    "linux-6.18-swapping",
    "no-proc-swaps",
    # Public test data whose meminfo and swaps were captured apart (their READMEs).
    "node-exporter-fixtures",  # SwapTotal 4 GiB, an 8 GiB zram0
]


def meminfo_swap_total(tree: str) -> int:
    with open(os.path.join(FIXTURES, tree, "proc/meminfo")) as f:
        m = re.search(r"^SwapTotal:\s+(\d+) kB", f.read(), re.M)
    assert m
    return int(m.group(1)) * 1024


def serve_textfile_total(root: str, tmp_path: Any) -> int:
    path = str(tmp_path / "swap.prom")
    p = subprocess.Popen(
        [*CHECKSWAP, "serve", "--textfile", path, "--textfile-interval", "1", "--root", root],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": REPO},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(path):
            assert p.poll() is None, p.stderr.read() if p.stderr else ""
            assert time.monotonic() < deadline, "serve wrote no textfile in 30 s"
            time.sleep(0.1)
        with open(path) as f:
            text = f.read()
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(10)
    m = re.search(r"^checkswap_swap_total_bytes (\S+)$", text, re.M)
    assert m, text
    return int(float(m.group(1)))


@pytest.mark.parametrize("tree", TREES)
def test_every_command_prints_the_same_swap_total(tree: str, tmp_path: Any) -> None:
    root = os.path.join(FIXTURES, tree)
    want = meminfo_swap_total(tree)
    _, out, _ = run_cli("watch", "-n", "1", "--format", "json", "--root", root, sleep=no_sleep)
    lines = [json.loads(x) for x in out.splitlines()]
    assert lines[0]["swap_total_bytes"] == want
    assert all(r["swap_total_bytes"] == want for r in lines if r["type"] == "sample")
    _, out, _ = run_cli("top", "-n", "1", "--format", "json", "--root", root, sleep=no_sleep)
    assert (
        re.findall(r'"swap_total_bytes": (\d+)', out)
        == [str(want)] * len(re.findall(r'"swap_total_bytes"', out))
        and '"swap_total_bytes"' in out
    )
    _, out, _ = run_cli(
        "doctor", "--sample", "1", "--format", "json", "--root", root, sleep=no_sleep
    )
    report = json.loads(out)
    assert report["sample"]["swap_total_bytes"] == want
    _, line, _ = run_cli(
        "check",
        "--sample",
        "1",
        "--state-file",
        str(tmp_path / "state"),
        "--root",
        root,
        sleep=no_sleep,
    )
    if want:
        assert re.search(rf"swap_used=\d+B;;;0;{want}\b", line), line
    else:
        assert "no swap configured" in line
    assert serve_textfile_total(root, tmp_path) == want


@pytest.mark.parametrize(
    ("tree", "severity", "areas"),
    [
        ("lxcfs-swap-mismatch", "info", 8 << 30),  # a virtual line: a container, expected
        ("swaptotal-zero-area-in-use", "warning", 268431360),
    ],
)
def test_swap_accounting_mismatch(tree: str, severity: str, areas: int) -> None:
    root = os.path.join(FIXTURES, tree)
    _, out, _ = run_cli(
        "doctor", "--sample", "1", "--format", "json", "--root", root, sleep=no_sleep
    )
    (f,) = [x for x in json.loads(out)["findings"] if x["id"] == "swap-accounting-mismatch"]
    assert f["severity"] == severity
    ev = f["evidence"]
    assert ev["swap_total_bytes"] == meminfo_swap_total(tree)
    assert ev["swap_total_source"] == "/proc/meminfo:SwapTotal"
    assert ev["swap_areas_bytes"] == areas and ev["swap_areas_source"] == "/proc/swaps"
    assert "virtualised" in f["detail"]


@pytest.mark.parametrize("tree", ["lxcfs-container", "linux-6.18-swapping"])
def test_agreeing_views_raise_no_accounting_finding(tree: str) -> None:
    _, out, _ = run_cli(
        "doctor",
        "--sample",
        "1",
        "--format",
        "json",
        "--root",
        os.path.join(FIXTURES, tree),
        sleep=no_sleep,
    )
    assert "swap-accounting-mismatch" not in [x["id"] for x in json.loads(out)["findings"]]


def test_swap_larger_than_ram_counts_meminfos_total() -> None:
    # 8 GiB listed in /proc/swaps, 4 GiB in meminfo, 2 GiB of RAM: swap-vs-RAM judges the
    # 4 GiB every other command prints (ratio 2: no finding), not the areas' 8 GiB (ratio 4).
    from checkswap.doctor import facts, rules

    f = facts.Facts()
    f.devices = [{"name": "/swapfile", "kind": "file", "size_bytes": 8 << 30}]
    f.mem_total = 2 << 30
    f.record = {"swap_total_bytes": 4 << 30}
    assert rules.check_sizes(f) == []
    f.record = {"swap_total_bytes": 5 << 30}
    (x,) = rules.check_sizes(f)
    assert x["id"] == "swap-larger-than-ram" and x["evidence"]["swap_bytes"] == 5 << 30
