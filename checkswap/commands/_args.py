"""The command-line options, declared once, in named groups; commands compose their parsers.

A command builds its parser from these groups (as httpie's cli/definition.py does) and passes
what is its own: a default, the noun in the help ("samples", "refreshes"), the formats it
writes. The flag names, short options and defaults are interface (docs/interface.md); declared
here, they cannot drift apart between commands. An option only one command has is declared in
that command, through ``add_value`` when it takes a SECONDS, SIZE, N or RATE.

Values are converted while parsing (``type=``) by the parsers in units.py: a bad value raises
BadInput with units' message, which ``cli.main`` prints as the one line it is (argparse only
catches ValueError and TypeError, which BadInput is not). String defaults are converted the
same way, so ``args.interval`` is a float whatever the command line said.

This imports only argparse, errors and units, which every command loads anyway (and, for
--role, doctor/roles.py, which imports nothing): ``--help`` costs no more for it.
"""

from __future__ import annotations

import argparse

from checkswap.errors import BadInput
from checkswap.units import parse_count, parse_duration, parse_rate, parse_size, parse_speed

TYPE_CHECKING = False  # typing costs ~4 ms of start-up, watch's included; mypy still sees it

if TYPE_CHECKING:
    from typing import Callable

FORMATS = ("text", "json", "csv")


# --- converters (type=) --------------------------------------------------------------------


def seconds(what: str = "interval") -> Callable[[str], float]:
    """SECONDS: ``2``, ``0.5``, ``2s``, ``5m``; ``what`` names it in the error message."""

    def convert(text: str) -> float:
        return parse_duration(text, what)

    return convert


def count(what: str = "count") -> Callable[[str], int]:
    """COUNT or N: a whole number, at least 1."""

    def convert(text: str) -> int:
        return parse_count(text, what)

    return convert


def size(what: str = "size") -> Callable[[str], int]:
    """SIZE in bytes: ``512M``, ``1G``, ``1.5GiB``."""

    def convert(text: str) -> int:
        return parse_size(text, what)

    return convert


def rate(what: str) -> Callable[[str], float]:
    """RATE: pages per second, such as ``1000``."""

    def convert(text: str) -> float:
        return parse_rate(text, what)

    return convert


# The converter of each kind of value, by the metavar --help shows for it: an option's metavar
# and the parsing of its value cannot disagree.
_KINDS: dict[str, Callable[[str], Callable[[str], object]]] = {
    "SECONDS": seconds,
    "SIZE": size,
    "N": count,
    "RATE": rate,
}


def add_value(
    p: argparse.ArgumentParser,
    flag: str,
    metavar: str,
    help: str,
    default: str | None = None,
    what: str | None = None,
    convert: Callable[[str], object] | None = None,
) -> None:
    """A command's own option taking a SECONDS, SIZE, N or RATE; ``what`` names it in an error
    message (default: the flag), ``convert`` replaces the kind's converter (a minimum, say)."""
    p.add_argument(
        flag,
        default=default,
        metavar=metavar,
        type=convert or _KINDS[metavar](what or flag),
        help=help,
    )


# --- the parser of one command -------------------------------------------------------------


def command(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    help: str,
    description: str,
) -> argparse.ArgumentParser:
    """The sub-parser of ``name``; its description is printed as written (paragraphs, tables)."""
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return p


# --- source: where the kernel is read from -------------------------------------------------


def add_root(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--root",
        metavar="DIR|BUNDLE",
        help="read the kernel from DIR/proc and DIR/sys instead of / (a fixture tree, or a "
        "host's /proc and /sys mounted elsewhere), or replay a bundle made by "
        "`checkswap snapshot`",
    )


def add_replay(p: argparse.ArgumentParser, replay_help: str) -> None:
    """--replay FILE and --speed X; read them back with ``replay_speed``. The command's
    -i/--interval must have no default (None), so that -i given with --replay is seen."""
    p.add_argument("--replay", metavar="FILE", help=replay_help)
    # Its default is None, not 1: given without --replay it is a mistake, not a no-op.
    p.add_argument(
        "--speed",
        metavar="X",
        type=parse_speed,
        help="with --replay: X times real time (10 or 10x: ten times faster); 0 replays "
        "without pauses (default: 1)",
    )


