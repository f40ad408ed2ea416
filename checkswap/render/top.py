"""Renderers for ``top``: a text table (plain on a pipe, redrawn in place on a tty) and JSON lines.

Both take the record of ``procs.Scanner.sample()`` after the command has sorted and limited it.
"""

from __future__ import annotations

import io
import os

from checkswap.fields import CGROUP_FIELDS, PROCESS_FIELDS
from checkswap.render import cells

TYPE_CHECKING = False  # typing costs start-up; mypy still sees the imports

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO

    from checkswap.fields import Field

Record = dict[str, object]

# Clear the screen and home the cursor: the tty view redraws in place, like top(1).
CLEAR = "\x1b[H\x1b[2J"


def _title(f: Field) -> str:
    # Upper case as top(1), the unit after a slash as written: "MAJFLT/s".
    name, slash, per = f.title.partition("/")
    return name.upper() + slash + per


# The tables' columns: (field key, alignment); title, width and decimals are the registry's
# (fields.PROCESS_FIELDS, CGROUP_FIELDS), so they cannot drift from the JSON keys or from dash.
PROCESS_COLUMNS = (
    ("pid", ">"),
    ("user", "<"),
    ("swap_bytes", ">"),
    ("swap_delta_bytes_per_s", ">"),
    ("majflt_per_s", ">"),
    ("swap_pss_bytes", ">"),  # with --pss only
    # with delay accounting only: the shares, then the cumulative swap-in time
    ("swapin_wait_pct", ">"),
    ("blkio_wait_pct", ">"),
    ("thrashing_wait_pct", ">"),
    ("swapin_delay_s", ">"),
    ("comm", "<"),
)
WAIT_COLUMNS = frozenset(
    {"swapin_wait_pct", "blkio_wait_pct", "thrashing_wait_pct", "swapin_delay_s"}
)
CGROUP_COLUMNS = (
    ("swap_bytes", ">"),
    ("swap_in_per_s", ">"),
    ("swap_out_per_s", ">"),
    ("swap_delta_bytes_per_s", ">"),
    ("majflt_per_s", ">"),
    ("swap_max_bytes", ">"),
    ("swap_events", ">"),
    ("psi_some_avg10", ">"),
    # from a second refresh on (v2): the stall in the interval, not the kernel's 10 s average
    ("psi_some_pct", ">"),
    ("psi_full_pct", ">"),
    # with delay accounting only: its listed processes' waits summed
    ("swapin_wait_pct", ">"),
    ("blkio_wait_pct", ">"),
)
CGROUP_PSI_COLUMNS = frozenset({"psi_some_pct", "psi_full_pct"})
CGROUP_WAIT_COLUMNS = frozenset({"swapin_wait_pct", "blkio_wait_pct"})
# Under the process table's heading: what its figures are, in the registry's words.
LEGEND = " ".join(
    f"{_title(f)}: {f.help}."
    for f in PROCESS_FIELDS
    if f.key in ("swap_bytes", "swap_delta_bytes_per_s", "majflt_per_s")
)
WAIT_LEGEND = " ".join(
    f"{_title(f)}: {f.help}."
    for f in PROCESS_FIELDS
    if f.key in ("swapin_wait_pct", "blkio_wait_pct", "thrashing_wait_pct")
)
WHERE_TITLE = "UNIT (or cgroup)"  # the last column: cells.cgroup_name, unit or else cgroup


def _events(v: object) -> str:
    return f"{v.get('max')}/{v.get('fail')}" if isinstance(v, dict) else "-"


def _text(v: object) -> str:
    return "-" if v is None or v == "" else str(v)


def _user(v: object) -> str:
    # A user name can be any length and would shift the columns after it; pid and command are
    # bounded by the kernel (comm: 15 characters) and shown whole.
    return _text(v)[:10]


def _cell(f: Field) -> Callable[[object], str]:
    """How a column shows its field's value: chosen by the field's unit."""
    if f.key == "swap_events":
        return _events
    if f.key == "user":
        return _user
    if f.key == "comm":
        return lambda v: cells.printable(_text(v))  # a process picks its own name
    if f.unit == "bytes":
        return cells.size
    if f.unit == "bytes/s":
        return cells.signed_bytes
    if f.unit:
        return lambda v: cells.fixed(v, f.decimals)
    return _text


if TYPE_CHECKING:
    # key, title, cell, alignment and width for format()
    Column = tuple[str, str, Callable[[object], str], str]


def _columns(
    fields: tuple[Field, ...], spec: tuple[tuple[str, str], ...], skip: frozenset[str] = frozenset()
) -> list[Column]:
    # Resolved once per refresh: a refresh formats every cell of hundreds of rows.
    by_key = {f.key: f for f in fields}
    out: list[Column] = []
    for key, align in spec:
        if key not in skip:
            f = by_key[key]
            out.append((key, _title(f), _cell(f), f"{align}{f.width}"))
    return out


def _head(cols: list[Column]) -> str:
    return " ".join(format(title, spec) for _, title, _, spec in cols)


