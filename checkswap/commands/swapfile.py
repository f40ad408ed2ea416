"""``checkswap swapfile add|remove|list``: swap in an emergency, done right for the filesystem."""

from __future__ import annotations

import argparse

from checkswap.commands import _args
from checkswap.errors import Refused
from checkswap.lab.fstab import DEFAULT as FSTAB
from checkswap.units import parse_int, parse_size

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Callable

    from checkswap.env import Env
    from checkswap.lab.drain import DrainPlan
    from checkswap.lab.swapfile import AddPlan
    from checkswap.render.progress import Progress
    from checkswap.source.root import Root

HELP = (
    "add, remove, list swapfiles or turn any swap area off (safe to run twice; --dry-run shows "
    "the commands)"
)
ADD_DESCRIPTION = """\
Add a swapfile now: check the filesystem and the free space, create the file (O_EXCL, never
through a link), then through that one descriptor: chmod 600, allocate (fallocate; on btrfs a
no-copy-on-write file; zeros where swapon refuses a preallocated file), the swap header, swapon;
then check that the active area is that file. Refuses tmpfs, overlayfs, network filesystems, an
existing path, and a path where any directory on the way is owned by another user or writable by
others without the sticky bit (another user could swap the name for a link) (exit 1).
Two runs at once are serialised by a lock: the second finds the first one's file and stops.
Without --persist the swap is gone after a reboot.
"""
REMOVE_DESCRIPTION = """\
Turn a swapfile off (swapoff, showing how much is back in RAM, the rate and an ETA), take its line
out of fstab and delete it. Refuses partitions and zram, and refuses when the swap in use on the
file exceeds MemAvailable (swapoff would have to bring it all back into RAM) unless --force.
Ctrl-C or SIGTERM stops the swapoff: the file stays on, in fstab and on disk (exit 1).
"""
OFF_DESCRIPTION = """\
Turn one swap area off (a partition, a file, zram...), deleting nothing: swapoff, showing how
much is back in RAM, the rate, an ETA from the last seconds' rate, MemAvailable and the swap-in
rate it causes (a bar on a terminal, a line every few seconds on stderr otherwise). Refuses when
what it must bring back exceeds MemAvailable (for zram: its original size minus the memory zram
already uses) unless --force. Ctrl-C or SIGTERM stops the swapoff: the area stays on, with what
was read so far back in RAM (exit 1). It does not edit fstab: the area comes back at reboot.
"""


def _priority(text: str) -> int:
    return parse_int(text, "--priority", -1, 32767)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p: argparse.ArgumentParser = sub.add_parser("swapfile", help=HELP, description=HELP)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = _args.command(actions, "add", "create a swapfile and turn it on", ADD_DESCRIPTION)
    add.add_argument("size", metavar="SIZE", help="size of the swapfile: 512M, 1G, 1.5GiB")
    add.add_argument(
        "--path",
        help="where to create it (default: /swapfile-checkswap-YYYYMMDD, today's local date)",
    )
    add.add_argument(
        "--priority",
        type=_priority,
        metavar="N",
        help="swap priority, -1 to 32767; higher is used first (default: the kernel's, "
        "decreasing from -2)",
    )
    add.add_argument(
        "--persist",
        action="store_true",
        help="also add a line to fstab so the swap comes back after a reboot",
    )
    _args.add_fstab(add, FSTAB, "the fstab --persist edits (default: /etc/fstab)")
    add.add_argument(
        "--zero-fill",
        action="store_true",
        help="write zeros instead of fallocate (slower; what older kernels needed on xfs)",
    )
    _args.add_dry_run(add)

    rm = _args.command(actions, "remove", "turn a swapfile off and delete it", REMOVE_DESCRIPTION)
    rm.add_argument("path", metavar="PATH", help="the swapfile")
    rm.add_argument(
        "--force",
        action="store_true",
        help="remove even when its swap in use exceeds MemAvailable",
    )
    _args.add_fstab(rm, FSTAB, "the fstab to take its line out of (default: /etc/fstab)")
    _args.add_dry_run(rm)

    off = _args.command(
        actions, "off", "turn any swap area off, showing its progress", OFF_DESCRIPTION
    )
    off.add_argument("area", metavar="AREA", help="the swap area as /proc/swaps names it")
    off.add_argument(
        "--force",
        action="store_true",
        help="turn it off even when what it must bring back exceeds MemAvailable",
    )
    _args.add_dry_run(off)

    ls = actions.add_parser(
        "list",
        help="every swap area: kind, size, used, priority and the disk under it",
        description="Every swap area in /proc/swaps with its kind (file, partition, zram...), "
        "size, used, priority, the filesystem a swapfile is on and the disks underneath "
        "(through loop, dm and md layers). Works unprivileged.",
    )
    _args.add_format(
        ls,
        ("text", "json"),
        'a table (default) or one JSON line {"devices": [...]} (doctor\'s device objects)',
    )
    _args.add_root(ls)
    return p


