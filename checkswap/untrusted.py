"""JSON that came from another machine: recordings, bundle manifests, check state files.

Such text is data, never trusted to be sane. ``loads`` parses one document with a bound on its
size, refuses the NaN and ±Infinity literals (Python's json accepts them by default), and turns
the C scanner's RecursionError on deeply nested input into the same ``UntrustedData`` every other
defect raises. A float literal too large for a double (``1e999``) still parses, as inf: no hook
per number, which would slow a month-long recording by a third; ``number`` refuses it where the
value is used. ``number`` and ``count`` check the values a caller is about to compute with, so a
``"wall": 1e300`` or a 400-digit integer is a bad value, not an OverflowError three calls later.

Callers catch ``UntrustedData`` (a ValueError, so existing ``except ValueError`` paths that
count a bad line keep working) at the point where they know what "bad" means: a recording
counts the line, a manifest is one clear error.
"""

from __future__ import annotations

import json
import math

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Any


# Larger than any line checkswap writes (a raw sample is ~2 KiB, a trigger capture with the
# top processes and cgroups ~40 KiB) and small enough that one bad line costs nothing.
MAX_LINE_BYTES = 1024 * 1024
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024

# Counters are unsigned 64-bit in the kernel; anything larger is not a counter.
MAX_COUNTER = 2**64 - 1
# Wall clocks between 1970 and 2200, monotonic clocks below ~300 years of uptime.
MAX_WALL = 7258118400.0
MAX_MONO = 1e10


class UntrustedData(ValueError):
    """A document or value from a file that is not sane; the message says what."""


def _no_constant(name: str) -> Any:
    raise UntrustedData(f"{name} is not a number checkswap accepts")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def loads(text: str | bytes, limit: int = MAX_LINE_BYTES) -> Any:
    """One JSON document, bounded in size and depth, with only finite numbers."""
    if len(text) > limit:
        raise UntrustedData(f"longer than {limit} bytes")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UntrustedData(f"not UTF-8 ({e.reason})") from None
    try:
        value, end = _DECODER.raw_decode(text.strip())
    except RecursionError:
        raise UntrustedData("nested too deeply") from None
    except UntrustedData:
        raise
    except ValueError as e:
        raise UntrustedData(str(e)) from None
    if end != len(text.strip()):
        raise UntrustedData("extra data after the document")
    return value


def number(value: object, lo: float, hi: float, what: str) -> float:
    """``value`` as a float if it is a JSON number (not a bool) within [lo, hi]."""
    if type(value) is int:
        if not lo <= value <= hi:
            raise UntrustedData(f"{what} {value} is out of range")
        return float(value)
    if type(value) is float and math.isfinite(value) and lo <= value <= hi:
        return value
    raise UntrustedData(f"{what} is not a number in range")


def count(value: object, what: str, hi: int = MAX_COUNTER) -> int:
    """``value`` as an int if it is a non-negative JSON integer no larger than ``hi``."""
    if type(value) is int and 0 <= value <= hi:
        return value
    raise UntrustedData(f"{what} is not a counter")
