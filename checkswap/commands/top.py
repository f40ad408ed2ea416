"""``checkswap top``: who is in swap, and who is moving it, per process and per cgroup."""

from __future__ import annotations

import argparse

from checkswap.commands import _args
from checkswap.units import parse_count, parse_duration

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.env import Env

HELP = "who is in swap and who is moving it, per process and per cgroup"
DESCRIPTION = """\
List the processes holding swap (VmSwap from /proc/PID/status, the kernel's own figure), with
their swap activity, user, and the systemd unit, container or pod they run in.

  SWAP      swap held by the process (VmSwap)
  SWAP/s    change of SWAP per second: + while pages are swapped out, - while swapped back in
  MAJFLT/s  major page faults per second (from /proc/PID/stat): the swap-in signal. It also
            counts file reads that had to wait for the disk.

Activity (--sort activity) is pages moved per second: |SWAP/s| / page size + MAJFLT/s (a
cgroup's: IN/s + OUT/s where the kernel counts them). A process that swaps out and in at the
same rate keeps a flat SWAP but a high MAJFLT/s, and still sorts to the top. dash and record
--trigger rank by the same figure.

swap-in: pages read back from swap into RAM (pswpin); swap-out: pages written to swap (pswpout).
With --cgroups, memory cgroups too: swap held, swap-in/out per second (cgroup v2, kernel 6.13+;
cgroup v1 has no such counters and shows the change of swap held and major faults instead), the
swap limit and how often it was hit, and memory pressure.

Wait (root, with delay accounting on: --delayacct, or sysctl kernel.task_delayacct=1):

  SWAPIN%   share of the interval the process's threads spent waiting in swap-in (taskstats
            swapin_delay_total). Summed over its threads: above 100 when several wait at once.
            It times the swap read itself: zram, zswap and zero-filled pages, and the submission
            of a disk read. The wait for the disk to answer is mostly block I/O:
  BLKIO%    share of the interval its threads waited for block I/O: disk swap-ins, and file
            reads too (blkio_delay_total).
  THRASH%   share spent on thrashing refaults (thrashing_delay_total); a swap-in refault is
            timed as thrashing too, so never add THRASH% to SWAPIN%.
--sort wait orders by SWAPIN%. Taskstats is asked only about the processes listed (holding
swap now or at the previous refresh): first those that waited last time, then those moving swap
or faulting, at most 256 queries a refresh (docs/top.md). The kernel accounts only tasks
started while it is on: with --delayacct, older processes show '-' and a note.

Swap used that no process holds (shmem/tmpfs, pages back in RAM but still in swap) is shown as
unattributed. The first refresh has held figures only: rates need two samples (-i or -n 2).
Without -i and -n: one refresh. On a terminal the table is redrawn in place; on a pipe each
refresh is printed after the previous one.
"""

SORTS = ("swap", "activity", "wait")
DEFAULT_LIMIT_TEXT = 20
DEFAULT_PSS_BUDGET = "0.5"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = _args.command(sub, "top", HELP, DESCRIPTION)
    # No defaults: given neither, top refreshes once; given either, it keeps refreshing.
    _args.add_interval(p, "refreshes", default=None, shown="1 when -n is given, else one refresh")
    _args.add_count(p, "refreshes", shown="1 without -i, else run until stopped")
    p.add_argument(
        "--limit",
        metavar="N",
        help=f"show the first N processes (default: {DEFAULT_LIMIT_TEXT} in text, all in JSON)",
    )
    p.add_argument(
        "--sort",
        choices=SORTS,
        default="swap",
        help="order by swap held (default), by activity, or by swap-in wait (see above)",
    )
    _args.add_delayacct(p)
    p.add_argument(
        "--cgroups", action="store_true", help="also list memory cgroups holding or moving swap"
    )
    p.add_argument(
        "--pss",
        action="store_true",
        help="also read SwapPss (/proc/PID/smaps_rollup; shares shared pages, includes shmem) "
        "for processes in swap, biggest first, within the --pss-budget",
    )
    p.add_argument(
        "--pss-budget",
        default=DEFAULT_PSS_BUDGET,
        metavar="SECONDS",
        help="time allowed for --pss per refresh: smaps_rollup walks page tables and can stall "
        f"a huge process (default: {DEFAULT_PSS_BUDGET})",
    )
    _args.add_format(
        p, ("text", "json"), "a table (default), or JSON lines: one object per refresh"
    )
    _args.add_root(p)
    return p


def run(args: argparse.Namespace, env: Env) -> int:
    from checkswap.lab import delayacct
    from checkswap.model.procs import Scanner, arrange
    from checkswap.model.sample import Ticker
    from checkswap.render.top import TopRenderer
    from checkswap.source import open_root

    count: int | None = 1
    interval = 1.0
    if args.interval is not None or args.count is not None:
        interval = args.interval if args.interval is not None else 1.0
        count = args.count
    limit = parse_count(args.limit, "--limit") if args.limit is not None else None
    if limit is None and args.format == "text":
        limit = DEFAULT_LIMIT_TEXT
    budget = parse_duration(args.pss_budget, "--pss-budget")
    root = open_root(args.root, needs=("proc/meminfo",), command="top")
    renderer = TopRenderer(env.stdout, args.format, tty=env.stdout_isatty)

    with delayacct.for_run(args.delayacct, root, env.stderr) as since:
        scanner = Scanner(
            root, cgroups=args.cgroups, pss=args.pss, pss_budget_s=budget, delays_since=since
        )
        ticker = Ticker(root, interval, env.monotonic, env.sleep)
        done = 0
        while True:
            rec, total = arrange(scanner.sample(), args.sort, limit, root.page_size)
            renderer.refresh(rec, total, args.sort)
            done += 1
            if count is not None and done >= count:
                return 0
            if not ticker.wait():
                return 0
