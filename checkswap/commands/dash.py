"""``checkswap dash``: the live full-screen dashboard (rich, from the ``dash`` extra).

The same figures as ``watch`` (one ``sample_record`` per interval, through rates.py), plus who
is in swap and the swap areas, on one screen that redraws only what changed. ``--replay`` plays a
recording through the same code. Not a terminal: one line pointing to ``watch``, exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Callable

from checkswap.commands.watch import add_common_root
from checkswap.errors import BadInput, CheckswapError
from checkswap.fields import sample_record
from checkswap.kernel.swaps import read_swaps
from checkswap.rates import Interval, Tracker
from checkswap.root import open_root
from checkswap.sample import live_samples
from checkswap.units import parse_duration

if TYPE_CHECKING:
    from checkswap.env import Env
    from checkswap.render.dash import DashState, Screen
    from checkswap.root import Root
    from checkswap.sample import Sample
    from checkswap.terminal import Terminal

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

MAX_REPLAY_WAIT = 5.0  # seconds: a gap in a recording (recorder stopped) is not waited out


class Quit(Exception):
    pass


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p: argparse.ArgumentParser = sub.add_parser(
        "dash",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-i",
        "--interval",
        default="1",
        metavar="SECONDS",
        help="time between samples: 2, 0.5, 2s (default: 1; live only)",
    )
    p.add_argument(
        "--replay",
        metavar="FILE",
        help="play a recording made by `checkswap record` instead of the live system",
    )
    p.add_argument(
        "--speed",
        metavar="X",
        help="replay speed: 1 is real time, 10 ten times faster (default: 1)",
    )
    add_common_root(p)
    return p


def parse_speed(text: str) -> float:
    try:
        value = float(text.rstrip("xX"))
    except ValueError:
        raise BadInput(f"invalid speed {text!r}: give a factor such as 1, 10 or 0.5") from None
    if not value > 0 or value == float("inf"):
        raise BadInput(f"invalid speed {text!r}: it must be greater than 0")
    return value


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
            state.paused = not state.paused
        else:
            return
        self.draw()

    def wait(self, delay: float) -> None:
        """Sleep until the next sample, serving keys and resizes meanwhile.

        Live, a pause only freezes the screen (sampling goes on, so the averages stay true);
        in a replay it stops the clock.
        """
        mono = self.env.monotonic
        deadline = mono() + delay
        while True:
            hold = self.replay and self.state.paused
            remaining = 3600.0 if hold else deadline - mono()
            if remaining <= 0:
                return
            try:
                events = self.term.wait(remaining)
            except EOFError:
                raise Quit from None
            for key in events:
                self.handle(key)
            if hold and not self.state.paused:
                return

    def show(self, rec: dict[str, object] | None = None) -> None:
        if rec is not None:
            self.state.add(rec)
        if not self.state.paused:
            self.draw()


def _verdict(rec: dict[str, object]) -> str | None:
    return None


def swap_devices(root: Root) -> list[dict[str, object]] | None:
    try:
        return [
            {
                "name": a.name,
                "kind": a.type,
                "size_bytes": a.size_bytes,
                "used_bytes": a.used_bytes,
                "priority": a.priority,
            }
            for a in read_swaps(root)
        ]
    except OSError:
        return None


def paced(samples: Iterator[Sample], dash: Dashboard, speed: float) -> Iterator[Sample]:
    """A recording's samples at the pace they were taken, divided by ``speed``."""
    prev: Sample | None = None
    for cur in samples:
        if prev is not None:
            gap = (cur.mono - prev.mono) / speed
            dash.wait(min(max(gap, 0.0), MAX_REPLAY_WAIT))
        prev = cur
        yield cur


def play(
    root: Root | None, samples: Iterator[Sample], page_size: Callable[[], int], dash: Dashboard
) -> int:
    """Feed intervals to the screen until the samples end; returns the number of intervals."""
    state = dash.state
    first = next(samples, None)
    dash.show()
    if first is None:
        return 0
    tracker = Tracker()
    prev = first
    for cur in samples:
        iv = Interval(prev, cur)
        tracker.add(iv)
        rec = sample_record(iv, tracker, page_size())
        if root is not None:
            state.devices = swap_devices(root)
        state.verdict = _verdict(rec)
        dash.show(rec)
        prev = cur
    return tracker.samples


def run(args: argparse.Namespace, env: Env) -> int:
    interval = parse_duration(args.interval)
    speed = 1.0
    if args.speed is not None:
        if args.replay is None:
            raise BadInput("--speed applies to --replay FILE only (live, use -i to set the pace)")
        speed = parse_speed(args.speed)
    if args.replay is not None and args.root is not None:
        raise BadInput("--replay and --root: give one source, a recording or a kernel tree")
    root = None if args.replay is not None else open_root(args.root)
    recording = None
    if args.replay is not None:
        try:
            recording = open(args.replay, encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError as e:
            raise BadInput(f"--replay {args.replay}: {e.strerror}") from None
    try:
        if not _isatty(env.stdout) or not _isatty(sys.stdin):
            raise BadInput(
                "dash needs a terminal (stdin and stdout are not both a tty); for pipes, "
                "logs and scripts use `checkswap watch` (or `watch --format json`)"
            )
        try:
            from rich.console import Console
        except ImportError:
            raise CheckswapError(
                "dash needs the rich library: pip install 'checkswap[dash]'"
            ) from None
        from checkswap.render.dash import DashState, Screen
        from checkswap.store import Reading
        from checkswap.terminal import Terminal

        if recording is not None:
            name = os.path.basename(args.replay)
            state = DashState(None, None, interval, f"replay {name} {speed:g}x")
            state.top_note = "processes are not in a recording"
        else:
            assert root is not None
            state = DashState(root.hostname, root.kernel_release, interval, "live")
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
            dash = Dashboard(term, Screen(console), state, env, replay=recording is not None)
            try:
                if recording is not None:
                    reading = Reading()
                    samples = paced(reading.samples(recording), dash, speed)

                    def replay_page_size() -> int:
                        # Set by the first raw sample, which comes before any interval.
                        assert reading.page_size is not None
                        return reading.page_size

                    n = play(None, samples, replay_page_size, dash)
                    bad = reading.bad_lines
                    skipped = f", {bad} bad line{'s' if bad > 1 else ''} skipped" if bad else ""
                    state.status = f"end of recording: {n} intervals{skipped}"
                    dash.show()
                    while True:
                        dash.wait(3600.0)
                else:
                    assert root is not None
                    samples = live_samples(root, interval, None, env.monotonic, dash.wait)
                    play(root, samples, lambda: root.page_size, dash)
            except Quit:
                pass
    finally:
        if recording is not None:
            recording.close()
    return 0


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