def replay_speed(args: argparse.Namespace) -> float:
    """The replay's speed factor, once --replay, --speed, -i and --root are known to fit
    together: each given where it means nothing is refused, never silently ignored."""
    if args.replay is None:
        if args.speed is not None:
            raise BadInput("--speed applies to --replay FILE only (live, use -i to set the pace)")
        return 1.0
    if args.root is not None:
        raise BadInput("--replay FILE and --root DIR cannot be used together: pick one source")
    if args.interval is not None:
        raise BadInput(
            "-i does not apply to --replay: a recording plays at the interval it was "
            "recorded with; to play it faster, use --speed (e.g. --speed 10)"
        )
    return 1.0 if args.speed is None else float(args.speed)


# --- timing: how often and how many --------------------------------------------------------


def add_interval(
    p: argparse.ArgumentParser,
    between: str = "samples",
    default: str | None = "1",
    shown: str | None = None,
) -> None:
    """-i/--interval SECONDS. A ``default`` of None lets the command tell "not given" apart
    (watch refuses -i with --replay; top refreshes once); ``shown`` is the default as said."""
    p.add_argument(
        "-i",
        "--interval",
        default=default,
        metavar="SECONDS",
        type=seconds(),
        help=f"time between {between}: 2, 0.5, 2s, 5m (default: {shown or default})",
    )


def add_count(
    p: argparse.ArgumentParser,
    stop_after: str | None,
    default: str | None = None,
    shown: str = "run until stopped",
) -> None:
    """-n/--count COUNT: "stop after COUNT <stop_after>", or with None, "take COUNT samples"."""
    p.add_argument(
        "-n",
        "--count",
        default=default,
        metavar="COUNT",
        type=count(),
        help=(
            f"stop after COUNT {stop_after} (default: {shown})"
            if stop_after is not None
            else f"samples to take (default: {default})"
        ),
    )


def add_sample(p: argparse.ArgumentParser, default: str, what: str, help: str) -> None:
    """--sample SECONDS: how long doctor and check measure when nothing else gives a rate."""
    p.add_argument("--sample", default=default, metavar="SECONDS", type=seconds(what), help=help)


# --- output --------------------------------------------------------------------------------


def add_format(p: argparse.ArgumentParser, choices: tuple[str, ...], help: str) -> None:
    """--format, always ``text`` unless asked; ``help`` says what each choice writes."""
    assert set(choices) <= set(FORMATS), choices
    p.add_argument("--format", choices=choices, default="text", help=help)


def add_output(
    p: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup,
    metavar: str,
    help: str,
    required: bool = False,
) -> None:
    """-o/--output: the file a command writes (refused when it is a symlink, device, FIFO...)."""
    p.add_argument("-o", "--output", required=required, metavar=metavar, help=help)


# --- what the machine is for ---------------------------------------------------------------


def add_role(p: argparse.ArgumentParser, what: str) -> None:
    """--role: the names and the default are doctor/roles.py's, the one list of roles."""
    from checkswap.doctor import roles  # free of imports, for this (start-up)

    p.add_argument(
        "--role",
        choices=roles.NAMES,
        default=roles.DEFAULT,
        help=f"{what} (default: {roles.DEFAULT})",
    )


# --- delay accounting ---------------------------------------------------------------------


def add_delayacct(p: argparse.ArgumentParser) -> None:
    """--delayacct (top, dash, record, serve); lab/delayacct.py switches it."""
    p.add_argument(
        "--delayacct",
        action="store_true",
        help="switch the kernel's delay accounting (kernel.task_delayacct) on for this run, as "
        "root, for the wait figures; it goes back off when the last checkswap that needs it "
        "exits (a run killed with SIGKILL is repaired by the next one)",
    )


# --- changing the system (swapfile, stress) ------------------------------------------------


def add_dry_run(
    p: argparse.ArgumentParser, help: str = "print the commands, change nothing"
) -> None:
    p.add_argument("--dry-run", action="store_true", help=help)


def add_fstab(p: argparse.ArgumentParser, default: str, help: str) -> None:
    p.add_argument("--fstab", default=default, metavar="PATH", help=help)
