"""The dashboard's screen: fixed-height sections drawn with rich, cached by what they show.

``DashState`` holds what the screen shows (interval records from ``fields.sample_record``, the
``top`` dict, swap areas, the verdict); ``sections(state, width, height)`` cuts the screen into
full-width sections, each a list of exactly ``width``-cell rich ``Text`` lines. ``Screen`` turns
them into terminal lines and re-renders only the sections whose content changed, then writes only
the rows that differ from the frame on the terminal (the point of the overhead target).

Tables are laid out here in fixed-width columns on ``Text`` rather than with ``rich.table``:
measured here, a 10-row ``Table`` costs 6.7 ms to render at 80 columns, the same rows as ``Text``
0.7 ms, and the dashboard redraws every second.

This module imports rich at the top: only ``commands/dash.py`` imports it, inside ``run``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Callable, NamedTuple

from rich.color import ColorSystem
from rich.segment import Segment
from rich.text import Text

from checkswap.fields import (
    DASH_CGROUP_WIDTHS,
    DASH_PROCESS_WIDTHS,
    cgroup_field,
    process_field,
)
from checkswap.model.procs import cgroup_activity_key, process_activity_key, process_wait_key
from checkswap.render.cells import (
    cgroup_name,
    device_kind,
    fixed,
    pct,
    printable,
    rate,
    signed_bytes,
    size,
)
from checkswap.render.cells import number as _float

if TYPE_CHECKING:
    from rich.console import Console

Record = dict[str, object]
Style = str
Cell = tuple[str, int, str, Style]  # text, width, align ("<", ">" or "/" for paths), style

COLOR_SYSTEMS = {
    "standard": ColorSystem.STANDARD,
    "256": ColorSystem.EIGHT_BIT,
    "truecolor": ColorSystem.TRUECOLOR,
    "windows": ColorSystem.WINDOWS,
}
MIN_WIDTH, MIN_HEIGHT = 60, 16
HISTORY = 1024  # intervals kept for the charts: wider than any terminal a chart fills
BLOCKS = " ▁▂▃▄▅▆▇█"
SORTS = ("swap", "activity")

VERDICT_STYLE = {
    "quiet": "bold green",
    "swapping": "bold yellow",
    "thrashing": "bold white on red",
    "no-swap": "dim",
    "unknown": "dim",
}
OUT_STYLE, IN_STYLE, PSI_STYLE = "magenta", "red", "cyan"

HELP_LINES = (
    ("q", "quit (also Ctrl-C); the terminal is restored"),
    ("s", "sort the process and cgroup lists: by swap held, or by swap activity"),
    ("p", "pause: freeze the screen (live, sampling goes on; replay stops)"),
    ("?", "this help; any key closes it"),
    ("", ""),
    ("swap-out", "pages written from RAM to swap (pswpout)"),
    ("swap-in", "pages read back from swap into RAM (pswpin): processes wait for these"),
    ("now", "rate over the last interval; 1m/5m/15m: time-weighted averages"),
    ("peak", "highest interval rate since the dashboard started, and when"),
    ("all out/in", "every tier: the swap devices, the zswap pool and zero-filled pages"),
    ("PSI", "time stalled on memory: some = one task or more, full = all tasks"),
    ("Δswap/s", "change of a process's swap (VmSwap) per second: + out, - in"),
    ("charts", "one column per interval, newest at the right; '·': no rate"),
)


class DashState:
    """Everything on the screen, fed one interval at a time."""

    def __init__(self, host: str | None, kernel: str | None, interval: float, source: str) -> None:
        self.host = host
        self.kernel = kernel
        self.interval = interval
        self.source = source  # "live" or "replay FILE at 10x"
        self.record: Record | None = None
        self.swap_out: deque[float | None] = deque(maxlen=HISTORY)
        self.swap_in: deque[float | None] = deque(maxlen=HISTORY)
        self.psi_some: deque[float | None] = deque(maxlen=HISTORY)
        self.top: Record | None = None  # the ``top --format json`` processes record
        self.top_note: str | None = None  # why there is no process list (replay, no access)
        self.devices: list[Record] | None = None  # ``doctor --format json`` devices
        self.verdict: str | None = None
        self.tiers: Record | None = None  # model/tiers.py TierWatch.update(): zram, zswap, mTHP
        # Rows for every tier's rates too, under watch's condition for its all-tier columns
        # (render/watch.py show_all_tiers): the command decides, once, at the first interval.
        self.all_tiers = False
        self.sort = "swap"
        self.paused = False
        self.help = False
        self.status: str | None = None  # "end of recording", notes
        self.local_time: Callable[[float], time.struct_time] = time.localtime

    def add(self, rec: Record) -> None:
        self.record = rec
        self.swap_out.append(_float(rec.get("swap_out_per_s")))
        self.swap_in.append(_float(rec.get("swap_in_per_s")))
        self.psi_some.append(_float(rec.get("psi_some_pct")))

    def update(
        self,
        rec: Record,
        top: Record | None,
        devices: list[Record] | None,
        verdict: str | None,
    ) -> None:
        """One interval; ``top`` None keeps the last process list (a replay's captures)."""
        self.add(rec)
        if top is not None:
            self.top = top
        self.devices = devices
        self.verdict = verdict

    def next_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]


