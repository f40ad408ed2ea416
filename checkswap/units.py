"""Parsing of the durations and sizes users type, and formatting for humans.

Accepted forms are the ones DESIGN.md promises: SECONDS as ``2``, ``0.5``, ``2s``, ``5m``; SIZE as
``512M``, ``1G``, ``1.5GiB``. Anything else raises ``BadInput`` with a suggestion.

Digits are ASCII only (``re.ASCII``): Python's ``\\d`` and ``int()`` also take ``٣`` or ``²``,
which no one means on a command line and which ``int()`` then refuses half the time. Values are
bounded so that a 400-digit number is bad input here, not an OverflowError in ``time.sleep``,
``os.ftruncate`` or ``listen()`` later.
"""

from __future__ import annotations

import math
import re
import time

from checkswap.errors import BadInput

# Patterns are compiled on first use (re's own cache): a command compiles only the ones its
# arguments need, and a plain number needs none (_plain).
_DURATION_RE = r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$"
_DURATION_UNITS = {"": 1.0, "ms": 0.001}
for _names, _secs in (
    (("s", "sec", "secs", "second", "seconds"), 1.0),
    (("m", "min", "mins", "minute", "minutes"), 60.0),
    (("h", "hour", "hours"), 3600.0),
    (("d", "day", "days"), 86400.0),
):
    _DURATION_UNITS.update(dict.fromkeys(_names, _secs))

_SIZE_RE = r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgtp]?)((?:i?b)?)\s*$"

# A year: longer than any interval or sample anyone means, far below what time.sleep and
# threading timeouts accept (they overflow near 2**63 ns, ~292 years).
MAX_DURATION = 366 * 86400.0
# off_t is signed 64-bit: nothing larger can be a file or a memory size.
MAX_SIZE = 2**63 - 1
# Counts become list lengths, listen() backlogs and loop bounds; a C int holds them all.
MAX_COUNT = 2**31 - 1
_SIZE_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
_BLANKS = " \t\n\r\f\v"  # what \s is under re.ASCII; str.strip() would also take U+3000


def _plain(text: str) -> str | None:
    """The text without blanks around it when it is just a number (``2``, ``0.5``, ``.5``,
    ``5.``) as the patterns read one: the commonest value, taken without compiling a pattern."""
    t = text.strip(_BLANKS)
    return t if t.isascii() and t.replace(".", "", 1).isdigit() else None


def parse_duration(text: str, what: str = "interval") -> float:
    """Seconds from ``2``, ``0.5``, ``2s``, ``5m``, ``1h``; must be > 0 and finite."""
    plain = _plain(text)
    if plain is not None:
        return _bounded_duration(float(plain), text, what)
    m = re.match(_DURATION_RE, text, re.I | re.A)
    if not m or m.group(2).lower() not in _DURATION_UNITS:
        hint = ""
        stripped = text.strip().lower()
        if stripped.startswith("-"):
            # The same words as for 0: -1 and 0 are one mistake, not two.
            hint = ": it must be greater than 0"
        elif re.fullmatch(r"[\d.]+\s*[a-z]+", stripped):
            hint = "; units are ms, s, m, h or d, e.g. 2s or 5m"
        else:
            hint = "; give seconds such as 2, 0.5, 2s or 5m"
        raise BadInput(f"invalid {what} {_short(text)}{hint}")
    return _bounded_duration(float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()], text, what)


def _bounded_duration(value: float, text: str, what: str) -> float:
    if value <= 0:
        raise BadInput(f"invalid {what} {_short(text)}: it must be greater than 0")
    if not value <= MAX_DURATION:  # also inf: float() of 400 digits
        raise BadInput(f"invalid {what} {_short(text)}: at most 366 days")
    return value


def parse_size(text: str, what: str = "size") -> int:
    """Bytes from ``512M``, ``1G``, ``1.5GiB``, ``4096``. Binary multiples (K = 1024)."""
    m = re.match(_SIZE_RE, text, re.I | re.A)
    if text.strip().startswith("-") and re.match(_SIZE_RE, text.strip()[1:], re.I | re.A):
        raise BadInput(f"invalid {what} {_short(text)}: it must be greater than 0")
    if not m or (m.group(3).lower() == "ib" and not m.group(2)):  # "1iB": i only after K, M...
        raise BadInput(f"invalid {what} {_short(text)}; give a size such as 512M, 1G or 1.5GiB")
    number, scale = m.group(1), 1024 ** _SIZE_POWERS[m.group(2).lower()]
    # A whole number is read as an int, so a byte count is exact to the last byte (a float
    # is not above 2**53); at most 20 digits, so int() is never given a 400-digit string.
    value: float = (
        int(number) * scale if number.isdigit() and len(number) <= 20 else (float(number) * scale)
    )
    if value <= 0:
        raise BadInput(f"invalid {what} {_short(text)}: it must be greater than 0")
    if value > MAX_SIZE:  # also inf: float() of 400 digits
        raise BadInput(f"invalid {what} {_short(text)}: at most 8 EiB")
    if value < 1:  # 0.1 or 0.5b passed the check above on the float, then int() made them 0
        raise BadInput(f"invalid {what} {_short(text)}: less than one byte")
    return int(value)


