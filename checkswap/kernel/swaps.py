"""/proc/swaps: the active swap areas.

Since 5.x the header and columns are separated by double tabs::

    Filename				Type		Size		Used		Priority
    /swapfile                               file		1048572		307228		-2
    /dev/zram1                              partition	4194300		0		100

Older kernels used single tabs (``Size\\tUsed\\tPriority``). Either way the fields split on white
space: the kernel escapes space, tab, newline and backslash in the file name as octal
(``/swap\\040file``). Size and Used are KiB. Type is ``partition`` for block devices, ``file``
otherwise; LXCFS containers show a synthetic ``none virtual`` line.

The name is the kernel's d_path() of the area (mm/swapfile.c swap_show, through seq_file_path
with the escapes " \\t\\n\\\\"). When the file or device node was unlinked while the area stays
active, d_path() appends `` (deleted)``, whose space is escaped like any other::

    /dev/sdb2\\040(deleted)                  partition	2097148		524288		-2

``name`` keeps the kernel's text, suffix included (it is how /proc/swaps and swapoff's error
name the area); ``deleted_path`` gives the path it had. Extra columns after Priority (patches
have proposed an ``Id``) are ignored, so such a kernel's areas still parse.
"""

from __future__ import annotations

from collections import namedtuple

from checkswap.kernel._text import blank_fields as fields
from checkswap.kernel._text import unescape

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import NamedTuple

    from checkswap.source.root import Root

# unescape and fields are the shared seq_file parsers (_text.py), named here as mountinfo and
# fstab have always imported them.
__all__ = ["DELETED", "SwapArea", "deleted_path", "fields", "parse_swaps", "read_swaps", "unescape"]

DELETED = " (deleted)"  # what d_path() appends to an unlinked file's name

if TYPE_CHECKING:

    class SwapArea(NamedTuple):
        name: str
        type: str
        size_bytes: int
        used_bytes: int
        priority: int

else:
    SwapArea = namedtuple("SwapArea", "name type size_bytes used_bytes priority")


def parse_swaps(text: str) -> list[SwapArea]:
    areas = []
    for line in text.split("\n")[1:]:
        parts = fields(line)
        if len(parts) < 5:
            continue
        try:
            size, used, prio = int(parts[2]), int(parts[3]), int(parts[4])
        except ValueError:
            continue
        areas.append(SwapArea(unescape(parts[0]), parts[1], size * 1024, used * 1024, prio))
    return areas


def deleted_path(name: str) -> str | None:
    """The path an area had before its file or device node was deleted; None if it was not."""
    if name.endswith(DELETED) and len(name) > len(DELETED):
        return name[: -len(DELETED)]
    return None


def read_swaps(root: Root) -> list[SwapArea]:
    return parse_swaps(root.read_text("proc/swaps"))
