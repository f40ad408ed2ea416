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

Where /sys/class/block/NAME is missing or its link dangles (a tree captured without
sys/devices, a container's partial sysfs, kernels built with CONFIG_SYSFS_DEPRECATED, whose
/sys/block/DISK is a real directory holding its partitions) the same attributes are read from
/sys/block/NAME, or /sys/block/DISK/NAME for a partition: ``device_dir`` picks the first that
is there, and every attribute below is read through it.
"""

from __future__ import annotations

import os
from collections import namedtuple

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import NamedTuple

    from checkswap.source.root import Root

SECTOR_BYTES = 512
CLASS = "sys/class/block"


if TYPE_CHECKING:

    class DiskStats(NamedTuple):
        major: int
        minor: int
        name: str
        reads: int
        read_sectors: int
        writes: int
        write_sectors: int
        io_ms: int  # time the device had I/O in flight: utilisation = delta / elapsed

else:
    DiskStats = namedtuple(
        "DiskStats", "major minor name reads read_sectors writes write_sectors io_ms"
    )


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


BLOCK = "sys/block"


def device_dir(root: Root, name: str) -> str | None:
    """The device's sysfs directory relative to the root: sys/class/block/NAME where it leads
    somewhere, else sys/block/NAME (a whole disk), else sys/block/DISK/NAME (a partition);
    None when sysfs has nothing for it."""
    for rel in (f"{CLASS}/{name}", f"{BLOCK}/{name}"):
        if root.exists(rel):
            return rel
    if "/" in name or name in ("", ".", ".."):
        return None
    try:
        disks = sorted(root.listdir(BLOCK))
    except OSError:
        return None
    for disk in disks:
        if root.exists(f"{BLOCK}/{disk}/{name}/dev"):
            return f"{BLOCK}/{disk}/{name}"
    return None


def exists(root: Root, name: str) -> bool:
    """Whether sysfs has the block device ``name`` at all (by any of device_dir's paths)."""
    return device_dir(root, name) is not None


def _attr(root: Root, name: str, attr: str) -> str | None:
    base = device_dir(root, name)
    return None if base is None else read_attr(root, f"{base}/{attr}")


def device_path(root: Root, name: str) -> str | None:
    """The device's directory under the root's sys/devices (symlinks resolved), or None.

    A disk found only as a real directory under sys/block (no link into sys/devices) has its
    bus in its ``device`` link, when that leads somewhere; else None: nothing is known of it.
    """
    base = device_dir(root, name)
    if base is None:
        return None
    path = root.realpath(base)
    devices = root.realpath("sys/devices")
    if path is not None and devices is not None and path.startswith(devices + os.sep):
        return path
    device = root.realpath(f"{base}/device")
    return None if device is None else os.path.join(device, "block", name)


def name_by_devnum(root: Root, major: int, minor: int) -> str | None:
    """Block device name for a device number, from /sys/dev/block/MAJ:MIN; where that link
    is missing or dangles, the device whose ``dev`` attribute under sys/block says MAJ:MIN."""
    path = root.realpath(f"sys/dev/block/{major}:{minor}")
    if path is not None:
        return os.path.basename(path)
    want = f"{major}:{minor}"
    try:
        disks = sorted(root.listdir(BLOCK))
    except OSError:
        return None
    for disk in disks:
        if read_attr(root, f"{BLOCK}/{disk}/dev") == want:
            return disk
        try:
            children = sorted(root.listdir(f"{BLOCK}/{disk}"))
        except OSError:
            continue
        for child in children:
            if child.startswith(disk) and read_attr(root, f"{BLOCK}/{disk}/{child}/dev") == want:
                return child
    return None


def is_partition(root: Root, name: str) -> bool:
    base = device_dir(root, name)
    return base is not None and root.exists(f"{base}/partition")


def parent_disk(root: Root, name: str) -> str | None:
    """The whole disk a partition belongs to (its parent directory in sys/devices, or in
    sys/block when only that is there)."""
    base = device_dir(root, name)
    if base is None:
        return None
    if base.startswith(f"{BLOCK}/") and base.count("/") == 3:
        return base.split("/")[2]  # sys/block/DISK/PART
    path = root.realpath(base)
    if path is None:
        return None
    return os.path.basename(os.path.dirname(path))


def slaves(root: Root, name: str) -> list[str]:
    base = device_dir(root, name)
    if base is None:
        return []
    try:
        return sorted(root.listdir(f"{base}/slaves"))
    except OSError:
        return []


def rotational(root: Root, disk: str) -> bool | None:
    value = _attr(root, disk, "queue/rotational")
    if value not in ("0", "1"):
        return None
    return value == "1"


def loop_backing_file(root: Root, name: str) -> str | None:
    return _attr(root, name, "loop/backing_file")


def dm_name(root: Root, name: str) -> str | None:
    return _attr(root, name, "dm/name")


def dm_uuid(root: Root, name: str) -> str | None:
    return _attr(root, name, "dm/uuid")


def md_level(root: Root, name: str) -> str | None:
    return _attr(root, name, "md/level")


def find_dm_by_name(root: Root, dmname: str) -> str | None:
    """dm-N for a /dev/mapper/NAME."""
    names: set[str] = set()
    for where in (CLASS, BLOCK):
        try:
            names.update(root.listdir(where))
        except OSError:
            continue
    for n in sorted(names):
        if n.startswith("dm-") and dm_name(root, n) == dmname:
            return n
    return None


def block_names(root: Root) -> list[str]:
    try:
        return sorted(root.listdir(CLASS))
    except OSError:
        return []
