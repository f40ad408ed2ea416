"""Parsing of the durations and sizes users type, and formatting for humans.

Accepted forms are the ones DESIGN.md promises: SECONDS as ``2``, ``0.5``, ``2s``, ``5m``; SIZE as
``512M``, ``1G``, ``1.5GiB``. Anything else raises ``BadInput`` with a suggestion.
"""

from __future__ import annotations

import math
import re

from checkswap.errors import BadInput

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.I)
_DURATION_UNITS = {"": 1.0, "ms": 0.001}
for _names, _secs in (
    (("s", "sec", "secs", "second", "seconds"), 1.0),
    (("m", "min", "mins", "minute", "minutes"), 60.0),
    (("h", "hour", "hours"), 3600.0),
    (("d", "day", "days"), 86400.0),
):
    _DURATION_UNITS.update(dict.fromkeys(_names, _secs))

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgtp]?)(i?b?)\s*$", re.I)
_SIZE_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_duration(text: str, what: str = "interval") -> float:
    """Seconds from ``2``, ``0.5``, ``2s``, ``5m``, ``1h``; must be > 0 and finite."""
    m = _DURATION_RE.match(text)
    if not m or m.group(2).lower() not in _DURATION_UNITS:
        hint = ""
        stripped = text.strip().lower()
        if stripped.startswith("-"):
            hint = f" (the {what} must be positive)"
        elif re.fullmatch(r"[\d.]+\s*[a-z]+", stripped):
            hint = "; units are ms, s, m, h or d, e.g. 2s or 5m"
        else:
            hint = "; give seconds such as 2, 0.5, 2s or 5m"
        raise BadInput(f"invalid {what} {text!r}{hint}")
    value = float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
    if not math.isfinite(value) or value <= 0:
        raise BadInput(f"invalid {what} {text!r}: it must be greater than 0")
    return value


def parse_size(text: str, what: str = "size") -> int:
    """Bytes from ``512M``, ``1G``, ``1.5GiB``, ``4096``. Binary multiples (K = 1024)."""
    m = _SIZE_RE.match(text)
    if not m:
        raise BadInput(f"invalid {what} {text!r}; give a size such as 512M, 1G or 1.5GiB")
    value = float(m.group(1)) * 1024 ** _SIZE_POWERS[m.group(2).lower()]
    if value <= 0:
        raise BadInput(f"invalid {what} {text!r}: it must be greater than 0")
    return int(value)


def parse_count(text: str, what: str = "count") -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadInput(f"invalid {what} {text!r}: give a whole number such as 60") from None
    if value < 1:
        raise BadInput(f"invalid {what} {text!r}: it must be at least 1")
    return value


def format_bytes(n: float | None, digits: int = 1) -> str:
    """1536 -> '1.5 KiB'. None -> '-'."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.{digits}f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
