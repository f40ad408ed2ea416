"""``checkswap report``: what happened over a recording, as text, JSON or an HTML page."""

from __future__ import annotations

import argparse

from checkswap.commands import _args

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.env import Env

HELP = "summarise recordings: totals, average, p95, max, spikes (text, JSON or HTML)"
DESCRIPTION = """\
Read one or more recordings made by `checkswap record` (rotated and gzipped files included, in
any order: they are read as one timeline) and say what happened: the period covered, samples
and gaps, pages swapped in and out, average, p95 and maximum rates with their time, and each
spike: a period when swap-in + swap-out stayed above --spike pages/s, with what `record
--trigger` captured then. Truncated or corrupt lines are skipped and counted: a line that is
not JSON, longer than 1 MiB, nested too deep, or with an impossible number (NaN, a clock
centuries away, a counter beyond 2^64). A recording must be a regular file (not a device, FIFO
or socket), and a .gz one gzip: anything else is refused with one line, exit status 2.

  swap-in:  pages read back from swap into RAM (pswpin). Processes wait for these.
  swap-out: pages written from RAM to swap (pswpout).

--html OUT.html writes one self-contained page (no network needed) with the swap rates, PSI
and swap used over time, spikes marked; click a spike to zoom to it.
"""
DEFAULT_SPIKE = "1000"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = _args.command(sub, "report", HELP, DESCRIPTION)
    p.add_argument("files", nargs="+", metavar="FILE", help="recordings (.jsonl or .jsonl.gz)")
    p.add_argument(
        "--html",
        metavar="OUT.html",
        help="also write an HTML report to OUT.html (mode 0640; replaced in one step). Its "
        "directory must exist; a symlink, device, FIFO or another user's file there is refused",
    )
    _args.add_format(p, ("text", "json"), "text (default) or one JSON object")
    _args.add_value(
        p,
        "--spike",
        "RATE",
        f"a spike is swap-in + swap-out above RATE pages/s (default: {DEFAULT_SPIKE})",
        DEFAULT_SPIKE,
    )
    return p


def run(args: argparse.Namespace, env: Env) -> int:
    from checkswap.record.report import analyse_files, build
    from checkswap.render.progress import stderr_progress
    from checkswap.render.report import render_text

    spike: float = args.spike
    if args.html is not None and not args.html.lower().endswith((".html", ".htm")):
        from checkswap.errors import BadInput

        raise BadInput(
            f"--html {args.html}: the output must end in .html (did you mean "
            f"--html {args.html}.html?); the recordings go after report"
        )
    if args.html is not None:
        from checkswap.outfile import check_output

        check_output(args.html, "--html")  # refused at once, not after reading the recordings
    bar = stderr_progress(env, 0, label="report", delay_s=0.5)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done)

    analysis, reading = analyse_files(list(args.files), spike, progress=progress)
    bar.finish(bar.total)
    rec = build(reading, analysis, spike, list(args.files))
    if args.html is not None:
        from checkswap.render.html import write_html

        write_html(args.html, rec, analysis)
    if args.format == "json":
        import json  # only for this format: start-up

        env.stdout.write(json.dumps(rec) + "\n")
    else:
        render_text(rec, env.stdout)
        if args.html is not None:
            env.stdout.write(f"html        {args.html}\n")
    env.stdout.flush()
    return 0
