"""Memory cgroup files, v1 and v2: the parsers, one per kind of file.

v2 (``memory.swap.current`` is bytes, hierarchical; ``memory.swap.max`` is bytes or ``max``)::

    memory.swap.current   251658240
    memory.swap.max       max
    memory.swap.events    high 0 / max 12 / fail 0        (one "name value" per line)
    memory.stat           ... pgmajfault 3 / pswpin 4087 / pswpout 61234 / zswpin 0 / zswpout 0
    memory.pressure       some avg10=0.00 avg60=0.00 avg300=0.00 total=123 / full ...

memory.stat's pswpin/pswpout (pages, this cgroup and below) appeared in 6.13; zswpin/zswpout
need CONFIG_ZSWAP. Absent keys are None, never 0.

v1 (captured on this machine's 6.18, memory controller mounted at /sys/fs/cgroup/memory)::

    memory.stat                 swap 0 / pgmajfault 0 / total_swap 0 ...  (bytes; own, total_*)
    memory.memsw.usage_in_bytes memory + swap charged, bytes
    memory.memsw.limit_in_bytes 9223372036854771712   (PAGE_COUNTER_MAX pages: no limit)
    memory.memsw.failcnt        times the memory+swap limit was hit

The memsw files exist only with swap accounting (CONFIG_MEMCG_SWAP, swapaccount=1). v1 has no
per-cgroup pswpin/pswpout at all.

Where the hierarchy is mounted, and the walk of it, are model/cgroups.py's: they combine
mountinfo, cgroup.controllers and every cgroup's files.
"""

from __future__ import annotations

# v1 reports "no limit" as PAGE_COUNTER_MAX pages in bytes (9223372036854771712 with 4 KiB
# pages); anything this large is no limit.
_V1_UNLIMITED = 1 << 62


def parse_flat_keyed(text: str) -> dict[str, int]:
    """``name value`` lines (memory.stat, memory.swap.events); malformed lines are skipped."""
    out: dict[str, int] = {}
    for line in text.split("\n"):
        parts = line.split()
        if len(parts) != 2:
            continue
        try:
            out[parts[0]] = int(parts[1])
        except ValueError:
            continue
    return out


def parse_v2_limit(text: str) -> int | None:
    """memory.swap.max and friends: bytes, or None for ``max`` (no limit) and garbage."""
    value = text.strip()
    if value == "max":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def parse_v1_value(text: str) -> int | None:
    """A v1 single-number file; the PAGE_COUNTER_MAX "no limit" value becomes None."""
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return None if value >= _V1_UNLIMITED else value
