"""The compressed tiers' state (zswap, zram, mTHP) and the traffic of each swap area.

``read_state(root)`` gathers what changes slowly: zswap's parameters, pool and (as root) its
debugfs counters, every zram device that is set up, the mTHP swap counters per folio size.
``StateCache`` re-reads it at most every ``every_s`` seconds, so a live view never pays for it
on each tick. ``area_blocks`` names the block device under each swap area, and ``area_traffic``
turns two /proc/diskstats readings into each area's own read/write rates: exact for an area that
is a whole block device (a partition, an LV, zram, a loop device), since the kernel opens it for
swap alone; a swap file gets no figure, because its filesystem's device mixes swap with every
other file's I/O.
"""

from __future__ import annotations

import time

from checkswap.kernel.block import SECTOR_BYTES, DiskStats
from checkswap.kernel.thp import read_mthp_stats
from checkswap.kernel.zram import Zram, read_zrams
from checkswap.kernel.zswap import Zswap, read_zswap, read_zswap_debug
from checkswap.model.rates import counter_rates

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    from checkswap.kernel.swaps import SwapArea
    from checkswap.source.root import Root

FILE_NOTE = (
    "a swap file: its filesystem's device carries other I/O too, so no per-area figure is given"
)
STATE_EVERY_S = 10.0  # the live views' cadence for read_state: mm_stat and mTHP move slowly
TIERS_RECORD_EVERY_S = 60.0  # record's: one line a minute beside the raw samples


