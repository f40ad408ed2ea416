"""A real swap area whose device node is deleted while active: /proc/swaps' ``(deleted)``
and doctor's swap-area-deleted.

Opt-in (CHECKSWAP_KERNEL_TESTS=1, root). The area is a loop device swapped on through a node of
the test's own; that node is removed, and the loop device's own node swaps it off afterwards:
swapoff(2) matches the area by its block device, not by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess

import lab
import pytest
from clihelp import no_sleep, run_cli

pytestmark = pytest.mark.kernel


def raw_swaps() -> list[str]:
    with open("/proc/swaps") as f:
        return [line.split()[0] for line in f.read().splitlines()[1:] if line.split()]


def test_active_swapfile_cannot_be_unlinked() -> None:
    """Why the live case is a device node: this kernel refuses to unlink an active swapfile
    (may_delete: IS_SWAPFILE gives EPERM), so only a node or an older kernel shows a file."""
    with lab.swapfile(size_mib=32, name="deleted-file") as path, pytest.raises(PermissionError):
        os.unlink(path)


def test_deleted_device_node_is_named_and_found() -> None:
    backing = f"/var/tmp/{lab.PREFIX}deleted-{os.getpid()}"
    node = f"/dev/{lab.PREFIX}node-{os.getpid()}"
    name = node + " (deleted)"
    loop = None
    try:
        lab.run("fallocate", "-l", "32M", backing)
        os.chmod(backing, 0o600)
        loop = lab.run("losetup", "-f", "--show", backing).stdout.strip()
        rdev = os.stat(loop).st_rdev
        os.mknod(node, 0o600 | stat.S_IFBLK, rdev)  # our own node for the loop device
        lab.run("mkswap", node)
        try:
            lab.run("swapon", node)
        except subprocess.CalledProcessError as e:
            pytest.fail(f"swapon {node} refused: {e.stderr.strip()}")
        os.unlink(node)  # the node goes; the area stays active
        # The kernel's own text: d_path's suffix, its space escaped by seq_file_path.
        assert node + "\\040(deleted)" in raw_swaps()

        status, out, err = run_cli("doctor", "--sample", "0.2", "--format", "json", sleep=no_sleep)
        assert status in (1, 2), err  # at least this warning
        report = json.loads(out)
        found = [f for f in report["findings"] if f["id"] == "swap-area-deleted"]
        assert [f["evidence"]["path"] for f in found] == [node]
        assert found[0]["severity"] == "warning"
        (dev,) = [d for d in report["devices"] if d["name"] == name]
        assert dev["deleted"] is True and dev["kind"] == "partition" and dev["disks"] == []
        # watch's header names the area as the kernel does, with the same kind
        status, out, err = run_cli("watch", "-n", "1", "--format", "json", sleep=no_sleep)
        header = json.loads(out.splitlines()[0])
        kinds = {a["name"]: a["kind"] for a in header["swap_areas"]}
        assert kinds[name] == "partition"
    finally:
        if loop is not None and any(n.startswith(node) for n in raw_swaps()):
            # swapoff matches the block device, not the name: the loop's own node reaches it
            subprocess.run(["swapoff", loop], check=False)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(node)
        if loop is not None:
            subprocess.run(["losetup", "-d", loop], check=False)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(backing)
    assert not any(n.startswith(node) for n in raw_swaps())
