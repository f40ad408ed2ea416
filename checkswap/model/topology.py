"""What each swap area really sits on: file → filesystem → block device → ... → physical disks.

A partition leads to its disk; a swapfile to its filesystem (mountinfo, by the file's st_dev; btrfs
and NFS have anonymous device numbers, so their mount source names the device); a dm, LVM,
multipath or md device to the devices in its ``slaves/``; a loop device to its backing file and on
down. For every disk at the bottom: rotational or not, zram (compressed RAM, no disk I/O),
network-backed (nbd, rbd, iSCSI, NVMe over fabrics; NFS and CIFS filesystems), virtual (virtio,
xen, Hyper-V: their rotational flag is the hypervisor's default, not the medium).

The stat() facts of a swapfile come through the root: on the live host from stat(2); in a
snapshot bundle or fixture tree from the manifest's ``stat`` map, so topology works offline.
"""

from __future__ import annotations

import os
import stat as stat_mod

from checkswap.kernel import block
from checkswap.kernel.mountinfo import Mount, mount_for_path, read_mountinfo
from checkswap.kernel.swaps import SwapArea, read_swaps
from checkswap.kernel.zram import read_zram
from checkswap.model.devices import area_kind, is_deleted
from checkswap.source.root import Root

TYPE_CHECKING = False  # typing costs several ms, and watch's header loads this module

if TYPE_CHECKING:
    from typing import Any

NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "fuse.glusterfs", "9p", "afs"}
)
FILES = ("/proc/swaps", "/proc/self/mountinfo", "/sys/class/block", "/sys/dev/block")


def stat_facts(root: Root, path: str) -> dict[str, int] | None:
    """mode, uid, gid, size and device numbers of a file, from the manifest or stat(2).

    ``dev_*`` is the filesystem holding the file; ``rdev_*`` the device a device node names.
    None when unknown (a DIR root without a manifest: its paths are not this host's).
    """
    manifest = root.manifest or {}
    recorded = manifest.get("stat")
    if isinstance(recorded, dict):
        facts = recorded.get(path)
        if isinstance(facts, dict):
            return {k: v for k, v in facts.items() if isinstance(v, int)}
        return None
    if not root.is_host:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return facts_from_stat(st)


def facts_from_stat(st: os.stat_result) -> dict[str, int]:
    return {
        "mode": st.st_mode,
        "uid": st.st_uid,
        "gid": st.st_gid,
        "size": st.st_size,
        "blocks": st.st_blocks,
        "dev_major": os.major(st.st_dev),
        "dev_minor": os.minor(st.st_dev),
        "rdev_major": os.major(st.st_rdev),
        "rdev_minor": os.minor(st.st_rdev),
    }


class _Walk:
    """Accumulates the layers and bottom disks found while resolving one swap area."""

    def __init__(self) -> None:
        self.layers: list[str] = []
        self.disks: list[str] = []
        self.loop = False
        self.network_fs: str | None = None
        self.filesystem: str | None = None
        self.mount_point: str | None = None
        self.notes: list[str] = []