def _share(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole * 100


def zswap_state(
    z: Zswap | None, meminfo: dict[str, int], debug: dict[str, int] | None, page_size: int
) -> dict[str, Any] | None:
    """zswap's parameters and pool; None without zswap.

    The limits are the kernel's own, in whole pages as mm/zswap.c counts them: the limit is
    zswap_max_pages, totalram_pages (MemTotal) * max_pool_percent / 100, and the accept
    threshold zswap_accept_thr_pages, that limit * accept_threshold_percent / 100, both rounded
    down. meminfo ``Zswap`` is zswap_total_pages, the pool's own pages. zswap_store refuses new
    pages once the pool reaches the limit (pool_limit_hit counts each refusal) and takes them
    again only when it is back at or below the threshold. Bytes of MemTotal times the percentage
    would overstate the limit by up to a page whenever the product does not divide by 100.
    """
    if z is None:
        return None
    pool, stored, total = meminfo.get("Zswap"), meminfo.get("Zswapped"), meminfo.get("MemTotal")
    limit = accept = None
    if total is not None and z.max_pool_percent is not None and page_size > 0:
        limit_pages = total // page_size * z.max_pool_percent // 100
        limit = limit_pages * page_size
        if z.accept_threshold_percent is not None:
            accept = limit_pages * z.accept_threshold_percent // 100 * page_size
    return {
        "enabled": z.enabled,
        "compressor": z.compressor,
        "pool_bytes": pool,
        "stored_bytes": stored,
        "ratio": stored / pool if stored is not None and pool else None,
        "max_pool_percent": z.max_pool_percent,
        "pool_limit_bytes": limit,
        "pool_full_pct": _share(pool, limit),
        "accept_threshold_percent": z.accept_threshold_percent,
        "pool_accept_bytes": accept,
        "shrinker_enabled": z.shrinker_enabled,
        # null unless root with debugfs mounted: never mounted by checkswap.
        "debug": debug,
    }


def zram_state(z: Zram, swap_names: set[str]) -> dict[str, Any]:
    """One zram device: sizes from mm_stat, its limit, and how full it is both ways."""
    mm = z.mm
    limit = mm.mem_limit_bytes if mm is not None and mm.mem_limit_bytes > 0 else None
    orig = mm.orig_data_bytes if mm is not None else None
    used = mm.mem_used_bytes if mm is not None else None
    return {
        "device": z.name,
        "swap": f"/dev/{z.name}" in swap_names,
        "algorithm": z.algorithm,
        "disksize_bytes": z.disksize_bytes,
        "original_bytes": orig,
        "compressed_bytes": mm.compr_data_bytes if mm is not None else None,
        "memory_used_bytes": used,
        "memory_limit_bytes": limit,  # null: no mem_limit, it may take all of RAM
        "memory_used_max_bytes": mm.mem_used_max_bytes if mm is not None else None,
        "same_pages": mm.same_pages if mm is not None else None,
        "huge_pages": mm.huge_pages if mm is not None else None,
        "ratio": orig / used if orig is not None and used else None,
        # Full either way: what it stores against its size, or its RAM against its limit.
        "disk_used_pct": _share(orig, z.disksize_bytes),
        "limit_used_pct": _share(used, limit),
        "backing_bytes": z.bd.count_bytes if z.bd is not None else None,
        "backing_read_bytes": z.bd.read_bytes if z.bd is not None else None,
        "backing_written_bytes": z.bd.write_bytes if z.bd is not None else None,
    }


def mthp_summary(stats: dict[int, dict[str, int]]) -> list[dict[str, Any]]:
    """One row per folio size with any swap traffic since boot, and its fallback share."""
    out = []
    for size, c in stats.items():
        if not any(c.values()):
            continue
        out_, fb = c.get("swpout"), c.get("swpout_fallback")
        tried = (out_ or 0) + (fb or 0)
        out.append(
            {
                "size_bytes": size,
                "swpout": out_,
                "swpout_fallback": fb,
                "swpin": c.get("swpin"),
                "zswpout": c.get("zswpout"),
                # Folios that had to be split before swap-out, of all that went out.
                "fallback_pct": _share(fb, tried) if fb is not None else None,
            }
        )
    return out


def read_state(root: Root, meminfo: dict[str, int] | None = None) -> dict[str, Any]:
    """The tiers' slow-changing state: ``zswap``, ``zram`` (list), ``mthp`` (list)."""
    from checkswap.kernel.meminfo import read_meminfo
    from checkswap.kernel.swaps import read_swaps

    if meminfo is None:
        try:
            meminfo = read_meminfo(root)
        except OSError:
            meminfo = {}
    try:
        swap_names = {a.name for a in read_swaps(root)}
    except OSError:
        swap_names = set()
    z = read_zswap(root)
    mthp = read_mthp_stats(root)
    return {
        "zswap": zswap_state(
            z, meminfo, read_zswap_debug(root) if z is not None else None, root.page_size
        ),
        "zram": [zram_state(d, swap_names) for d in read_zrams(root)],
        "mthp": mthp_summary(mthp),
        "mthp_counters": mthp,  # every size, zeros too: the exporter's counters
    }


class StateCache:
    """``read_state`` at most every ``every_s`` seconds of ``monotonic``."""

    def __init__(
        self,
        root: Root,
        every_s: float = STATE_EVERY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = root
        self.every_s = every_s
        self.monotonic = monotonic
        self._at: float | None = None
        self._state: dict[str, Any] | None = None

    def get(self) -> dict[str, Any]:
        now = self.monotonic()
        if self._state is None or self._at is None or now - self._at >= self.every_s:
            self._state = read_state(self.root)
            self._at = now
        return self._state


# --- traffic per swap area -------------------------------------------------------------------


if TYPE_CHECKING:
    # /proc/swaps name and type, its own block device
    AreaBlock = tuple[str, str, Optional[str]]


def area_blocks(root: Root, areas: list[SwapArea]) -> list[AreaBlock]:
    """Each area with its own block device name (None for files and unresolved devices), as
    topology.py resolves it for doctor's ``devices[].block_device``."""
    if not any(a.type == "partition" for a in areas):
        return [(a.name, a.type, None) for a in areas]
    from checkswap.model.topology import Topology  # ~20 ms of imports: only for block areas

    topo = Topology(root)
    return [
        (a.name, a.type, topo.block_for_node(a.name) if a.type == "partition" else None)
        for a in areas
    ]


def area_counters(blocks: list[AreaBlock], stats: dict[str, DiskStats]) -> list[dict[str, Any]]:
    """Each area's diskstats counters now (bytes and I/Os), or a note saying why there are none.
    The exporter's per-area counters; ``area_traffic`` makes rates of two of these."""
    out = []
    for name, type_, block in blocks:
        row: dict[str, Any] = {"device": name, "type": type_, "block_device": block}
        s = stats.get(block) if block is not None else None
        if s is not None:
            row.update(
                exact=True,
                reads=s.reads,
                writes=s.writes,
                read_bytes=s.read_sectors * SECTOR_BYTES,
                written_bytes=s.write_sectors * SECTOR_BYTES,
            )
        else:
            row["exact"] = False
            row["note"] = (
                FILE_NOTE
                if type_ == "file"
                else f"{name}: no /proc/diskstats line for its block device"
            )
        out.append(row)
    return out


_RATED = ("reads", "writes", "read_bytes", "written_bytes")


def area_traffic(
    before: list[dict[str, Any]], after: list[dict[str, Any]], seconds: float
) -> list[dict[str, Any]]:
    """Per-area rates between two ``area_counters`` readings ``seconds`` apart."""
    old = {r["device"]: r for r in before}
    out = []
    for r in after:
        row: dict[str, Any] = {k: r[k] for k in ("device", "type", "block_device", "exact")}
        o = old.get(r["device"])
        if r["exact"] and o is not None and o["exact"]:
            rates = counter_rates({k: o[k] for k in _RATED}, {k: r[k] for k in _RATED}, seconds)
            row.update(
                reads_per_s=rates["reads"],
                writes_per_s=rates["writes"],
                read_bytes_per_s=rates["read_bytes"],
                write_bytes_per_s=rates["written_bytes"],
            )
        else:
            row["exact"] = False
            row["note"] = r.get("note") or f"{r['device']}: not in the first reading"
        out.append(row)
    return out


class TierWatch:
    """For a live view: the tiers' state at most every ``every_s`` seconds, and each area's own
    I/O rates since the previous call (one /proc/swaps and one /proc/diskstats read a call; the
    block devices are looked up again only when the set of areas changes)."""

    def __init__(
        self,
        root: Root,
        every_s: float = STATE_EVERY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = root
        self.monotonic = monotonic
        self.cache = StateCache(root, every_s, monotonic)
        self._names: tuple[str, ...] | None = None
        self._blocks: list[AreaBlock] = []
        self._last: tuple[float, list[dict[str, Any]]] | None = None

    def counters(self, areas: list[SwapArea]) -> list[dict[str, Any]]:
        """Each area's diskstats counters now (area_counters); OSError without diskstats."""
        from checkswap.kernel.block import read_diskstats

        names = tuple(a.name for a in areas)
        if names != self._names:
            self._blocks, self._names, self._last = area_blocks(self.root, areas), names, None
        return area_counters(self._blocks, read_diskstats(self.root))

    def update(self) -> dict[str, Any]:
        from checkswap.kernel.swaps import read_swaps

        state = dict(self.cache.get())
        now = self.monotonic()
        try:
            counters = self.counters(read_swaps(self.root))
        except OSError:
            state["areas"] = []
            return state
        last, self._last = self._last, (now, counters)
        state["areas"] = area_traffic(last[1], counters, now - last[0]) if last else []
        return state
