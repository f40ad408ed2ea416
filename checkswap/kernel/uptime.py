"""/proc/uptime: seconds since boot, and idle seconds summed over CPUs::

2161.42 4176.55
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.source.root import Root


def parse_uptime(text: str) -> float | None:
    try:
        return float(text.split()[0])
    except (IndexError, ValueError):
        return None


def read_uptime(root: Root) -> float | None:
    try:
        return parse_uptime(root.read_text("proc/uptime"))
    except OSError:
        return None