def _row(cols: list[Column], rec: Record) -> str:
    return " ".join(format(cell(rec.get(key)), spec) for key, _, cell, spec in cols)


def _local_time(iso: object) -> str:
    wall = cells.wall_of(iso)
    return "-" if wall is None else f"{cells.local_time(wall)} {cells.utc_offset(wall)}"


def _list(rec: Record, key: str) -> list[Record]:
    value = rec.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def text_lines(rec: Record, shown_of: int, sort: str) -> list[str]:
    """One refresh as lines of text: a summary header, the process table, the cgroup table."""
    size = cells.size
    rest = cells.number(rec.get("unattributed_swap_bytes"))
    if rest is not None and rest < 0:
        # The processes' VmSwap adds up to more than meminfo's swap used: the two counters
        # disagree (a virtualised /proc, or a tree put together from two machines). A
        # negative share of swap is no figure to print.
        unattributed = f"none: VmSwap exceeds swap used by {size(-rest)}"
    else:
        unattributed = f"{size(rest)} (shmem/tmpfs, swap cache, hidden)"
    lines = [
        f"# {_local_time(rec.get('time'))}  swap used {size(rec.get('swap_used_bytes'))} of "
        f"{size(rec.get('swap_total_bytes'))} (swap cache {size(rec.get('swap_cached_bytes'))})"
        f"  in processes {size(rec.get('process_swap_bytes'))}  unattributed {unattributed}"
    ]
    procs = _list(rec, "processes")
    if rec.get("interval_s") is None:
        lines.append("# first sample: held figures only; rates need a second (-i SECONDS or -n 2)")
    notes = rec.get("notes")
    for note in notes if isinstance(notes, list) else []:
        lines.append(f"# note: {note}")
    lines.append(f"# {len(procs)} of {shown_of} processes in swap, sorted by {sort}. " + LEGEND)
    skip: set[str] = set()
    if all(p.get("swap_pss_bytes") is None for p in procs):
        skip.add("swap_pss_bytes")
    waits = any(p.get("swapin_delay_s") is not None for p in procs)
    if not waits:
        skip |= WAIT_COLUMNS  # no delay accounting: its note says why
    pcols = _columns(PROCESS_FIELDS, PROCESS_COLUMNS, skip=frozenset(skip))
    if waits:
        lines.append("# " + WAIT_LEGEND)
    lines.append(f"{_head(pcols)} {WHERE_TITLE}")
    for p in procs:
        lines.append(f"{_row(pcols, p)} {cells.cgroup_name(p)}")
    cgroups = rec.get("cgroups")
    if isinstance(cgroups, list):
        lines.append("")
        lines.append(
            "# cgroups: IN/s = swap-in (pages read back into RAM), OUT/s = swap-out (pages "
            "written to swap), pages/s from memory.stat pswpin/pswpout"
        )
        cskip: set[str] = set()
        rows = [c for c in cgroups if isinstance(c, dict)]
        if all(c.get("psi_some_pct") is None for c in rows):
            cskip |= CGROUP_PSI_COLUMNS
        if all(c.get("swapin_wait_pct") is None for c in rows):
            cskip |= CGROUP_WAIT_COLUMNS
        ccols = _columns(CGROUP_FIELDS, CGROUP_COLUMNS, skip=frozenset(cskip))
        lines.append(f"{_head(ccols)}  {WHERE_TITLE}")
        v1 = False
        for c in cgroups:
            if not isinstance(c, dict):
                continue
            v1 = v1 or c.get("version") == 1
            lines.append(f"{_row(ccols, c)}  {cells.printable(c.get('unit') or c.get('path'))}")
        lines.append("# EVENTS: memory.swap.events max/fail (rising: the swap limit bites)")
        if v1:
            lines.append(
                "# cgroup v1: no per-cgroup swap-in/out counters (IN/s, OUT/s are '-'); "
                "SWAP/s and MAJFLT/s stand in"
            )
    return lines


class TopRenderer:
    def __init__(self, out: IO[str], fmt: str, tty: bool) -> None:
        self.out = out
        self.fmt = fmt
        self.tty = tty
        self.count = 0

    def _size(self) -> tuple[int, int]:
        try:
            size = os.get_terminal_size(self.out.fileno())
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return 80, 24
        return size.columns, size.lines

    def refresh(self, rec: Record, shown_of: int, sort: str) -> None:
        if self.fmt == "json":
            import json  # the text table does without

            self.out.write(json.dumps(rec, separators=(", ", ": ")) + "\n")
        else:
            lines = text_lines(rec, shown_of, sort)
            if self.tty:
                # Redrawn in place: a line that wraps or a screen that scrolls would break the
                # next redraw, so cut to the terminal's size.
                width, height = self._size()
                if len(lines) > height - 1:
                    lines = [*lines[: height - 2], "# (more: a bigger terminal, or --limit)"]
                lines = [line[:width] for line in lines]
                self.out.write(CLEAR)
            elif self.count:
                self.out.write("\n")  # on a pipe, refreshes follow each other, a blank line apart
            self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        self.count += 1
