"""The text form of ``report``: what happened over a recording, for a person to read."""

from __future__ import annotations

import time

from checkswap.render.cells import duration, local_iso, printable, utc_offset, wall_of
from checkswap.units import format_bytes

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import IO


Record = dict[str, object]


def rate(v: object) -> str:
    if not isinstance(v, (int, float)):
        return "-"
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def _get(rec: Record, outer: str, inner: str) -> object:
    holder = rec.get(outer)
    return holder.get(inner) if isinstance(holder, dict) else None


def capture_summary(capture: object, limit: int = 3) -> str:
    """The few processes and cgroups a trigger caught, most active first."""
    if not isinstance(capture, dict):
        return "-"
    if "error" in capture:
        return f"capture failed: {capture['error']}"
    parts = []
    procs = capture.get("processes")
    if isinstance(procs, list):
        for p in procs[:limit]:
            if isinstance(p, dict):
                sw = p.get("swap_bytes")
                parts.append(
                    f"{printable(p.get('comm'))} ({p.get('pid')}) "
                    f"{format_bytes(sw if isinstance(sw, (int, float)) else None)} in swap"
                )
    cgroups = capture.get("cgroups")
    if isinstance(cgroups, list):
        for c in cgroups[:1]:
            if isinstance(c, dict):
                sw = c.get("swap_bytes")
                parts.append(
                    f"cgroup {printable(c.get('path'))} "
                    f"{format_bytes(sw if isinstance(sw, (int, float)) else None)} in swap"
                )
    return "; ".join(parts) or "nothing in swap"


def spike_waited(spike: Record) -> str:
    """Who waited for swap-in during a spike, in doctor's words; "" when nobody is named.
    The spike's ``waiters`` were checked when the report was built (record/report.py)."""
    waited = spike.get("waiters")
    if not isinstance(waited, list) or not waited:
        return ""
    from checkswap.doctor.rules import who_waited

    return printable(who_waited({"waiters": waited}))  # it names each waiter's comm


def _pages(v: object) -> str:
    return f"{v:,}" if isinstance(v, int) else "-"


def _tier_lines(rec: Record) -> list[str]:
    """Every tier's pages, when anything but the devices moved (zswap, zero-filled pages)."""
    others = ("zswap_in_pages", "zswap_out_pages", "swap_in_zero_pages", "swap_out_zero_pages")
    if not any(rec.get(k) for k in others):
        return []
    return [
        f"all tiers   {_pages(rec.get('swap_in_all_pages'))} pages in, "
        f"{_pages(rec.get('swap_out_all_pages'))} out; pages/s avg "
        f"{rate(_get(rec, 'avg', 'swap_in_all_per_s'))} in, "
        f"{rate(_get(rec, 'avg', 'swap_out_all_per_s'))} out",
        f"  zswap     {_pages(rec.get('zswap_in_pages'))} in, "
        f"{_pages(rec.get('zswap_out_pages'))} out, "
        f"{_pages(rec.get('zswap_writeback_pages'))} written back to the device",
        f"  zero      {_pages(rec.get('swap_in_zero_pages'))} in, "
        f"{_pages(rec.get('swap_out_zero_pages'))} out (zero-filled: no device I/O)",
    ]


