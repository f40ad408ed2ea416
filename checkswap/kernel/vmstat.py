"""/proc/vmstat: one ``name value`` pair per line, counters since boot, in pages or events.

    pgmajfault 144
    pswpin 0
    pswpout 0
    swpin_zero 0
    zswpin 0

Fields come and go with kernel versions and config (zswpin needs CONFIG_ZSWAP, swpin_zero is
6.12+), so a field that is absent is missing (None), never 0. Unknown lines are skipped so future
kernels still parse.
"""

from __future__ import annotations

from checkswap.kernel._text import WantedLines, int_value, name_value_lines

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.source.root import Root

# The counters whose per-interval deltas checkswap reports (model/rates.py), in the order their
# notes name them. workingset_refault_anon: 5.9+; before that only workingset_refault existed,
# for both kinds.
RATED = (
    "pswpin",
    "pswpout",
    "pgmajfault",
    "zswpin",
    "zswpout",
    "zswpwb",
    "swpin_zero",
    "swpout_zero",
    "workingset_refault_anon",
    "pgpgin",
    "pgpgout",
)
# Everything checkswap reads: the rated counters, and swap readahead (4.12+), which doctor reads
# as since-boot totals only.
COUNTERS = (*RATED, "swap_ra", "swap_ra_hit")
_WANTED = frozenset(COUNTERS)
_parse_wanted = WantedLines(COUNTERS, " ", int_value)


def parse_vmstat(text: str, wanted: frozenset[str] | None = _WANTED) -> dict[str, int]:
    """Counters by name; ``wanted=None`` keeps every field. Malformed lines are skipped."""
    if wanted is _WANTED:
        return _parse_wanted(text)  # every tick: one regex instead of ~190 split lines
    return name_value_lines(text, " ", int_value, wanted)


def read_vmstat(root: Root, wanted: frozenset[str] | None = _WANTED) -> dict[str, int]:
    return parse_vmstat(root.read_text("proc/vmstat"), wanted)
