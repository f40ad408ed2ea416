"""monitoring-plugins conventions: threshold ranges and performance data.

Range syntax (monitoring-plugins development guidelines, "Threshold and ranges")::

    10       alert if < 0 or > 10     (outside 0..10)
    10:      alert if < 10            (outside 10..inf)
    ~:10     alert if > 10            (outside -inf..10)
    10:20    alert if < 10 or > 20    (outside 10..20)
    @10:20   alert if >= 10 and <= 20 (inside 10..20, ends included)

Perfdata: ``'label'=value[UOM];[warn];[crit];[min];[max]``, warn and crit written as the user
gave them.
"""

from __future__ import annotations

import math
import re

from checkswap.errors import BadInput

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# re.A: a threshold is echoed into perfdata, which graphers parse as ASCII.
_RANGE_RE = re.compile(rf"^(@)?(?:(~|{_NUM})?:)?({_NUM})?$", re.A)


class Range:
    __slots__ = ("end", "inside", "start", "text")

    def __init__(self, text: str, start: float, end: float, inside: bool) -> None:
        self.text = text
        self.start = start
        self.end = end
        self.inside = inside

    def alerts(self, value: float) -> bool:
        """True when ``value`` should raise this threshold's state."""
        within = self.start <= value <= self.end
        return within if self.inside else not within

    def describe(self) -> str:
        """In words: ``> 10``, ``< 5``, ``outside 5..10``, ``inside 5..10``."""
        if self.inside:
            return f"inside {_fmt(self.start)}..{_fmt(self.end)}"
        if self.start == -math.inf:
            return f"> {_fmt(self.end)}"
        if self.end == math.inf:
            return f"< {_fmt(self.start)}"
        if self.start == 0:
            return f"> {_fmt(self.end)}"  # the figures checked are never negative
        return f"outside {_fmt(self.start)}..{_fmt(self.end)}"

    def __repr__(self) -> str:
        return f"Range({self.text!r})"


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def parse_range(text: str, flag: str = "threshold") -> Range:
    """A monitoring-plugins range; BadInput (UNKNOWN for a plugin) when it is not one."""
    shown = repr(text) if len(text) <= 40 else repr(text[:32] + "...")
    m = _RANGE_RE.match(text.strip())
    if not text.strip() or not m or (m.group(2) is None and m.group(3) is None):
        raise BadInput(
            f"{flag} {shown}: not a threshold range; use 10 (alert above 10), 10: (below 10), "
            "~:10, 10:20 (outside) or @10:20 (inside)"
        )
    inside = m.group(1) == "@"
    start_text, end_text = m.group(2), m.group(3)
    if start_text is None:
        start = 0.0
    elif start_text == "~":
        start = -math.inf
    else:
        start = float(start_text)
    end = math.inf if end_text is None else float(end_text)
    if (math.isinf(end) and end_text is not None) or (math.isinf(start) and start_text != "~"):
        # 1e999 or 400 digits: float() says inf, which would silently disable the threshold.
        raise BadInput(f"{flag} {shown}: a number too large for a threshold")
    if start > end:
        raise BadInput(f"{flag} {shown}: the start {_fmt(start)} is above the end {_fmt(end)}")
    return Range(text.strip(), start, end, inside)


def perfdata(
    label: str,
    value: float | int | None,
    uom: str = "",
    warn: Range | None = None,
    crit: Range | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> str:
    """One perfdata item; an unknown value is ``U`` as the guidelines say."""
    if value is None:
        shown = "U"
        uom = ""
    else:
        shown = _num(value)
    parts = [
        f"{_quote(label)}={shown}{uom}",
        warn.text if warn else "",
        crit.text if crit else "",
        "" if minimum is None else _num(minimum),
        "" if maximum is None else _num(maximum),
    ]
    return ";".join(parts).rstrip(";")


def _num(value: float) -> str:
    """Whole numbers in full (byte counts), others to 6 significant digits, never exponents."""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}" if 1e-4 <= abs(value) < 1e6 else f"{value:.6f}".rstrip("0")


def _quote(label: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.-]+", label):
        return label
    return "'" + label.replace("'", "''") + "'"