# --- formatting ---------------------------------------------------------------------------


def short(v: float) -> str:
    """Chart scale labels: 950, 40.1k, 2.3M."""
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.1f}{suffix}"
    return f"{v:.0f}" if v >= 10 else f"{v:.1f}"


def _clock(state: DashState, iso: object, fmt: str = "%H:%M:%S") -> str:
    if not isinstance(iso, str):
        return "-"
    from datetime import datetime

    return time.strftime(fmt, state.local_time(datetime.fromisoformat(iso).timestamp()))


def _offset(state: DashState, iso: object) -> str:
    z = _clock(state, iso, "%z")
    return f"{z[:3]}:{z[3:]}" if len(z) == 5 else ""


def line(width: int, *parts: tuple[str, Style], style: Style = "") -> Text:
    """One screen row of exactly ``width`` cells: cropped with an ellipsis, or padded."""
    t = Text(no_wrap=True, overflow="ellipsis", style=style)
    for text, st in parts:
        t.append(text, st)
    t.truncate(width, overflow="ellipsis", pad=True)
    return t


def row(width: int, cells: list[Cell], style: Style = "") -> Text:
    """Fixed-width columns separated by a space. Align ``<`` or ``>``; ``/`` is a path, left
    aligned and cut at its start, where paths are alike (``…test-hog-3912``)."""
    parts: list[tuple[str, Style]] = []
    for i, (text, w, align, st) in enumerate(cells):
        if len(text) > w:
            text = "…" + text[len(text) - w + 1 :] if align == "/" else text[: max(w - 1, 0)] + "…"
        parts.append((text.rjust(w) if align == ">" else text.ljust(w), st))
        if i < len(cells) - 1:
            parts.append((" ", ""))
    return line(width, *parts, style=style)


# --- sections -----------------------------------------------------------------------------


class Section(NamedTuple):
    name: str
    key: object  # everything the section shows: equal keys give equal lines
    build: Callable[[], list[Text]]


def header(state: DashState, width: int) -> Section:
    rec = state.record or {}
    t = rec.get("time")
    when = f"{_clock(state, t, '%Y-%m-%d %H:%M:%S')} {_offset(state, t)}" if t else "waiting"
    flags = []
    if state.paused:
        flags.append("PAUSED")
    verdict = state.verdict
    key = (state.host, when, state.source, verdict, tuple(flags), state.interval)

    def build() -> list[Text]:
        kernel = f"Linux {state.kernel}" if state.kernel and width >= 120 else None
        parts = ["checkswap", state.host, kernel, when, state.source]
        if state.source == "live":
            parts[-1] = f"live, every {state.interval:g} s"
        left = " " + " · ".join(p for p in parts if p)
        right: list[tuple[str, Style]] = []
        for f in flags:
            right.append((f" {f} ", "bold black on yellow"))
            right.append((" ", ""))
        if verdict is not None:
            right.append((f" {verdict.upper()} ", VERDICT_STYLE.get(verdict, "bold")))
        rlen = sum(len(s) for s, _ in right)
        head = Text(left, no_wrap=True, overflow="ellipsis")
        head.truncate(max(width - rlen - 1, 1), overflow="ellipsis", pad=True)
        out = Text(style="reverse", no_wrap=True)
        out.append_text(head)
        out.append(" ")
        for s, st in right:
            out.append(s, st)
        out.truncate(width, pad=True)
        return [out]

    return Section("header", key, build)


