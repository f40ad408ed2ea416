"""The one source of truth for swap totals, and how far /proc/swaps agrees with it.

Every command's swap total and used figure is /proc/meminfo's: SwapTotal, and SwapTotal -
SwapFree for used (as free(1)). That is the kernel's own account (total_swap_pages) and, inside
a container under LXCFS, the container's view, which is what its processes can use. /proc/swaps
names the areas and their kinds and sizes, but its sizes are not added up into a total anywhere:
where their sum disagrees with SwapTotal (a virtualised /proc, a swapon or swapoff between two
reads), the doctor says so (``swap-accounting-mismatch``) instead of one command printing one
figure and another the other. docs/interface.md states this rule.
"""

from __future__ import annotations

from checkswap.kernel.meminfo import swap_used

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from collections.abc import Iterable

    from checkswap.kernel.swaps import SwapArea

SOURCE = "/proc/meminfo"  # where every swap total comes from
AREAS_SOURCE = "/proc/swaps"
# /proc/swaps and SwapTotal count the same pages in the same KiB; a little slack for a page or
# two of rounding per area, never for a difference anyone would notice.
SLACK_BYTES_PER_AREA = 64 << 10


def swap_total(meminfo: dict[str, int]) -> int | None:
    """Swap configured, in bytes: SwapTotal (None when meminfo lacks it)."""
    return meminfo.get("SwapTotal")


def swap_used_bytes(meminfo: dict[str, int]) -> int | None:
    """Swap in use, in bytes: SwapTotal - SwapFree."""
    return swap_used(meminfo)


def areas_total(areas: Iterable[SwapArea]) -> int:
    """The sum of the areas' sizes as /proc/swaps lists them: a witness, not a total to print."""
    return sum(a.size_bytes for a in areas)


def accounting(meminfo_total: int | None, areas: list[SwapArea]) -> dict[str, object]:
    """Both views of the swap total with their sources, and whether they disagree."""
    listed = areas_total(areas)
    slack = SLACK_BYTES_PER_AREA * max(1, len(areas))
    return {
        "swap_total_bytes": meminfo_total,
        "swap_total_source": f"{SOURCE}:SwapTotal",
        "swap_areas_bytes": listed,
        "swap_areas_used_bytes": sum(a.used_bytes for a in areas),
        "swap_areas_source": AREAS_SOURCE,
        "swap_areas": len(areas),
        "mismatch": meminfo_total is not None and abs(meminfo_total - listed) > slack,
    }
