"""/proc/self/mountinfo: the mounts seen by the reader, used here for /proc's hidepid option.

    22 27 0:21 / /proc rw,relatime - proc proc rw
    22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw,hidepid=2,gid=27

Fields: id, parent, major:minor, root, mount point, mount options, optional fields ending with
``-``, then fs type, source and super options. hidepid is a super option: ``hidepid=1|2`` before
5.8, ``hidepid=noaccess|invisible|ptraceable`` (or ``off``) since. Mount points escape space, tab,
newline and backslash as octal (``\\040``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from checkswap.kernel.swaps import unescape

if TYPE_CHECKING:
    from checkswap.root import Root


class Mount(NamedTuple):
    mount_point: str
    fstype: str
    source: str
    super_options: dict[str, str]


def parse_mountinfo(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        tail = right.split()
        if not sep or len(fields) < 6 or len(tail) < 2:
            continue
        opts: dict[str, str] = {}
        for item in (tail[2] if len(tail) > 2 else "").split(","):
            key, _, value = item.partition("=")
            if key:
                opts[key] = value
        mounts.append(Mount(unescape(fields[4]), tail[0], tail[1], opts))
    return mounts


# Settings under which other users' processes are not even listed (so cannot be counted).
_INVISIBLE = frozenset({"2", "invisible", "4", "ptraceable"})
# Listed but unreadable: reads fail with EPERM/EACCES, so they can be counted.
_NOACCESS = frozenset({"1", "noaccess"})


class Hidepid(NamedTuple):
    value: str | None  # the option as written, None when /proc is mounted without it
    invisible: bool  # other users' /proc/PID directories are not listed at all
    noaccess: bool  # listed, but their files cannot be read


def proc_hidepid(mounts: list[Mount], proc_dirs: tuple[str, ...] = ("/proc",)) -> Hidepid:
    """hidepid of the proc mount at one of ``proc_dirs`` (the last: a later mount hides earlier
    ones). A root other than / reads its proc at DIR/proc, while a captured tree's mountinfo
    names /proc: both are looked for."""
    value = None
    for m in mounts:
        if m.mount_point in proc_dirs and m.fstype == "proc":
            value = m.super_options.get("hidepid")
    if value is None or value in ("0", "off"):
        return Hidepid(value, False, False)
    return Hidepid(value, value in _INVISIBLE, value in _NOACCESS)


def read_proc_hidepid(root: Root) -> Hidepid:
    try:
        mounts = parse_mountinfo(root.read_text("proc/self/mountinfo"))
    except OSError:
        # A tree captured without mountinfo: nothing says /proc is restricted.
        return Hidepid(None, False, False)
    return proc_hidepid(mounts, ("/proc", root.join("proc")))
