"""/proc/self/mountinfo: one mount per line (proc(5))::

    27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
    48 27 0:45 / /mnt/nfs rw,relatime shared:1 - nfs4 srv:/export rw,vers=4.2
    22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw,hidepid=2,gid=27

Fields: mount id, parent id, MAJ:MIN of st_dev, root within the filesystem, mount point, mount
options, optional tagged fields ending with ``-``, then filesystem type, source, super options.
btrfs and NFS report an anonymous device number (0:NN): for them the source names the device.
Paths escape space, tab, newline and backslash as octal, as /proc/swaps does. hidepid is a super
option: ``hidepid=1|2`` before 5.8, ``hidepid=noaccess|invisible|ptraceable`` (or ``off``) since.
"""

# Merge of issue-5's module (topology: device numbers, roots, mount_for_path) and issue-4's
# (hidepid): the fields of issue-5's Mount, with super options parsed into a dict as issue-4's.

from __future__ import annotations

from collections import namedtuple

from checkswap.kernel.swaps import fields, unescape

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import NamedTuple

    from checkswap.source.root import Root

PATH = "proc/self/mountinfo"


if TYPE_CHECKING:

    class Mount(NamedTuple):
        major: int
        minor: int
        root: str
        mount_point: str
        fstype: str
        source: str
        super_options: dict[str, str]

else:
    Mount = namedtuple("Mount", "major minor root mount_point fstype source super_options")


def _options(text: str) -> dict[str, str]:
    opts: dict[str, str] = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        if key:
            opts[key] = value
    return opts


def parse_mountinfo(text: str) -> list[Mount]:
    mounts = []
    for line in text.split("\n"):
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        a, b = fields(left), fields(right)
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
                _options(b[2] if len(b) > 2 else ""),
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


# Settings under which other users' processes are not even listed (so cannot be counted).
_INVISIBLE = frozenset({"2", "invisible", "4", "ptraceable"})
# Listed but unreadable: reads fail with EPERM/EACCES, so they can be counted.
_NOACCESS = frozenset({"1", "noaccess"})


if TYPE_CHECKING:

    class Hidepid(NamedTuple):
        value: str | None  # the option as written, None when /proc is mounted without it
        invisible: bool  # other users' /proc/PID directories are not listed at all
        noaccess: bool  # listed, but their files cannot be read
        # gid=N: members of this group see every process, as root does (Documentation/
        # filesystems/proc.rst, "Mount options").
        gid: int | None = None

else:
    Hidepid = namedtuple("Hidepid", "value invisible noaccess gid", defaults=(None,))


def proc_hidepid(mounts: list[Mount], proc_dirs: tuple[str, ...] = ("/proc",)) -> Hidepid:
    """hidepid of the proc mount at one of ``proc_dirs`` (the last: a later mount hides earlier
    ones). A root other than / reads its proc at DIR/proc, while a captured tree's mountinfo
    names /proc: both are looked for."""
    value = gid_text = None
    for m in mounts:
        if m.mount_point in proc_dirs and m.fstype == "proc":
            value = m.super_options.get("hidepid")
            gid_text = m.super_options.get("gid")
    if value is None or value in ("0", "off"):
        return Hidepid(value, False, False)
    # isdigit() is true for "²" and "٣", which int() refuses or reads as another number; a gid
    # is 32 bits, and int() refuses more than 4300 digits.
    gid = None
    if gid_text and gid_text.isascii() and gid_text.isdigit() and len(gid_text) <= 10:
        gid = int(gid_text) if int(gid_text) < 2**32 else None
    return Hidepid(value, value in _INVISIBLE, value in _NOACCESS, gid)


def read_proc_hidepid(root: Root) -> Hidepid:
    try:
        mounts = parse_mountinfo(root.read_text("proc/self/mountinfo"))
    except OSError:
        # A tree captured without mountinfo: nothing says /proc is restricted.
        return Hidepid(None, False, False)
    return proc_hidepid(mounts, ("/proc", root.join("proc")))
