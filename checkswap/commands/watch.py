"""``checkswap watch``: swap-in and swap-out per second, true to the kernel's counters."""

from __future__ import annotations

import argparse
import itertools

from checkswap.commands import _args
from checkswap.fields import summary_record
from checkswap.model.rates import Interval, Tracker
from checkswap.model.sample import AreaChanges, live_samples, zswap_enabled
from checkswap.record.header import header_record, swap_areas_record
from checkswap.render.watch import make_renderer, show_all_tiers
from checkswap.source import open_root

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from collections.abc import Iterable

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


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = _args.command(sub, "watch", HELP, DESCRIPTION)
    # No default: -i given with --replay is refused, so "not given" must be seen.
    _args.add_interval(p, default=None, shown="1")
    _args.add_count(p, "samples")
    _args.add_format(
        p, ("text", "json", "csv"), "text lines (default), JSON lines, or CSV with a header row"
    )
    _args.add_root(p)
    _args.add_replay(p, "print a recording made by `checkswap record` as if live, rates recomputed")
    return p


def stream(
    root: Root,
    samples: Iterable[Sample],
    fmt: str,
    env: Env,
    interval: float,
    zswap_on: bool | None = None,
) -> int:
    """Render a run of samples: header, one record per interval, summary on any exit.

    ``zswap_on``: whether zswap was enabled where the samples were taken; None reads the
    root's parameter now (a live machine).
    """
    it = iter(samples)
    first = next(it, None)
    if first is None:
        return 0
    header = header_record(root, first, interval)
    all_tiers = show_all_tiers(header, zswap_enabled(root) if zswap_on is None else zswap_on)
    renderer = make_renderer(fmt, env.stdout, zswap=bool(header["zswap"]), all_tiers=all_tiers)
    renderer.header(header, first.wall)
    tracker = Tracker()
    page_size = root.page_size
    prev = first
    areas = AreaChanges(root, first)
    try:
        for cur in it:
            changed = areas.check(cur)
            if changed is not None:
                renderer.swap_areas(swap_areas_record(cur, *changed), cur.wall)
            iv = Interval(prev, cur)
            tracker.add(iv)
            renderer.interval(iv, tracker, page_size)
            prev = cur
    finally:
        areas.close()
        # Also on Ctrl-C and SIGTERM (raised as KeyboardInterrupt): the run's summary is the
        # original script's "maximum seen", and what a user stopping it wants to read.
        renderer.summary(summary_record(tracker, page_size), tracker)
    return 0


def run(args: argparse.Namespace, env: Env) -> int:
    speed = _args.replay_speed(args)
    count: int | None = args.count
    if args.replay is not None:
        return _replay(args, env, count, speed)
    interval = 1.0 if args.interval is None else float(args.interval)
    root = open_root(args.root, command="watch")
    samples = live_samples(root, interval, count, env.monotonic, env.sleep, env.clock)
    return stream(root, samples, args.format, env, interval)


def _replay(args: argparse.Namespace, env: Env, count: int | None, speed: float) -> int:
    from checkswap.record.format import Reading, first_header
    from checkswap.record.replay import RecordingRoot, paced, recorded_zswap_enabled

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
    # record writes its first ``tiers`` line right after the first sample: read up to the
    # second, so that zswap's parameter is the recorded one before the header is drawn (the
    # replaying machine's own says nothing about the recorded one).
    head = list(itertools.islice(samples, 2))
    zswap_on = recorded_zswap_enabled(reading.tiers)
    try:
        stream(
            root,
            paced(itertools.chain(head, samples), speed, env.monotonic, env.sleep),
            args.format,
            env,
            float(interval) if isinstance(interval, (int, float)) else 0.0,
            zswap_on,
        )
    finally:
        if reading.bad_lines:
            env.stderr.write(
                f"checkswap: {path}: {reading.bad_lines} truncated or corrupt lines skipped\n"
            )
    return 0
