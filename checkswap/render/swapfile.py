"""``swapfile``'s text: the ``list`` table, and what a drain (``off``, ``remove``) says.

The objects (kind, size, used, the filesystem and the disks underneath) are model/topology.py's,
the ones ``doctor --format json`` and ``swapfile list --format json`` print; this only lays
them out.
"""

from __future__ import annotations

from checkswap.doctor.rules import SUGGESTED_SWAPFILE_SIZE
from checkswap.render.progress import clock_text
from checkswap.units import format_bytes

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Any

    from checkswap.lab.drain import DrainPlan, Reading


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


# --- a drain (swapoff with progress: lab/drain.py) ---------------------------------------


def drain_about(plan: DrainPlan) -> str:
    """Said before the swapoff starts: what it will read and the RAM that takes."""
    text = (
        f"{plan.name} ({plan.kind}, {format_bytes(plan.size)}): {format_bytes(plan.used)} "
        "to read back into RAM"
    )
    if plan.zram_used is not None:
        text += (
            f", needing {format_bytes(plan.needs)} more RAM (zram already uses "
            f"{format_bytes(plan.zram_used)})"
        )
    shown = format_bytes(plan.available) if plan.available is not None else "unknown"
    return f"{text}; MemAvailable {shown}"


def drain_detail(r: Reading) -> str:
    """What the bar adds: the memory left, and the swap-in rate the drain causes."""
    avail = format_bytes(r.available) if r.available is not None else "?"
    swapin = f"{format_bytes(r.swapin_rate)}/s" if r.swapin_rate is not None else "?"
    return f"MemAvailable {avail}  swap-in {swapin}"


def drain_done(name: str, r: Reading) -> str:
    rate = f", {format_bytes(r.moved / r.elapsed)}/s" if r.elapsed > 0 and r.moved else ""
    return (
        f"swapped off {name} in {clock_text(r.elapsed)}: {format_bytes(r.moved)} back in RAM{rate}"
    )


def drain_interrupted(name: str, used: int, r: Reading, on: bool) -> str:
    moved = f"{format_bytes(r.moved)} of {format_bytes(used)} came back into RAM in " + clock_text(
        r.elapsed
    )
    if on:
        return f"interrupted: {name} is still on ({format_bytes(r.left)} left on it); {moved}"
    return f"interrupted as swapoff ended: {name} is off; {moved}"


def drain_stopping(name: str) -> str:
    return (
        f"stopping the swapoff of {name}: the kernel looks for signals only between processes, "
        "so it first finishes bringing back the one it is on"
    )
