"""``checkswap dash``: the live full-screen dashboard (rich, from the ``dash`` extra).

The same figures as ``watch`` (one ``sample_record`` per interval, through rates.py), plus who
is in swap and the swap areas, on one screen that redraws only what changed. ``--replay`` plays a
recording through the same code. Not a terminal: one line pointing to ``watch``, exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import deque

from checkswap.commands import _args
from checkswap.errors import BadInput, CheckswapError

# `dash --help` loads this module: what only a run needs is imported in the run's functions,
# and typing (~2 ms) not at all; mypy still sees the imports.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from checkswap.env import Env
    from checkswap.model.areas import SwapAreas
    from checkswap.model.sample import Sample
    from checkswap.render.dash import DashState, Screen
    from checkswap.render.terminal import Terminal
    from checkswap.source.root import Root

HISTORY = 1024  # intervals held back during a live pause: as many as a chart keeps

HELP = "live full-screen dashboard: rates, charts, PSI, swap areas, top processes (needs a tty)"
DESCRIPTION = """\
A live full-screen view of swapping: swap-out and swap-in per second with charts, the 1/5/15-
minute averages and the peak, memory pressure (PSI), swap used per area (disk, zram and zswap
told apart), and the processes and cgroups holding and moving swap.

  swap-out: pages written from RAM to swap (pswpout).
  swap-in:  pages read back from swap into RAM (pswpin); processes wait for these.

