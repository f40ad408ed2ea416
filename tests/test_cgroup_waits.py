"""Per-cgroup wait on cgroup v2: memory.pressure's stall in the interval and the sum of its
processes' taskstats waits, from two samples of a v2 fixture tree edited between them (a
static tree gives zero deltas)."""

from __future__ import annotations

from typing import Any

import pytest
from test_procs import _edit
from test_taskstats import FakeTaskstats, _tree

from checkswap.model.procs import Scanner
from checkswap.render.top import text_lines

SVC = "/system.slice/mysql.service"


def _two_samples(tmp_path: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    tree = _tree(tmp_path, "1")  # its clock advances 2 s a sample
    scanner = Scanner(tree)
    # mysqld (812) waits 1 s of every 2 s reading swap, 2 s in block I/O
    scanner._taskstats = FakeTaskstats({812: 1_000_000_000})  # type: ignore[assignment]
    first: dict[str, Any] = scanner.sample()
    # 0.4 s of "some" and 0.1 s of "full" stall in the 2 s between the samples
    cg = f"{tree.path}/sys/fs/cgroup{SVC}/memory.pressure"
    with open(cg) as f:
        text = f.read()
    some, full = (int(line.rsplit("total=", 1)[1]) for line in text.splitlines()[:2])
    _edit(cg, f"total={some}", f"total={some + 400_000}")
    _edit(cg, f"total={full}\n", f"total={full + 100_000}\n")
    return first, scanner.sample()


def test_cgroup_stall_and_its_processes_waits_over_the_interval(tmp_path: Any) -> None:
    first, rec = _two_samples(tmp_path)
    before = {c["path"]: c for c in first["cgroups"]}[SVC]
    assert before["psi_some_pct"] is None and before["swapin_wait_pct"] is None
    cgroups = {c["path"]: c for c in rec["cgroups"]}
    svc = cgroups[SVC]
    assert svc["psi_some_pct"] == pytest.approx(20.0)
    assert svc["psi_full_pct"] == pytest.approx(5.0)
    procs = [p for p in rec["processes"] if p["cgroup"] == SVC]
    assert procs, "the fixture has a process in mysql.service"
    assert svc["swapin_wait_pct"] == pytest.approx(sum(p["swapin_wait_pct"] for p in procs))
    assert svc["swapin_wait_pct"] == pytest.approx(50.0)
    assert svc["blkio_wait_pct"] == pytest.approx(100.0)
    docker = next(c for c in rec["cgroups"] if "docker" in c["path"])
    assert docker["swapin_wait_pct"] == 0.0  # its java holds swap and waits for none


def test_top_text_shows_the_cgroup_stall_and_wait_columns_from_the_second_refresh(
    tmp_path: Any,
) -> None:
    first, rec = _two_samples(tmp_path)
    head = [line for line in text_lines(first, 5, "swap") if "UNIT (or cgroup)" in line][-1]
    assert "SOME%" not in head and "SWAPIN%" not in head
    lines = text_lines(rec, 5, "swap")
    head = [line for line in lines if "UNIT (or cgroup)" in line][-1]
    assert "SOME%" in head and "FULL%" in head and "SWAPIN%" in head and "BLKIO%" in head
    table = lines[lines.index(head) + 1 :]
    row = next(line for line in table if line.endswith(" mysql.service"))
    assert " 20.0 " in row and " 5.0 " in row and " 50.0 " in row


def test_a_two_sample_bundle_replays_the_cgroup_stall(tmp_path: Any) -> None:
    """The same stall, captured: a snapshot of a v2 tree whose memory.pressure totals grow
    between its two samples, read back by top from the bundle (no tree, no kernel)."""
    import json
    import os
    import shutil
    import time

    from clihelp import FIXTURES, run_cli

    tree = str(tmp_path / "tree")
    shutil.copytree(os.path.join(FIXTURES, "top-cgroup-v2-server"), tree, symlinks=True)
    cg = f"{tree}/sys/fs/cgroup{SVC}/memory.pressure"
    with open(cg) as f:
        text = f.read()
    some, full = (int(line.rsplit("total=", 1)[1]) for line in text.splitlines()[:2])

    def sleep_and_stall(seconds: float) -> None:
        time.sleep(seconds)  # the bundle's clock is the real one of its capture
        _edit(cg, f"total={some}", f"total={some + 400_000}")
        _edit(cg, f"total={full}\n", f"total={full + 100_000}\n")

    bundle = str(tmp_path / "b.tar.gz")
    status, _, err = run_cli(
        "snapshot", "-n", "2", "-i", "0.5", "-o", bundle, "--root", tree, sleep=sleep_and_stall
    )
    assert status == 0, err
    shutil.rmtree(tree)  # what top reads is the bundle only
    status, out, err = run_cli("top", "--root", bundle, "--cgroups", "--format", "json", "-n", "2")
    assert status == 0, err
    last = json.loads(out.splitlines()[-1])
    svc = {c["path"]: c for c in last["cgroups"]}[SVC]
    secs = last["interval_s"]
    assert secs > 0.4
    assert svc["psi_some_pct"] == pytest.approx(0.4 / secs * 100, rel=1e-3)
    assert svc["psi_full_pct"] == pytest.approx(0.1 / secs * 100, rel=1e-3)
