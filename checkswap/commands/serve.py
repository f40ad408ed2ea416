"""``checkswap serve``: a Prometheus exporter (HTTP /metrics and/or a node_exporter textfile)."""

from __future__ import annotations

import argparse

from checkswap.commands import _args
from checkswap.errors import BadInput
from checkswap.source import open_root
from checkswap.units import parse_count, parse_duration

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.env import Env

DEFAULT_PORT = 9947
DEFAULT_LISTEN = f"127.0.0.1:{DEFAULT_PORT}"
MAX_CONNECTIONS = 4096

HELP = "Prometheus exporter: swap counters, PSI, devices, top processes/cgroups, findings"
DESCRIPTION = f"""\
Export swap metrics for Prometheus. The kernel is read when Prometheus scrapes; counters are
exported as counters and PromQL computes the rates:

  rate(checkswap_swap_in_pages_total[5m])   swap-in: pages read back from swap into RAM/s
  rate(checkswap_swap_out_pages_total[5m])  swap-out: pages written from RAM to swap/s

By default it listens on {DEFAULT_LISTEN} (this machine only); listening on every interface is
an explicit choice: --listen 0.0.0.0:{DEFAULT_PORT}. With --textfile it writes the same metrics to a
file for node_exporter's textfile collector (written to a temporary file and renamed, so
node_exporter never reads half a file); with --textfile alone it does not listen.
Per-process/per-cgroup swap and doctor findings are refreshed in the background on their own
schedule, so a slow scan never delays a scrape.

Slow or idle clients cannot keep a scrape out: a client has 5 s from connecting (or from the
first byte of a later keep-alive request) to send its whole request head, of at most 8 KiB for
the request line and 32 KiB in all; a keep-alive connection is closed after 30 s idle; at the
connection limit the longest-idle keep-alive connection, else the client that has been sending
its head the longest, is closed to make room; a new connection is turned away only when every
connection is being answered.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = _args.command(sub, "serve", HELP, DESCRIPTION)
    p.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help=f"address for HTTP /metrics (default: {DEFAULT_LISTEN}; [::1]:PORT for IPv6; "
        "port 0 picks a free port and prints it)",
    )
    p.add_argument(
        "--textfile",
        metavar="PATH",
        help="also write the metrics to PATH (name it *.prom, in node_exporter's "
        "--collector.textfile.directory; its directory must exist, and a symlink, device, FIFO "
        "or another user's file there is refused); without --listen, only this",
    )
    p.add_argument(
        "--textfile-interval",
        default="15s",
        metavar="SECONDS",
        help="how often to rewrite --textfile (default: 15s)",
    )
    p.add_argument(
        "--top",
        default="10",
        metavar="N",
        help="export the N largest process names and N largest cgroups by swap held "
        "(default: 10, at most 1000)",
    )
    p.add_argument(
        "--scan-interval",
        default="15s",
        metavar="SECONDS",
        help="how often to rescan processes and cgroups (default: 15s)",
    )
    p.add_argument(
        "--doctor-interval",
        default="5m",
        metavar="SECONDS",
        help="how often to refresh doctor findings and swap device facts (default: 5m)",
    )
    p.add_argument(
        "--max-connections",
        default="64",
        metavar="N",
        help="concurrent HTTP connections, one thread each (default: 64, at most 4096); "
        "at the limit an idle or slow one makes room",
    )
    _args.add_role(p, "the machine's role, for the doctor findings")
    _args.add_delayacct(p)
    _args.add_root(p)
    return p


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT``) with an explicit host: all interfaces must be asked for."""
    host, sep, port_text = text.rpartition(":")
    if len(text) > 80:
        raise BadInput(f"--listen {text[:32]!r}...: not HOST:PORT, such as {DEFAULT_LISTEN}")
    if not sep or not port_text:
        raise BadInput(
            f"--listen {text!r}: give HOST:PORT, such as {DEFAULT_LISTEN} "
            f"(or 0.0.0.0:{DEFAULT_PORT} for every interface)"
        )
    if not host:
        raise BadInput(
            f"--listen {text!r}: say which address: 127.0.0.1:{port_text} for this machine "
            f"only, or 0.0.0.0:{port_text} for every interface"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise BadInput(f"--listen {text!r}: put an IPv6 address in brackets: [{host}]:{port_text}")
    # isascii: int() would read "٣" as port 3. Six digits at most: a 400-digit port is not one.
    if not (port_text.isascii() and port_text.isdigit() and len(port_text) <= 6):
        shown = port_text if len(port_text) <= 20 else port_text[:16] + "..."
        raise BadInput(f"--listen: port {shown!r} is not a number 0-65535")
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise BadInput(f"--listen {text!r}: port must be 0-65535")
    if host != "localhost":
        import ipaddress  # only for a --listen with an address: start-up

        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise BadInput(
                f"--listen {text!r}: {host!r} is not an IP address (127.0.0.1, 0.0.0.0, [::1])"
            ) from None
    return host, port


def run(args: argparse.Namespace, env: Env) -> int:
    listen = (
        # "is not None": an empty --listen "" is a mistake to report, not the default address.
        parse_listen(DEFAULT_LISTEN if args.listen is None else args.listen)
        if (args.listen is not None or not args.textfile)
        else None
    )
    textfile_interval = parse_duration(args.textfile_interval, "--textfile-interval")
    scan_interval = parse_duration(args.scan_interval, "--scan-interval")
    doctor_interval = parse_duration(args.doctor_interval, "--doctor-interval")
    top = parse_count(args.top, "--top")
    if top > 1000:
        raise BadInput(f"--top {top}: at most 1000, so the number of series stays bounded")
    max_conn = parse_count(args.max_connections, "--max-connections")
    if max_conn > MAX_CONNECTIONS:
        raise BadInput(
            f"--max-connections {max_conn}: at most {MAX_CONNECTIONS} (a thread each); "
            "slow and idle clients make room, so a few dozen are enough"
        )
    if args.textfile:
        from checkswap.outfile import check_output

        check_output(args.textfile, "--textfile")
        if not args.textfile.endswith(".prom"):
            raise BadInput(
                f"--textfile {args.textfile}: node_exporter reads only files named *.prom"
            )
    root = open_root(args.root)

    try:
        from checkswap.fleet.serve import serve
    except ImportError as e:
        raise BadInput(
            f"serve needs prometheus_client ({e}): pip install 'checkswap[exporter]' "
            "or apt-get install python3-prometheus-client"
        ) from None
    from checkswap.lab import delayacct

    # For days, maybe: other checkswap runs that need it keep it on after this one ends.
    with delayacct.for_run(args.delayacct, root, env.stderr):
        return serve(
            env,
            root,
            listen=listen,
            textfile=args.textfile,
            textfile_interval=textfile_interval,
            top=top,
            scan_interval=scan_interval,
            doctor_interval=doctor_interval,
            max_connections=max_conn,
            role=args.role,
        )
