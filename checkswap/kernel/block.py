"""Block devices: /proc/diskstats and the sysfs block tree (/sys/class/block, /sys/dev/block).

/proc/diskstats, one line per device (kernel 4.18+ has 18+ fields; 2.6-4.17 had 14)::

     254       0 vda 66860 167973 4259986 30157 41411 274137 5214024 70181 0 20072 102031 ...
     253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0

Fields after the name: reads completed, reads merged, sectors read, ms reading, writes completed,
writes merged, sectors written, ms writing, I/Os in flight, ms doing I/O, weighted ms... Sectors
are always 512 bytes whatever the device's block size (Documentation/admin-guide/iostats.rst).

sysfs, per device (``/sys/class/block/NAME`` links into ``/sys/devices/.../block/DISK[/PART]``)::

    dev                 254:0
    partition           1          (partitions only)
    queue/rotational    1          (whole disks only; virtio and xen disks default to 1)
    slaves/dm-1 ...     the devices a dm or md device is built on
    loop/backing_file   /var/tmp/image  (loop devices in use)
    dm/name, md/level   device-mapper name, RAID level
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from checkswap.source.root import Root

SECTOR_BYTES = 512
CLASS = "sys/class/block"


class DiskStats(NamedTuple):
    major: int
    minor: int
    name: str
    reads: int
    read_sectors: int
    writes: int
    write_sectors: int
    io_ms: int  # time the device had I/O in flight: utilisation = delta / elapsed


def parse_diskstats(text: str) -> dict[str, DiskStats]:
    """Devices by name. Lines with fewer than 14 fields are skipped (none exist in practice)."""
    out: dict[str, DiskStats] = {}
    for line in text.split("\n"):
        parts = line.split()
        if len(parts) < 14:
            continue
        try:
            out[parts[2]] = DiskStats(
                int(parts[0]),
                int(parts[1]),
                parts[2],
                int(parts[3]),
                int(parts[5]),
                int(parts[7]),
                int(parts[9]),
                int(parts[12]),
            )
        except ValueError:
            continue
    return out


def read_diskstats(root: Root) -> dict[str, DiskStats]:
    return parse_diskstats(root.read_text("proc/diskstats"))


# --- sysfs -----------------------------------------------------------------------------------


def read_attr(root: Root, rel: str) -> str | None:
    """One sysfs attribute, stripped; None when the device does not have it."""
    try:
        return root.read_text(rel).strip()
    except OSError:
        return None


def device_path(root: Root, name: str) -> str | None:
    """The device's directory under the root's sys/devices (symlinks resolved), or None."""
    return root.realpath(f"{CLASS}/{name}")


def name_by_devnum(root: Root, major: int, minor: int) -> str | None:
    """Block device name for a device number, from /sys/dev/block/MAJ:MIN."""
    path = root.realpath(f"sys/dev/block/{major}:{minor}")
    return None if path is None else os.path.basename(path)


def is_partition(root: Root, name: str) -> bool:
    return root.exists(f"{CLASS}/{name}/partition")


def parent_disk(root: Root, name: str) -> str | None:
    """The whole disk a partition belongs to (its parent directory in sys/devices)."""
    path = device_path(root, name)
    if path is None:
        return None
    return os.path.basename(os.path.dirname(path))


def slaves(root: Root, name: str) -> list[str]:
    try:
        return sorted(root.listdir(f"{CLASS}/{name}/slaves"))
    except OSError:
        return []


def rotational(root: Root, disk: str) -> bool | None:
    value = read_attr(root, f"{CLASS}/{disk}/queue/rotational")
    if value not in ("0", "1"):
        return None
    return value == "1"


def loop_backing_file(root: Root, name: str) -> str | None:
    return read_attr(root, f"{CLASS}/{name}/loop/backing_file")


def dm_name(root: Root, name: str) -> str | None:
    return read_attr(root, f"{CLASS}/{name}/dm/name")


def dm_uuid(root: Root, name: str) -> str | None:
    return read_attr(root, f"{CLASS}/{name}/dm/uuid")


def md_level(root: Root, name: str) -> str | None:
    return read_attr(root, f"{CLASS}/{name}/md/level")


def find_dm_by_name(root: Root, dmname: str) -> str | None:
    """dm-N for a /dev/mapper/NAME."""
    try:
        names = root.listdir(CLASS)
    except OSError:
        return None
    for n in sorted(names):
        if n.startswith("dm-") and dm_name(root, n) == dmname:
            return n
    return None


def block_names(root: Root) -> list[str]:
    try:
        return sorted(root.listdir(CLASS))
    except OSError:
        return []


# --- zram (Documentation/admin-guide/blockdev/zram.rst) --------------------------------------
#
#   mm_stat          orig_data_size compr_data_size mem_used_total mem_limit mem_used_max
#                    same_pages pages_compacted huge_pages [huge_pages_since]   (bytes, pages)
#   comp_algorithm   lzo lzo-rle [lz4] zstd      (the one in brackets is in use)


def parse_zram_mm_stat(text: str) -> dict[str, int] | None:
    parts = text.split()
    try:
        orig, compr, used = int(parts[0]), int(parts[1]), int(parts[2])
    except (IndexError, ValueError):
        return None
    return {"orig_data_bytes": orig, "compr_data_bytes": compr, "mem_used_bytes": used}


def parse_comp_algorithm(text: str) -> str | None:
    for word in text.split():
        if word.startswith("[") and word.endswith("]"):
            return word[1:-1]
    return None


def zram_stats(root: Root, name: str) -> dict[str, object] | None:
    mm = read_attr(root, f"{CLASS}/{name}/mm_stat")
    sizes = parse_zram_mm_stat(mm) if mm is not None else None
    if sizes is None:
        return None
    stats: dict[str, object] = dict(sizes)
    algo = read_attr(root, f"{CLASS}/{name}/comp_algorithm")
    stats["algorithm"] = parse_comp_algorithm(algo) if algo is not None else None
    return stats
