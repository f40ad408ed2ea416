"""The state file of ``checkswap check``: the raw counters one run leaves for the next.

Where it lives by default, how it is read (only a regular file of ours, not writable by
others, bounded, from the same boot and root) and written (atomically, never through a link),
and whether the sample it holds still makes a fair "since the last run" (``usable``).
"""

from __future__ import annotations

import errno
import json
import os
import stat

from checkswap import outfile
from checkswap.model.rates import Interval
from checkswap.record.format import sample_from_record, sample_to_record
from checkswap.units import format_bytes
from checkswap.untrusted import loads

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.model.sample import Sample
    from checkswap.source.root import Root

STALE_S = 3600.0  # docs/interface.md: a state older than an hour is not a fair "since the last run"
# A state this many times older than the interval between the two runs before (and over a
# minute old) is a gap in the schedule, not the check's pace: an average over it hides what
# happened in it, so the check samples instead.
GAP_FACTOR = 10.0
GAP_MIN_S = 60.0
STATE_MAX_BYTES = 1 << 20
STATE_TYPE = "checkswap-check-state"
STATE_WHAT = "--state-file"


def default_state_path() -> str:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and os.path.isdir(runtime):
        return os.path.join(runtime, "checkswap-check.state")
    import tempfile  # ~5 ms of start-up (random, shutil): only for the default path

    return os.path.join(tempfile.gettempdir(), f"checkswap-check-{os.geteuid()}.state")


def read_boot_id(root: Root) -> str | None:
    try:
        return root.read_text("proc/sys/kernel/random/boot_id").strip() or None
    except OSError:
        return None


class State:
    """What the previous run left: its sample, and the interval that run measured over."""

    def __init__(self, sample: Sample, interval_s: float | None) -> None:
        self.sample = sample
        self.interval_s = interval_s


def load_state(path: str, root: Root, boot_id: str | None) -> tuple[State | None, str]:
    """(previous state, why not) — the state only from a file that is ours and fits."""
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
        interval = rec.get("interval_s")
        if interval is not None and not (
            isinstance(interval, (int, float)) and not isinstance(interval, bool) and interval > 0
        ):
            raise ValueError("bad interval_s")
    except (ValueError, KeyError, TypeError):
        return None, f"state file {path} is corrupt, not used"
    if rec.get("root") != root.path:
        return None, f"state file {path} is for --root {rec.get('root')}, not used"
    if rec.get("boot_id") != boot_id:
        return None, "state is from before a reboot"
    return State(sample, None if interval is None else float(interval)), ""


def save_state(
    path: str, root: Root, boot_id: str | None, sample: Sample, interval_s: float | None = None
) -> str:
    """Write the state atomically (new file + rename); '' or why it could not be saved."""
    rec = {
        "type": STATE_TYPE,
        "version": 1,
        "root": root.path,
        "boot_id": boot_id,
        "sample": sample_to_record(sample, root.page_size),
        "interval_s": interval_s,  # this run's own, so the next can tell its pace from a gap
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


def usable(prev: State | None, now: Sample) -> tuple[Interval | None, str]:
    """The interval from the state's sample to now, or None and why it is no fair measure."""
    if prev is None:
        return None, ""
    then = prev.sample
    age = now.mono - then.mono
    if age > STALE_S or now.wall - then.wall > STALE_S:
        return None, f"state is {age / 60:.0f} min old"
    pace = prev.interval_s
    if pace is not None and age > GAP_MIN_S and age > GAP_FACTOR * pace:
        return (
            None,
            f"state is {age:.0f} s old, far more than the {pace:.0f} s between earlier runs",
        )
    # A swapon or swapoff in between: the counters ran under another set of areas, and a rate
    # over that span printed next to today's sizes ("no swap configured ... swap-in 7303.7
    # pages/s") tells two stories. SwapTotal is the cheap witness (in the state already).
    t0, t1 = then.meminfo.get("SwapTotal"), now.meminfo.get("SwapTotal")
    if t0 is not None and t1 is not None and t0 != t1:
        return None, (
            "swap areas changed since the last run "
            f"(swap total {format_bytes(t0)} -> {format_bytes(t1)})"
        )
    iv = Interval(then, now)
    if iv.interval_s <= 0 or iv.deltas["pswpin"] is None or iv.deltas["pswpout"] is None:
        return None, "counters went backwards since the last run"
    return iv, ""