class Topology:
    def __init__(self, root: Root) -> None:
        self.root = root
        self.notes: list[str] = []
        try:
            self.mounts: list[Mount] = read_mountinfo(root)
        except OSError:
            self.mounts = []
            self.notes.append(f"{root.join('proc/self/mountinfo')} unreadable: filesystems unknown")

    # --- naming ----------------------------------------------------------------------------

    def block_for_source(self, source: str) -> str | None:
        """Block device name for a /dev path (/dev/vda2, /dev/mapper/vg-swap, /dev/dm-0)."""
        if source.startswith("/dev/mapper/"):
            return block.find_dm_by_name(self.root, source[len("/dev/mapper/") :])
        if source.startswith("/dev/"):
            base = os.path.basename(source)
            if block.exists(self.root, base):
                return base
        return None

    def block_for_node(self, path: str) -> str | None:
        facts = stat_facts(self.root, path)
        if facts is not None and stat_mod.S_ISBLK(facts.get("mode", 0)):
            name = block.name_by_devnum(self.root, facts["rdev_major"], facts["rdev_minor"])
            if name is not None:
                return name
        return self.block_for_source(path)

    def mount_of(self, path: str, facts: dict[str, int] | None) -> Mount | None:
        if facts is not None and "dev_major" in facts:
            dev = (facts["dev_major"], facts["dev_minor"])
            same = [m for m in self.mounts if (m.major, m.minor) == dev]
            if same:
                best = mount_for_path(same, path)
                return best if best is not None else same[-1]
        return mount_for_path(self.mounts, path)

    def kind(self, area: SwapArea) -> str:
        """devices.area_kind for one area, its block device resolved as device() does, without
        walking the stack (watch's header needs the kind, not the topology)."""
        block_name = self.block_for_node(area.name) if area.type == "partition" else None
        return area_kind(self.root, area.type, area.name, block_name)

    # --- walking down ----------------------------------------------------------------------

    def walk_file(self, path: str, w: _Walk, depth: int) -> None:
        facts = stat_facts(self.root, path)
        m = self.mount_of(path, facts)
        if m is None:
            w.notes.append(f"{path}: filesystem not found in mountinfo")
            return
        if w.filesystem is None:
            w.filesystem, w.mount_point = m.fstype, m.mount_point
        w.layers.append(f"{path} on {m.fstype} {m.mount_point} ({m.source})")
        if m.fstype in NETWORK_FILESYSTEMS:
            w.network_fs = m.fstype
            return
        name = None
        if m.major != 0:
            name = block.name_by_devnum(self.root, m.major, m.minor)
        if name is None:
            name = self.block_for_source(m.source)
        if name is None:
            w.notes.append(f"{path}: no block device for {m.source} ({m.fstype})")
            return
        self.walk_block(name, w, depth + 1)

    def walk_block(self, name: str, w: _Walk, depth: int) -> None:
        if depth > 16:
            w.notes.append(f"{name}: device stack deeper than 16 layers, stopped")
            return
        root = self.root
        if block.is_partition(root, name):
            disk = block.parent_disk(root, name)
            w.layers.append(f"{name} (partition of {disk})")
            if disk is not None and disk != name:
                self.walk_block(disk, w, depth + 1)
            return
        if name.startswith("loop"):
            w.loop = True
            backing = block.loop_backing_file(root, name)
            w.layers.append(f"{name} (loop over {backing or 'unknown file'})")
            if backing:
                # The kernel appends " (deleted)" when the backing file was unlinked; its
                # filesystem is still the one its path names.
                if backing.endswith(" (deleted)"):
                    backing = backing[: -len(" (deleted)")]
                self.walk_file(backing, w, depth)
            return
        below = block.slaves(root, name)
        if below:
            what = describe_stacked(root, name)
            w.layers.append(f"{name} ({what} over {', '.join(below)})")
            if len(below) == 1:
                self.walk_block(below[0], w, depth + 1)
                return
            # Several devices under one (multipath legs, RAID members, LVM's PVs) sit side by
            # side: one layer naming each branch, never a chain that reads as sdb below sda.
            branches = []
            for s in below:
                start = len(w.layers)
                self.walk_block(s, w, depth + 1)
                branch = w.layers[start:]
                del w.layers[start:]
                if branch:
                    joined = " -> ".join(branch)
                    branches.append(joined if len(branch) == 1 else f"[{joined}]")
            if branches:
                sep = " | " if what.startswith("multipath") else " + "
                legs = " (paths to one device)" if sep == " | " else ""
                w.layers.append(sep.join(branches) + legs)
            return
        if name not in w.disks:
            w.disks.append(name)
            w.layers.append(name)

    # --- the result ------------------------------------------------------------------------

    def device(self, area: SwapArea) -> dict[str, Any]:
        root = self.root
        w = _Walk()
        entry: dict[str, Any] = {
            "name": area.name,
            "kind": "file",
            "type": area.type,
            "size_bytes": area.size_bytes,
            "used_bytes": area.used_bytes,
            "priority": area.priority,
        }
        if area.type == "file":
            # A deleted swapfile's inode stays on the filesystem its old path names (as a loop
            # device's deleted backing file does); its mode and owner can no longer be read.
            facts = None if is_deleted(area.name) else stat_facts(root, area.name)
            self.walk_file(area.name, w, 0)
            entry["mode"] = f"{stat_mod.S_IMODE(facts['mode']):04o}" if facts else None
            entry["uid"] = facts.get("uid") if facts else None
            if is_deleted(area.name):
                w.notes.append(f"{area.name}: file deleted: mode not checked")
            elif facts is None:
                w.notes.append(f"{area.name}: stat() facts unknown (no manifest): mode not checked")
        elif area.type == "partition":
            # A deleted node's path may now name another device (udev reuses sdb2 for the
            # next disk): what the area sits on is unknown, never guessed from the old name.
            name = None if is_deleted(area.name) else self.block_for_node(area.name)
            entry["kind"] = area_kind(root, area.type, area.name, name)
            if name is None and is_deleted(area.name):
                w.notes.append(f"{area.name}: device node deleted: the disk under it is unknown")
            elif name is None:
                w.notes.append(f"{area.name}: block device not found under sys/class/block")
            else:
                self.walk_block(name, w, 0)
                if entry["kind"] == "zram":
                    # Compressed RAM: what it holds and what that costs in real memory.
                    entry["zram_stats"] = zram_stats(root, name)
            entry["block_device"] = name
        else:
            entry["kind"] = area_kind(root, area.type, area.name, None)
        facts_list = [disk_facts(root, d) for d in w.disks]
        real = [f for f in facts_list if not f["zram"]]
        rot = [f["rotational"] for f in real]
        network_kinds = sorted({f["network_kind"] for f in real if f["network_kind"]})
        if w.network_fs:
            network_kinds.append(w.network_fs)
        entry.update(
            {
                "disks": list(w.disks),
                "rotational": (True if any(rot) else (False if rot and None not in rot else None))
                if real
                # zram is RAM, never a spinning disk, with or without its sysfs entry.
                else (False if facts_list or entry["kind"] == "zram" else None),
                "virtual": _all_virtual([f["virtual"] for f in real]),
                "network": bool(network_kinds),
                "network_kind": network_kinds[0] if network_kinds else None,
                "loop": w.loop,
                # zram found by name alone (no sysfs entry) is still compressed RAM.
                "zram": entry["kind"] == "zram" or (bool(facts_list) and not real),
                # Unlinked after swapon (/proc/swaps' "(deleted)"): doctor's swap-area-deleted.
                "deleted": is_deleted(area.name),
                "filesystem": w.filesystem,
                "mount_point": w.mount_point,
                "layers": w.layers,
                "disk_facts": facts_list,
            }
        )
        if w.notes:
            entry["notes"] = w.notes
        return entry


