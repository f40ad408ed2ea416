"""Renderers for ``watch``: text lines, JSON lines and CSV, all from the same records.

Text lines are for people and for ``| tee``/``grep``: stable columns, one timestamped line per
interval, header and summary lines starting with ``#``, so ``grep -v '^#'`` leaves only data.
"""

from __future__ import annotations

import os
import time
from math import copysign

from checkswap.fields import (
    CSV_COLUMNS,
    TEXT_ALL_COLUMNS,
    TEXT_COLUMNS,
    TEXT_ZSWAP_COLUMNS,
    column,
    compile_fields,
    flatten,
    sample_record,
)
from checkswap.model.rates import NO_WRITEBACK_COUNTER, WINDOWS
from checkswap.render.cells import local_time, utc_offset
from checkswap.units import format_bytes

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import IO, Any

    from checkswap.model.rates import Interval, Tracker

_AREA_KIND = {"zram": "zram: compressed RAM, no disk I/O"}
Record = dict[str, object]


class Renderer:
    """Gets the records of one run; ``wall`` is the record's time as epoch seconds."""

    def header(self, rec: Record, wall: float) -> None: ...
    def sample(self, rec: Record, wall: float) -> None: ...
    def summary(self, rec: Record, tracker: Tracker) -> None: ...

    def swap_areas(self, rec: Record, wall: float) -> None:
        """The set of swap areas changed (header.swap_areas_record); CSV has no row for it."""

    def interval(self, iv: Interval, tracker: Tracker, page_size: int) -> None:
        """One interval (after tracker.add): its record, unless a renderer needs less."""
        self.sample(sample_record(iv, tracker, page_size), iv.end.wall)


def _thousands(n: object) -> str:
    return f"{n:,}" if isinstance(n, int) else "-"


