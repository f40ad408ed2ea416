"""The field registry: every figure checkswap prints, with its machine key, title and unit.

JSON keys, CSV headers, text column titles and help text all come from here. Machine keys are
snake_case with their unit in the name; titles are for people. ``sample_record`` builds the one
record per interval that every output (text, JSON lines, CSV, replay) renders.
"""

from __future__ import annotations

from collections import namedtuple

from checkswap.kernel.meminfo import swap_used
from checkswap.units import iso_utc

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import NamedTuple

    from checkswap.model.rates import Interval, Tracker
    from checkswap.model.sample import Sample


if TYPE_CHECKING:

    class Field(NamedTuple):
        key: str
        title: str  # short column title for text output
        unit: str
        help: str

else:
    Field = namedtuple("Field", "key title unit help")


SWAP_IN_HELP = "swap-in: pages read back from swap into RAM (pswpin); processes wait for these"
SWAP_OUT_HELP = "swap-out: pages written from RAM to swap (pswpout)"

FIELDS: dict[str, Field] = {
    f.key: f
    for f in (
        Field("time", "time", "", "end of the interval, UTC ISO 8601 (local time in text)"),
        Field("interval_s", "interval", "s", "length of the interval on the monotonic clock"),
        Field("swap_in_pages", "in", "pages", "pages swapped in during the interval"),
        Field("swap_out_pages", "out", "pages", "pages swapped out during the interval"),
        Field("swap_in_per_s", "in/s", "pages/s", SWAP_IN_HELP),
        Field("swap_out_per_s", "out/s", "pages/s", SWAP_OUT_HELP),
        Field("swap_in_bytes_per_s", "in MiB/s", "bytes/s", "swap-in rate in bytes"),
        Field("swap_out_bytes_per_s", "out MiB/s", "bytes/s", "swap-out rate in bytes"),
        Field("page_size_bytes", "page", "bytes", "page size of the kernel read"),
        Field("swap_used_bytes", "used MiB", "bytes", "SwapTotal - SwapFree (as free(1))"),
        Field("swap_total_bytes", "total MiB", "bytes", "SwapTotal"),
        Field(
            "swap_cached_bytes",
            "cached MiB",
            "bytes",
            "SwapCached: pages both in swap and in RAM (part of used, not subtracted)",
        ),
        Field("mem_available_bytes", "avail MiB", "bytes", "MemAvailable"),
        Field(
            "majflt_per_s",
            "majflt/s",
            "faults/s",
            "major page faults per second (pgmajfault): swap-ins and file reads that waited",
        ),
        Field(
            "refault_anon_per_s",
            "refault/s",
            "pages/s",
            "anonymous pages swapped in soon after eviction (workingset_refault_anon)",
        ),
        Field("psi_some_avg10", "some10%", "%", "PSI memory some, kernel's 10 s average"),
        Field("psi_full_avg10", "full10%", "%", "PSI memory full, kernel's 10 s average"),
        Field(
            "psi_some_pct",
            "some%",
            "%",
            "share of the interval in which some task stalled on memory (PSI some total)",
        ),
        Field(
            "psi_full_pct",
            "full%",
            "%",
            "share of the interval in which all busy tasks stalled on memory (PSI full total)",
        ),
        Field(
            "zswap_in_per_s",
            "zsw in/s",
            "pages/s",
            "pages loaded back from the zswap pool (zswpin): no disk I/O",
        ),
        Field(
            "zswap_out_per_s",
            "zsw out/s",
            "pages/s",
            "pages stored into the zswap pool (zswpout): no disk I/O",
        ),
        Field(
            "zswap_writeback_per_s",
            "zsw wb/s",
            "pages/s",
            "pages written back from zswap to the swap device (zswpwb)",
        ),
        Field("zswap_pool_bytes", "zswap MiB", "bytes", "Zswap: compressed size of the pool"),
        Field("zswapped_bytes", "zswapped MiB", "bytes", "Zswapped: uncompressed size stored"),
        Field(
            "swap_in_zero_per_s",
            "zero in/s",
            "pages/s",
            "zero-filled pages swapped in without device I/O (swpin_zero, 6.12+)",
        ),
        Field(
            "swap_out_zero_per_s",
            "zero out/s",
            "pages/s",
            "zero-filled pages swapped out without device I/O (swpout_zero, 6.12+)",
        ),
    )
}

AVG_KEYS = ("swap_in_per_s", "swap_out_per_s", "covered_s")
MAX_KEYS = ("swap_in_per_s", "swap_in_at", "swap_out_per_s", "swap_out_at")
WINDOW_KEYS = ("avg_1m", "avg_5m", "avg_15m")


def _mul(value: float | None, factor: int) -> float | None:
    return None if value is None else value * factor


_iso_cache: dict[float, str | None] = {}


