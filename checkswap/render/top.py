"""Renderers for ``top``: a text table (plain on a pipe, redrawn in place on a tty) and JSON lines.

Both take the record of ``procs.Scanner.sample()`` after the command has sorted and limited it.
"""

from __future__ import annotations

import io
import os
import time

from checkswap.units import format_bytes

TYPE_CHECKING = False  # typing costs start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import IO

Record = dict[str, object]

# Clear the screen and home the cursor: the tty view redraws in place, like top(1).
CLEAR = "\x1b[H\x1b[2J"

LEGEND = (
    "SWAP: held in swap (VmSwap). SWAP/s: change of SWAP per second (+ swapped out, - swapped "
    "back in). MAJFLT/s: major faults per second (swap-ins, also file reads that waited)."
)


def _size(v: object) -> str:
    return format_bytes(v) if isinstance(v, (int, float)) else "-"


def _rate_bytes(v: object) -> str:
    if not isinstance(v, (int, float)):
        return "-"
    if v == 0:
        return "0"
    sign = "+" if v > 0 else "-"
    return sign + format_bytes(abs(v))


def _num(v: object, digits: int = 0) -> str:
    return f"{v:.{digits}f}" if isinstance(v, (int, float)) else "-"


def _local_time(iso: object) -> str:
    if not isinstance(iso, str):
        return "-"
    from datetime import datetime

    # Text only: `top --format json` never loads watch's renderers.
    from checkswap.render.watch import utc_offset

    wall = datetime.fromisoformat(iso).timestamp()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall)) + f" {utc_offset(wall)}"


def _list(rec: Record, key: str) -> list[Record]:
    value = rec.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def text_lines(rec: Record, shown_of: int, sort: str) -> list[str]:
    """One refresh as lines of text: a summary header, the process table, the cgroup table."""
    lines = [
        f"# {_local_time(rec.get('time'))}  swap used {_size(rec.get('swap_used_bytes'))} of "
        f"{_size(rec.get('swap_total_bytes'))} (swap cache {_size(rec.get('swap_cached_bytes'))})"
        f"  in processes {_size(rec.get('process_swap_bytes'))}  unattributed "
        f"{_size(rec.get('unattributed_swap_bytes'))} (shmem/tmpfs, swap cache, hidden)"
    ]
    procs = _list(rec, "processes")
    if rec.get("interval_s") is None:
        lines.append("# first sample: held figures only; rates need a second (-i SECONDS or -n 2)")
    notes = rec.get("notes")
    for note in notes if isinstance(notes, list) else []:
        lines.append(f"# note: {note}")
    lines.append(f"# {len(procs)} of {shown_of} processes in swap, sorted by {sort}. " + LEGEND)
    pss = any(p.get("swap_pss_bytes") is not None for p in procs)
    head = f"{'PID':>8} {'USER':<10} {'SWAP':>10} {'SWAP/s':>11} {'MAJFLT/s':>9} "
    head += f"{'SWAPPSS':>10} " if pss else ""
    lines.append(head + f"{'COMMAND':<16} UNIT (or cgroup)")
    for p in procs:
        unit = p.get("unit") or p.get("cgroup") or "-"
        line = (
            f"{p.get('pid')!s:>8} {str(p.get('user') or '-')[:10]:<10} "
            f"{_size(p.get('swap_bytes')):>10} {_rate_bytes(p.get('swap_delta_bytes_per_s')):>11} "
            f"{_num(p.get('majflt_per_s')):>9} "
        )
        if pss:
            line += f"{_size(p.get('swap_pss_bytes')):>10} "
        lines.append(line + f"{p.get('comm')!s:<16} {unit}")
    cgroups = rec.get("cgroups")
    if isinstance(cgroups, list):
        lines.append("")
        lines.append(
            "# cgroups: IN/s = swap-in (pages read back into RAM), OUT/s = swap-out (pages "
            "written to swap), pages/s from memory.stat pswpin/pswpout"
        )
        lines.append(
            f"{'SWAP':>10} {'IN/s':>8} {'OUT/s':>8} {'SWAP/s':>11} {'MAJFLT/s':>9} "
            f"{'SWAPMAX':>10} {'EVENTS':>9} {'PSI%':>5}  UNIT (or cgroup)"
        )
        v1 = False
        for c in cgroups:
            if not isinstance(c, dict):
                continue
            v1 = v1 or c.get("version") == 1
            events = c.get("swap_events")
            ev = f"{events.get('max')}/{events.get('fail')}" if isinstance(events, dict) else "-"
            name = c.get("unit") or c.get("path")
            lines.append(
                f"{_size(c.get('swap_bytes')):>10} {_num(c.get('swap_in_per_s')):>8} "
                f"{_num(c.get('swap_out_per_s')):>8} "
                f"{_rate_bytes(c.get('swap_delta_bytes_per_s')):>11} "
                f"{_num(c.get('majflt_per_s')):>9} {_size(c.get('swap_max_bytes')):>10} "
                f"{ev:>9} {_num(c.get('psi_some_avg10'), 1):>5}  {name}"
            )
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
