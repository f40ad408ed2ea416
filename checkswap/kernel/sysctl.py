"""/proc/sys: kernel tunables, one value per file (``/proc/sys/vm/swappiness`` holds ``60``).

A sysctl named ``vm.swappiness`` lives at ``proc/sys/vm/swappiness``. Absent files (an older
kernel, a container that hides them) are None.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.source.root import Root


def sysctl_path(name: str) -> str:
    return "proc/sys/" + name.replace(".", "/")


def parse_int(text: str) -> int | None:
    try:
        return int(text.split()[0])
    except (IndexError, ValueError):
        return None


def read_sysctl_int(root: Root, name: str) -> int | None:
    try:
        return parse_int(root.read_text(sysctl_path(name)))
    except OSError:
        return None
