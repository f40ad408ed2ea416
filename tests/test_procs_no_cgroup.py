"""A process whose /proc/PID/cgroup is missing (a kernel without cgroups) or cannot be read.

Such a process is alive and holds swap; only its cgroup is unknown. The scan once read stat and
cgroup together and took a failure of either as "vanished": top listed nothing and said "in
processes 0 B" while the processes held 80 MiB.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from clihelp import FIXTURES, no_sleep, run_cli

from checkswap.model.procs import Scanner
from checkswap.source.root import Root

NO_CGROUP = os.path.join(FIXTURES, "top-no-cgroup")
MiB = 1024 * 1024


def test_processes_without_cgroup_file_are_listed_and_counted() -> None:
    rec: dict[str, Any] = Scanner(Root(NO_CGROUP)).sample()
    by_pid = {p["pid"]: p for p in rec["processes"]}
    assert sorted(by_pid) == [4100, 4200]
    assert by_pid[4100]["swap_bytes"] == 64 * MiB
    assert by_pid[4100]["cgroup"] is None and by_pid[4100]["unit"] is None  # unknown
    assert rec["process_swap_bytes"] == 80 * MiB
    assert rec["unattributed_swap_bytes"] == 48 * MiB  # 128 MiB used - 80 MiB held
    assert any("cgroup of 2 processes in swap is unknown" in n for n in rec["notes"])


def test_top_lists_them_and_counts_them() -> None:
    status, out, err = run_cli("top", "--root", NO_CGROUP, sleep=no_sleep)
    assert status == 0, err
    assert "in processes 80.0 MiB" in out
    assert "2 of 2 processes in swap" in out
    assert "sensord" in out and "logd" in out
    status, out, err = run_cli("top", "--root", NO_CGROUP, "--format", "json", sleep=no_sleep)
    rec = json.loads(out.splitlines()[0])
    assert [p["pid"] for p in rec["processes"]] == [4100, 4200]
    assert rec["process_swap_bytes"] == 80 * MiB


def test_a_process_gone_after_its_stat_is_still_skipped(tmp_path: Any) -> None:
    """Without a cgroup file, the process's own directory tells gone from "no cgroups"."""
    tree = str(tmp_path / "tree")
    shutil.copytree(NO_CGROUP, tree)

    class GoneAfterStat(Root):
        def join(self, rel: str) -> str:
            if rel == "proc/4200/cgroup":
                shutil.rmtree(f"{tree}/proc/4200", ignore_errors=True)  # exits right now
            return super().join(rel)

    rec: dict[str, Any] = Scanner(GoneAfterStat(tree)).sample()
    assert [p["pid"] for p in rec["processes"]] == [4100]
    assert rec["process_swap_bytes"] == 64 * MiB  # the exited process's swap is freed


def test_unreadable_cgroup_file_is_unknown_not_gone(monkeypatch: Any) -> None:
    """EACCES on /proc/PID/cgroup (an LSM refusing it; root cannot be refused by mode bits,
    so the read is made to fail): still listed and counted, its cgroup unknown."""
    import errno

    from checkswap.model import procs

    real = procs.read_file

    def refusing(root: Root, rel: str) -> str:
        if rel == "proc/812/cgroup":
            raise PermissionError(errno.EACCES, "Permission denied", root.join(rel))
        return real(root, rel)

    monkeypatch.setattr(procs, "read_file", refusing)
    rec: dict[str, Any] = Scanner(Root(os.path.join(FIXTURES, "top-cgroup-v2-server"))).sample()
    by_pid = {p["pid"]: p for p in rec["processes"]}
    assert by_pid[812]["cgroup"] is None and by_pid[812]["swap_bytes"] > 0
    assert rec["process_swap_bytes"] == sum(p["swap_bytes"] for p in rec["processes"])
    assert any("cgroup of 1 process in swap is unknown" in n for n in rec["notes"])
