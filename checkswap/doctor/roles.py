"""The machine roles of ``doctor --role`` and ``serve --role``: the one list, and their advice.

Kept apart from the rest of doctor/ and free of imports so that the commands can build their
``--role`` choices and help from it at parse time without loading the checks (start-up).
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False  # typing costs ~3 ms of doctor's and serve's start-up; mypy sees it

if TYPE_CHECKING:
    from typing import NamedTuple

    class Role(NamedTuple):
        name: str
        swappiness_max: int  # above this: swappiness-high-for-role, and the fix sets this value
        swappiness_advised: str
        swap_advice: str
        wants_swap: bool
        examples: str = ""  # typical machines, for --help and docs/doctor.md

else:
    Role = namedtuple(
        "Role",
        "name swappiness_max swappiness_advised swap_advice wants_swap examples",
        defaults=("",),
    )


ROLES = {
    r.name: r
    for r in (
        Role("general", 60, "10-60 (60 is the kernel default)", "a modest amount is fine", True),
        Role("database", 10, "1-10", "small, as a safety net", True, "MySQL, PostgreSQL"),
        Role("compute", 1, "<= 1", "none preferred", False, "hypervisors, HPC, batch"),
        Role(
            "nosql",
            1,
            "<= 1",
            "none preferred (vendor docs)",
            False,
            "Cassandra, Elasticsearch, Couchbase",
        ),
        Role("desktop", 60, "60, or up to 100+ with zram", "yes", True),
    )
}
NAMES = tuple(ROLES)
DEFAULT = "general"


def help_table() -> str:
    """The roles for a command's --help: one line each, swappiness advised / swap."""
    lines = ["roles (swappiness advised / swap; typical machines):"]
    for r in ROLES.values():
        line = f"  {r.name:<9} {r.swappiness_advised} / {r.swap_advice}"
        lines.append(f"{line}; {r.examples}" if r.examples else line)
    return "\n".join(lines) + "\n"