FIG_COLS = (("now", 9), ("MiB/s", 8), ("1m", 8), ("5m", 8), ("15m", 8), ("peak", 8), ("at", 8))


def figures(state: DashState, width: int, all_tiers: bool = False) -> Section:
    rec = state.record or {}
    rows = []
    kinds = [("swap-out", "swap_out", OUT_STYLE), ("swap-in", "swap_in", IN_STYLE)]
    if all_tiers:
        kinds += [("all out", "swap_out_all", OUT_STYLE), ("all in", "swap_in_all", IN_STYLE)]
    for label, k, st in kinds:
        vals = [rate(rec.get(f"{k}_per_s"))]
        if k.endswith("_all"):
            vals.append("")  # no byte rate: a zero-filled page moves no bytes at all
        else:
            b = _float(rec.get(f"{k}_bytes_per_s"))
            vals.append("-" if b is None else f"{b / 1048576:.1f}")
        for w in ("avg_1m", "avg_5m", "avg_15m"):
            holder = rec.get(w)
            vals.append(rate(holder.get(f"{k}_per_s")) if isinstance(holder, dict) else "-")
        mx = rec.get("max")
        mx = mx if isinstance(mx, dict) else {}
        vals.append(rate(mx.get(f"{k}_per_s")))
        vals.append(_clock(state, mx.get(f"{k}_at")))
        rows.append((label, st, vals))
    psi = (
        pct(rec.get("psi_some_pct")),
        pct(rec.get("psi_full_pct")),
        rate(rec.get("majflt_per_s")),
        rate(rec.get("refault_anon_per_s")),
    )
    zero = (rate(rec.get("swap_out_zero_per_s")), rate(rec.get("swap_in_zero_per_s")))
    key = (tuple((r[0], tuple(r[2])) for r in rows), psi, zero)

    zero_parts: list[tuple[str, Style]] = []
    if zero != ("0", "0") and zero != ("-", "-"):
        zero_parts.append((f" · zero out {zero[0]}/s in {zero[1]}/s", "dim"))

    def build() -> list[Text]:
        cells: list[Cell] = [("pages/s", 9, "<", "bold")]
        cells += [(name, w, ">", "bold") for name, w in FIG_COLS]
        out = [row(width, cells)]
        for label, st, vals in rows:
            cells = [(label, 9, "<", f"bold {st}")]
            cells += [
                (v, w, ">", st if i == 0 else "")
                for i, (v, (_, w)) in enumerate(zip(vals, FIG_COLS))
            ]
            out.append(row(width, cells))
        out.append(
            line(
                width,
                ("PSI stall ", "bold"),
                (f"some {psi[0]}", PSI_STYLE),
                (f" full {psi[1]}", f"bold {PSI_STYLE}"),
                (f" · majflt {psi[2]}/s · refault {psi[3]}/s", ""),
                *zero_parts,
            )
        )
        return out

    return Section("figures", key, build)


_COLUMNS: dict[tuple[int, int], str] = {}


def _column(eighths: int, height: int) -> str:
    """One chart column, bottom first: ``eighths`` eighth-blocks stacked ``height`` high."""
    col = _COLUMNS.get((eighths, height))
    if col is None:
        col = "".join(BLOCKS[min(max(eighths - r * 8, 0), 8)] for r in range(height))
        _COLUMNS[(eighths, height)] = col
    return col


def chart_rows(
    values: list[float | None], height: int, width: int, floor: float
) -> tuple[list[str], float]:
    """Column chart in eighth blocks, newest value at the right; returns (rows top first, top)."""
    vis = values[-width:]
    top = max([v for v in vis if v is not None] + [floor])
    scale = height * 8 / top
    missing = "·" + " " * (height - 1)
    cols = [" " * height] * (width - len(vis))
    for v in vis:
        if v is None:
            cols.append(missing)
        elif v > 0:
            cols.append(_column(max(round(v * scale), 1), height))  # a spike never vanishes
        else:
            cols.append(_column(0, height))
    rows = ["".join(r) for r in zip(*cols)] if cols else [""] * height
    return rows[::-1], top


GUTTER = 11


