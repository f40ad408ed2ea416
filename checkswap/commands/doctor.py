"""``checkswap doctor``: is the swap set up sanely, and is it hurting? One verdict, worst first."""

from __future__ import annotations

import argparse

from checkswap.commands import _args
from checkswap.doctor import roles

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.env import Env

HELP = "check the swap setup (disks, swappiness, sizes) and whether it is hurting now"
DESCRIPTION = f"""\
Diagnose the swap: what each swap area sits on (file, partition, dm/md/loop layers, down to the
disks: rotational, virtual, network-backed, zram), swappiness for the machine's role, sizes, and
a verdict from a short sample:

  quiet      less than 1 page/s in or out, however full the swap is
  swapping   1 page/s or more, below the thrashing thresholds
  thrashing  swap-in >= 100 pages/s while PSI memory full >= 5 % of the sample
             (no PSI: swap-in >= 1000 pages/s, half of it refaults)
  no-swap    no swap area is active

swap-in: pages read back from swap into RAM (pswpin); swap-out: pages written to swap (pswpout).
Each finding has evidence (figures and the files they came from) and fix commands.

Exit status (monitoring-plugins): 0 no finding is a warning or worse, 1 the worst is a warning,
2 one is critical, 3 an error or bad input.

{roles.help_table()}"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = _args.command(sub, "doctor", HELP, DESCRIPTION)
    _args.add_role(p, "what the machine is for; sets the swappiness advised")
    _args.add_sample(
        p,
        "3",
        "sample",
        "how long to measure swap activity for the verdict: 3, 0.5, 5s (default: 3); "
        "a snapshot bundle is measured over its captured samples instead",
    )
    _args.add_format(
        p, ("text", "json"), "short text, worst first (default), or one complete JSON object"
    )
    _args.add_root(p)
    return p


def run(args: argparse.Namespace, env: Env) -> int:
    from checkswap.doctor.report import diagnose, exit_status
    from checkswap.render.doctor import render_text
    from checkswap.source import open_root

    sample_s: float = args.sample
    root = open_root(args.root, needs=("proc/meminfo",), command="doctor")
    report = diagnose(root, args.role, sample_s, sleep=env.sleep, monotonic=env.monotonic)
    if args.format == "json":
        import json  # only for this format: start-up

        env.stdout.write(json.dumps(report) + "\n")
    else:
        env.stdout.write(render_text(report))
    return exit_status(report)
