"""``checkswap snapshot``: capture what checkswap reads, to diagnose on another machine."""

from __future__ import annotations

import argparse
import os

from checkswap.commands import _args
from checkswap.units import format_bytes

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.env import Env

HELP = "capture the kernel files checkswap reads into a bundle for --root elsewhere"


# What record/snapshot.py captures, said here, where only --help reads it: importing the capture
# code (tarfile, the topology) for the text would make --help ~3x as slow as `python3 -c pass`.
CAPTURED_HELP = """\
captured per sample: /proc/vmstat, meminfo, swaps, diskstats, uptime, loadavg, pressure/*,
self/mountinfo, cgroups, sys/vm/* (swappiness, page-cluster, overcommit...), sys/kernel
osrelease and hostname; /proc/PID/status, stat and cgroup of every visible process; block
devices under /sys/class/block (dev, size, partition, queue/rotational, slaves, holders,
loop/backing_file, dm/name and uuid, md/level, zram stats, stat); /sys/module/zswap/parameters;
memory cgroup files (memory.stat, usage, limits, swap, pressure, events, cgroup.procs) under
/sys/fs/cgroup; user names and uids from /etc/passwd (those two fields only). The manifest
adds page size, kernel release, hostname, capture times and stat() facts of swapfiles (mode,
owner, filesystem device). Never captured: /proc/PID/environ, cmdline, mem, maps, fd, or any
other file outside /proc and /sys."""


DESCRIPTION = f"""\
Capture a bundle (tar.gz) of the kernel files checkswap reads, to run any command on it later,
on any machine: checkswap doctor --root BUNDLE, checkswap watch --root BUNDLE.

With -n COUNT it takes COUNT samples -i SECONDS apart, so rates (watch, top, the doctor's
verdict) can be computed offline: one sample gives no rates, two give one interval.
Ctrl-C or SIGTERM between samples writes the bundle with the samples taken so far.

{CAPTURED_HELP}
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = _args.command(sub, "snapshot", HELP, DESCRIPTION)
    _args.add_output(
        p,
        "BUNDLE",
        "file to write (mode 0600; replaced in one step). Its directory must exist; a "
        "symlink, device, FIFO, directory or another user's file there is refused",
        required=True,
    )
    _args.add_count(p, None, default="1")
    _args.add_interval(p)
    _args.add_root(p)
    return p


def run(args: argparse.Namespace, env: Env) -> int:
    from checkswap.record import snapshot
    from checkswap.render.progress import stderr_progress
    from checkswap.source import open_root

    count: int = args.count
    interval: float = args.interval
    # A snapshot copies whatever the root has: what each reader of the bundle needs is its own
    # business (doctor and top read a tree without vmstat), so only meminfo is required here.
    root = open_root(args.root, needs=("proc/meminfo",), command="snapshot")
    bar = stderr_progress(env, count, unit="samples", label="snapshot", delay_s=0.5)
    manifest = snapshot.take(
        root,
        args.output,
        count,
        interval,
        env.monotonic,
        env.sleep,
        progress=lambda k, cap: bar.update(k + 1),
    )
    bar.finish(len(manifest["samples"]))
    size = os.path.getsize(args.output)
    n = len(manifest["samples"])
    stopped = " (stopped early)" if manifest.get("interrupted") else ""
    env.stdout.write(
        f"wrote {args.output}: {n} sample{'s' if n != 1 else ''}{stopped}, {format_bytes(size)}; "
        f"read it with: checkswap doctor --root {args.output}\n"
    )
    if n == 1:
        env.stdout.write("one sample holds no rates: take -n 2 (or more) to see swap-in/out\n")
    return 0
