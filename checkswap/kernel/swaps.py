"""/proc/swaps: the active swap areas.

Since 5.x the header and columns are separated by double tabs::

    Filename				Type		Size		Used		Priority
    /swapfile                               file		1048572		307228		-2
    /dev/zram1                              partition	4194300		0		100

Older kernels used single tabs (``Size\\tUsed\\tPriority``). Either way the fields split on white
space: the kernel escapes space, tab, newline and backslash in the file name as octal
(``/swap\\040file``). Size and Used are KiB. Type is ``partition`` for block devices, ``file``
otherwise; LXCFS containers show a synthetic ``none virtual`` line.
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
__all__ = ["SwapArea", "fields", "parse_swaps", "read_swaps", "unescape"]

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
        if len(parts) != 5:
            continue
        try:
            size, used, prio = int(parts[2]), int(parts[3]), int(parts[4])
        except ValueError:
            continue
        areas.append(SwapArea(unescape(parts[0]), parts[1], size * 1024, used * 1024, prio))
    return areas


def read_swaps(root: Root) -> list[SwapArea]:
    return parse_swaps(root.read_text("proc/swaps"))
