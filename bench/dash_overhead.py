#!/usr/bin/env python3
"""On-CPU time per 1 Hz tick of ``checkswap dash`` next to ``atop 1`` and ``htop -d 10``.

Each tool runs in its own tmux server, in a window of the same size, at the same time, so they
see the same machine. After a warm-up, the on-CPU time of every thread of each tool (the first
field of /proc/PID/task/*/schedstat, in ns) is read twice, ``--seconds`` apart; at 1 Hz the
difference per second is the cost per tick. On a busy machine the absolute figures move, so
each size is measured ``--rounds`` times: the ratios, taken within one round, are what to
compare. The tmux server behind each tool is measured the
same way: it is what drawing costs the terminal, and what "redraw only what changed" saves.

    python3 bench/dash_overhead.py                   # 80x24 and 200x60, idle machine
    sudo python3 bench/dash_overhead.py --hog        # with a hog swapping in a 64 MiB cgroup

atop and htop come from the distribution (apt-get install atop htop); they are for this
benchmark only. Prints a table and the ratios dash/atop and dash/htop.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PREFIX = "checkswap-test-bench-"


def oncpu_ns(pid: int) -> int:
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(FileNotFoundError), open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            total += int(f.read().split()[0])
    return total


class Tool:
    def __init__(self, name: str, argv: list[str], width: int, height: int) -> None:
        self.name = name
        self.sock = f"{PREFIX}{name}-{os.getpid()}"
        env = dict(os.environ, TERM="xterm-256color")
        env.pop("TMUX", None)
        subprocess.run(
            [
                "tmux",
                "-L",
                self.sock,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                self.sock,
                "-x",
                str(width),
                "-y",
                str(height),
                *argv,
            ],
            check=True,
            env=env,
        )
        self.pid = int(self._tmux("display-message", "-p", "-t", self.sock, "#{pane_pid}"))
        self.server = int(self._tmux("display-message", "-p", "-t", self.sock, "#{pid}"))

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.sock, *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    def capture(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.sock)

    def stop(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], check=False, capture_output=True)


@contextlib.contextmanager
def tools(width: int, height: int) -> Iterator[list[Tool]]:
    started: list[Tool] = []
    try:
        started.append(Tool("dash", [sys.executable, "-m", "checkswap", "dash"], width, height))
        started.append(Tool("atop", ["atop", "1"], width, height))
        started.append(Tool("htop", ["htop", "-d", "10"], width, height))
        yield started
    finally:
        for t in started:
            t.stop()


@contextlib.contextmanager
def hog() -> Iterator[None]:
    sys.path.insert(0, os.path.join(REPO, "tests"))
    import lab  # the test lab: swapfile, memory cgroup and a hog that keeps swapping

    with (
        lab.kernel_lock(),
        lab.swapfile(512) as _,
        lab.memory_cgroup(64) as cg,
        lab.Hog(cg, 160, seconds=3600) as h,
    ):
        h.wait_ready()
        yield


def measure(
    width: int, height: int, warmup: float, seconds: float
) -> dict[str, tuple[float, float]]:
    with tools(width, height) as ts:
        time.sleep(warmup)
        for t in ts:
            screen = t.capture()
            if len(screen.strip()) < 10:
                raise SystemExit(f"{t.name} drew nothing in {warmup} s:\n{screen}")
        start = {t.name: (oncpu_ns(t.pid), oncpu_ns(t.server)) for t in ts}
        t0 = time.monotonic()
        time.sleep(seconds)
        end = {t.name: (oncpu_ns(t.pid), oncpu_ns(t.server)) for t in ts}
        elapsed = time.monotonic() - t0
        if "swap-out" not in ts[0].capture():
            raise SystemExit("checkswap dash is not showing its screen:\n" + ts[0].capture())
    return {
        name: (
            (end[name][0] - start[name][0]) / 1e3 / elapsed,
            (end[name][1] - start[name][1]) / 1e3 / elapsed,
        )
        for name in start
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="80x24,200x60", help="terminal sizes (default: %(default)s)")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds measured")
    ap.add_argument("--rounds", type=int, default=3, help="measurements per size (default: 3)")
    ap.add_argument(
        "--hog",
        action="store_true",
        help="measure while a hog swaps in a 64 MiB cgroup (root; uses tests/lab.py)",
    )
    args = ap.parse_args()
    for tool in ("tmux", "atop", "htop"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: apt-get install {tool}", file=sys.stderr)
            return 2
    os.chdir(REPO)
    ctx = hog() if args.hog else contextlib.nullcontext()
    with ctx:
        print(
            f"# on-CPU µs per 1 Hz tick, {args.seconds:g} s after {args.warmup:g} s warm-up; "
            f"{'hog swapping' if args.hog else 'idle'}; {len(os.listdir('/proc'))} /proc entries"
        )
        print(f"{'size':>7} {'tool':>6} {'tool µs/tick':>13} {'tmux µs/tick':>13}")
        for size in args.sizes.split(","):
            w, h = (int(x) for x in size.lower().split("x"))
            ratios: dict[str, list[float]] = {"atop": [], "htop": []}
            for _ in range(args.rounds):
                got = measure(w, h, args.warmup, args.seconds)
                for name, (tool_us, tmux_us) in got.items():
                    print(f"{size:>7} {name:>6} {tool_us:13,.0f} {tmux_us:13,.0f}", flush=True)
                for peer in ratios:
                    ratios[peer].append(got["dash"][0] / got[peer][0])
            print(
                f"{size:>7}  ratio dash/atop "
                + " ".join(f"{r:.2f}" for r in ratios["atop"])
                + f" (median {statistics.median(ratios['atop']):.2f}); dash/htop "
                + " ".join(f"{r:.2f}" for r in ratios["htop"])
                + f" (median {statistics.median(ratios['htop']):.2f})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
