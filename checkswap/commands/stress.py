"""``checkswap stress``: see what swapping does, safely (a memory hog in a limited cgroup)."""

from __future__ import annotations

import argparse

from checkswap.commands import _args

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.env import Env

HELP = "make real swapping in a memory-limited cgroup, watch it, and clean up (needs root)"
DESCRIPTION = """\
Reproduce swapping safely: create a memory cgroup (v1 or v2) limited to --limit, run a hog in
it that fills --size with non-zero data and keeps touching it for --duration, so the excess
must go to swap; print the live `watch` lines meanwhile (swap-in = pages read back from swap
into RAM, swap-out = pages written to swap), then remove the hog, the cgroup and the
--swapfile. Also on Ctrl-C, SIGTERM and errors; a later run removes what a killed run
(kill -9) left behind (everything is named checkswap-stress-*). Only one run at a time.

Messages go to stderr, the watch lines to stdout.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = _args.command(sub, "stress", HELP, DESCRIPTION)
    _args.add_value(p, "--size", "SIZE", "memory the hog fills and touches (default: 256M)", "256M")
    _args.add_value(p, "--limit", "SIZE", "memory limit of the hog's cgroup (default: 64M)", "64M")
    _args.add_value(
        p,
        "--duration",
        "SECONDS",
        "how long the hog runs, filling included: 30, 2m (default: 30s)",
        "30s",
        what="duration",
    )
    p.add_argument(
        "--zero-share",
        type=_fraction,
        default=0.0,
        metavar="FRACTION",
        help="share of the hog's pages left zero-filled, 0 to 1: they swap out to the kernel's "
        "zero map (swpout_zero, 6.12+), with no device I/O (default: 0)",
    )
    p.add_argument(
        "--data",
        choices=("pattern", "half-random", "random"),
        default="pattern",
        help="what the other pages hold: pattern (compresses very well; the default), "
        "half-random (about 2:1, as zswap and zram store real data) or random (does not "
        "compress)",
    )
    p.add_argument(
        "--swapfile",
        metavar="SIZE",
        help="add a temporary swapfile of SIZE in /var/tmp for the run, removed afterwards "
        "(default: none, use the swap configured)",
    )
    _args.add_interval(p, "watch lines")
    _args.add_format(p, ("text", "json", "csv"), "watch lines as text (default), JSON lines or CSV")
    p.add_argument(
        "--cleanup",
        action="store_true",
        help="only remove what an earlier, killed run left behind, then exit",
    )
    _args.add_dry_run(p, "say what it would create and run; change nothing")
    return p


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r}: a fraction from 0 to 1, such as 0.3")
    return value


def run(args: argparse.Namespace, env: Env) -> int:
    from checkswap.commands.watch import stream
    from checkswap.lab import stress
    from checkswap.lab.change import locked, require_root
    from checkswap.lab.swapfile import add_steps, execute_add
    from checkswap.model.sample import live_samples
    from checkswap.render.progress import Progress
    from checkswap.source.root import Root
    from checkswap.units import parse_size

    size: int = args.size
    limit: int = args.limit
    duration: float = args.duration
    interval: float = args.interval
    swap_size = None
    if args.swapfile is not None:
        from checkswap.lab.swapfile import check_size, round_size

        raw = parse_size(args.swapfile, "--swapfile size")
        check_size(raw, args.swapfile)
        swap_size = round_size(raw)
    root = Root("/")
    err = env.stderr

    def say(line: str) -> None:
        err.write(f"stress: {line}\n")
        err.flush()

    def no_bar(total: int) -> Progress:
        return Progress(total, err, False)  # the stress swapfile is fallocated: nothing to show

    if args.dry_run:
        out = env.stdout
        left = stress.find_leftovers(root)
        plan = (
            None
            if args.cleanup
            else stress.plan_stress(
                root, size, limit, duration, swap_size, args.zero_share, args.data
            )
        )
        out.write("# checkswap stress --dry-run: nothing was changed\n")
        if left:
            out.write("# checkswap-stress-* objects from a killed run (or one in progress):\n")
            for step in stress.cleanup_steps(left):
                out.write(f"{step}\n")
        if plan is None:
            return 0
        if plan.swapfile is not None:
            for step in add_steps(plan.swapfile, no_bar):
                out.write(f"{step}\n")
        for step in stress.cgroup_steps(plan):
            out.write(f"{step}\n")
        out.write(f"# {stress.describe(plan)}\n")
        out.write("# then: kill the hog, rmdir the cgroup")
        out.write(", swapoff and delete the swapfile\n" if plan.swapfile else "\n")
        return 0

    require_root("stress")
    with locked("stress", wait=False):
        left = stress.find_leftovers(root)
        if left:
            say("removing what an earlier, killed run left behind:")
            with stress.signals_deferred():
                for step in stress.cleanup_steps(left):
                    say(f"$ {step}")
                    step.run()
        elif args.cleanup:
            say("nothing left behind by earlier runs")
        if args.cleanup:
            return 0
        plan = stress.plan_stress(
            root, size, limit, duration, swap_size, args.zero_share, args.data
        )
        made: list[str] = []
        watch = None
        try:
            if plan.swapfile is not None:
                with locked("swapfile", wait=True):
                    execute_add(plan.swapfile, no_bar, say)
                made.append("swapfile")
            for step in stress.cgroup_steps(plan):
                say(f"$ {step}")
                step.run()
                if "cgroup" not in made:  # made by the first step: remove it if the next fails
                    made.append("cgroup")
            say(stress.describe(plan))
            watch = stress.start_hog(plan, root.page_size)
            samples = live_samples(root, interval, None, env.monotonic, env.sleep)
            stream(root, watch.samples(samples), args.format, env, interval)
        finally:
            with stress.signals_deferred():
                stress.take_down(plan, watch, made, say)
        assert watch is not None
        failure = watch.failure()
        if failure is not None:
            say(failure)
            return 1
    return 0
