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

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.source.root import Root

# The counters checkswap follows. swap_ra/swap_ra_hit: swap readahead (4.12+).
# workingset_refault_anon: 5.9+; before that only workingset_refault existed, for both kinds.
COUNTERS = (
    "pswpin",
    "pswpout",
    "pgmajfault",
    "pgpgin",
    "pgpgout",
    "zswpin",
    "zswpout",
    "zswpwb",
    "swpin_zero",
    "swpout_zero",
    "workingset_refault_anon",
    "swap_ra",
    "swap_ra_hit",
)
_WANTED = frozenset(COUNTERS)


def parse_vmstat(text: str, wanted: frozenset[str] | None = _WANTED) -> dict[str, int]:
    """Counters by name; ``wanted=None`` keeps every field. Malformed lines are skipped."""
    out: dict[str, int] = {}
    for line in text.split("\n"):
        name, _, value = line.partition(" ")
        if wanted is not None and name not in wanted:
            continue
        try:
            out[name] = int(value)
        except ValueError:
            continue
    return out


def read_vmstat(root: Root, wanted: frozenset[str] | None = _WANTED) -> dict[str, int]:
    return parse_vmstat(root.read_text("proc/vmstat"), wanted)