def parse_count(text: str, what: str = "count") -> int:
    plain = text.strip(_BLANKS)
    plain = plain[1:] if plain[:1] == "+" else plain
    if not (plain.isascii() and plain.isdigit()):  # ASCII digits, an optional "+", blanks
        hint = " (it must be at least 1)" if text.strip().startswith("-") else ""
        raise BadInput(f"invalid {what} {_short(text)}: give a whole number such as 60{hint}")
    # At most 11 significant digits get converted: int() of a 5000-digit string raises
    # ValueError on 3.11+ and takes quadratic time before.
    digits = text.strip().lstrip("+").lstrip("0")
    value = int(digits) if 0 < len(digits) <= 11 else (0 if not digits else MAX_COUNT + 1)
    if value < 1:
        raise BadInput(f"invalid {what} {_short(text)}: it must be at least 1")
    if value > MAX_COUNT:
        raise BadInput(f"invalid {what} {_short(text)}: at most {MAX_COUNT}")
    return value


def _short(text: str) -> str:
    """The user's text for a message, cut so a 400-digit value stays one readable line."""
    return repr(text) if len(text) <= 40 else repr(text[:32] + "...")


_SPEED_RE = r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*[xX]?\s*$"


def parse_speed(text: str) -> float:
    """A replay speed factor: ``10``, ``0.5``, ``10x``; 0 plays without pauses."""
    m = re.match(_SPEED_RE, text, re.A)
    if m is None:
        hint = " (it must be ≥ 0; 0: no pauses)" if text.strip().startswith("-") else ""
        raise BadInput(f"invalid --speed {_short(text)}: give a factor such as 1, 10 or 0{hint}")
    value = float(m.group(1))
    if value > 1e9:  # also inf: beyond this every pause is below a nanosecond anyway
        raise BadInput(f"invalid --speed {_short(text)}: at most 1000000000")
    return value


_RATE_RE = r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*$"
_MAX_RATE = 1e12  # pages/s: more than any machine can move (4 PB/s with 4 KiB pages)


def parse_rate(text: str, what: str) -> float:
    """A swap rate threshold in pages per second (``--spike``, ``--trigger``): ``1000``."""
    # A regex, not float(): float() also takes "nan", "1e999", "1_000" and non-ASCII digits.
    m = re.match(_RATE_RE, text, re.A)
    if m is None:
        hint = ""
        number = text.strip().lower().split("/")[0].split("pages")[0].strip()
        plain = len(number) <= 20 and re.match(_RATE_RE, number, re.A)
        if number != text.strip().lower() and plain:
            hint = f" (give the number alone: {number})"
        elif text.strip().startswith("-"):
            hint = " (it must be ≥ 0)"
        raise BadInput(f"invalid {what} {_short(text)}: give pages per second, e.g. 1000{hint}")
    value = float(m.group(1))
    if value > _MAX_RATE:
        raise BadInput(f"invalid {what} {_short(text)}: at most {_MAX_RATE:.0e} pages per second")
    return value


def parse_int(text: str, what: str, lo: int, hi: int) -> int:
    """A whole number in [lo, hi], ASCII digits only (``int()`` also reads "٣" as 3)."""
    t = text.strip()
    digits = t[1:] if t[:1] in "+-" else t
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        raise BadInput(f"invalid {what} {_short(text)}: give a whole number from {lo} to {hi}")
    value = int(t)
    if not lo <= value <= hi:
        raise BadInput(f"{what} {value}: must be between {lo} and {hi}")
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


def iso_utc(wall: float | None) -> str | None:
    """``2026-11-27T13:43:17.123+00:00``; the same text as datetime's isoformat(milliseconds),
    made without importing datetime (start-up time)."""
    if wall is None:
        return None
    # As datetime.fromtimestamp splits it: the fraction scaled on its own, rounded half to
    # even. wall * 1e6 would round the product first (2251799814.1339993 -> ...134000 µs).
    frac, whole = math.modf(wall)
    us = round(frac * 1e6)
    if us < 0:
        whole, us = whole - 1, us + 1_000_000
    if us >= 1_000_000:
        whole, us = whole + 1, us - 1_000_000
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(whole)))
    return f"{stamp}.{us // 1000:03d}+00:00"
