"""zram devices: /sys/block/zramN/{mm_stat,bd_stat,comp_algorithm,disksize}.

Documentation/admin-guide/blockdev/zram.rst; captured here (6.18)::

    mm_stat         orig_data_size compr_data_size mem_used_total mem_limit mem_used_max
                    same_pages pages_compacted huge_pages huge_pages_since
                    (the first five in bytes, the rest in pages; huge_pages 4.19+,
                    huge_pages_since 5.15+)
    bd_stat         bd_count bd_reads bd_writes        (CONFIG_ZRAM_WRITEBACK only; in 4 KiB
                    units whatever the page size)
    comp_algorithm  [lzo-rle] lzo lz4                  (the one in brackets is in use)
    disksize        0 until the device is set up

``mem_limit`` in mm_stat is 0 when no limit was set: the device may then take all of RAM.
The sysfs file ``mem_limit`` itself is write-only, so the limit is read from mm_stat.
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import NamedTuple

    from checkswap.source.root import Root

CLASS = "sys/block"
BD_UNIT = 4096  # bd_stat counts 4 KiB blocks on every architecture (zram_drv.c: FOUR_K)


if TYPE_CHECKING:

    class MmStat(NamedTuple):
        orig_data_bytes: int
        compr_data_bytes: int
        mem_used_bytes: int
        mem_limit_bytes: int  # 0: no limit
        mem_used_max_bytes: int
        same_pages: int | None
        pages_compacted: int | None
        huge_pages: int | None  # 4.19+

else:
    MmStat = namedtuple(
        "MmStat",
        "orig_data_bytes compr_data_bytes mem_used_bytes mem_limit_bytes mem_used_max_bytes"
        " same_pages pages_compacted huge_pages",
    )


if TYPE_CHECKING:

    class BdStat(NamedTuple):
        count_bytes: int
        read_bytes: int
        write_bytes: int

else:
    BdStat = namedtuple("BdStat", "count_bytes read_bytes write_bytes")


if TYPE_CHECKING:

    class Zram(NamedTuple):
        name: str
        disksize_bytes: int | None
        algorithm: str | None
        mm: MmStat | None
        bd: BdStat | None

else:
    Zram = namedtuple("Zram", "name disksize_bytes algorithm mm bd")


def parse_mm_stat(text: str) -> MmStat | None:
    """None when the first five figures are not there (a kernel before 4.1 had no mm_stat)."""
    parts = text.split()
    try:
        nums = [int(p) for p in parts[:8]]
    except ValueError:
        return None
    if len(nums) < 5 or any(n < 0 for n in nums):
        return None
    rest: list[int | None] = [*nums[5:8], None, None, None][:3]
    return MmStat(nums[0], nums[1], nums[2], nums[3], nums[4], rest[0], rest[1], rest[2])


def parse_bd_stat(text: str) -> BdStat | None:
    parts = text.split()
    try:
        count, reads, writes = (int(p) for p in parts[:3])
    except ValueError:
        return None
    if min(count, reads, writes) < 0:
        return None
    return BdStat(count * BD_UNIT, reads * BD_UNIT, writes * BD_UNIT)


def parse_comp_algorithm(text: str) -> str | None:
    for word in text.split():
        if word.startswith("[") and word.endswith("]") and len(word) > 2:
            return word[1:-1]
    return None


def _attr(root: Root, name: str, attr: str) -> str | None:
    try:
        return root.read_text(f"{CLASS}/{name}/{attr}")
    except OSError:
        return None


def zram_names(root: Root) -> list[str]:
    """Every zramN the kernel has, set up or not, in number order."""
    try:
        names = root.listdir(CLASS)
    except OSError:
        return []
    # ASCII digits only: str.isdigit() takes "²", which int() refuses.
    found = [n for n in names if n.startswith("zram") and n[4:].isascii() and n[4:].isdigit()]
    return sorted(found, key=lambda n: int(n[4:]))


def read_zram(root: Root, name: str) -> Zram | None:
    """One device, or None when it is not there."""
    mm_text = _attr(root, name, "mm_stat")
    size_text = _attr(root, name, "disksize")
    if mm_text is None and size_text is None:
        return None
    try:
        disksize: int | None = int(size_text.strip()) if size_text is not None else None
    except ValueError:
        disksize = None
    bd_text = _attr(root, name, "bd_stat")
    algo = _attr(root, name, "comp_algorithm")
    return Zram(
        name,
        disksize,
        parse_comp_algorithm(algo) if algo is not None else None,
        parse_mm_stat(mm_text) if mm_text is not None else None,
        parse_bd_stat(bd_text) if bd_text is not None else None,
    )


def read_zrams(root: Root) -> list[Zram]:
    """The devices that are set up (disksize > 0): an unused zram0 says nothing."""
    out = []
    for name in zram_names(root):
        z = read_zram(root, name)
        if z is not None and z.disksize_bytes:
            out.append(z)
    return out
