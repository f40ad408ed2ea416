"""Cells shared by the text renderers: one way to show a size, a rate, a cgroup name, a device,
a local time and a duration.

``top`` and ``dash`` show the same figures of the same records; with one cell per kind of
figure, a process's swap or its change per second reads alike in both. Values come from
records that may have been read back from a recording (untrusted JSON): anything that is not a
number (bools included) shows as "-", never an error.

No rich here: ``top`` uses these without loading the dashboard's dependencies.
"""

from __future__ import annotations

import time

from checkswap.units import format_bytes

Record = dict[str, object]


def number(v: object) -> float | None:
    """The value as a float, or None when it is not a number (a bool is not)."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def size(v: object) -> str:
    """A byte count with its unit: '1.5 MiB'; '-' for no figure."""
    f = number(v)
    return format_bytes(f) if f is not None else "-"


def signed_bytes(v: object, per: str = "") -> str:
    """A change in bytes: '+1.5 MiB' (swapped out), '-512 B' (swapped back in), '0', '-'.
    ``per`` ("/s") follows a nonzero figure."""
    f = number(v)
    if f is None:
        return "-"
    if f == 0:
        return "0"
    return ("+" if f > 0 else "-") + format_bytes(abs(f)) + per


def fixed(v: object, decimals: int = 0) -> str:
    """A number with ``decimals`` digits after the point, '-' for no figure."""
    f = number(v)
    return "-" if f is None else f"{f:.{decimals}f}"


def rate(v: object) -> str:
    """Pages/s, compact: 31,204 / 12.3 / 0 / '-' for no rate."""
    f = number(v)
    if f is None:
        return "-"
    if f == 0:
        return "0"
    if abs(f) < 10:
        return f"{f:.1f}"
    return f"{f:,.0f}"


def pct(v: object) -> str:
    f = number(v)
    return "-" if f is None else f"{f:.1f}%"


# C0 controls, DEL and C1 controls, each shown as \xNN: a process names itself (prctl
# PR_SET_NAME, /proc/self/comm) and a cgroup is any directory name, so either may hold an
# escape sequence that would retitle, recolour or rewrite the terminal of whoever reads it.
# A byte that is not UTF-8 (the kernel's files are read with surrogateescape) is shown as
# \xNN of that byte too: written as it is, it would not even encode.
_UNPRINTABLE = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_UNPRINTABLE.update({0xDC00 + b: f"\\x{b:02x}" for b in range(0x80, 0x100)})


def printable(name: object) -> str:
    """A name (comm, cgroup, unit) safe to print on a terminal: every control character as
    \\xNN, the rest as it is. For text only: JSON carries the name as the kernel gave it."""
    return str(name).translate(_UNPRINTABLE)


def cgroup_name(rec: Record) -> str:
    """Where a process runs: its unit (systemd unit, container, pod), else its raw cgroup."""
    return printable(rec.get("unit") or rec.get("cgroup") or "-")


def device_kind(dev: Record) -> str:
    """A swap area's medium: 'file on vda', 'partition on sda, rotational', 'zram (in RAM)'."""
    kind = str(dev.get("kind") or "?")
    if kind == "zram":
        return "zram (in RAM)"
    disks = dev.get("disks")
    where = ",".join(str(d) for d in disks) if isinstance(disks, list) else ""
    desc = f"{kind} on {where}" if where else kind
    flags = [f for f in ("virtual", "rotational", "network", "loop") if dev.get(f) is True]
    if "virtual" in flags and "rotational" in flags:
        flags.remove("rotational")  # a hypervisor's default flag, not the medium (DESIGN.md)
    return ", ".join([desc, *flags])


def wall_of(iso: object) -> float | None:
    """Epoch seconds of an ISO 8601 time as records carry it; None for anything else."""
    if not isinstance(iso, str):
        return None
    from datetime import datetime  # ~1 ms, only for records read back with ISO times

    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def local_time(wall: float, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """An epoch time in this machine's local time."""
    return time.strftime(fmt, time.localtime(wall))


def local_iso(iso: object) -> str:
    """An ISO 8601 time of a record in local time; '-' for no time."""
    wall = wall_of(iso)
    return "-" if wall is None else local_time(wall)


def utc_offset(wall: float) -> str:
    """The local zone at that time, as 'UTC+01:00' (the header of every text output says it)."""
    z = time.strftime("%z", time.localtime(wall))
    return f"UTC{z[:3]}:{z[3:]}" if len(z) == 5 else "local time"


def duration(seconds: object) -> str:
    """'1d 2h 3m 4s', '5m 0s', '12s'; '-' for no figure."""
    f = number(seconds)
    if f is None:
        return "-"
    s = round(f)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    parts = [f"{d}d"] if d else []
    if h or d:
        parts.append(f"{h}h")
    if m or h or d:
        parts.append(f"{m}m")
    parts.append(f"{s}s")
    return " ".join(parts)
