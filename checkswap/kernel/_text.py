"""The token parsers the kernel's text files share, written once.

Three shapes recur across /proc: ``name value`` lines (vmstat, cgroup memory.stat), ``Key: N kB``
lines (meminfo, /proc/PID/status, smaps_rollup) and names with the seq_file octal escapes
(/proc/swaps, mountinfo). Every reader of those shapes uses these functions, so a malformed line
means the same thing (skipped, never a traceback or a 0) in every file.

Lines end at "\\n" alone, as the kernel writes them: str.splitlines() would also split on form
feeds or U+2028 inside a hostile file name. A line's name is what comes before the first
separator, so ``name_value_lines(text, " ", ...)`` agrees with ``line.partition(" ")``.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

_OCTAL = re.compile(r"\\([0-7]{3})")


def int_value(rest: str) -> int | None:
    """The value of a ``name value`` line (int() semantics: surrounding blanks allowed)."""
    try:
        return int(rest)
    except ValueError:
        return None


def kb_value(rest: str) -> int | None:
    """The value of a ``Key: N kB`` line in bytes; a value without a unit stays a count."""
    parts = rest.split()
    try:
        n = int(parts[0])
    except (IndexError, ValueError):
        return None
    return n * 1024 if len(parts) > 1 and parts[1] == "kB" else n


def name_value_lines(
    text: str,
    sep: str,
    value: Callable[[str], int | None],
    wanted: Collection[str] | None = None,
) -> dict[str, int]:
    """Every ``name<sep>rest`` line whose value parses, by name; the last one wins."""
    out: dict[str, int] = {}
    for line in text.split("\n"):
        name, found, rest = line.partition(sep)
        if not found or (wanted is not None and name not in wanted):
            continue
        v = value(rest)
        if v is not None:
            out[name] = v
    return out


class WantedLines:
    """``name_value_lines`` for a fixed set of names, found by one compiled regex.

    The hot path of every tick: /proc/vmstat has ~190 lines of which checkswap wants 13, and
    splitting them all into strings cost more than the rest of the tick. The pattern anchors
    each name at a line start and right before the separator, so it finds exactly the lines
    ``name_value_lines`` keeps (an absent name simply does not match: no per-name search), and
    captures the value when the line has the kernel's own shape (blanks, digits, ``unit``, end
    of line). When every found line has that shape, one dict comprehension is the whole parse
    and gives what line by line gives, order and duplicates included; any other line sends the
    text to ``name_value_lines``, which decides what it is worth.
    """

    __slots__ = ("_findall", "_parses", "_pattern", "_scale", "_sep", "_value", "_wanted")

    # The pattern costs ~0.2 ms to compile and saves ~15 µs a parse: the first parses go line
    # by line, so a command that reads the file once or twice (doctor, top, check, watch -n 1)
    # never compiles it, and a watch running for minutes compiles it at its 13th tick.
    LINE_BY_LINE = 12

    def __init__(
        self,
        names: Collection[str],
        sep: str,
        value: Callable[[str], int | None],
        unit: str = "",
        scale: int = 1,
    ) -> None:
        # Longest first is not needed for correctness (the separator must follow the name), but
        # it spares a backtrack for names that prefix others (swap_ra, swap_ra_hit).
        alts = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        self._pattern = f"\n({alts}){re.escape(sep)}(?: *([0-9]+){re.escape(unit)}(?=\n))?"
        self._findall: Callable[[str], list[tuple[str, str]]] | None = None
        self._parses = 0
        self._wanted = frozenset(names)
        self._sep = sep
        self._value = value
        self._scale = scale

    def __call__(self, text: str) -> dict[str, int]:
        findall = self._findall
        if findall is None:
            self._parses += 1
            if self._parses <= self.LINE_BY_LINE:
                return name_value_lines(text, self._sep, self._value, self._wanted)
            findall = self._findall = re.compile(self._pattern).findall
        scale = self._scale
        try:
            # int("") for a line of another shape: the careful parse below takes over.
            return {name: int(digits) * scale for name, digits in findall(f"\n{text}\n")}
        except ValueError:
            return name_value_lines(text, self._sep, self._value, self._wanted)


def key_value(text: str, key: str) -> str | None:
    """The rest of the first line starting with ``key`` (stripped), found without splitting."""
    if text.startswith(key):
        i = 0
    else:
        i = text.find("\n" + key)
        if i < 0:
            return None
        i += 1
    start = i + len(key)
    end = text.find("\n", start)
    return text[start : end if end >= 0 else len(text)].strip()


def unescape(name: str) -> str:
    """Decode the kernel's ``\\NNN`` octal escapes (seq_file_path with " \\t\\n\\\\")."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), name)


def blank_fields(line: str) -> list[str]:
    """A line split on blanks only: the kernel escapes nothing else, so a name may hold a form
    feed or U+2028, which str.split() would also split on."""
    return [f for f in line.replace("\t", " ").split(" ") if f]
