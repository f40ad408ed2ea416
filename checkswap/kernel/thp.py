"""Multi-size THP (mTHP) swap counters: /sys/kernel/mm/transparent_hugepage/hugepages-*/stats/.

One directory per folio size the kernel can use (6.8+; the swap counters 6.10+), one counter
per file, captured here (6.18)::

    hugepages-64kB/stats/swpout            folios of this size swapped out whole
    hugepages-64kB/stats/swpout_fallback   folios that had to be split first (no free
                                           contiguous swap slots), then swapped as pages
    hugepages-64kB/stats/swpin             folios swapped back in whole (6.12+)
    hugepages-64kB/stats/zswpout           folios stored into zswap (6.14+)

Counters are in folios of the directory's size, not pages. A kernel without mTHP has no such
directories: the result is then empty, not zeros.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.source.root import Root

DIR = "sys/kernel/mm/transparent_hugepage"
COUNTERS = ("swpout", "swpout_fallback", "swpin", "swpin_fallback", "zswpout")
_UNITS = {"kB": 1024, "MB": 1024 * 1024, "GB": 1024**3}


def parse_size_dir(name: str) -> int | None:
    """``hugepages-64kB`` -> 65536 bytes; None for anything else."""
    if not name.startswith("hugepages-"):
        return None
    size = name[len("hugepages-") :]
    for suffix, mult in _UNITS.items():
        digits = size[: -len(suffix)]
        # ASCII digits only: str.isdigit() takes "²", which int() refuses.
        if size.endswith(suffix) and digits.isascii() and digits.isdigit():
            return int(digits) * mult
    return None


def parse_counter(text: str) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def read_mthp_stats(root: Root) -> dict[int, dict[str, int]]:
    """Folio size in bytes -> the swap counters that size has (absent counters left out)."""
    try:
        names = root.listdir(DIR)
    except OSError:
        return {}
    out: dict[int, dict[str, int]] = {}
    for name in names:
        size = parse_size_dir(name)
        if size is None:
            continue
        counters: dict[str, int] = {}
        for counter in COUNTERS:
            try:
                value = parse_counter(root.read_text(f"{DIR}/{name}/stats/{counter}"))
            except OSError:
                continue  # an older kernel: that counter does not exist yet
            if value is not None:
                counters[counter] = value
        if counters:
            out[size] = counters
    return dict(sorted(out.items()))
