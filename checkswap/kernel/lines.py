"""A fast path for "one field per line" kernel files read every tick (/proc/vmstat, /proc/meminfo).

The set and order of lines in these files is fixed for a running kernel, so after one full parse
the line number of each wanted field is remembered and later reads look only at those lines.
Every remembered line is checked to still start with its field's name; if the file changed shape
(a different root, a replayed bundle from another kernel) the full parser runs again. The result
is always exactly what the full parser gives.

Given ``wanted`` (the names the full parser keeps), two more changes are caught at the same line
count: a wanted line that was malformed is remembered too (its int() fails, so the full parser
decides), and a wanted name that was absent is looked for with one substring search each (a few
microseconds; a bundle crafted from two kernels must not hide a counter that is there).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from collections.abc import Callable


class IndexedParser:
    def __init__(
        self,
        full: Callable[[str], dict[str, int]],
        separator: str,
        kb_to_bytes: bool,
        wanted: frozenset[str] | None = None,
    ) -> None:
        self._full = full
        self._sep = separator  # what follows the name: " " in vmstat, ":" in meminfo
        self._kb = kb_to_bytes
        self._wanted = wanted
        self._layout: list[tuple[int, str, str, int]] | None = None
        self._absent: list[str] = []
        self._absent_first: tuple[str, ...] = ()
        self._nlines = -1

    def __call__(self, text: str) -> dict[str, int]:
        lines = text.split("\n")
        layout = self._layout
        if (
            layout is not None
            and len(lines) == self._nlines
            and not any(p in text for p in self._absent)
            and not text.startswith(self._absent_first)
        ):
            out = {}
            kb = self._kb
            try:
                for i, name, prefix, n in layout:
                    line = lines[i]
                    if line[:n] != prefix:
                        break
                    if kb and line[-3:] == " kB":
                        out[name] = int(line[n:-3]) * 1024
                    else:
                        out[name] = int(line[n:])
                else:
                    return out
            except ValueError:
                pass  # a malformed line: let the full parser decide what it means
        out = self._full(text)
        self._nlines = len(lines)
        sep = self._sep
        keep = out.keys() if self._wanted is None else self._wanted
        self._layout = [
            (i, name, name + sep, len(name) + len(sep))
            for i, line in enumerate(lines)
            for name in (line.partition(sep)[0],)
            if name in keep
        ]
        seen = {name for _, name, _, _ in self._layout}
        missing = [name + sep for name in sorted(keep) if name not in seen]
        self._absent = ["\n" + p for p in missing]
        self._absent_first = tuple(missing)
        return out