Keys: q quit, s sort (swap held / swap activity), p pause, ? help. Needs a terminal; for pipes,
logs and scripts use `checkswap watch` (text, JSON lines or CSV). Needs rich:
pip install 'checkswap[dash]'.
"""


class Quit(Exception):
    pass


class Update:
    """One interval for the screen: its sample record and what was seen alongside it."""

    __slots__ = ("devices", "record", "top", "verdict")

    def __init__(
        self,
        record: dict[str, object],
        top: dict[str, object] | None,  # the ``top --format json`` processes record
        devices: list[dict[str, object]] | None,
        verdict: str,
    ) -> None:
        self.record, self.top, self.devices, self.verdict = record, top, devices, verdict

    def apply(self, state: DashState) -> None:
        state.update(self.record, self.top, self.devices, self.verdict)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = _args.command(sub, "dash", HELP, DESCRIPTION)
    # No default: -i given with --replay is refused (a recording keeps its own interval).
    _args.add_interval(p, default=None, shown="1; live only")
    _args.add_replay(p, "play a recording made by `checkswap record` instead of the live system")
    _args.add_delayacct(p)
    _args.add_root(p)
    return p


class Dashboard:
    """The screen, the keys and the clock between samples."""

    def __init__(
        self, term: Terminal, screen: Screen, state: DashState, env: Env, replay: bool
    ) -> None:
        self.term = term
        self.screen = screen
        self.state = state
        self.env = env
        self.replay = replay
        self._held = 0.0  # seconds a replay spent paused
        self._held_since: float | None = None
        self._pending: deque[Update] = deque(maxlen=HISTORY)

    def draw(self, full: bool = False) -> None:
        width, height = self.term.size()
        self.term.write(self.screen.update(self.state, width, height, full=full))

    def handle(self, key: str) -> None:
        state = self.state
        if key == "resize":
            self.draw(full=True)
            return
        if key in ("q", "Q"):
            raise Quit
        if state.help:
            state.help = False  # any key closes the help
        elif key == "?" or key == "h":
            state.help = True
        elif key in ("s", "S"):
            state.next_sort()
        elif key in ("p", "P", " "):
            self.toggle_pause()
        else:
            return
        self.draw()

    def clock(self) -> float:
        """The monotonic clock, stopped while a replay is paused."""
        now = self.env.monotonic()
        held = self._held + (now - self._held_since if self._held_since is not None else 0.0)
        return now - held

    def toggle_pause(self) -> None:
        state = self.state
        state.paused = not state.paused
        if not state.paused:
            for update in self._pending:
                update.apply(state)
            self._pending.clear()
        if not self.replay:
            return
        if state.paused:
            self._held_since = self.env.monotonic()
        elif self._held_since is not None:
            self._held += self.env.monotonic() - self._held_since
            self._held_since = None

    def wait(self, delay: float) -> None:
        """Sleep ``delay`` seconds of ``clock()``, serving keys and resizes meanwhile.

        Live, a pause only freezes the screen (sampling goes on, so the averages stay true);
        in a replay it stops the clock, so the recording resumes where it stopped.
        """
        deadline = self.clock() + delay
        while True:
            hold = self.replay and self.state.paused
            remaining = 3600.0 if hold else deadline - self.clock()
            if remaining <= 0:
                return
            try:
                events = self.term.wait(remaining)
            except EOFError:
                raise Quit from None
            for key in events:
                self.handle(key)

    def show(self, update: Update | None = None) -> None:
        if update is not None:
            if self.state.paused:
                # Live: the screen stays as it was; the intervals wait for the resume.
                self._pending.append(update)
                return
            update.apply(self.state)
        self.draw()


def verdict_of(rec: dict[str, object]) -> str:
    from checkswap.model.verdict import verdict

    return verdict(rec)[0]


def play(
    samples: Iterator[Sample],
    page_size: Callable[[], int],
    dash: Dashboard,
    areas: SwapAreas | None,
    top: Callable[[Sample], dict[str, object] | None],
    all_tiers: Callable[[Sample], bool] | None = None,
) -> int:
    """Feed intervals to the screen until the samples end; returns the number of intervals.
    ``top`` gets the tick's sample, so the process scan does not read meminfo again.
    ``all_tiers`` gets the first sample at the first interval and says whether every tier's
    rates get rows of their own (a replay's first ``tiers`` line follows its first sample)."""
    from checkswap.fields import sample_record
    from checkswap.model.rates import Interval, Tracker

    first = next(samples, None)
    devices = areas.get() if areas is not None else None
    dash.state.devices = devices
    dash.show()
    if first is None:
        return 0
    tracker = Tracker()
    prev = first
    for cur in samples:
        if all_tiers is not None and tracker.samples == 0:
            dash.state.all_tiers = all_tiers(first)
        iv = Interval(prev, cur)
        tracker.add(iv)
        rec = sample_record(iv, tracker, page_size())
        if areas is not None and areas.live_use:
            devices = areas.get()
        dash.show(Update(rec, top(cur), devices, verdict_of(rec)))
        prev = cur
    return tracker.samples


def run(args: argparse.Namespace, env: Env) -> int:
    speed = _args.replay_speed(args)
    interval = 1.0 if args.interval is None else float(args.interval)
    from checkswap.record.format import first_header
    from checkswap.record.replay import RecordingRoot
    from checkswap.source import open_root

    root: Root
    if args.replay is not None:
        header = first_header(args.replay)  # BadInput when the file cannot be read
        page = header.get("page_size_bytes") if header else None
        root = RecordingRoot(args.replay, header, page if isinstance(page, int) else 0)
    else:
        root = open_root(args.root)
    if not _isatty(env.stdout) or not _isatty(sys.stdin):
        raise BadInput(
            "dash needs a terminal (stdin and stdout are not both a tty); for pipes, "
            "logs and scripts use `checkswap watch` (or `watch --format json`)"
        )
    try:
        from rich.console import Console
    except ImportError:
        raise CheckswapError("dash needs the rich library: pip install 'checkswap[dash]'") from None
    from checkswap.render.dash import DashState, Screen
    from checkswap.render.terminal import Terminal

    replay = args.replay is not None
    if replay:
        name = os.path.basename(args.replay)
        state = DashState(
            root.hostname,
            root.kernel_release,
            interval,
            f"replay {name} " + (f"{speed:g}x" if speed else "unpaced"),
        )
        state.top_note = "processes are not in a recording"
    else:
        bundle = root.replays
        source = f"bundle {os.path.basename(str(args.root).rstrip('/'))}" if bundle else "live"
        state = DashState(root.hostname, root.kernel_release, interval, source)
    with Terminal(sys.stdin.fileno(), env.stdout) as term:
        width, height = term.size()
        console = Console(
            file=env.stdout,
            force_terminal=True,
            width=width,
            height=height,
            highlight=False,
            emoji=False,
            markup=False,
        )
        dash = Dashboard(term, Screen(console), state, env, replay=replay)
        try:
            if replay:
                _replay(args.replay, root, speed, dash)
            else:
                from checkswap.lab import delayacct

                # What it switched is said on stderr, under the screen: shown after dash exits.
                with delayacct.for_run(args.delayacct, root, env.stderr) as since:
                    _live(root, interval, dash, since)
            while True:  # the samples ended (a recording, a bundle): the screen stays for q
                dash.wait(3600.0)
        except Quit:
            pass
    return 0


def _live(root: Root, interval: float, dash: Dashboard, since: int | None = None) -> None:
    from checkswap.model.areas import SwapAreas
    from checkswap.model.procs import Scanner
    from checkswap.model.sample import live_samples, zswap_enabled
    from checkswap.model.tiers import TierWatch
    from checkswap.record.header import header_record
    from checkswap.render.watch import show_all_tiers

    scanner = Scanner(root, delays_since=since)
    scanner.sample()  # the baseline: process rates need a previous scan
    tiers = TierWatch(root, monotonic=dash.env.monotonic)
    tiers.update()  # the baseline of the per-area rates

    def top(tick: Sample) -> dict[str, object] | None:
        dash.state.tiers = tiers.update()  # the tiers panel, with the tick's processes
        return scanner.sample(tick)

    def all_tiers(first: Sample) -> bool:
        return show_all_tiers(header_record(root, first, interval), zswap_enabled(root))

    samples = live_samples(root, interval, None, dash.env.monotonic, dash.wait)
    n = play(samples, lambda: root.page_size, dash, SwapAreas(root, True), top, all_tiers)
    dash.state.status = f"end of the snapshot bundle: {n} intervals"
    dash.show()


def _replay(path: str, root: Root, speed: float, dash: Dashboard) -> None:
    from checkswap.model.areas import SwapAreas
    from checkswap.record.format import Reading
    from checkswap.record.header import header_record
    from checkswap.record.replay import paced, recorded_tiers, recorded_zswap_enabled
    from checkswap.render.watch import show_all_tiers

    reading = Reading()

    def page_size() -> int:
        # A header, or else the first raw sample, gives it; both come before any interval.
        return root.page_size or reading.page_size or 0

    def captured(_tick: Sample) -> dict[str, object] | None:
        """The processes ``record --trigger`` captured last, if any: a recording's only view
        of who was swapping. The tiers panel gets the last ``tiers`` line read so far, as
        the live view gets its TierWatch state with the tick's processes."""
        dash.state.tiers = recorded_tiers(reading.tiers)
        trigger = reading.last_trigger
        if trigger is None:
            return None
        capture = trigger.get("capture")
        if not isinstance(capture, dict):
            return None
        wall = trigger.get("wall")
        at = time.strftime("%H:%M:%S", time.localtime(wall)) if isinstance(wall, float) else "?"
        dash.state.top_note = f"processes as captured by record --trigger at {at}"
        return capture

    def all_tiers(first: Sample) -> bool:
        # zswap's parameter as recorded: the replaying machine's own says nothing about it.
        header = header_record(root, first, dash.state.interval)
        return show_all_tiers(header, recorded_zswap_enabled(reading.tiers))

    samples = paced(reading.files([path]), speed, dash.clock, dash.wait)
    try:
        n = play(samples, page_size, dash, SwapAreas(root, False), captured, all_tiers)
    except BadInput as e:
        dash.state.status = str(e)  # not a recording at all: say so on the screen
        n = 0
    bad = reading.bad_lines
    skipped = f", {bad} bad line{'s' if bad > 1 else ''} skipped" if bad else ""
    if not dash.state.status:
        dash.state.status = f"end of recording: {n} intervals{skipped}"
    dash.show()


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
