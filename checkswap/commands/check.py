"""``checkswap check``: a Nagios/Icinga plugin (monitoring-plugins output, exit 0/1/2/3).

The swap rates are measured since the previous run, from the raw counters that run left in a
state file, so the check answers at once. Without a usable state (the first run, a state older
than an hour, from another boot or root, corrupt, or not ours) it samples for ``--sample``
seconds instead, and says so.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import stat
import tempfile
from typing import TYPE_CHECKING

from checkswap import outfile
from checkswap.commands import _args
from checkswap.errors import BadInput, PluginStatus
from checkswap.fleet.plugin import Range, parse_range, perfdata
from checkswap.kernel.meminfo import swap_used
from checkswap.model.rates import Interval
from checkswap.model.sample import Sample, Sampler, Ticker
from checkswap.record.format import sample_from_record, sample_to_record
from checkswap.source import open_root
from checkswap.units import format_bytes
from checkswap.untrusted import loads

if TYPE_CHECKING:
    from checkswap.env import Env
    from checkswap.source.root import Root

STALE_S = 3600.0  # DESIGN.md: a state older than an hour is not a fair "since the last run"
STATE_MAX_BYTES = 1 << 20
STATE_TYPE = "checkswap-check-state"
STATE_WHAT = "--state-file"
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

Rates are measured since the previous run, kept in a state file per user; the first run, or a
state older than an hour or not ours, samples for --sample seconds instead. With no swap
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
        f"{tempfile.gettempdir()}/checkswap-check-UID.state). Its directory must exist; "
        "a symlink, device, FIFO or another user's file there is refused (UNKNOWN)",
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


def default_state_path() -> str:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and os.path.isdir(runtime):
        return os.path.join(runtime, "checkswap-check.state")
    return os.path.join(tempfile.gettempdir(), f"checkswap-check-{os.geteuid()}.state")


# --- the state file -----------------------------------------------------------------------


def _boot_id(root: Root) -> str | None:
    try:
        return root.read_text("proc/sys/kernel/random/boot_id").strip() or None
    except OSError:
        return None


def load_state(path: str, root: Root, boot_id: str | None) -> tuple[Sample | None, str]:
    """(previous sample, why not) — the sample only from a file that is ours and fits."""
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK  # NONBLOCK: a planted FIFO
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None, "first run"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return None, f"state file {path} is a symlink, not used"
        return None, f"state file {path}: {e.strerror}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, f"state file {path} is not a regular file, not used"
        if st.st_uid != os.geteuid():
            return None, f"state file {path} belongs to uid {st.st_uid}, not used"
        if st.st_mode & 0o022:
            return None, f"state file {path} is writable by others, not used"
        data = os.read(fd, STATE_MAX_BYTES + 1)
    finally:
        os.close(fd)
    try:
        if len(data) > STATE_MAX_BYTES:
            raise ValueError("too large")
        # Bounded depth, no NaN/Infinity: a planted or damaged file is "corrupt", not a crash.
        rec = loads(data, STATE_MAX_BYTES)
        if not isinstance(rec, dict) or rec.get("type") != STATE_TYPE:
            raise ValueError("not a checkswap check state")
        sample_rec = rec["sample"]
        if not isinstance(sample_rec, dict):
            raise ValueError("no sample")
        sample, _ = sample_from_record(sample_rec)
    except (ValueError, KeyError, TypeError):
        return None, f"state file {path} is corrupt, not used"
    if rec.get("root") != root.path:
        return None, f"state file {path} is for --root {rec.get('root')}, not used"
    if rec.get("boot_id") != boot_id:
        return None, "state is from before a reboot"
    return sample, ""


def save_state(path: str, root: Root, boot_id: str | None, sample: Sample) -> str:
    """Write the state atomically (new file + rename); '' or why it could not be saved."""
    rec = {
        "type": STATE_TYPE,
        "version": 1,
        "root": root.path,
        "boot_id": boot_id,
        "sample": sample_to_record(sample, root.page_size),
    }
    data = json.dumps(rec, separators=(",", ":")).encode()
    # A fresh random name made with O_EXCL|O_NOFOLLOW, renamed over the old state only if that
    # is our own regular file (outfile): in a shared directory such as /tmp nobody can make us
    # write through a link or replace a device, and a concurrent run reads old or new.
    try:
        outfile.write(path, data, STATE_WHAT, 0o600)
    except OSError as e:
        # No room, read-only: the check still answers, it samples next time.
        return f"state not saved ({path}: {e.strerror})"
    return ""


# --- measuring ----------------------------------------------------------------------------


def _usable(prev: Sample | None, now: Sample) -> tuple[Interval | None, str]:
    if prev is None:
        return None, ""
    age = now.mono - prev.mono
    if age > STALE_S or now.wall - prev.wall > STALE_S:
        return None, f"state is {age / 60:.0f} min old"
    iv = Interval(prev, now)
    if iv.interval_s <= 0 or iv.deltas["pswpin"] is None or iv.deltas["pswpout"] is None:
        return None, "counters went backwards since the last run"
    return iv, ""


def measure(root: Root, env: Env, state_path: str, sample_s: float) -> tuple[Interval, list[str]]:
    """The interval since the last run (or a brief sample), and notes; saves the new state."""
    notes: list[str] = []
    boot_id = _boot_id(root)
    sampler = Sampler(root)
    try:
        prev, why = load_state(state_path, root, boot_id)
        now = sampler.take()
        iv, why2 = _usable(prev, now)
        if iv is not None and prev is not None and iv.interval_s < sample_s:
            # Run again right away (a retry, two services on one host): a rate over a few
            # milliseconds is exact but says little, so extend it to --sample seconds.
            Ticker(root, sample_s - iv.interval_s, env.monotonic, env.sleep).wait()
            now = sampler.take()
            iv = Interval(prev, now)
        if iv is None:
            why = why or why2
            # One tick: --sample seconds live; a bundle moves on to its next captured sample.
            Ticker(root, sample_s, env.monotonic, env.sleep).wait()
            first, now = now, sampler.take()
            iv = Interval(first, now)
            notes.append(f"sampled {iv.interval_s:.1f} s: {why}")
        notes += iv.notes
    finally:
        sampler.close()
    problem = save_state(state_path, root, boot_id, now)
    if problem:
        notes.append(problem)
    return iv, notes


# --- judging ------------------------------------------------------------------------------


class Check:
    """One figure with its thresholds: the state it raises and how it reads."""

    def __init__(self, name: str, value: float | None, warn: Range | None, crit: Range | None):
        self.name = name
        self.value = value
        self.warn = warn
        self.crit = crit

    def state(self) -> PluginStatus:
        if self.value is None:
            return PluginStatus.UNKNOWN if (self.warn or self.crit) else PluginStatus.OK
        if self.crit is not None and self.crit.alerts(self.value):
            return PluginStatus.CRITICAL
        if self.warn is not None and self.warn.alerts(self.value):
            return PluginStatus.WARNING
        return PluginStatus.OK

    def flag(self) -> str:
        s = self.state()
        if s is PluginStatus.CRITICAL and self.crit is not None:
            return f" (CRITICAL: {self.crit.describe()})"
        if s is PluginStatus.WARNING and self.warn is not None:
            return f" (WARNING: {self.warn.describe()})"
        if s is PluginStatus.UNKNOWN:
            return " (UNKNOWN: not available on this kernel)"
        return ""


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


def _rate_text(per_s: float | None, page_size: int) -> str:
    if per_s is None:
        return "unknown"
    return f"{per_s:.1f} pages/s ({format_bytes(per_s * page_size)}/s)"


def run(args: argparse.Namespace, env: Env) -> int:
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
    root = open_root(args.root)
    page = root.page_size

    iv, notes = measure(root, env, state_path, sample_s)
    end = iv.end
    mem = end.meminfo
    total = mem.get("SwapTotal")
    used = swap_used(mem)
    no_swap = total == 0
    used_pct = None if not total or used is None else used / total * 100.0
    psi = end.psi
    psi_some = psi.some.avg10 if psi is not None and psi.some is not None else None
    psi_full = psi.full.avg10 if psi is not None and psi.full is not None else None

    checks = [
        Check("swap-in", iv.rate("pswpin"), warn_in, crit_in),
        Check("swap-out", iv.rate("pswpout"), warn_out, crit_out),
        Check(
            "swap used", used_pct, None if no_swap else warn_used, None if no_swap else crit_used
        ),
        Check("PSI memory some", psi_some, warn_psi, crit_psi),
    ]
    status = max(c.state() for c in checks)

    cin, cout, cused, cpsi = checks
    parts = [
        f"swap-in {_rate_text(cin.value, page)}{cin.flag()}",
        f"swap-out {_rate_text(cout.value, page)}{cout.flag()}",
    ]
    if no_swap:
        parts.insert(0, "no swap configured: nothing can swap")
    elif total is None or used is None:
        parts.append("swap used unknown")
    else:
        pct = f"{used_pct:.1f}%" if used_pct is not None else "?"
        parts.append(
            f"swap used {pct} ({format_bytes(used)} of {format_bytes(total)}){cused.flag()}"
        )
    if psi_some is None:
        parts.append(f"no PSI on this kernel{cpsi.flag()}")
    else:
        parts.append(f"PSI memory some {psi_some:.1f}%{cpsi.flag()}")
    text = ", ".join(parts) + f", over {iv.interval_s:.1f} s"
    if notes:
        text += f" ({'; '.join(notes)})"

    perf = [
        perfdata("swap_in", cin.value, "", warn_in, crit_in, 0),
        perfdata("swap_out", cout.value, "", warn_out, crit_out, 0),
    ]
    if not no_swap and used_pct is not None:
        perf.append(perfdata("swap_used_pct", used_pct, "%", warn_used, crit_used, 0, 100))
    if used is not None and total is not None:
        perf.append(perfdata("swap_used", used, "B", None, None, 0, total))
    if psi_some is not None:
        perf.append(perfdata("psi_some_avg10", psi_some, "%", warn_psi, crit_psi, 0, 100))
    if psi_full is not None:
        perf.append(perfdata("psi_full_avg10", psi_full, "%", None, None, 0, 100))
    vm = end.vmstat
    # The kernel's own counters ("c": continuous counter), so graphs can recompute the rates.
    for key, label in (("pswpin", "swap_in_pages"), ("pswpout", "swap_out_pages")):
        if key in vm:
            perf.append(perfdata(label, vm[key], "c"))
    perf.append(perfdata("interval", iv.interval_s, "s"))

    env.stdout.write(f"CHECKSWAP {status.name} - {text} | {' '.join(perf)}\n")
    return int(status)