def chart(
    name: str,
    labels: tuple[str, str],
    values: deque[float | None],
    height: int,
    width: int,
    style: Style,
    floor: float,
    unit: str,
) -> Section:
    plot_w = width - GUTTER
    vis = list(values)[-plot_w:]
    key = (tuple(vis), height, plot_w)

    def build() -> list[Text]:
        rows, top = chart_rows(vis, height, plot_w, floor)
        gut = [labels[0], labels[1]] + [""] * max(height - 2, 0)
        gut[-1] = f"top {short(top)}{unit}" if height > 1 else labels[0]  # unit: "%" or ""
        out = []
        for g, r in zip(gut, rows):
            out.append(line(width, (g.ljust(GUTTER - 1)[: GUTTER - 1] + "▕", "dim"), (r, style)))
        return out

    return Section(name, key, build)


def zswap_in_use(rec: Record) -> bool:
    """zswap holds pages or moved some: worth a row (an empty, idle pool is not)."""
    keys = ("zswap_pool_bytes", "zswap_out_per_s", "zswap_in_per_s", "zswap_writeback_per_s")
    return any((_float(rec.get(k)) or 0) > 0 for k in keys)


def tier_lines(state: DashState) -> list[tuple[tuple[str, Style], ...]]:
    """The tiers panel: each zram device, each area's own I/O, the zswap pool against its limit
    and the mTHP sizes that fell back; nothing for a tier that is not in use."""
    t = state.tiers or {}
    out: list[tuple[tuple[str, Style], ...]] = []
    for z in _dicts(t.get("zram")):
        limit = z.get("memory_limit_bytes")
        ratio = _float(z.get("ratio"))
        out.append(
            (
                (f"  {z.get('device')} ", "bold"),
                (
                    f"stores {size(z.get('original_bytes'))} of {size(z.get('disksize_bytes'))} "
                    f"in {size(z.get('memory_used_bytes'))} of RAM"
                    + (f" ({ratio:.1f}:1)" if ratio is not None else "")
                    + (f", limit {size(limit)}" if limit is not None else ", no mem_limit"),
                    "",
                ),
                (f"  {z.get('algorithm') or ''}", "dim"),
            )
        )
    io = [a for a in _dicts(t.get("areas")) if a.get("exact")]
    if io:
        parts = [
            f"{a.get('device')} read {size(a.get('read_bytes_per_s'))}/s "
            f"written {size(a.get('write_bytes_per_s'))}/s"
            for a in io
        ]
        out.append((("  area I/O ", "bold"), ("; ".join(parts), "")))
    pool = t.get("zswap")
    if isinstance(pool, dict) and (pool.get("enabled") or _float(pool.get("pool_bytes"))):
        full = _float(pool.get("pool_full_pct"))
        out.append(
            (
                ("  zswap pool ", "bold"),
                (
                    f"{size(pool.get('pool_bytes'))} of its "
                    f"{size(pool.get('pool_limit_bytes'))} limit"
                    + (f" ({full:.0f} %)" if full is not None else "")
                    + ("" if pool.get("enabled") else ", disabled"),
                    "bold red" if full is not None and full >= 90 else "",
                ),
            )
        )
    fell = [
        m
        for m in _dicts(t.get("mthp"))
        if (_float(m.get("fallback_pct")) or 0) > 0 and _float(m.get("size_bytes"))
    ]
    if fell:
        text = ", ".join(
            f"{int(_float(m['size_bytes']) or 0) // 1024} kB {_float(m['fallback_pct']):.0f} %"
            for m in fell
        )
        out.append((("  mTHP split before swap-out ", "bold"), (text, "")))
    return out


