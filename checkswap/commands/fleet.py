"""``checkswap fleet``: which hosts swapped or thrashed, asked of the Prometheus that scrapes
``checkswap serve``. The queries and the per-host model are fleet/ranking.py's, the HTTP client
fleet/prom.py's, the outputs render/fleet.py's: here only the options and their parsing.
"""

from __future__ import annotations

import argparse

from checkswap.commands import _args
from checkswap.errors import BadInput

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.env import Env

HELP = "rank the hosts Prometheus scrapes by swap harm: totals, peaks, thrashing minutes"
DESCRIPTION = """\
Ask a Prometheus server that scrapes `checkswap serve` which hosts swapped and which thrashed
over a window, and rank them: swap-in and swap-out pages (Prometheus's increase()), the peak
1-minute swap-in and when, minutes thrashing / swapping / quiet / without data by doctor's
thresholds applied to each minute's rates, swap used now and its peak, the doctor findings
exported now, the top holders of swap and the processes that waited longest for swap-in
(serve --delayacct). checkswap never scrapes the hosts itself; the number of queries ({queries})
does not depend on the number of hosts.

  swap-in:  pages read back from swap into RAM (pswpin); processes wait for these.
  swap-out: pages written from RAM to swap (pswpout).

Credentials never go on the command line: --bearer-token-file or --basic-auth-file (a file
holding the token, or user:password), else CHECKSWAP_PROMETHEUS_TOKEN or
CHECKSWAP_PROMETHEUS_BASIC from the environment. They are never printed.

Exit status, as a fleet gate for cron or CI: 0 every host with data quiet, 1 some host
swapping, 2 some host thrashing, 3 the question could not be answered (Prometheus unreachable,
refused, bad PromQL, no checkswap series under --match, no host with a single minute of data,
bad arguments).
"""
DEFAULT_SINCE = "24h"
DEFAULT_LIMIT = "20"
DEFAULT_TIMEOUT = "30"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    from checkswap.fleet.queries import QUERIES

    p = _args.command(sub, "fleet", HELP, DESCRIPTION.format(queries=len(QUERIES)))
    p.add_argument(
        "--prometheus", required=True, metavar="URL", help="the server, e.g. http://prom:9090"
    )
    p.add_argument(
        "--since",
        metavar="DURATION",
        help=f"the window ends now and lasts this long: 30m, 24h, 7d (default: {DEFAULT_SINCE})",
    )
    p.add_argument("--from", dest="from_", metavar="TIME", help="window start, ISO 8601")
    p.add_argument(
        "--to",
        metavar="TIME",
        help="window end, ISO 8601 (2026-12-01T03:00, local time without an offset)",
    )
    p.add_argument(
        "--match",
        default="",
        metavar="SELECTOR",
        help='label matchers every query carries, e.g. job="checkswap" or {env="prod"}',
    )
    p.add_argument(
        "--by", default="instance", metavar="LABEL", help="one row per value of LABEL (instance)"
    )
    _args.add_value(
        p, "--limit", "N", f"show the N most harmed (default: {DEFAULT_LIMIT})", DEFAULT_LIMIT
    )
    _args.add_format(p, ("text", "json"), "text (default) or JSON lines: one per host, a summary")
    p.add_argument(
        "--html",
        metavar="OUT.html",
        help="also write an HTML page (table and a chart per host) to OUT.html, mode 0640",
    )
    p.add_argument("--bearer-token-file", metavar="PATH", help="a file holding a bearer token")
    p.add_argument("--basic-auth-file", metavar="PATH", help="a file holding user:password")
    p.add_argument("--ca-file", metavar="PATH", help="CA certificates to verify https with")
    _args.add_value(
        p,
        "--timeout",
        "SECONDS",
        f"give up on a query after this long (default: {DEFAULT_TIMEOUT})",
        DEFAULT_TIMEOUT,
    )
    _args.add_value(
        p,
        "--rate-window",
        "SECONDS",
        "the range of rate(): 1m by default, as doctor's thresholds are for 1-minute rates; "
        "with scrapes 30 s or more apart give 2m or more",
        "1m",
    )
    return p


def parse_time(text: str, flag: str) -> tuple[float, bool]:
    """(Unix time, whether it was local time): ISO 8601 with or without an offset."""
    from datetime import datetime

    t = text.strip()
    if t[-1:] in ("Z", "z"):
        t = t[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(t)
    except ValueError:
        raise BadInput(
            f"{flag} {text[:40]!r}: not an ISO 8601 time such as 2026-12-01T03:00 or "
            "2026-12-01T03:00:00+01:00"
        ) from None
    return when.timestamp(), when.tzinfo is None


def window(args: argparse.Namespace, now: float) -> tuple[float, float, bool]:
    from checkswap.units import parse_duration

    local = False
    if args.since is not None and (args.from_ is not None or args.to is not None):
        raise BadInput("give --since or --from/--to, not both")
    if args.from_ is not None or args.to is not None:
        if args.from_ is None:
            raise BadInput("--to needs --from (or use --since)")
        start, local_a = parse_time(args.from_, "--from")
        end, local_b = (now, False) if args.to is None else parse_time(args.to, "--to")
        local = local_a or local_b
    else:
        end = now
        start = end - parse_duration(args.since or DEFAULT_SINCE, "--since")
    if end - start < 60:
        raise BadInput("the window must be at least a minute long (rates are 1-minute rates)")
    if end > now + 60:
        raise BadInput("--to is in the future")
    return start, end, local


def run(args: argparse.Namespace, env: Env) -> int:
    from checkswap.fleet.prom import Client, FleetError, load_auth, shown_url
    from checkswap.fleet.queries import QUERIES
    from checkswap.fleet.ranking import ask, exit_status
    from checkswap.render.fleet import render_json, render_text, write_html
    from checkswap.render.progress import stderr_progress

    try:
        if not args.by.replace("_", "a").isalnum() or args.by[:1].isdigit():
            raise BadInput(f"--by {args.by[:40]!r}: not a Prometheus label name")
        start, end, local = window(args, env.wall())
        if args.html is not None:
            if not args.html.lower().endswith((".html", ".htm")):
                raise BadInput(f"--html {args.html}: the output must end in .html")
            from checkswap.outfile import check_output

            check_output(args.html, "--html")
    except BadInput as e:
        raise FleetError(str(e)) from None  # a gate's bad argument is "no answer": 3
    auth = load_auth(args.bearer_token_file, args.basic_auth_file)
    client = Client(args.prometheus, auth, args.ca_file, args.timeout)
    # A slow or far Prometheus can take many seconds per query over a long window.
    bar = stderr_progress(env, len(QUERIES), unit="queries", label="fleet", delay_s=0.5)
    client.on_answer = bar.update
    try:
        fleet = ask(client, start, end, args.match, args.by, args.rate_window)
    finally:
        bar.clear()  # an error line, or the answer, starts on a clean line
    bar.finish(client.calls)
    # Before any output: a fleet with no answer is one line (and one JSON object), not a
    # table of unknowns followed by an error.
    status = exit_status(fleet)
    url = shown_url(client.url)
    if args.html is not None:
        write_html(args.html, fleet, url, args.limit)
    if args.format == "json":
        render_json(fleet, url, args.limit, env.stdout)
    else:
        render_text(fleet, url, args.limit, env.stdout, local)
        if args.html is not None:
            env.stdout.write(f"html        {args.html}\n")
    env.stdout.flush()
    return status