def run(args: argparse.Namespace, env: Env) -> int:
    if args.action == "add":
        return run_add(args, env)
    if args.action == "list":
        return run_list(args, env)
    if args.action == "off":
        return run_off(args, env)
    return run_remove(args, env)


def run_list(args: argparse.Namespace, env: Env) -> int:
    import json

    from checkswap.errors import kernel_file_error
    from checkswap.model.topology import swap_devices
    from checkswap.render.swapfile import list_table
    from checkswap.source import open_root

    root = open_root(args.root, needs=("proc/swaps",), command="swapfile list")
    try:
        devices = swap_devices(root)
    except OSError as e:
        raise kernel_file_error(root.join("proc/swaps"), e) from None
    if args.format == "json":
        env.stdout.write(json.dumps({"devices": devices}) + "\n")
        return 0
    for line in list_table(devices):
        env.stdout.write(line + "\n")
    return 0


def _notifier(env: Env) -> Callable[[str], None]:
    def notify(message: str) -> None:
        env.stderr.write(f"checkswap: {message}\n")
        env.stderr.flush()

    return notify


def run_add(args: argparse.Namespace, env: Env) -> int:
    from checkswap.lab import fstab as fstab_file
    from checkswap.lab import swapfile
    from checkswap.lab.change import locked, require_root
    from checkswap.render.progress import stderr_progress
    from checkswap.source.root import Root

    raw_size = parse_size(args.size, "swapfile size")
    swapfile.check_size(raw_size, args.size)
    size = swapfile.round_size(raw_size)
    swapfile.check_priority(args.priority)
    root = Root("/")
    path = args.path or swapfile.default_path()
    fstab = args.fstab if args.persist else None
    out = env.stdout

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    def progress(total: int) -> Progress:
        return stderr_progress(env, total)

    if args.dry_run:
        plan = swapfile.plan_add(root, size, path, args.priority, fstab, args.zero_fill)
        say(f"# checkswap swapfile add --dry-run: nothing was changed. {_about(plan)}")
        say(
            f"# checked: {plan.path} does not exist, and no other user can rename or replace "
            "anything on the way to it (every directory root's, writable only by root or sticky)"
        )
        for step in swapfile.add_steps(plan, progress):
            say(str(step))
        note = swapfile.fallback_note(plan)
        if note:
            say(f"# {note}")
        if fstab is None:
            say("# without --persist this swap is gone after a reboot")
        return 0

    require_root("swapfile add")
    with locked("swapfile", wait=True, notify=_notifier(env)):
        # Planned under the lock: a concurrent run that got here first has made the file.
        plan = swapfile.plan_add(root, size, path, args.priority, fstab, args.zero_fill)
        say(f"# {_about(plan)}")
        try:
            swapfile.execute_add(plan, progress, say)
        except KeyboardInterrupt:
            # Not the monitors' quiet exit 0: the user asked for swap and did not get it.
            raise Refused(f"interrupted: no swap added, {plan.path} removed") from None
    say("")
    for line in swapfile.swap_state(root):
        say(line)
    say("")
    if fstab is None:
        say(
            "This swap is gone after a reboot; to keep it, add this line to /etc/fstab "
            f"(or add it with --persist):\n  {fstab_file.swap_line(plan.path, plan.priority)}"
        )
    else:
        say(f"Added to {fstab} (previous version kept in {fstab_file.backup_path(fstab)}).")
    return 0


def _about(plan: AddPlan) -> str:
    from checkswap.units import format_bytes

    return (
        f"{format_bytes(plan.size)} swapfile {plan.path} on {plan.mount.mount_point} "
        f"({plan.fstype}, {plan.mount.source})"
    )


