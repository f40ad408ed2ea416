"""/proc/self/mountinfo: one mount per line (proc(5))::

    27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
    48 27 0:45 / /mnt/nfs rw,relatime shared:1 - nfs4 srv:/export rw,vers=4.2

Fields: mount id, parent id, MAJ:MIN of st_dev, root within the filesystem, mount point, mount
options, optional tagged fields ending with ``-``, then filesystem type, source, super options.
btrfs and NFS report an anonymous device number (0:NN): for them the source names the device.
Paths escape space, tab, newline and backslash as octal, as /proc/swaps does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from checkswap.kernel.swaps import unescape

if TYPE_CHECKING:
    from checkswap.root import Root

PATH = "proc/self/mountinfo"


class Mount(NamedTuple):
    major: int
    minor: int
    root: str
    mount_point: str
    fstype: str
    source: str
    super_options: str


def parse_mountinfo(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        a, b = left.split(), right.split()
        if len(a) < 5 or len(b) < 2:
            continue
        major, _, minor = a[2].partition(":")
        try:
            devnum = int(major), int(minor)
        except ValueError:
            continue
        mounts.append(
            Mount(
                devnum[0],
                devnum[1],
                unescape(a[3]),
                unescape(a[4]),
                b[0],
                unescape(b[1]),
                b[2] if len(b) > 2 else "",
            )
        )
    return mounts


def read_mountinfo(root: Root) -> list[Mount]:
    return parse_mountinfo(root.read_text(PATH))


def mount_for_path(mounts: list[Mount], path: str) -> Mount | None:
    """The mount a path lies on: the longest mount point that prefixes it, the last mounted."""
    best: Mount | None = None
    for m in mounts:
        mp = m.mount_point.rstrip("/") or "/"
        inside = path == mp or path.startswith(mp + "/") or mp == "/"
        if inside and (best is None or len(mp) >= len(best.mount_point.rstrip("/") or "/")):
            best = m
    return best
