"""/proc/pressure/memory: pressure stall information (PSI), 4.20+.

    some avg10=0.00 avg60=0.00 avg300=0.00 total=0
    full avg10=0.00 avg60=0.00 avg300=0.00 total=0

``some``: share of time at least one task stalled on memory; ``full``: all non-idle tasks stalled
at once. avgN are percentages; total is cumulative microseconds. The file is absent on kernels
without CONFIG_PSI, and reading it fails with EOPNOTSUPP on kernels booted with psi=0 (or built
with CONFIG_PSI_DEFAULT_DISABLED and not booted with psi=1): both are "no PSI", None.
"""

from __future__ import annotations

import errno
import re
from collections import namedtuple

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NamedTuple

    from checkswap.source.root import PreadFile, Root

PATH = "proc/pressure/memory"


if TYPE_CHECKING:

    class PressureLine(NamedTuple):
        avg10: float  # percent
        avg60: float
        avg300: float
        total_us: int  # cumulative stall time, microseconds

    class Pressure(NamedTuple):
        some: PressureLine | None
        full: PressureLine | None

else:
    PressureLine = namedtuple("PressureLine", "avg10 avg60 avg300 total_us")
    Pressure = namedtuple("Pressure", "some full")


def _parse_line(rest: str) -> PressureLine | None:
    items = rest.split()
    if (
        len(items) == 4
        and items[0][:6] == "avg10="
        and items[1][:6] == "avg60="
        and items[2][:7] == "avg300="
        and items[3][:6] == "total="
    ):
        # The layout every kernel since 4.20 prints: read it without building a dict.
        try:
            return PressureLine(
                float(items[0][6:]), float(items[1][6:]), float(items[2][7:]), int(items[3][6:])
            )
        except ValueError:
            pass
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if sep:
            values[key] = value
    try:
        return PressureLine(
            float(values["avg10"]),
            float(values["avg60"]),
            float(values["avg300"]),
            int(values["total"]),
        )
    except (KeyError, ValueError):
        return None


def line_of(psi: Pressure | None, kind: str) -> PressureLine | None:
    """The ``some`` or ``full`` line of a reading; None when there is no PSI or no such line."""
    if psi is None:
        return None
    return psi.some if kind == "some" else psi.full


def avg10(psi: Pressure | None, kind: str) -> float | None:
    """The kernel's 10 s average (percent) of ``some`` or ``full``; None without PSI."""
    line = line_of(psi, kind)
    return None if line is None else line.avg10


_AVG = (
    r"avg10=([0-9]+\.[0-9]+) avg60=([0-9]+\.[0-9]+) avg300=([0-9]+\.[0-9]+) total=([0-9]{1,20})\n"
)
# The whole file as every kernel since 4.20 prints it: one match instead of a parse per line.
# A total of more than 20 digits is no kernel's (u64): the line parser, which catches int()'s
# refusal of thousands of digits, decides what it is.
_kernel_shape: Callable[[str], re.Match[str] | None] | None = None
# Compiled for the 13th new text (~0.3 ms once, a few µs saved a parse): a command that reads
# the file once or twice never compiles it (as kernel/_text.WantedLines).
LINE_BY_LINE = 12
_parses = 0


# The last text parsed and its reading, as one tuple (threads never see a mixed pair). On a
# machine not under memory pressure the file does not change between ticks (avgs and totals
# stand still), and a reading is immutable: the same text gives the same object back, without
# the regex and eight number conversions that cost ~60 µs on a cache-cold tick.
_last: tuple[str, Pressure | None] | None = None


def parse_pressure(text: str) -> Pressure | None:
    global _last
    last = _last
    if last is not None and last[0] == text:
        return last[1]
    psi = _parse_pressure(text)
    _last = (text, psi)
    return psi


def _parse_pressure(text: str) -> Pressure | None:
    global _kernel_shape, _parses
    if _kernel_shape is None:
        _parses += 1
        if _parses > LINE_BY_LINE:
            _kernel_shape = re.compile(f"some {_AVG}full {_AVG}").fullmatch
    m = None if _kernel_shape is None else _kernel_shape(text)
    if m is not None:
        a, b, c, d, e, f, g, h = m.groups()
        # tuple.__new__ builds the very namedtuples their constructors build, without the
        # constructors' Python frames (~10 µs of a cold tick under pressure, where every
        # tick's text is new).
        new = tuple.__new__
        return new(
            Pressure,
            (
                new(PressureLine, (float(a), float(b), float(c), int(d))),
                new(PressureLine, (float(e), float(f), float(g), int(h))),
            ),
        )
    some = full = None
    for line in text.split("\n"):
        kind, _, rest = line.partition(" ")
        if kind == "some":
            some = _parse_line(rest)
        elif kind == "full":
            full = _parse_line(rest)
    if some is None and full is None:
        return None
    return Pressure(some, full)


def _unsupported(e: OSError) -> bool:
    # ENOENT: no CONFIG_PSI. EOPNOTSUPP: PSI compiled in but disabled at boot (psi=0).
    return e.errno in (errno.ENOENT, errno.EOPNOTSUPP, errno.ENOTSUP)


def read_pressure(root: Root) -> Pressure | None:
    try:
        return parse_pressure(root.read_text(PATH))
    except OSError as e:
        if _unsupported(e):
            return None
        raise


def read_pressure_file(f: PreadFile | None) -> Pressure | None:
    """Hot-path variant on a kept-open file; None when PSI is not available."""
    if f is None:
        return None
    try:
        return parse_pressure(f.read())
    except OSError as e:
        if _unsupported(e):
            return None
        raise
