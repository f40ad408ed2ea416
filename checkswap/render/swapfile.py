"""``swapfile list``'s table: one row per swap area, from doctor's device objects.

The objects (kind, size, used, the filesystem and the disks underneath) are model/topology.py's,
the ones ``doctor --format json`` and ``swapfile list --format json`` print; this only lays
them out.
"""

from __future__ import annotations

from typing import Any

from checkswap.doctor.rules import SUGGESTED_SWAPFILE_SIZE
from checkswap.units import format_bytes


def list_table(devices: list[dict[str, Any]]) -> list[str]:
    if not devices:
        return [
            "No swap areas (/proc/swaps is empty). Add one: "
            f"checkswap swapfile add {SUGGESTED_SWAPFILE_SIZE}"
        ]
    head = ("NAME", "KIND", "SIZE", "USED", "PRIO", "ON", "DISK")
    rows = [head]
    for d in devices:
        on = "-"
        if d.get("filesystem"):
            on = f"{d['filesystem']} {d.get('mount_point') or '?'}"
        rows.append(
            (
                d["name"],
                d["kind"],
                format_bytes(d["size_bytes"]),
                format_bytes(d["used_bytes"]),
                str(d["priority"]),
                on,
                disk_text(d),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    right = {2, 3, 4}
    return [
        "  ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(r)
        ).rstrip()
        for r in rows
    ]


def disk_text(d: dict[str, Any]) -> str:
    """``vda (virtio, rotational flag)``: the disks under a swap area and what they are."""
    parts = []
    for f in d.get("disk_facts", []):
        tags = []
        if f.get("zram"):
            tags.append("compressed RAM, no disk I/O")
        if f.get("network_kind"):
            tags.append(f"network: {f['network_kind']}")
        if f.get("virtual_kind"):
            tags.append(f["virtual_kind"])
        if f.get("rotational") and not f.get("zram"):
            # On a virtual disk the flag is the hypervisor's default, not the medium.
            tags.append("rotational flag" if f.get("virtual") else "rotational")
        parts.append(f"{f['name']} ({', '.join(tags)})" if tags else f["name"])
    text = ", ".join(parts) or "-"
    if d.get("network") and not d.get("disk_facts"):
        text = f"network filesystem ({d.get('network_kind')})"
    if d.get("loop"):
        text += " via loop"
    return text