def _iso_peak(wall: float | None) -> str | None:
    # A peak's time changes rarely; formatting it anew every tick is measurable at 1 Hz.
    if wall is None:
        return None
    text = _iso_cache.get(wall)
    if text is None:
        if len(_iso_cache) > 64:
            _iso_cache.clear()
        text = _iso_cache[wall] = iso_utc(wall)
    return text


def max_record(tracker: Tracker) -> dict[str, object]:
    return {
        "swap_in_per_s": tracker.peak_in.rate,
        "swap_in_at": _iso_peak(tracker.peak_in.at),
        "swap_out_per_s": tracker.peak_out.rate,
        "swap_out_at": _iso_peak(tracker.peak_out.at),
    }


def sample_record(iv: Interval, tracker: Tracker, page_size: int) -> dict[str, object]:
    """The JSON-lines ``sample`` object of DESIGN.md for one interval (after tracker.add)."""
    end: Sample = iv.end
    d = iv.deltas
    secs = iv.interval_s
    mem = end.meminfo
    psi = end.psi
    vm = end.vmstat
    has_zswap = "zswpin" in vm
    swap_in = iv.rate("pswpin")
    swap_out = iv.rate("pswpout")
    rec: dict[str, object] = {
        "type": "sample",
        "time": iso_utc(end.wall),
        "interval_s": secs,
        "swap_in_pages": d["pswpin"],
        "swap_out_pages": d["pswpout"],
        "swap_in_per_s": swap_in,
        "swap_out_per_s": swap_out,
        "swap_in_bytes_per_s": _mul(swap_in, page_size),
        "swap_out_bytes_per_s": _mul(swap_out, page_size),
        "page_size_bytes": page_size,
        "swap_used_bytes": swap_used(mem),
        "swap_total_bytes": mem.get("SwapTotal"),
        "swap_cached_bytes": mem.get("SwapCached"),
        "mem_available_bytes": mem.get("MemAvailable"),
        "majflt_per_s": iv.rate("pgmajfault"),
        "refault_anon_per_s": iv.rate("workingset_refault_anon"),
        "psi_some_avg10": psi.some.avg10 if psi is not None and psi.some is not None else None,
        "psi_full_avg10": psi.full.avg10 if psi is not None and psi.full is not None else None,
        "psi_some_pct": iv.psi_some_pct,
        "psi_full_pct": iv.psi_full_pct,
        "zswap_in_per_s": iv.rate("zswpin") if has_zswap else None,
        "zswap_out_per_s": iv.rate("zswpout") if has_zswap else None,
        "zswap_writeback_per_s": iv.rate("zswpwb"),
        "zswap_pool_bytes": mem.get("Zswap"),
        "zswapped_bytes": mem.get("Zswapped"),
        "swap_in_zero_per_s": iv.rate("swpin_zero"),
        "swap_out_zero_per_s": iv.rate("swpout_zero"),
    }
    for key, (rin, rout), covered in tracker.averages():
        rec[key] = {"swap_in_per_s": rin, "swap_out_per_s": rout, "covered_s": covered}
    rec["max"] = max_record(tracker)
    if iv.notes:
        rec["note"] = "; ".join(iv.notes)
    return rec


def summary_record(tracker: Tracker, page_size: int) -> dict[str, object]:
    t = tracker.totals
    return {
        "type": "summary",
        "samples": tracker.samples,
        "duration_s": tracker.duration_s,
        "start": iso_utc(tracker.first_wall),
        "end": iso_utc(tracker.last_wall),
        "swap_in_pages": t.get("pswpin", 0),
        "swap_out_pages": t.get("pswpout", 0),
        "swap_in_bytes": t.get("pswpin", 0) * page_size,
        "swap_out_bytes": t.get("pswpout", 0) * page_size,
        "majflt": t.get("pgmajfault"),
        "swap_in_zero_pages": t.get("swpin_zero"),
        "swap_out_zero_pages": t.get("swpout_zero"),
        "zswap_in_pages": t.get("zswpin"),
        "zswap_out_pages": t.get("zswpout"),
        "intervals_without_rate": tracker.null_intervals,
        "max": max_record(tracker),
        "avg": {
            "swap_in_per_s": tracker.run_average("pswpin"),
            "swap_out_per_s": tracker.run_average("pswpout"),
        },
    }


def flatten(record: dict[str, object], prefix: str = "") -> dict[str, object]:
    """Nested keys joined with dots, as the CSV output wants (``avg_5m.swap_in_per_s``)."""
    out: dict[str, object] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


CSV_COLUMNS: tuple[str, ...] = (
    "time",
    *(k for k in FIELDS if k != "time"),
    *(f"{w}.{k}" for w in WINDOW_KEYS for k in AVG_KEYS),
    *(f"max.{k}" for k in MAX_KEYS),
    "note",
)