def areas(state: DashState, width: int, height: int) -> Section:
    rec = state.record or {}
    devs = state.devices
    dev_rows = tuple(
        (
            str(d.get("name")),
            device_kind(d),
            size(d.get("size_bytes")),
            size(d.get("used_bytes")),
            _float(d.get("used_bytes")),
            _float(d.get("size_bytes")),
            str(d.get("priority")),
        )
        for d in (devs or [])
    )
    zswap = (
        size(rec.get("zswap_pool_bytes")) if rec.get("zswap_pool_bytes") is not None else None,
        size(rec.get("zswapped_bytes")),
        rate(rec.get("zswap_out_per_s")),
        rate(rec.get("zswap_in_per_s")),
        rate(rec.get("zswap_writeback_per_s")),
    )
    zswap_active = zswap_in_use(rec)
    tiers = tuple(tier_lines(state))
    totals = (
        size(rec.get("swap_used_bytes")),
        size(rec.get("swap_total_bytes")),
        size(rec.get("swap_cached_bytes")),
    )
    key = (dev_rows, zswap, zswap_active, tiers, totals, height, devs is None)

    def build() -> list[Text]:
        if rec.get("swap_total_bytes") == 0:
            summary = "none configured: nothing can be swapped out"
        else:
            summary = f"used {totals[0]} of {totals[1]}; {totals[2]} of it also cached in RAM"
        title = line(width, ("swap areas ", "bold"), (summary, ""))
        out = [title]
        body: list[Text] = []
        if devs is None:
            body.append(line(width, ("  /proc/swaps could not be read: areas unknown", "dim")))
        bar_w = 8
        wide = width >= 100  # room for the priority
        name_w = min(max(12, width - (70 if wide else 60)), 48)
        for name, kind, sz, used, u, s, prio in dev_rows:
            frac = (u / s) if u is not None and s else 0.0
            filled = round(frac * bar_w)
            cells: list[Cell] = [
                (name, name_w, "/", ""),
                (kind, 26 if wide else 20, "<", "dim"),
                (f"{used}/{sz}", 21, ">", ""),
                ("█" * filled + "░" * (bar_w - filled), bar_w, "<", OUT_STYLE),
            ]
            if wide:
                cells.append((f"prio {prio}", 9, "<", "dim"))
            body.append(row(width, cells))
        if zswap_active:
            body.append(
                line(
                    width,
                    ("  zswap ", "bold"),
                    (f"pool {zswap[0]} holding {zswap[1]}, compressed in RAM (no disk I/O): ", ""),
                    (f"stored {zswap[2]}/s loaded {zswap[3]}/s written back {zswap[4]}/s", ""),
                )
            )
        body += [line(width, *parts) for parts in tiers]
        room = height - 1
        if len(body) > room:
            body = [*body[: room - 1], line(width, (f"  … {len(body) - room + 1} more", "dim"))]
        out += body
        out += [line(width)] * (height - len(out))
        return out[:height]

    return Section("areas", key, build)


def _page_size(state: DashState) -> int | None:
    """The page size of the last interval (its record carries it), None before one is known."""
    page = state.record.get("page_size_bytes") if state.record else None
    return page if isinstance(page, int) and not isinstance(page, bool) and page > 0 else None


# Keys for an ascending sort (most first). Activity is procs.py's, the one top --sort activity
# and record --trigger rank by; without a page size yet, swap held stands in.
def _proc_sort(state: DashState) -> Callable[[dict[str, object]], tuple[float, ...]]:
    def swap_key(p: dict[str, object]) -> tuple[float, ...]:
        return (-(_float(p.get("swap_bytes")) or 0.0), -abs(_float(p.get("majflt_per_s")) or 0.0))

    page = _page_size(state)
    if state.sort == "activity" and page is not None:
        return process_activity_key(page)
    return swap_key


def _cg_sort(state: DashState) -> Callable[[dict[str, object]], tuple[object, ...]]:
    def swap_key(c: dict[str, object]) -> tuple[object, ...]:
        return (-(_float(c.get("swap_bytes")) or 0.0),)

    page = _page_size(state)
    if state.sort == "activity" and page is not None:
        return cgroup_activity_key(page)
    return swap_key


def _dicts(v: object) -> list[dict[str, object]]:
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


# The process and cgroup tables: (field key, alignment, style). Titles are the registry's
# (fields.PROCESS_FIELDS, CGROUP_FIELDS: the ones top prints), widths dash's own; the command
# is titled "process" here and the change of swap "Δswap/s", with an arrow on the sort column.
PROCESS_COLUMNS = (
    ("pid", ">", ""),
    ("comm", "<", "bold"),
    ("swap_bytes", ">", ""),
    ("swap_delta_bytes_per_s", ">", OUT_STYLE),
    ("majflt_per_s", ">", IN_STYLE),
)
CGROUP_COLUMNS = (
    ("swap_bytes", ">", ""),
    ("swap_out_per_s", ">", OUT_STYLE),
    ("swap_in_per_s", ">", IN_STYLE),
)
# The "waiting on swap" panel (delay accounting: top --sort wait's figures), with the registry's
# titles; shown only when the scan has wait figures, at most WAIT_ROWS rows.
WAIT_COLUMNS = (
    ("pid", 7, ">", ""),
    ("comm", 15, "<", "bold"),
    ("swapin_wait_pct", 8, ">", IN_STYLE),
    ("blkio_wait_pct", 7, ">", ""),
    ("thrashing_wait_pct", 8, ">", ""),
)
WAIT_ROWS = 4