def run_remove(args: argparse.Namespace, env: Env) -> int:
    from checkswap.lab import swapfile
    from checkswap.lab.change import locked, require_root
    from checkswap.render.swapfile import drain_about
    from checkswap.source.root import Root

    root = Root("/")
    say = _say(env)

    if args.dry_run:
        plan = swapfile.plan_remove(root, args.path, args.fstab, args.force)
        say("# checkswap swapfile remove --dry-run: nothing was changed")
        if plan.drain is not None:
            say(f"# {drain_about(plan.drain)}")
        for step in swapfile.remove_steps(plan):
            say(str(step))
        return 0

    require_root("swapfile remove")
    with locked("swapfile", wait=True, notify=_notifier(env)):
        plan = swapfile.plan_remove(root, args.path, args.fstab, args.force)
        estimate = plan.drain

        def swapoff() -> None:
            assert estimate is not None
            _drain(root, estimate, env, say, " (nothing deleted, fstab unchanged)")

        if estimate is not None:
            say(f"# {drain_about(estimate)}")
        try:
            for step in swapfile.remove_steps(plan, swapoff):
                say(f"$ {step}")
                step.run()
        except KeyboardInterrupt:
            raise Refused(
                f"interrupted: {plan.path} may be only partly removed; see checkswap swapfile list"
            ) from None
    say("")
    for line in swapfile.swap_state(root):
        say(line)
    return 0


def run_off(args: argparse.Namespace, env: Env) -> int:
    from checkswap.lab import drain, swapfile
    from checkswap.lab.change import locked, require_root
    from checkswap.render.swapfile import drain_about
    from checkswap.source.root import Root

    root = Root("/")
    say = _say(env)

    def plan() -> drain.DrainPlan:
        area = drain.find_area(root, args.area)
        if area is None:
            raise Refused(f"{args.area} is not an active swap area (see checkswap swapfile list)")
        return drain.plan_drain(root, area, args.force)

    if args.dry_run:
        estimate = plan()
        say("# checkswap swapfile off --dry-run: nothing was changed")
        say(f"# {drain_about(estimate)}")
        say(f"swapoff {estimate.name}    # swapoff(2) by checkswap, showing its progress")
        return 0

    require_root("swapfile off")
    try:
        with locked("swapfile", wait=True, notify=_notifier(env)):
            estimate = plan()
            say(f"# {drain_about(estimate)}")
            say(f"$ swapoff {estimate.name}")
            _drain(root, estimate, env, say, "")
    except KeyboardInterrupt:
        # Before swapoff began, or as it ended: not the monitors' quiet exit 0 either way.
        state = "still on" if drain.find_area(root, args.area) is not None else "off"
        raise Refused(f"interrupted: {args.area} is {state}") from None
    say("")
    for line in swapfile.swap_state(root):
        say(line)
    return 0


def _say(env: Env) -> Callable[[str], None]:
    """Lines on stdout, flushed at once: a drain can run for hours."""

    def say(line: str) -> None:
        env.stdout.write(line + "\n")
        env.stdout.flush()

    return say


def _drain(root: Root, plan: DrainPlan, env: Env, say: Callable[[str], None], kept: str) -> None:
    """swapoff with the progress bar on stderr and the outcome said on stdout; exit 1 when
    interrupted (the area is still on: ``kept`` says what else was left alone)."""
    from checkswap.lab import drain
    from checkswap.render.progress import stderr_progress
    from checkswap.render.swapfile import (
        drain_detail,
        drain_done,
        drain_interrupted,
        drain_stopping,
    )

    bar = stderr_progress(env, plan.used)

    told: list[bool] = []

    def report(r: drain.Reading) -> None:
        if r.stopping and not told:
            told.append(True)
            bar.clear()
            env.stderr.write(f"checkswap: {drain_stopping(plan.name)}\n")
            env.stderr.flush()
        bar.update(r.moved, drain_detail(r))

    try:
        last = drain.drain(root, plan, report, clock=env.monotonic)
    except drain.Interrupted as e:
        bar.clear()
        raise Refused(drain_interrupted(plan.name, plan.used, e.reading, e.on) + kept) from None
    bar.finish(last.moved, drain_detail(last))
    say(f"# {drain_done(plan.name, last)}")