class TextRenderer(Renderer):
    """One line per interval in fixed-width columns.

    Columns are chosen once, from what the kernel offers at start (zswap columns only when it
    has zswap counters), so every line of a run has the same shape.
    """

    def __init__(self, out: IO[str], zswap: bool, all_tiers: bool = False) -> None:
        self.out = out
        self.zswap = zswap
        self.all_tiers = all_tiers
        # Titles, widths and decimals are the registry's (fields.py); the columns are chosen
        # once, so every line of a run has the same shape.
        keys = (
            TEXT_COLUMNS
            + (TEXT_ZSWAP_COLUMNS if zswap else ())
            + (TEXT_ALL_COLUMNS if all_tiers else ())
        )
        self.cols: list[tuple[str, int, int, int]] = [
            (key, f.width, f.decimals, f.scale) for key in keys for f in (column(key)[1],)
        ]
        # Precomputed for the per-line hot path: where each value lives and how it is printed.
        self._plan = [
            (
                *(key.split(".", 1) if "." in key else (key, None)),
                f" {{:{w}.{d}f}}",
                div,
                " " + "-".rjust(w),
            )
            for key, w, d, div in self.cols
        ]
        # Per column: its format, scale and text when missing, and the last value printed
        # with its text and sign. On a quiet machine most cells repeat from tick to tick, and
        # formatting floats was the dearest part of a 1 Hz tick.
        self._formats = [(fmt.format, div, missing) for _, _, fmt, div, missing in self._plan]
        self._cells: list[list[object]] = [[None, 1.0, ""] for _ in self.cols]
        # Every column's value in one generated function (fields.compile_fields): one call a
        # tick instead of one per column, and one means() per window.
        self._values = compile_fields(
            [key for key, *_ in self.cols],
            lambda exprs: f"    return ({', '.join(exprs)},)\n",
            "text columns",
        )
        five = any(k.startswith("avg_5m.") for k in keys)
        self._window_s = dict(WINDOWS)["avg_5m"] if five else 0.0
        self._minute: int | None = None
        self._minute_text = ""
        self._said_no_writeback = False
        self._fd = _raw_fd(out)
        self._line_format = "{}" + "".join(f" {{:{w}.{d}f}}" for _, w, d, _ in self.cols)

    def _title(self, key: str) -> str:
        return column(key)[0]

    def _write(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def header(self, rec: Record, wall: float) -> None:
        since = rec["since_boot"]
        assert isinstance(since, dict)
        ps = rec["page_size_bytes"]
        assert isinstance(ps, int)
        lines = [
            f"# checkswap {rec['version']} on {rec.get('hostname') or '?'}, Linux "
            f"{rec.get('kernel_release') or '?'}, page size {ps} bytes, times in "
            f"{utc_offset(wall)}",
            "# in  = swap-in:  pages read back from swap into RAM (pswpin); processes wait",
            "# out = swap-out: pages written from RAM to swap (pswpout)",
            *(
                [
                    "# all in/out = every tier: the swap devices (zram too), the zswap pool and"
                    " zero-filled pages, which cost no device I/O"
                ]
                if self.all_tiers
                else []
            ),
            "# rates in pages/s and MiB/s over each interval; 5m = average of the last 5 minutes"
            " (of the run so far until it has lasted 5 minutes, as each row says);"
            " some%/full% = share of the interval stalled on memory (PSI)",
        ]
        for direction, key in (("in", "swap_in_pages"), ("out", "swap_out_pages")):
            pages = since.get(key)
            size = format_bytes(pages * ps) if isinstance(pages, int) else "-"
            lines.append(f"# since boot: {_thousands(pages)} pages swapped {direction} = {size}")
        zero_in, zero_out = since.get("swap_in_zero_pages"), since.get("swap_out_zero_pages")
        if zero_in is not None or zero_out is not None:
            lines.append(
                f"# since boot: {_thousands(zero_in)} zero-filled pages in, "
                f"{_thousands(zero_out)} out (no device I/O, not counted above)"
            )
        if self.all_tiers:
            parts = []
            for direction, key in (("in", "swap_in_all_pages"), ("out", "swap_out_all_pages")):
                pages = since.get(key)
                size = format_bytes(pages * ps) if isinstance(pages, int) else "-"
                parts.append(f"{_thousands(pages)} pages {direction} = {size}")
            lines.append(f"# since boot, all tiers: {', '.join(parts)}")
        areas = rec.get("swap_areas") or []
        assert isinstance(areas, list)
        total = rec.get("swap_total_bytes")
        if not areas and not total:
            lines.append("# no swap is configured: nothing can be swapped out")
        else:
            desc = ", ".join(_area_text(a) for a in areas)
            lines.append(
                f"# swap: {format_bytes(total if isinstance(total, int) else None)} total, "
                f"{format_bytes(_int(rec.get('swap_used_bytes')))} used, "
                f"{format_bytes(_int(rec.get('swap_cached_bytes')))} also cached in RAM"
                + (f"; areas: {desc}" if desc else "")
            )
        if not rec.get("psi"):
            lines.append("# PSI: not available on this kernel (some%/full% show -)")
        for note in rec.get("notes") or []:  # type: ignore[attr-defined]
            lines.append(f"# note: {note}")
        titles = "".join(self._title(k).rjust(w + 1) for k, w, _, _ in self.cols)
        lines.append(f"{'date':<10} {'time':<8}{titles}")
        self._write("\n".join(lines))

    def swap_areas(self, rec: Record, wall: float) -> None:
        # The header's "swap:" line is no longer true: say what is true from here on.
        areas = rec.get("swap_areas")
        total = _int(rec.get("swap_total_bytes"))
        at = local_time(wall, "%H:%M:%S")
        if not total and not areas:
            now = "no swap is configured now"
        else:
            now = (
                f"swap now {format_bytes(total)} total, "
                f"{format_bytes(_int(rec.get('swap_used_bytes')))} used"
            )
            if isinstance(areas, list) and areas:
                now += "; areas: " + ", ".join(_area_text(a) for a in areas)
            elif areas is None:
                now += "; areas unknown (/proc/swaps unreadable)"
        before = format_bytes(_int(rec.get("previous_swap_total_bytes")))
        self._write(f"# swap areas changed at {at} (swapon/swapoff; was {before} total): {now}")

    def sample(self, rec: Record, wall: float) -> None:
        values: list[object] = [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall))]
        whole = True
        for outer, inner, _, div, _ in self._plan:
            value = rec.get(outer)
            if inner is not None:
                value = value.get(inner) if isinstance(value, dict) else None
            if isinstance(value, (int, float)):
                values.append(value / div if div != 1 else value)
            else:
                values.append(None)
                whole = False
        note = rec.get("note")
        window = rec.get("avg_5m")
        covered = window.get("covered_s") if isinstance(window, dict) else None
        if isinstance(covered, (int, float)) and covered < self._window_s:
            coverage = _coverage(covered)  # as interval() says it
            note = coverage if note is None else f"{note}; {coverage}"
        self._write(self._line(values, whole, note))

    def interval(self, iv: Interval, tracker: Tracker, page_size: int) -> None:
        # The hot path of a text run: only the printed columns are computed, straight from
        # the interval, with no record in between (the JSON record costs as much again).
        parts = [self._clock(iv.end.wall)]
        for value, (fmt, div, missing), cell in zip(
            self._values(iv, tracker, page_size), self._formats, self._cells
        ):
            if value is None:  # every source gives a number or None
                parts.append(missing)
                continue
            if div != 1:
                value = value / div
            # -0.0 == 0.0 but prints "-0": the sign is part of what a cell remembers.
            if value != cell[0] or (value == 0 and copysign(1.0, value) != cell[1]):
                cell[0], cell[1], cell[2] = value, copysign(1.0, value), fmt(value)
            parts.append(cell[2])  # type: ignore[arg-type]
        notes = iv.notes
        if notes and NO_WRITEBACK_COUNTER in notes:
            # A fact about the kernel, the same every interval: said on the first line only.
            if self._said_no_writeback:
                notes = [n for n in notes if n != NO_WRITEBACK_COUNTER]
            self._said_no_writeback = True
        if tracker.rated_s < self._window_s:
            # Until the run has lasted a window, "5m" is the average of what there is: say how
            # much (one compare per tick afterwards).
            notes = [*notes, _coverage(tracker.rated_s)]
        if notes:
            parts.append("  # " + "; ".join(notes))
        parts.append("\n")
        line = "".join(parts)
        if self._fd is None or not line.isascii():
            self.out.write(line)
            self.out.flush()
            return
        # Straight to the descriptor: the text stream is flushed after every write, so nothing
        # waits in its buffer, and its layers (encoder, buffer, flush) were ~20 µs of a
        # cache-cold 1 Hz tick. ASCII is the same bytes in any encoding stdout may have.
        data = line.encode("ascii")
        while data:
            data = data[os.write(self._fd, data) :]

    def _clock(self, wall: float) -> str:
        """``%Y-%m-%d %H:%M:%S`` in local time, as strftime gives it, for one tick's time.

        Time zone offsets are whole minutes and change only at a minute's start, so the date and
        minute are formatted once a minute and the seconds appended (checked against localtime
        when the minute is formatted; an offset with seconds falls back to strftime each time).
        """
        sec = int(wall // 1)  # time.localtime floors, too
        minute = sec // 60
        if minute != self._minute:
            tm = time.localtime(sec)
            if tm.tm_sec != sec % 60:
                self._minute = None
                return time.strftime("%Y-%m-%d %H:%M:%S", tm)
            self._minute = minute
            self._minute_text = time.strftime("%Y-%m-%d %H:%M:", tm)
        return f"{self._minute_text}{sec % 60:02d}"

    def _line(self, values: list[object], whole: bool, note: object) -> str:
        if whole:
            line = self._line_format.format(*values)  # one call for the whole line
        else:
            parts = [str(values[0])]
            for value, (_, _, fmt, _, missing) in zip(values[1:], self._plan):
                parts.append(missing if value is None else fmt.format(value))
            line = "".join(parts)
        if note is not None:
            line += f"  # {note}"
        return line

    def summary(self, rec: Record, tracker: Tracker) -> None:
        start, end = tracker.first_wall, tracker.last_wall
        span = (
            f"{local_time(start)} .. {local_time(end, '%H:%M:%S')}"
            if start and end
            else "no interval"
        )
        n = rec["samples"]
        plural = "" if n == 1 else "s"
        lines = [f"# summary: {n} sample{plural} over {rec['duration_s']:.1f} s ({span})"]
        mx = rec["max"]
        avg = rec["avg"]
        assert isinstance(mx, dict) and isinstance(avg, dict)
        rows = [
            ("swap_in", "swap-in ", tracker.peak_in),
            ("swap_out", "swap-out", tracker.peak_out),
        ]
        if self.all_tiers:  # under the same condition as the all-tier columns
            rows += [
                ("swap_in_all", "swap-in (all tiers)", tracker.peak_in_all),
                ("swap_out_all", "swap-out (all tiers)", tracker.peak_out_all),
            ]
        for k, word, peak_of in rows:
            pages = rec[f"{k}_pages"]
            nbytes = rec[f"{k}_bytes"]
            peak = mx.get(f"{k}_per_s")
            at = peak_of.at
            avg_v = avg.get(f"{k}_per_s")
            lines.append(
                f"#   {word}: {_thousands(pages)} pages ({format_bytes(_int(nbytes))}), "
                f"avg {_fmt(avg_v)} pages/s, max {_fmt(peak)} pages/s"
                + (f" at {local_time(at, '%H:%M:%S')}" if at else "")
            )
        self._write("\n".join(lines))


def _coverage(seconds: float) -> str:
    """How much of the 5-minute window a run has filled: whole seconds, or two significant
    digits under one (a run at -i 0.1 said "5m over 0 s" for its first four rows)."""
    return f"5m over {seconds:.0f} s so far" if seconds >= 1 else f"5m over {seconds:.2g} s so far"


def _area_text(a: dict[str, Any]) -> str:
    kind = _AREA_KIND.get(str(a.get("kind")), a["type"])
    return f"{a['name']} ({kind}, {format_bytes(a['size_bytes'])})"


def _raw_fd(out: IO[str]) -> int | None:
    """The descriptor under a real file or pipe; None for an in-memory stream (a test's)."""
    try:
        return out.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last
        return None


def _int(v: object) -> int | None:
    return v if isinstance(v, int) else None


def _fmt(v: object) -> str:
    return f"{v:,.1f}" if isinstance(v, (int, float)) else "-"


class JsonRenderer(Renderer):
    def __init__(self, out: IO[str]) -> None:
        import json  # only JSON output pays for it

        self.out = out
        self._dumps = json.JSONEncoder(separators=(", ", ": ")).encode

    def _write(self, rec: Record) -> None:
        self.out.write(self._dumps(rec) + "\n")
        self.out.flush()

    def header(self, rec: Record, wall: float) -> None:
        self._write(rec)

    def sample(self, rec: Record, wall: float) -> None:
        self._write(rec)

    def swap_areas(self, rec: Record, wall: float) -> None:
        self._write(rec)

    def summary(self, rec: Record, tracker: Tracker) -> None:
        self._write(rec)


class CsvRenderer(Renderer):
    """A header row, then one row per sample; nested keys flattened with dots, null empty."""

    def __init__(self, out: IO[str]) -> None:
        import csv
        import io

        self.out = out
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf, lineterminator="\n")

    def _row(self, values: list[object]) -> None:
        self._writer.writerow(values)
        self.out.write(self._buf.getvalue())
        self.out.flush()
        self._buf.seek(0)
        self._buf.truncate()

    def header(self, rec: Record, wall: float) -> None:
        self._row(list(CSV_COLUMNS))

    def sample(self, rec: Record, wall: float) -> None:
        flat = flatten(rec)
        self._row(["" if flat.get(k) is None else flat[k] for k in CSV_COLUMNS])

    def summary(self, rec: Record, tracker: Tracker) -> None:
        pass  # a CSV file holds samples only, so it loads cleanly into a spreadsheet


def show_all_tiers(header: Record, zswap_enabled: bool) -> bool:
    """Whether the text view needs all-tier columns: when swap-in/out may bypass the devices
    (zswap on, zero-filled traffic since boot) or a device is RAM itself (zram)."""
    if zswap_enabled:
        return True
    areas = header.get("swap_areas")
    if isinstance(areas, list) and any(
        isinstance(a, dict) and a.get("kind") == "zram" for a in areas
    ):
        return True
    since = header.get("since_boot")
    if not isinstance(since, dict):
        return False
    return any(since.get(k) for k in ("swap_in_zero_pages", "swap_out_zero_pages"))


def make_renderer(fmt: str, out: IO[str], zswap: bool, all_tiers: bool = False) -> Renderer:
    if fmt == "json":
        return JsonRenderer(out)
    if fmt == "csv":
        return CsvRenderer(out)
    return TextRenderer(out, zswap, all_tiers)