def _waiters(procs: list[dict[str, object]]) -> list[dict[str, object]]:
    """The processes with wait figures, longest swap-in wait first (top --sort wait's order)."""
    return sorted((p for p in procs if p.get("swapin_delay_s") is not None), key=process_wait_key)


def who(state: DashState, width: int, height: int) -> Section:
    """Top processes and cgroups, side by side when wide, else stacked."""
    top = state.top or {}
    procs = sorted(_dicts(top.get("processes")), key=_proc_sort(state))
    cgs = sorted(_dicts(top.get("cgroups")), key=_cg_sort(state))
    side = width >= 160
    if side:
        pw = width * 11 // 20
        cw = width - pw - 1
        p_rows = c_rows = height - 2  # under a header, above a line for notes
    else:
        pw = cw = width
        c_rows = max((height - 2) // 3, 1)
        p_rows = height - 3 - c_rows  # and a line for notes
    p_view = tuple(
        (
            str(p.get("pid")),
            printable(p.get("comm") or "?"),
            size(p.get("swap_bytes")),
            signed_bytes(p.get("swap_delta_bytes_per_s"), "/s"),
            rate(p.get("majflt_per_s")),
            cgroup_name(p),
        )
        for p in procs[:p_rows]
    )
    waiters = _waiters(procs)
    w_rows = min(len(waiters), WAIT_ROWS) + 1 if waiters else 0  # and its heading
    if side:
        c_rows = max(c_rows - w_rows, 1)  # under the cgroups, in the right-hand column
    else:
        p_rows = max(p_rows - w_rows, 1)
    w_view = tuple(
        (
            str(p.get("pid")),
            printable(p.get("comm") or "?"),
            fixed(p.get("swapin_wait_pct"), 1),
            fixed(p.get("blkio_wait_pct"), 1),
            fixed(p.get("thrashing_wait_pct"), 1),
            cgroup_name(p),
        )
        for p in waiters[: max(w_rows - 1, 0)]
    )
    p_view = p_view[:p_rows]
    c_view = tuple(
        (
            printable(c.get("path")),
            size(c.get("swap_bytes")),
            rate(c.get("swap_out_per_s")),
            rate(c.get("swap_in_per_s")),
        )
        for c in cgs[:c_rows]
    )
    extra = (top.get("unattributed_swap_bytes"), top.get("hidden_processes"), state.top_note)
    key = (p_view, c_view, w_view, extra, state.sort, width, height, len(procs), len(cgs))

    def build() -> list[Text]:
        arrow = "▼"
        sw = process_field("swap_bytes").title + (arrow if state.sort == "swap" else "")
        act = "Δ" + process_field("swap_delta_bytes_per_s").title
        act += arrow if state.sort == "activity" else ""
        own = {"comm": "process", "swap_bytes": sw, "swap_delta_bytes_per_s": act}
        cgw = max(pw - 60, 8)
        p_cols = [(key, DASH_PROCESS_WIDTHS[key], align, st) for key, align, st in PROCESS_COLUMNS]
        p_head = row(
            pw,
            [(own.get(k) or process_field(k).title, w, a, "bold") for k, w, a, _ in p_cols]
            + [("cgroup / unit", cgw, "<", "bold")],
            style="reverse",
        )
        p_lines = [p_head]
        tail = []
        if state.top_note and not p_view:
            p_lines.append(line(pw, (f" {state.top_note}", "dim")))
        elif state.top_note:
            tail.append(state.top_note)
        for *vals, cg in p_view:
            cells = [(v, w, a, st) for v, (_, w, a, st) in zip(vals, p_cols)]
            p_lines.append(row(pw, [*cells, (cg, cgw, "/", "dim")]))
        mem = " (v1: no per-cgroup rates)" if c_view and all(c[2] == "-" for c in c_view) else ""
        path_w = max(cw - 40, 10)
        c_cols = [(key, DASH_CGROUP_WIDTHS[key], align, st) for key, align, st in CGROUP_COLUMNS]
        c_head = row(
            cw,
            [(cgroup_field("path").title + mem, path_w, "<", "bold")]
            + [
                (sw if k == "swap_bytes" else cgroup_field(k).title, w, a, "bold")
                for k, w, a, _ in c_cols
            ],
            style="reverse",
        )
        c_lines = [c_head]
        for path, *vals in c_view:
            cells = [(v, w, a, st) for v, (_, w, a, st) in zip(vals, c_cols)]
            c_lines.append(row(cw, [(path, path_w, "/", ""), *cells]))
        w_lines: list[Text] = []
        if w_view:
            ww = cw if side else width
            rest = max(ww - sum(w for _, w, _, _ in WAIT_COLUMNS) - len(WAIT_COLUMNS) - 1, 8)
            w_lines.append(
                row(
                    ww,
                    [
                        ("waiting on swap" if k == "comm" else process_field(k).title, w, a, "bold")
                        for k, w, a, _ in WAIT_COLUMNS
                    ]
                    + [("cgroup / unit", rest, "<", "bold")],
                    style="reverse",
                )
            )
            for *vals, cg in w_view:
                cells = [(v, w, a, st) for v, (_, w, a, st) in zip(vals, WAIT_COLUMNS)]
                w_lines.append(row(ww, [*cells, (cg, rest, "/", "dim")]))
        unattributed, hidden, _ = extra
        if isinstance(unattributed, int) and unattributed > 0:
            tail.append(
                f"{size(unattributed)} of swap used is in no process's VmSwap "
                "(shmem/tmpfs, or swap cache)"
            )
        if hidden:
            tail.append("some processes are hidden (hidepid): run as root to see all")
        if side:
            p_lines += [line(pw)] * (p_rows + 1 - len(p_lines))
            c_lines += [line(cw)] * (c_rows + 1 - len(c_lines))
            c_lines += w_lines
            body = []
            for a, b in zip(p_lines[: height - 1], c_lines[: height - 1]):
                joined = Text(no_wrap=True)
                joined.append_text(a)
                joined.append(" ")
                joined.append_text(b)
                body.append(joined)
        else:
            p_lines += [line(pw)] * (p_rows + 1 - len(p_lines))
            c_lines += [line(cw)] * (c_rows + 1 - len(c_lines))
            body = p_lines[: p_rows + 1] + w_lines + c_lines[: c_rows + 1]
        body.append(line(width, ("; ".join(tail), "dim")))
        return body[:height]

    return Section("who", key, build)


def help_section(height: int, width: int) -> Section:
    def build() -> list[Text]:
        out = [line(width, (" checkswap dash: keys and figures", "bold reverse"))]
        for k, text in HELP_LINES:
            out.append(line(width, (f" {k:<9}", "bold"), (text, "")))
        out += [line(width)] * (height - len(out))
        return out[:height]

    return Section("help", (height, width), build)


def footer(state: DashState, width: int) -> Section:
    key = (state.sort, state.paused, state.status, width)

    def build() -> list[Text]:
        parts: list[tuple[str, Style]] = []
        keys = [("q", "quit")]
        if state.status:
            parts = [(f" {state.status} ", "bold reverse"), ("  ", "")]
        else:
            keys += [
                ("s", f"sort: {state.sort}"),
                ("p", "resume" if state.paused else "pause"),
                ("?", "help"),
            ]
        for k, what in keys:
            parts += [(f" {k} ", "reverse bold"), (f" {what}  ", "")]
        return [line(width, *parts)]

    return Section("footer", key, build)


# Every tier's two rows need the screen to have them: below this height the lists would
# have none left (at the minimum height they have none as it is).
ALL_TIERS_MIN_HEIGHT = 24


def figures_height(state: DashState, height: int) -> int:
    """The figures' rows: titles, swap-out, swap-in (and every tier's two), PSI."""
    return 6 if state.all_tiers and height >= ALL_TIERS_MIN_HEIGHT else 4


def sections(state: DashState, width: int, height: int) -> list[tuple[Section, int]]:
    """The screen, top to bottom, as (section, rows); the rows add up to ``height``."""
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        msg = (
            f"terminal too small ({width}×{height}): checkswap dash needs {MIN_WIDTH}×{MIN_HEIGHT}"
        )

        def build() -> list[Text]:
            return [line(width, (msg, "bold"))] + [line(width)] * (height - 1)

        return [(Section("small", (width, height), build), height)]
    fig_h = figures_height(state, height)
    out: list[tuple[Section, int]] = [
        (header(state, width), 1),
        (figures(state, width, all_tiers=fig_h > 4), fig_h),
    ]
    body = height - 1 - fig_h - 1
    if state.help:
        return [*out, (help_section(body, width), body), (footer(state, width), 1)]
    # At 24 rows: charts 3+3+2, areas 3, processes and cgroups 10. Extra rows go to charts
    # and lists in turn.
    extra = body - 18
    ch = min(3 + max(extra, 0) // 4, 8)
    psi_h = min(2 + max(extra, 0) // 12, 4)
    n_tiers = len(tier_lines(state))
    n_dev = len(state.devices or []) + zswap_in_use(state.record or {}) + n_tiers
    # The tiers panel gets up to three more rows on a tall screen, never the lists' last ones.
    area_h = min(max(n_dev, 1) + 1, (6 + min(n_tiers, 3)) if height >= 40 else 4)
    who_h = body - 2 * ch - psi_h - area_h
    charts = (
        ("chart_out", ("swap-out", "RAM→swap"), state.swap_out, ch, OUT_STYLE, 10.0, ""),
        ("chart_in", ("swap-in", "swap→RAM"), state.swap_in, ch, IN_STYLE, 10.0, ""),
        ("chart_psi", ("PSI some", "stalled"), state.psi_some, psi_h, PSI_STYLE, 5.0, "%"),
    )
    for name, labels, values, rows, style, floor, unit in charts:
        out.append((chart(name, labels, values, rows, width, style, floor, unit), rows))
    out += [
        (areas(state, width, area_h), area_h),
        (who(state, width, who_h), who_h),
        (footer(state, width), 1),
    ]
    return out


def frame_text(state: DashState, width: int, height: int) -> Text:
    """The whole screen as one renderable (for a recording console: tests, docs)."""
    lines: list[Text] = []
    for sec, rows in sections(state, width, height):
        got = sec.build()
        lines += got[:rows] + [line(width)] * (rows - len(got))
    return Text("\n").join(lines)


class Screen:
    """Frames as terminal lines: re-renders changed sections, writes changed rows only."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._cache: dict[str, tuple[object, list[str]]] = {}
        self._shown: list[str] = []
        cs = console.color_system
        self._color: ColorSystem | None = None if cs is None else COLOR_SYSTEMS[cs]
        self.rendered_sections = 0  # for tests and the benchmark: how much work a frame was

    def _render(self, texts: list[Text], width: int) -> list[str]:
        # Each Text is already one row of exactly ``width`` cells (see ``line``): render its
        # spans straight to segments, without rich's wrapping and cropping passes.
        out = []
        for text in texts:
            segs: Iterable[Segment] = text.render(self.console, end="")
            if self.console.no_color:
                segs = list(Segment.remove_color(segs))
            out.append(
                "".join(
                    s.style.render(s.text, color_system=self._color) if s.style else s.text
                    for s in segs
                    if not s.control
                )
            )
        return out

    def lines(self, state: DashState, width: int, height: int) -> list[str]:
        out: list[str] = []
        for sec, rows in sections(state, width, height):
            key = (sec.key, width, rows)
            hit = self._cache.get(sec.name)
            if hit is not None and hit[0] == key:
                out += hit[1]
                continue
            texts = sec.build()
            texts = texts[:rows] + [line(width)] * (rows - len(texts))
            rendered = self._render(texts, width)
            self.rendered_sections += 1
            self._cache[sec.name] = (key, rendered)
            out += rendered
        return out

    def update(self, state: DashState, width: int, height: int, full: bool = False) -> str:
        """Escape sequences that bring the terminal from the last frame to this one."""
        new = self.lines(state, width, height)
        if full or len(new) != len(self._shown):
            self._shown = []
            parts = ["\x1b[0m\x1b[2J"]
        else:
            parts = []
        for i, text in enumerate(new):
            if i < len(self._shown) and self._shown[i] == text:
                continue
            parts.append(f"\x1b[{i + 1};1H{text}")
        self._shown = new
        return "".join(parts)
