"""``checkswap record``: raw samples to disk for ``report`` and ``watch --replay``."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from checkswap.commands import _args
from checkswap.errors import BadInput
from checkswap.model.rates import Interval
from checkswap.units import format_bytes, parse_size

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Callable

    from checkswap.env import Env
    from checkswap.model.sample import Sample
    from checkswap.record.trigger import Trigger
    from checkswap.record.writer import Writer
    from checkswap.source.root import Root

HELP = "record raw swap counters to disk (for report and watch --replay)"
DESCRIPTION = """\
Record the kernel's raw swap counters every interval, one JSON line per sample, flushed as it
is written. Rates are not stored: `report` and `watch --replay` recompute them exactly as
`watch` does, so a recording can be re-read with any window or threshold.

  swap-in:  pages read back from swap into RAM (pswpin). Processes wait for these.
  swap-out: pages written from RAM to swap (pswpout).

Files: -o FILE appends to FILE (rotated to FILE.1, FILE.2...); --dir DIR writes dated files
such as 2026-11-27-2107-checkswap.jsonl (local time). At most --keep files of --rotate-size are
kept, so the default never holds more than 640 MiB. A full disk does not stop the recorder: it
warns once, drops samples, and resumes writing when space returns. One recorder per file or
directory: a second `record` on the same -o FILE or --dir DIR is refused (a lock the kernel
releases when the first one ends, even by kill -9).

--trigger RATE: when swap-in + swap-out crosses RATE pages/s, record the processes and cgroups
by swap activity at that moment (what `top --format json` shows), at most once a minute while
it stays above. Ctrl-C or SIGTERM stop the recorder cleanly.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = _args.command(sub, "record", HELP, DESCRIPTION)
    where = p.add_mutually_exclusive_group()
    _args.add_output(
        where,
        "FILE",
        "append to FILE, which must be new, empty or an earlier recording, in a directory "
        "that exists (files are mode 0640; a symlink, device or FIFO there is refused)",
    )
    where.add_argument(
        "--dir",
        metavar="DIR",
        help="write dated files into DIR, made if missing (its parent must exist) (default: "
        "the current directory)",
    )
    _args.add_interval(p)
    _args.add_count(p, "intervals", shown="never")
    _args.add_value(
        p,
        "--rotate-size",
        "SIZE",
        "start a new file when this one reaches SIZE: 64M, 1G (default: 64M)",
        "64M",
        convert=_rotate_size,
    )
    _args.add_value(
        p,
        "--keep",
        "N",
        "keep at most N files, the current one included; older ones are deleted (default: 10)",
        "10",
    )
    p.add_argument("--gzip", action="store_true", help="compress rotated files")
    _args.add_value(
        p,
        "--trigger",
        "RATE",
        "capture the top processes and cgroups when swap-in + swap-out exceeds RATE pages/s "
        "(default: off)",
    )
    _args.add_delayacct(p)
    _args.add_root(p)
    return p


def _rotate_size(text: str) -> int:
    size = parse_size(text, "--rotate-size")
    if size < 4096:
        raise BadInput(f"invalid --rotate-size {text!r}: use at least 4K")
    return size


def run(args: argparse.Namespace, env: Env) -> int:
    from checkswap.lab import delayacct
    from checkswap.source import open_root

    interval: float = args.interval
    root = open_root(args.root)
    with delayacct.for_run(args.delayacct, root, env.stderr) as since:
        return _run(args, env, root, interval, since)


def _run(args: argparse.Namespace, env: Env, root: Root, interval: float, since: int | None) -> int:
    from checkswap.model.sample import live_samples
    from checkswap.model.tiers import read_state
    from checkswap.record.header import recording_header
    from checkswap.record.writer import Writer

    trigger = None
    if args.trigger is not None:
        from checkswap.model.procs import Scanner
        from checkswap.record.trigger import Trigger, most_active

        scanner = Scanner(root, cgroups=True, pss=False, delays_since=since)
        trigger = Trigger(args.trigger, lambda: most_active(scanner.sample(), root.page_size))

    def warn(message: str) -> None:
        env.stderr.write(f"checkswap record: {message}\n")
        env.stderr.flush()

    page_size = root.page_size
    writer = Writer(
        path=args.output,
        directory=None if args.output else (args.dir or "."),
        rotate_size=args.rotate_size,
        keep=args.keep,
        compress=args.gzip,
        header=lambda: recording_header(root, root.clock()[1], interval),
        warn=warn,
        wall=env.wall,
    )
    writer.start()
    # On stderr, so stdout stays free; said once the file is open, so the name is the real one.
    until = (
        f"for {args.count} interval{'s' if args.count != 1 else ''} (or until Ctrl-C)"
        if args.count
        else "until Ctrl-C or SIGTERM"
    )
    env.stderr.write(
        f"checkswap record: writing {writer.current or args.output or args.dir or '.'} every "
        f"{interval:g} s, {until}; rotating at {format_bytes(args.rotate_size)}, "
        f"keeping {args.keep} files\n"
    )
    env.stderr.flush()
    try:
        samples = live_samples(root, interval, args.count, env.monotonic, env.sleep)
        record(samples, writer, page_size, trigger, tiers=lambda: read_state(root))
    finally:
        writer.close()
    return 0


def record(
    samples: Iterable[Sample],
    writer: Writer,
    page_size: int,
    trigger: Trigger | None,
    tiers: Callable[[], dict[str, object]] | None = None,
) -> None:
    """Write each sample as it comes; the trigger's capture follows the sample that fired it,
    and the tiers' state (``tiers``) follows the first sample and then one every
    TIERS_RECORD_EVERY_S of the samples' clock."""
    from checkswap.model.tiers import TIERS_RECORD_EVERY_S
    from checkswap.record.format import sample_to_record, tiers_record

    prev: Sample | None = None
    tiers_at: float | None = None
    for cur in samples:
        writer.write(sample_to_record(cur, page_size))
        if tiers is not None and (tiers_at is None or cur.mono - tiers_at >= TIERS_RECORD_EVERY_S):
            writer.write(tiers_record(cur.wall, tiers()))
            tiers_at = cur.mono
        if trigger is not None and prev is not None:
            rec = trigger.check(Interval(prev, cur))
            if rec is not None:
                writer.write(rec)
        prev = cur
