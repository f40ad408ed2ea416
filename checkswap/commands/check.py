"""``checkswap check``: a Nagios/Icinga plugin (monitoring-plugins output, exit 0/1/2/3).

The swap rates are measured since the previous run, from the raw counters that run left in a
state file, so the check answers at once. Without a usable state (the first run, a state older
than an hour, from another boot or root, corrupt, or not ours) it samples for ``--sample``
seconds instead, and says so. The state file is fleet/check_state.py's; the figures, their
states and the line are fleet/check.py's: here only the options and their parsing.
"""

from __future__ import annotations

import argparse
import math

from checkswap import outfile
from checkswap.commands import _args
from checkswap.errors import BadInput
from checkswap.fleet.plugin import Range, parse_range
from checkswap.source import open_root

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.env import Env

DEFAULT_WARNING = "100"
DEFAULT_CRITICAL = "1000"

HELP = "Nagios/Icinga plugin: OK/WARNING/CRITICAL/UNKNOWN on swap-in, swap-out, used %, PSI"
DESCRIPTION = f"""\
A monitoring plugin: one line `CHECKSWAP OK|WARNING|CRITICAL|UNKNOWN - ... | perfdata`, exit
status 0/1/2/3. Thresholds use the monitoring-plugins range syntax:

  10      alert above 10        10:     alert below 10
  ~:10    alert above 10        10:20   alert outside 10..20      @10:20  alert inside 10..20

  swap-in  (--warning/--critical):         pages read back from swap into RAM, per second;
                                           processes wait for these
                                           (default: {DEFAULT_WARNING} / {DEFAULT_CRITICAL})
  swap-out (--out-warning/--out-critical): pages written from RAM to swap, per second
  --used-warning/--used-critical:          swap used, % of swap configured
  --psi-warning/--psi-critical:            PSI memory "some" avg10, % of time tasks stalled
  --tier device|all:                       the swap-in/out above are the swap devices' (zram
                                           included; the default) or every tier's (zswap and
                                           zero-filled pages too)

Rates are measured since the previous run, kept in a state file per user; the first run, or a
state older than an hour or not ours, or from before a swapon/swapoff, samples for --sample
seconds instead; a snapshot bundle is measured between its first two samples, keeping no
state. With no swap
configured nothing can swap: OK, saying so (--used-* then do not apply). Bad arguments or
unreadable kernel files are UNKNOWN (3), never CRITICAL.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = _args.command(sub, "check", HELP, DESCRIPTION)
    r = "RANGE"
    p.add_argument(
        "-w",
        "--warning",
        default=DEFAULT_WARNING,
        metavar=r,
        help=f"swap-in pages/s for WARNING (default: {DEFAULT_WARNING})",
    )
    p.add_argument(
        "-c",
        "--critical",
        default=DEFAULT_CRITICAL,
        metavar=r,
        help=f"swap-in pages/s for CRITICAL (default: {DEFAULT_CRITICAL})",
    )
    p.add_argument("--out-warning", metavar=r, help="swap-out pages/s for WARNING (default: none)")
    p.add_argument(
        "--out-critical", metavar=r, help="swap-out pages/s for CRITICAL (default: none)"
    )
    p.add_argument("--used-warning", metavar=r, help="swap used %% for WARNING (default: none)")
    p.add_argument("--used-critical", metavar=r, help="swap used %% for CRITICAL (default: none)")
    p.add_argument(
        "--psi-warning", metavar=r, help="PSI memory some avg10 %% for WARNING (default: none)"
    )
    p.add_argument(
        "--psi-critical", metavar=r, help="PSI memory some avg10 %% for CRITICAL (default: none)"
    )
    p.add_argument(
        "--state-file",
        metavar="PATH",
        help="where to keep the counters between runs (default: "
        "$XDG_RUNTIME_DIR/checkswap-check.state, else "
        "checkswap-check-UID.state in the temporary directory: $TMPDIR, else /tmp). "
        "Its directory must exist; "
        "a symlink, device, FIFO or another user's file there is refused (UNKNOWN)",
    )
    p.add_argument(
        "--tier",
        choices=("device", "all"),
        default="device",
        help="which swap rates --warning/--critical and --out-* judge: device = the swap "
        "devices, zram included (pswpin/pswpout, the default); all = every tier, zswap and "
        "zero-filled pages too",
    )
    _args.add_sample(
        p,
        "1",
        "--sample",
        "how long to sample when there is no usable state (default: 1); a snapshot "
        "bundle is measured over its first two captured samples instead",
    )
    _args.add_root(p)
    return p


def _opt(args: argparse.Namespace, name: str, flag: str) -> Range | None:
    value = getattr(args, name)
    return None if value is None else parse_range(value, flag)


def _percent(rng: Range | None, flag: str) -> Range | None:
    """A range on a share of time or space: a finite end outside 0..100 can never be met."""
    if rng is not None:
        for end in (rng.start, rng.end):
            if math.isfinite(end) and not 0 <= end <= 100:
                raise BadInput(f"{flag} {rng.text!r}: a percentage is between 0 and 100")
    return rng


def run(args: argparse.Namespace, env: Env) -> int:
    # Here, not at the top: the sampler, the recording format and gzip are not --help's to load.
    from checkswap.fleet.check import Thresholds, judge, measure
    from checkswap.fleet.check_state import STATE_WHAT, default_state_path

    warn_in = parse_range(args.warning, "--warning")
    crit_in = parse_range(args.critical, "--critical")
    warn_out = _opt(args, "out_warning", "--out-warning")
    crit_out = _opt(args, "out_critical", "--out-critical")
    warn_used = _percent(_opt(args, "used_warning", "--used-warning"), "--used-warning")
    crit_used = _percent(_opt(args, "used_critical", "--used-critical"), "--used-critical")
    warn_psi = _percent(_opt(args, "psi_warning", "--psi-warning"), "--psi-warning")
    crit_psi = _percent(_opt(args, "psi_critical", "--psi-critical"), "--psi-critical")
    sample_s: float = args.sample
    state_path = args.state_file or default_state_path()
    # Before sampling: a state file in a missing directory, or a link, device or foreign file
    # at its name, is bad input (UNKNOWN), not a quiet "state not saved" every run.
    outfile.check_output(state_path, STATE_WHAT)
    root = open_root(args.root, command="check")
    thresholds = Thresholds(
        warn_in, crit_in, warn_out, crit_out, warn_used, crit_used, warn_psi, crit_psi, args.tier
    )
    iv, notes = measure(root, env, state_path, sample_s)
    status, line = judge(iv, notes, root.page_size, thresholds)
    env.stdout.write(line + "\n")
    return int(status)
