"""/proc/self/mountinfo: one line per mount, as seen from this process's mount namespace.

    27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
    25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684092k
    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw

Fields: mount id, parent id, major:minor, root within the filesystem, mount point, mount options,
zero or more optional fields (``shared:9``), a ``-`` separator, filesystem type, source, super
options (proc(5)). Space, tab, newline and backslash in paths are octal escapes (``\\040``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from checkswap.kernel.swaps import unescape

if TYPE_CHECKING:
    from checkswap.root import Root

PATH = "proc/self/mountinfo"


class Mount(NamedTuple):
    mount_id: int
    parent_id: int
    major: int
    minor: int
    root: str
    mount_point: str
    options: str
    fstype: str
    source: str
    super_options: str


def parse_mountinfo(text: str) -> list[Mount]:
    """Mounts in the kernel's order (later ones stack on earlier). Malformed lines are skipped."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        a, b = left.split(), right.split()
        if len(a) < 6 or len(b) < 2:
            continue
        try:
            major, minor = (int(x) for x in a[2].split(":"))
            ids = int(a[0]), int(a[1])
        except ValueError:
            continue
        mounts.append(
            Mount(
                ids[0],
                ids[1],
                major,
                minor,
                unescape(a[3]),
                unescape(a[4]),
                a[5],
                b[0],
                unescape(b[1]),
                b[2] if len(b) > 2 else "",
            )
        )
    return mounts


def read_mountinfo(root: Root) -> list[Mount]:
    return parse_mountinfo(root.read_text(PATH))


def mount_of(path: str, mounts: list[Mount]) -> Mount | None:
    """The mount holding ``path`` (an absolute, symlink-resolved path): the longest mount point
    that contains it; of equal ones, the last mounted, which hides the others."""
    best: Mount | None = None
    for m in mounts:
        mp = m.mount_point
        inside = path == mp or path.startswith(mp if mp.endswith("/") else mp + "/")
        if inside and (best is None or len(mp) >= len(best.mount_point)):
            best = m
    return best


def mount_of_path(root: Root, path: str) -> Mount | None:
    """The mount a new file at ``path`` would land on (its directory, symlinks resolved)."""
    return mount_of(os.path.realpath(path), read_mountinfo(root))