def _all_virtual(flags: list[bool | None]) -> bool | None:
    """Whether every disk under an area is virtual: False once one is known not to be, None
    while any is unknown (or there are no disks), True only when all are."""
    if not flags or False in flags:
        return False if False in flags else None
    return None if None in flags else True


def describe_stacked(root: Root, name: str) -> str:
    if name.startswith("dm-"):
        uuid = block.dm_uuid(root, name) or ""
        kind = {"LVM": "LVM", "mpath": "multipath", "CRYPT": "dm-crypt"}.get(
            uuid.split("-", 1)[0], "device-mapper"
        )
        dmname = block.dm_name(root, name)
        return f"{kind} {dmname}" if dmname else kind
    level = block.md_level(root, name)
    if level is not None:
        return f"md {level}"
    return "stacked device"


def disk_facts(root: Root, name: str) -> dict[str, Any]:
    """What a bottom-of-stack disk is: rotational flag, zram, network, virtual."""
    found = block.device_path(root, name)
    path = found or ""
    parts = path.split(os.sep)
    network_kind = None
    if name.startswith("nbd"):
        network_kind = "nbd"
    elif name.startswith("rbd"):
        network_kind = "rbd"
    elif any(p.startswith("session") for p in parts):
        network_kind = "iscsi"
    elif "nvme-fabrics" in parts:
        network_kind = "nvme-of"
    virtual_kind = None
    if any(p.startswith("virtio") for p in parts):
        virtual_kind = "virtio"
    elif name.startswith("xvd") or any(p.startswith("vbd-") or p == "xen" for p in parts):
        virtual_kind = "xen"
    elif "vmbus" in path or any(p.startswith("VMBUS") for p in parts):
        virtual_kind = "hyperv"
    return {
        "name": name,
        "rotational": block.rotational(root, name),
        "zram": name.startswith("zram"),
        # Which bus a disk hangs on is in its sys/devices path: without one, unknown, not "no".
        "virtual": virtual_kind is not None if found is not None else None,
        "virtual_kind": virtual_kind,
        "network": network_kind is not None,
        "network_kind": network_kind,
    }


def swap_devices(root: Root) -> list[dict[str, Any]]:
    """One entry per swap area in /proc/swaps: DESIGN.md's ``doctor --format json`` devices."""
    topo = Topology(root)
    devices = [topo.device(a) for a in read_swaps(root)]
    for d in devices:
        if topo.notes:
            d.setdefault("notes", []).extend(topo.notes)
    return devices


def zram_stats(root: Root, name: str) -> dict[str, object] | None:
    """A zram area's sizes for doctor's ``devices[].zram_stats``, from the one zram reader
    (kernel/zram.py): what it stores, compressed, the RAM that costs, the algorithm; None
    without a readable mm_stat."""
    z = read_zram(root, name)
    if z is None or z.mm is None:
        return None
    return {
        "orig_data_bytes": z.mm.orig_data_bytes,
        "compr_data_bytes": z.mm.compr_data_bytes,
        "mem_used_bytes": z.mm.mem_used_bytes,
        "algorithm": z.algorithm,
    }
