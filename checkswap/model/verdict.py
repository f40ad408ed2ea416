"""The "is it hurting?" judgement on one sample record: quiet, swapping, thrashing or no-swap.

``verdict(record)`` reads only the keys of a ``watch`` sample record (fields.sample_record), so
every command that has such a record (doctor, dash, serve through doctor) judges it the same way
with the same thresholds, and none needs the doctor's setup checks to do so.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Any


# Documented in docs/doctor.md; every verdict's evidence repeats the ones it used.
SWAPPING_PAGES_PER_S = 1.0  # in or out: below this the swap is quiet (a stray page is not use)
THRASH_SWAP_IN_PAGES_PER_S = 100.0  # swap-in that processes are waiting on...
THRASH_PSI_FULL_PCT = 5.0  # ...while all busy tasks stalled on memory this share of the time
THRASH_REFAULT_SHARE = 0.5  # without PSI: refaulted share of swap-ins (working set churning)
THRASH_NO_PSI_SWAP_IN_PAGES_PER_S = 1000.0  # without PSI: a higher swap-in bar

# zswap writing its pool back to the device this fast: the pages go to disk after all, compressed
# for nothing first (doctor's zswap-writeback-heavy). 256 pages/s is 1 MiB/s of 4 KiB pages.
ZSWAP_WRITEBACK_HEAVY_PAGES_PER_S = 256.0

THRESHOLDS = {
    "swapping_pages_per_s": SWAPPING_PAGES_PER_S,
    "thrashing_swap_in_per_s": THRASH_SWAP_IN_PAGES_PER_S,
    "thrashing_psi_full_pct": THRASH_PSI_FULL_PCT,
    "thrashing_refault_share_without_psi": THRASH_REFAULT_SHARE,
    "thrashing_swap_in_per_s_without_psi": THRASH_NO_PSI_SWAP_IN_PAGES_PER_S,
}
VERDICT_FILES = ["/proc/vmstat", "/proc/meminfo", "/proc/pressure/memory"]


# Each tier's rate, in the verdict's evidence: the devices (zram included), zswap, the zero map.
TIER_KEYS = (
    "swap_in_per_s",
    "zswap_in_per_s",
    "swap_in_zero_per_s",
    "swap_in_all_per_s",
    "swap_out_per_s",
    "zswap_out_per_s",
    "zswap_writeback_per_s",
    "swap_out_zero_per_s",
    "swap_out_all_per_s",
)


def _tier(record: dict[str, Any], direction: str) -> tuple[float | None, str]:
    """The all-tier rate of one direction, else the devices' (and which key it came from)."""
    key = f"swap_{direction}_all_per_s"
    value = _num(record, key)
    if value is None:
        key = f"swap_{direction}_per_s"
        value = _num(record, key)
    return value, key


def _num(record: dict[str, Any], key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, (int, float)) else None


def verdict(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """quiet | swapping | thrashing | no-swap (| unknown: no rates yet) for one sample record.

    Swap-in and swap-out are every tier's (swap_in_all_per_s, else the devices' swap_in_per_s).
    thrashing: swap-in >= 100 pages/s while PSI memory full >= 5 % of the time (the share over
    the record's interval, else the kernel's avg10). Without PSI (old kernel, psi=0): swap-in
    >= 1000 pages/s of which >= 50 % are refaults (workingset_refault_anon). swapping: either
    direction >= 1 page/s. quiet: less, however full the swap is. no-swap: SwapTotal is 0.
    """
    # Every tier counts toward "swapping": a page faulted back from zswap or the zero map was
    # swapped out all the same. Harm is PSI's to say, as a zswap fault costs microseconds and a
    # disk read milliseconds; the tiers are evidence. The devices' rates stand in where the
    # all-tier one is unknown (a record from before the tiers, a kernel without zswpwb).
    swap_in, in_source = _tier(record, "in")
    swap_out, out_source = _tier(record, "out")
    psi = _num(record, "psi_full_pct")
    psi_source = "psi_full_pct"
    if psi is None:
        psi, psi_source = _num(record, "psi_full_avg10"), "psi_full_avg10"
    refault = _num(record, "refault_anon_per_s")
    total = record.get("swap_total_bytes")
    evidence: dict[str, Any] = {
        "swap_in_per_s": swap_in,
        "swap_out_per_s": swap_out,
        "swap_in_source": in_source,
        "swap_out_source": out_source,
        "tiers": {key: _num(record, key) for key in TIER_KEYS},
        "psi_full_pct": psi,
        "psi_source": psi_source if psi is not None else None,
        "refault_anon_per_s": refault,
        "swap_used_bytes": record.get("swap_used_bytes"),
        "swap_total_bytes": total,
        "interval_s": record.get("interval_s"),
        "thresholds": dict(THRESHOLDS),
        "files": list(VERDICT_FILES),
    }
    moving = (
        swap_in is not None
        and swap_out is not None
        and (swap_in >= SWAPPING_PAGES_PER_S or swap_out >= SWAPPING_PAGES_PER_S)
    )
    if total == 0 and not moving:
        evidence["rule"] = "SwapTotal is 0: no swap area is active"
        return "no-swap", evidence
    if swap_in is None or swap_out is None:
        evidence["rule"] = "no rates: one sample only, or a counter reset"
        return "unknown", evidence
    if swap_in >= THRASH_SWAP_IN_PAGES_PER_S and psi is not None and psi >= THRASH_PSI_FULL_PCT:
        evidence["rule"] = (
            f"swap-in {swap_in:.0f} >= {THRASH_SWAP_IN_PAGES_PER_S:g} pages/s and PSI memory "
            f"full {psi:.1f} >= {THRASH_PSI_FULL_PCT:g} %"
        )
        return "thrashing", evidence
    if (
        psi is None
        and refault is not None
        and swap_in >= THRASH_NO_PSI_SWAP_IN_PAGES_PER_S
        and refault >= THRASH_REFAULT_SHARE * swap_in
    ):
        evidence["rule"] = (
            f"no PSI; swap-in {swap_in:.0f} >= {THRASH_NO_PSI_SWAP_IN_PAGES_PER_S:g} pages/s "
            f"and refaults {refault:.0f}/s >= {THRASH_REFAULT_SHARE:.0%} of it"
        )
        return "thrashing", evidence
    if moving:
        evidence["rule"] = (
            f"swap-in {swap_in:.1f} or swap-out {swap_out:.1f} >= {SWAPPING_PAGES_PER_S:g} "
            "pages/s, below the thrashing thresholds"
        )
        return "swapping", evidence
    evidence["rule"] = (
        f"swap-in {swap_in:.2f} and swap-out {swap_out:.2f} < {SWAPPING_PAGES_PER_S:g} pages/s"
    )
    return "quiet", evidence
