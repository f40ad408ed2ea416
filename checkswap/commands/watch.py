"""``checkswap watch``: swap-in and swap-out per second, true to the kernel's counters."""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterable

from checkswap.errors import BadInput
from checkswap.fields import sample_record, summary_record
from checkswap.model.rates import Interval, Tracker
from checkswap.model.sample import live_samples
from checkswap.record.header import header_record
from checkswap.render.watch import make_renderer
from checkswap.source import open_root
from checkswap.units import parse_count, parse_duration, parse_speed

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.env import Env
    from checkswap.model.sample import Sample
    from checkswap.source.root import Root

HELP = "swap-in/swap-out per second, with 1/5/15-minute averages and the peak (default command)"
DESCRIPTION = """\
Print swap activity once per interval, from the kernel's own counters in /proc/vmstat.

  swap-in  (in):  pages read back from swap into RAM (pswpin). Processes wait for these.
  swap-out (out): pages written from RAM to swap (pswpout).

Rates are pages per second over each interval (and MiB/s). The first line is an interval, never
since-boot totals; those are in the header. Zero-filled pages (kernel 6.12+) never reach the swap
device and are reported apart. Ctrl-C, SIGTERM or --count end the run with a summary.
"""


def add_common_root(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--root",
        metavar="DIR|BUNDLE",
        help="read the kernel from DIR/proc and DIR/sys instead of / (a fixture tree, or a "
        "host's /proc and /sys mounted elsewhere), or replay a bundle made by "
        "`checkswap snapshot`",
    )


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p: argparse.ArgumentParser = sub.add_parser(
        "watch",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-i",
        "--interval",
        metavar="SECONDS",
        help="time between samples: 2, 0.5, 2s, 5m (default: 1)",
    )
    p.add_argument(
        "-n",
        "--count",
        metavar="COUNT",
        help="stop after COUNT samples (default: run until stopped)",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "csv"),
        default="text",
        help="text lines (default), JSON lines, or CSV with a header row",
    )
    add_common_root(p)
    p.add_argument(
        "--replay",
        metavar="FILE",
        help="print a recording made by `checkswap record` as if live, rates recomputed",
    )
    p.add_argument(
        "--speed",
        metavar="X",
        help="with --replay: X times real time; 0 replays without pauses (default: 1)",
    )
    return p


def stream(root: Root, samples: Iterable[Sample], fmt: str, env: Env, interval: float) -> int:
    """Render a run of samples: header, one record per interval, summary on any exit."""
    it = iter(samples)
    first = next(it, None)
    if first is None:
        return 0
    header = header_record(root, first, interval)
    renderer = make_renderer(fmt, env.stdout, zswap=bool(header["zswap"]))
    renderer.header(header, first.wall)
    tracker = Tracker()
    page_size = root.page_size
    prev = first
    try:
        for cur in it:
            iv = Interval(prev, cur)
            tracker.add(iv)
            renderer.sample(sample_record(iv, tracker, page_size), cur.wall)
            prev = cur
    finally:
        # Also on Ctrl-C and SIGTERM (raised as KeyboardInterrupt): the run's summary is the
        # original script's "maximum seen", and what a user stopping it wants to read.
        renderer.summary(summary_record(tracker, page_size), tracker)
    return 0


def run(args: argparse.Namespace, env: Env) -> int:
    count = parse_count(args.count) if args.count is not None else None
    if args.replay is not None:
        if args.interval is not None:
            raise BadInput(
                "-i does not apply to --replay: a recording plays at the interval it was "
                "recorded with; to play it faster, use --speed (e.g. --speed 10)"
            )
        return _replay(args, env, count)
    if args.speed is not None:
        # Its default is None, so given without --replay it is a mistake, not a no-op.
        raise BadInput("--speed applies to --replay FILE only (live, use -i to set the pace)")
    interval = parse_duration(args.interval if args.interval is not None else "1")
    root = open_root(args.root)
    samples = live_samples(root, interval, count, env.monotonic, env.sleep, env.clock)
    return stream(root, samples, args.format, env, interval)


def _replay(args: argparse.Namespace, env: Env, count: int | None) -> int:
    from checkswap.record.format import Reading, first_header
    from checkswap.record.replay import RecordingRoot, paced

    if args.root is not None:
        raise BadInput("--replay FILE and --root DIR cannot be used together: pick one source")
    speed = parse_speed(args.speed if args.speed is not None else "1")
    path = args.replay
    reading = Reading()
    samples = reading.files([path])
    header = first_header(path)
    page = header.get("page_size_bytes") if header else None
    interval = header.get("interval_s") if header else None
    root = RecordingRoot(path, header, page if isinstance(page, int) else 0)
    if not isinstance(page, int):
        # A recording without a header: the raw lines carry the page size.
        first = next(samples, None)
        root.page_size = reading.page_size or 0
        samples = itertools.chain([] if first is None else [first], samples)
    if count is not None:
        samples = itertools.islice(samples, count + 1)
    try:
        stream(
            root,
            paced(samples, speed, env.monotonic, env.sleep),
            args.format,
            env,
            float(interval) if isinstance(interval, (int, float)) else 0.0,
        )
    finally:
        if reading.bad_lines:
            env.stderr.write(
                f"checkswap: {path}: {reading.bad_lines} truncated or corrupt lines skipped\n"
            )
    return 0
