"""Real filesystems on loop devices for swapfile tests: ext4, xfs, btrfs.

The image lives under /var/tmp and everything is named ``checkswap-test-*``; the swap areas on
it, the mount and the loop device are all undone in ``finally``, also when the test fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator

import lab

MKFS = {
    "ext4": ["mkfs.ext4", "-q", "-F"],
    "xfs": ["mkfs.xfs", "-q", "-f"],
    "btrfs": ["mkfs.btrfs", "-q", "-f"],
}


@contextlib.contextmanager
def loop_filesystem(fstype: str, size_mib: int = 512) -> Iterator[str]:
    """A fresh ``fstype`` filesystem of ``size_mib`` on a loop device; yields its mount point."""
    image = f"/var/tmp/{lab.PREFIX}{fstype}-{os.getpid()}.img"
    mnt = tempfile.mkdtemp(prefix=f"{lab.PREFIX}mnt-{fstype}-")
    dev = None
    mounted = False
    try:
        with open(image, "wb") as f:
            f.truncate(size_mib * 1024 * 1024)
        dev = lab.run("losetup", "--find", "--show", image).stdout.strip()
        lab.run(*MKFS[fstype], dev)
        lab.run("mount", dev, mnt)
        mounted = True
        yield mnt
    finally:
        for raw in lab.active_swaps():
            name = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), raw)
            if name.startswith(mnt + "/"):
                subprocess.run(["swapoff", name], check=False)
        if mounted:
            subprocess.run(["umount", mnt], check=False)
        if dev:
            subprocess.run(["losetup", "-d", dev], check=False)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(image)
        with contextlib.suppress(OSError):
            os.rmdir(mnt)
