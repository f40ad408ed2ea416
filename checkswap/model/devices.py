"""One swap-device classification: what a /proc/swaps area is (file, partition, zram, loop...).

Every command that names an area's kind takes it from ``area_kind`` here: watch's header, doctor's
devices (and so serve's ``checkswap_swap_device_info`` and the dashboard), ``swapfile list``.
/proc/swaps calls zram a "partition"; sysfs says what the block device really is, and when sysfs
has no entry for it (a bundle without sys/, a container) the name still does: ``/dev/zramN`` and
Android's ``/dev/block/zramN`` are compressed RAM, never a disk.

(The target layout of issue 12 calls this module model/devices.py.)
"""

from __future__ import annotations

import re

from checkswap.kernel.swaps import deleted_path
from checkswap.source.root import Root

# /dev/zram0, /dev/block/zram1 (Android, embedded): the zram driver's own node names.
_ZRAM_NODE = re.compile(r"/dev/(?:block/)?zram[0-9]+")


def is_zram_name(name: str) -> bool:
    """True when a /proc/swaps name is a zram node, whatever sysfs says (or lacks); a node
    deleted since swapon (``/dev/zram0 (deleted)``) still names zram."""
    return _ZRAM_NODE.fullmatch(deleted_path(name) or name) is not None


def is_deleted(name: str) -> bool:
    """The area's file or device node was unlinked after swapon: its name says so, and its
    path no longer leads to it (a new file or node there may be something else)."""
    return deleted_path(name) is not None


def block_kind(root: Root, name: str) -> str:
    """The kind of a block device found in sysfs (``name`` as under sys/class/block)."""
    from checkswap.kernel import block  # only for a block device: watch starts without it

    if name.startswith("zram"):
        return "zram"
    if name.startswith("loop"):
        return "loop"
    if name.startswith("dm-"):
        uuid = block.dm_uuid(root, name) or ""
        return {"LVM": "lvm", "mpath": "multipath", "CRYPT": "dm-crypt"}.get(
            uuid.split("-", 1)[0], "dm"
        )
    if name.startswith("md"):
        return "md"
    if block.is_partition(root, name):
        return "partition"
    if name.startswith("nbd"):
        return "nbd"
    return "disk"


def area_kind(root: Root, swap_type: str, name: str, block_name: str | None) -> str:
    """The kind of one swap area: /proc/swaps' type and name, plus its sysfs block device name
    when one was found (``block_name``; topology.Topology.block_for_node resolves it)."""
    if swap_type == "file":
        return "file"
    if swap_type == "partition":
        if block_name is not None:
            return block_kind(root, block_name)
        # No sysfs entry: the name is all there is; zram must not pass for a disk partition.
        return "zram" if is_zram_name(name) else "partition"
    # LXCFS shows a synthetic "none virtual" line inside containers.
    return swap_type
