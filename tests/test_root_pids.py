"""Root.shares_pids: a --root whose proc/ is this kernel's procfs in our own pid namespace (the
host's /proc mounted into a container with hostPID, as the privileged DaemonSet reads it) gets
delay accounting; a tree, a bundle or a planted proc/self does not."""

from __future__ import annotations

import io
import os

import pytest
from clihelp import FIXTURES, no_sleep, run_cli

from checkswap.errors import BadInput
from checkswap.lab import delayacct
from checkswap.model.procs import Scanner
from checkswap.source.root import Root


def _mounted_host(tmp_path: os.PathLike[str]) -> str:
    """A directory whose proc is this machine's live /proc, as /host/proc is in the pod."""
    host = os.path.join(str(tmp_path), "host")
    os.mkdir(host)
    os.symlink("/proc", os.path.join(host, "proc"))
    os.symlink("/sys", os.path.join(host, "sys"))
    return host


def test_the_hosts_proc_under_another_path_shares_our_pids(tmp_path: os.PathLike[str]) -> None:
    root = Root(_mounted_host(tmp_path))
    assert not root.is_host and root.shares_pids
    assert Scanner(root, delays=True).delays  # taskstats is asked about its processes


def test_a_tree_from_elsewhere_does_not() -> None:
    root = Root(os.path.join(FIXTURES, "linux-6.18-swapping"))
    assert not root.shares_pids
    assert not Scanner(root, delays=True).delays


def test_a_planted_proc_self_naming_our_pid_does_not(tmp_path: os.PathLike[str]) -> None:
    # A copied tree can name our pid; it cannot know when we started.
    proc = os.path.join(str(tmp_path), "proc")
    os.makedirs(os.path.join(proc, str(os.getpid())))
    os.symlink(str(os.getpid()), os.path.join(proc, "self"))
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    fields[19] = str(int(fields[19]) + 1)
    with open(os.path.join(proc, str(os.getpid()), "stat"), "w") as f:
        f.write(f"{os.getpid()} (python) " + " ".join(fields) + "\n")
    assert not Root(str(tmp_path)).shares_pids


def test_delayacct_is_refused_for_a_tree_with_one_line() -> None:
    root = Root(os.path.join(FIXTURES, "linux-6.18-swapping"))
    with (
        pytest.raises(BadInput, match="not with a --root from elsewhere"),
        delayacct.for_run(True, root, io.StringIO()),
    ):
        pass
    status, _, err = run_cli("top", "--root", root.path, "--delayacct", "-n", "1", sleep=no_sleep)
    assert status == 2 and err.count("\n") == 1 and "another pid namespace" in err


def test_without_delayacct_a_mounted_host_root_switches_nothing(
    tmp_path: os.PathLike[str],
) -> None:
    # Not asked for: the switch is not touched and nothing is said, whatever the root.
    with open("/proc/sys/kernel/task_delayacct") as f:
        before = f.read()
    err = io.StringIO()
    with (
        delayacct.for_run(False, Root(_mounted_host(tmp_path)), err),
        open("/proc/sys/kernel/task_delayacct") as f,
    ):
        assert f.read() == before
    assert err.getvalue() == ""