def render_text(rec: Record, out: IO[str]) -> None:
    page = rec.get("page_size_bytes")
    first = wall_of(rec.get("start"))
    files = rec.get("files")
    nfiles = len(files) if isinstance(files, list) else 0
    lines = [
        f"# checkswap report: {nfiles} file{'s' if nfiles != 1 else ''}, host "
        f"{rec.get('hostname') or '?'}, Linux {rec.get('kernel_release') or '?'}, page size "
        f"{page or '?'} bytes, times in {utc_offset(first or time.time())}",
        "# swap-in = pages read back from swap into RAM (pswpin); "
        "swap-out = pages written to swap (pswpout)",
    ]
    if not rec.get("samples"):
        lines.append("no samples: the recording is empty")
    else:
        lines += [
            f"period      {local_iso(rec['start'])} to {local_iso(rec['end'])} "
            f"({duration(rec.get('duration_s'))})",
            f"samples     {rec['samples']:,} ({rec.get('gaps')} gaps, "
            f"{rec.get('intervals_without_rate')} intervals without rate, "
            f"{rec.get('bad_lines')} bad lines skipped)",
        ]
        for key, name in (("in", "swap-in "), ("out", "swap-out")):
            pages = rec.get(f"swap_{key}_pages")
            size = rec.get(f"swap_{key}_bytes")
            lines.append(
                f"{name}    {pages if pages is None else f'{pages:,}'} pages = "
                f"{format_bytes(size if isinstance(size, int) else None)}; pages/s: "
                f"avg {rate(_get(rec, 'avg', f'swap_{key}_per_s'))}, "
                f"p95 {rate(_get(rec, 'p95', f'swap_{key}_per_s'))}, "
                f"max {rate(_get(rec, 'max', f'swap_{key}_per_s'))} "
                f"at {local_iso(_get(rec, 'max', f'swap_{key}_at'))}"
            )
        lines += _tier_lines(rec)
        some, full = rec.get("max_psi_some_pct"), rec.get("max_psi_full_pct")
        if some is not None or full is not None:
            lines.append(
                f"PSI memory  max {rate(some)} % some, {rate(full)} % full "
                "(share of an interval stalled on memory)"
            )
        used = rec.get("max_swap_used_bytes")
        lines.append(f"swap used   max {format_bytes(used if isinstance(used, int) else None)}")
        spikes = rec.get("spikes")
        assert isinstance(spikes, list)
        # "spikes" lists the largest ones only; "spike_count" counts them all.
        counted = rec.get("spike_count")
        n_spikes = counted if isinstance(counted, int) and counted >= len(spikes) else len(spikes)
        largest = f", the {len(spikes)} largest listed" if n_spikes > len(spikes) else ""
        lines.append(
            f"spikes      {n_spikes} above {rate(rec.get('spike_threshold_per_s'))} pages/s "
            f"(swap-in + swap-out){largest}"
        )
        if spikes:
            lines.append(
                f"  {'start':<19}  {'end':<19}  {'duration':>9}  {'peak in/s':>10}  "
                f"{'peak out/s':>10}  captured"
            )
        for s in spikes:
            assert isinstance(s, dict)
            lines.append(
                f"  {local_iso(s['start']):<19}  {local_iso(s['end']):<19}  "
                f"{duration(s['duration_s']):>9}  {rate(s['peak_swap_in_per_s']):>10}  "
                f"{rate(s['peak_swap_out_per_s']):>10}  {capture_summary(s.get('captured'))}"
            )
            waited = spike_waited(s)
            if waited:
                lines.append(f"  {'':<19}  waited: {waited}")
        gaps = rec.get("gap_periods")
        if isinstance(gaps, list):
            for g in gaps[:20]:
                assert isinstance(g, dict)
                lines.append(
                    f"gap         {local_iso(g['start'])} to {local_iso(g['end'])} "
                    f"({duration(g['duration_s'])} without samples)"
                )
            # gap_periods lists the longest gaps only; "gaps" counts them all.
            count = rec.get("gaps")
            more = (count if isinstance(count, int) else len(gaps)) - min(len(gaps), 20)
            if more > 0:
                listed = len(gaps) - min(len(gaps), 20)
                lines.append(
                    f"gap         ... and {more} more ({listed} of them in --format json)"
                    if listed < more
                    else f"gap         ... and {more} more (see --format json)"
                )
    events = rec.get("events")
    if isinstance(events, list):
        for e in events:
            if isinstance(e, dict) and e.get("event") == "resumed":
                lines.append(
                    f"recorder    could not write from {local_iso(_iso(e.get('since')))} to "
                    f"{local_iso(e.get('time'))} ({e.get('error')}): {e.get('lost_samples')} "
                    "samples lost"
                )
    for note in rec.get("notes") or []:  # type: ignore[attr-defined]
        lines.append(f"note        {note}")
    out.write("\n".join(lines) + "\n")


def _iso(wall: object) -> str | None:
    from checkswap.units import iso_utc

    return iso_utc(float(wall)) if isinstance(wall, (int, float)) else None
