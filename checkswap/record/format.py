"""Recordings: raw samples as JSON lines, written by ``record`` and read back for replay.

A recording keeps counters, not rates (STYLE.md rule 5): replay and report recompute rates
through rates.py, the same code as the live view. One object per line::

    {"type": "raw", "time": "2026-11-27T21:07:00.000+00:00", "mono": 1234.5, "wall": 1795...,
     "page_size_bytes": 4096, "vmstat": {"pswpin": 0, ...}, "meminfo": {"SwapTotal": ...},
     "psi": {"some": [avg10, avg60, avg300, total_us], "full": [...]}}

Other types::

    {"type": "header", "format": "checkswap-recording", "format_version": 1, ...}   # each file
    {"type": "trigger", "time": ..., "wall": ..., "swap_in_per_s": ..., "capture": {...}}
    {"type": "event", "time": ..., "event": "resumed", "lost_samples": 12, ...}
    {"type": "tiers", "time": ..., "wall": ..., "zswap": {...}, "zram": [...], "mthp": [...]}
                                        # the compressed tiers' state, once a minute

A header opens every file the recorder writes: host, kernel, page size, interval, boot id and
the text of /proc/swaps at that moment (so replay shows the swap areas as ``watch`` does). A
trigger holds what ``top --format json`` saw when the swap rate crossed ``--trigger``. Events
say what the recorder lived through (disk full, directory removed, stopped). Readers skip types
they do not know. A truncated or corrupt line is not fatal: it is counted and skipped.

A recording may come from another machine, so every line is untrusted data (checkswap.untrusted):
parsed with bounded length and depth, no NaN or Infinity, and each number that is used checked
for sanity (clocks, counters, page size, PSI). A line that fails is a bad line, never an
exception. Only regular files are read: a device, FIFO or socket is refused before it is opened.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import zlib
from array import array
from collections.abc import Iterable, Iterator

from checkswap.errors import BadInput
from checkswap.kernel.pressure import Pressure, PressureLine
from checkswap.model.sample import Sample
from checkswap.units import iso_utc
from checkswap.untrusted import (
    MAX_COUNTER,
    MAX_LINE_BYTES,
    MAX_MONO,
    MAX_WALL,
    UntrustedData,
    count,
    loads,
    number,
)

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import IO, Callable


FORMAT = "checkswap-recording"
FORMAT_VERSION = 1
# Kernel files whose text a header carries, so a replay can show what ``watch`` shows.
HEADER_FILES = ("proc/swaps", "proc/sys/kernel/random/boot_id")


def _psi_out(line: PressureLine | None) -> list[float] | None:
    return None if line is None else [line.avg10, line.avg60, line.avg300, line.total_us]


def sample_to_record(sample: Sample, page_size: int) -> dict[str, object]:
    psi = sample.psi
    return {
        "type": "raw",
        "time": iso_utc(sample.wall),
        "mono": sample.mono,
        "wall": sample.wall,
        "page_size_bytes": page_size,
        "vmstat": sample.vmstat,
        "meminfo": sample.meminfo,
        "psi": None if psi is None else {"some": _psi_out(psi.some), "full": _psi_out(psi.full)},
    }


# Page sizes Linux has used (4 KiB to 64 KiB, 256 KiB on hexagon), with room either side.
MIN_PAGE_SIZE = 512
MAX_PAGE_SIZE = 1 << 20
# A monotonic clock within this of zero, but not zero: between two such values an interval can
# be short enough (5e-324 s) for a 2^64 delta to give an infinite rate. Away from zero, two
# floats differ by at least 2e-22 s, and every rate stays finite.
MIN_MONO = 1e-6
MIN_INTERVAL_S = 1e-6
# The recorder's interval: above a day is not an interval but a mistake.
MAX_INTERVAL_S = 86400.0
# Headers, triggers and events are kept whole and written back out (report --format json, the
# HTML page); a trigger's capture is ~5 levels deep. Deeper would fail later, in an encoder.
MAX_RECORD_DEPTH = 32


def page_size_of(value: object) -> int | None:
    """``value`` if it is a page size (a power of two within reason), else None."""
    if type(value) is int and MIN_PAGE_SIZE <= value <= MAX_PAGE_SIZE and not value & (value - 1):
        return value
    return None


def _psi_in(value: object) -> PressureLine | None:
    if value is None:
        return None
    if type(value) is not list or len(value) != 4:
        raise ValueError("bad psi line")
    a10, a60, a300, total = value
    # Comparisons, not number(): this runs twice per line. NaN fails them, a string raises
    # TypeError (a bad line too), a bool passes as 0 or 1, which is harmless.
    if not (0.0 <= a10 <= 100.0 and 0.0 <= a60 <= 100.0 and 0.0 <= a300 <= 100.0):
        raise ValueError("psi average is not a percentage")
    if type(total) is not int or not 0 <= total <= MAX_COUNTER:
        raise ValueError("psi total is not a counter")
    return PressureLine(float(a10), float(a60), float(a300), total)


def _counters(value: object) -> dict[str, int]:
    # The hot path of every report: 604,800 lines a week. json gives str keys; only the
    # values need checking (bool is a subclass of int, hence the exact type test). One loop
    # with a chained comparison measured fastest (min()/max() after it cost twice as much).
    if type(value) is not dict:
        raise ValueError("counters must be an object")
    for v in value.values():
        if type(v) is not int or not 0 <= v <= MAX_COUNTER:
            raise ValueError("a counter is not an unsigned 64-bit integer")
    return value


def sample_from_record(rec: dict[str, object]) -> tuple[Sample, int]:
    """(sample, page size) from a ``raw`` record; ValueError/KeyError/TypeError if malformed
    or if a number in it is not sane (a clock centuries away, a counter beyond 2^64)."""
    psi_obj = rec.get("psi")
    psi = None
    if psi_obj is not None:
        if type(psi_obj) is not dict:
            raise ValueError("psi must be an object")
        psi = Pressure(_psi_in(psi_obj.get("some")), _psi_in(psi_obj.get("full")))
    mono, wall = rec["mono"], rec["wall"]
    # A str raises TypeError here; a 400-digit int compares fine and fails the range. A
    # monotonic clock below zero is odd but harmless (a time namespace, a state file's test).
    if type(mono) is bool or type(wall) is bool:
        raise ValueError("mono and wall must be numbers")
    if not (-MAX_MONO <= mono <= MAX_MONO and 0.0 <= wall <= MAX_WALL):  # type: ignore[operator]
        raise ValueError("mono or wall is not a sane clock")
    if -MIN_MONO < mono < MIN_MONO and mono:  # type: ignore[operator]
        raise ValueError("mono is not a sane clock")
    page = page_size_of(rec["page_size_bytes"])
    if page is None:
        raise ValueError("bad page size")
    sample = Sample(
        float(mono),  # type: ignore[arg-type]
        float(wall),  # type: ignore[arg-type]
        _counters(rec["vmstat"]),
        _counters(rec["meminfo"]),
        psi,
    )
    return sample, page


def event_record(wall: float, event: str, **details: object) -> dict[str, object]:
    return {"type": "event", "time": iso_utc(wall), "wall": wall, "event": event, **details}


def trigger_record(
    wall: float, swap_in_per_s: float | None, swap_out_per_s: float | None, capture: object
) -> dict[str, object]:
    return {
        "type": "trigger",
        "time": iso_utc(wall),
        "wall": wall,
        "swap_in_per_s": swap_in_per_s,
        "swap_out_per_s": swap_out_per_s,
        "capture": capture,
    }


def dumps(rec: dict[str, object]) -> bytes:
    """One record as one line: compact, since a week at 1 Hz is 604,800 of them."""
    return (json.dumps(rec, separators=(",", ":")) + "\n").encode()


_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}
# Bytes read at a time: lines are cut out of blocks, so no line costs more memory than
# MAX_LINE_BYTES plus one block, whatever the file (or a gzip bomb) holds.
BLOCK_BYTES = 1 << 20


def open_recording(path: str) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file; BadInput with one line otherwise.

    The type is checked before the file is opened (a FIFO would block the open, /dev/zero
    never ends, and opening some devices acts: a watchdog starts counting) and again on the
    descriptor, opened non-blocking, so a name swapped in between is refused too.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadInput(f"{path}: no such recording") from None
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        hint = f" (did you mean {os.path.join(path, '*-checkswap.jsonl*')}?)"
        raise BadInput(f"{path}: is a directory, not a recording{hint}")
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise BadInput(f"{path}: is {kind}, not a recording")
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})") from None
    now = os.fstat(fd)
    if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
        os.close(fd)
        raise BadInput(f"{path}: replaced while being opened, not read")
    return os.fdopen(fd, "rb")


def _read_failed(path: str, e: BaseException, got: bool) -> str:
    if not path.endswith(".gz"):
        return f"cannot read ({getattr(e, 'strerror', None) or e})"
    if isinstance(e, EOFError):
        why = "compressed data ends early (truncated)"
    else:
        why = f"compressed data is corrupt ({e or type(e).__name__})"
    return why if got else f"not a gzip file, or one cut before its first line: {why}"


def _block_lines(
    read: Callable[[int], bytes], remaining: int | None, reading: Reading | None, path: str
) -> Iterator[bytes]:
    """The lines (newline removed) of what ``read`` returns, ``remaining`` bytes (None: all).

    A line longer than MAX_LINE_BYTES is skipped to its end and counted as one bad line, so
    memory stays bounded. A gzip stream that ends early or is corrupt keeps the lines read
    before the damage; the line it cut is counted bad and a note says so. A file that is not
    gzip at all (nothing could be read) is BadInput.
    """
    tail = b""
    skipping = False
    got = False
    while remaining is None or remaining > 0:
        try:
            block = read(BLOCK_BYTES if remaining is None else min(BLOCK_BYTES, remaining))
        except (EOFError, OSError, zlib.error) as e:
            why = _read_failed(path, e, got)
            if not got:
                raise BadInput(f"{path}: {why}") from None
            if reading is not None:
                reading.bad_lines += 1
                reading.lines += 1
                reading.notes.append(f"{path}: {why}; read up to there")
            return
        if not block:
            break
        got = True
        if remaining is not None:
            remaining -= len(block)
        lines = block.split(b"\n")
        if skipping:
            if len(lines) == 1:
                continue  # still inside the long line
            lines[0] = b""
            skipping = False
        else:
            lines[0] = tail + lines[0]
        tail = lines.pop()
        if len(tail) > MAX_LINE_BYTES:
            tail, skipping = b"", True
            if reading is not None:
                reading.bad_lines += 1
                reading.lines += 1
        yield from lines
    if tail:
        yield tail  # the last line has no newline (a recorder killed mid-write)


def _lines(path: str, reading: Reading | None) -> Iterator[bytes]:
    """The file's lines, a gzip file decompressed as it is read."""
    with open_recording(path) as f:
        if path.endswith(".gz"):
            with gzip.GzipFile(fileobj=f, mode="rb") as z:
                # read1: read() would drop what it decompressed if the stream ends mid-call.
                yield from _block_lines(z.read1, None, reading, path)
        else:
            yield from _block_lines(f.read, None, reading, path)


def chunk_lines(path: str, start: int, end: int | None, reading: Reading) -> Iterator[bytes]:
    """The lines of a plain file from byte ``start`` (a line start) up to ``end`` (None: to
    the end, which may still be growing); a gzip file is always read whole."""
    if path.endswith(".gz"):
        yield from _lines(path, reading)
        return
    with open_recording(path) as f:
        f.seek(start)
        yield from _block_lines(f.read, None if end is None else end - start, reading, path)


def split_points(path: str, chunk_bytes: int) -> list[tuple[int, int | None]]:
    """(start, end) byte ranges of whole lines, about ``chunk_bytes`` each."""
    if path.endswith(".gz"):
        return [(0, None)]
    bounds = [0]
    with open_recording(path) as f:
        size = os.fstat(f.fileno()).st_size
        target = chunk_bytes
        while target < size:
            f.seek(target)
            while True:  # to the next line start, in bounded pieces however long the line
                piece = f.readline(BLOCK_BYTES)
                if not piece or piece.endswith(b"\n"):
                    break
            pos = f.tell()
            if pos >= size:
                break
            bounds.append(pos)
            # From the bound, not from target: a gigabyte line is read through once, not
            # once per chunk it spans.
            target = pos + chunk_bytes
    ranges: list[tuple[int, int | None]] = list(zip(bounds, bounds[1:]))
    ranges.append((bounds[-1], None))
    return ranges


def _wall_of(rec: dict[str, object]) -> float:
    return number(rec.get("wall"), 0.0, MAX_WALL, "wall")


def _shallow(value: object, depth: int = MAX_RECORD_DEPTH) -> None:
    """UntrustedData if ``value`` nests deeper than ``depth`` (lists and objects)."""
    level = [value]
    for _ in range(depth):
        nxt: list[object] = []
        for v in level:
            if type(v) is dict:
                nxt.extend(v.values())
            elif type(v) is list:
                nxt.extend(v)
        if not nxt:
            return
        level = nxt
    raise UntrustedData(f"nested deeper than {depth} levels")


def checked_record(rec: dict[str, object]) -> dict[str, object]:
    """A header, trigger or event record whose used fields are sane; UntrustedData if not.

    These are rare lines (one header per file, a trigger per spike) kept whole and written out
    again, so they are checked more thoroughly than the raw samples. Their ``time`` text is
    made again from the checked wall clock: one home for the datum.
    """
    _shallow(rec)
    kind = rec.get("type")
    if kind == "header":
        page = rec.get("page_size_bytes")
        if page is not None and page_size_of(page) is None:
            raise UntrustedData("bad page size")
        if rec.get("interval_s") is not None:
            number(rec["interval_s"], MIN_INTERVAL_S, MAX_INTERVAL_S, "interval_s")
        if rec.get("wall") is not None:
            rec["time"] = iso_utc(_wall_of(rec))
        for key in ("hostname", "kernel_release", "boot_id"):
            if not isinstance(rec.get(key), (str, type(None))):
                raise UntrustedData(f"{key} is not text")
        if not isinstance(rec.get("files"), (dict, type(None))):
            raise UntrustedData("files is not an object")
    elif kind == "tiers":
        rec["time"] = iso_utc(_wall_of(rec))
        if not isinstance(rec.get("zswap"), (dict, type(None))):
            raise UntrustedData("zswap is not an object")
        for key in ("zram", "mthp"):
            value = rec.get(key)
            if not isinstance(value, (list, type(None))) or any(
                type(x) is not dict for x in value or []
            ):
                raise UntrustedData(f"{key} is not a list of objects")
    elif kind in ("trigger", "event"):
        rec["time"] = iso_utc(_wall_of(rec))
        if kind == "trigger":
            if not isinstance(rec.get("capture"), (dict, type(None))):
                raise UntrustedData("capture is not an object")
            for key in ("swap_in_per_s", "swap_out_per_s"):
                if rec.get(key) is not None:
                    number(rec[key], 0.0, float(MAX_COUNTER), key)
        else:
            if rec.get("since") is not None:
                number(rec["since"], 0.0, MAX_WALL, "since")
            if rec.get("lost_samples") is not None:
                count(rec["lost_samples"], "lost_samples")
    return rec


def _trigger_of(line: bytes) -> dict[str, object] | None:
    """The line's trigger record, checked as Reading keeps it; None for anything else."""
    try:
        rec = loads(line.strip())
        if type(rec) is not dict or rec.get("type") != "trigger":
            return None
        return checked_record(rec)
    except (ValueError, KeyError, TypeError):
        return None


def tiers_record(wall: float, state: dict[str, object]) -> dict[str, object]:
    """The compressed tiers' state (model/tiers.py read_state) as a recording line: a slow
    cadence of its own beside the raw samples (mm_stat and the pool move slowly)."""
    return {
        "type": "tiers",
        "time": iso_utc(wall),
        "wall": wall,
        **{k: state.get(k) for k in ("zswap", "zram", "mthp")},
    }


# Events kept to be listed (report --format json); the others are counted. A recorder writes a
# handful a run (resumed, disk full, stopped); only a damaged or hostile file has more.
MAX_EVENTS = 1000


class Reading:
    """Raw samples from one or more recording files, in order, with the bad lines counted.

    Of the other records, what a reader needs is kept, in memory that does not grow with the
    recording's length: the first ``header``, the last ``tiers`` state (one a minute: a month
    of them parsed was ~250 MB), the last trigger whole (``last_trigger``, dash's view) and of
    every trigger only its wall clock and where it is (a month of triggers, once a minute with
    a capture of 20 processes each, would be close to a gigabyte). ``load_triggers`` reads the
    few whole ones a report shows again from their files. Each type is counted (``*_seen``);
    types this version does not know are counted and skipped.
    """

    def __init__(self, source: tuple[str, int, int | None] | None = None) -> None:
        self.bad_lines = 0
        self.lines = 0
        self.page_size: int | None = None
        self.header: dict[str, object] | None = None
        self.headers_seen = 0
        self.tiers: dict[str, object] | None = None
        self.tiers_seen = 0
        self.events: list[dict[str, object]] = []
        self.events_seen = 0
        self.other_seen = 0
        self.last_trigger: dict[str, object] | None = None
        # Trigger n: its wall clock, and the chunk of a file (sources[trigger_source[n]]) in
        # which it is the trigger_ordinal[n]-th trigger: enough to find it again.
        self.trigger_walls = array("d")
        self.trigger_source = array("i")
        self.trigger_ordinal = array("q")
        # (path, first byte, end byte or None) of what ``samples`` is reading: one chunk of a
        # report, or each file of ``files`` in turn; none for lines from elsewhere (a test's).
        self.sources: list[tuple[str, int, int | None]] = [] if source is None else [source]
        self._ordinal = 0
        self.notes: list[str] = []

    def samples(self, lines: Iterable[bytes | str]) -> Iterator[Sample]:
        for line in lines:
            line = line.strip()
            if not line:
                continue
            self.lines += 1
            try:
                rec = loads(line)
                if type(rec) is not dict:
                    raise ValueError("not an object")
                kind = rec.get("type")
                if kind != "raw":
                    self._keep(kind, rec)
                    continue
                sample, page = sample_from_record(rec)
            except (ValueError, KeyError, TypeError):
                self.bad_lines += 1
                continue
            self.page_size = page
            yield sample

    def absorb(self, other: Reading) -> None:
        """Add what ``other`` read from the lines that followed this one's."""
        self.bad_lines += other.bad_lines
        self.lines += other.lines
        if other.page_size is not None:
            self.page_size = other.page_size
        if self.header is None:
            self.header = other.header
        self.headers_seen += other.headers_seen
        if other.tiers is not None:
            self.tiers = other.tiers
        self.tiers_seen += other.tiers_seen
        self.events += other.events[: MAX_EVENTS - len(self.events)]
        self.events_seen += other.events_seen
        self.other_seen += other.other_seen
        if other.last_trigger is not None:
            self.last_trigger = other.last_trigger
        base = len(self.sources)
        self.sources += other.sources
        self.trigger_walls += other.trigger_walls
        self.trigger_source.extend(base + i for i in other.trigger_source)
        self.trigger_ordinal += other.trigger_ordinal
        self.notes += other.notes

    def _keep(self, kind: object, rec: dict[str, object]) -> None:
        if kind == "header":
            checked_record(rec)
            self.headers_seen += 1
            if self.header is None:
                self.header = rec
            page = rec.get("page_size_bytes")
            if self.page_size is None and isinstance(page, int):
                self.page_size = page
        elif kind == "trigger":
            self.last_trigger = checked_record(rec)
            self.trigger_walls.append(_wall_of(rec))
            self.trigger_source.append(len(self.sources) - 1)  # -1: lines from elsewhere
            self.trigger_ordinal.append(self._ordinal)
            self._ordinal += 1
        elif kind == "event":
            checked_record(rec)
            self.events_seen += 1
            if len(self.events) < MAX_EVENTS:
                self.events.append(rec)
        elif kind == "tiers":
            self.tiers = checked_record(rec)
            self.tiers_seen += 1
        else:
            self.other_seen += 1

    @property
    def triggers_seen(self) -> int:
        return len(self.trigger_walls)

    def load_triggers(self, wanted: Iterable[int]) -> dict[int, dict[str, object]]:
        """Triggers ``wanted`` (their numbers in reading order) whole, read again from their
        files; one that is no longer there as it was read (its file rewritten since) is left
        out. Each chunk holding one is read once."""
        by_source: dict[int, dict[int, int]] = {}
        for n in wanted:
            src = self.trigger_source[n]
            if src >= 0:
                by_source.setdefault(src, {})[self.trigger_ordinal[n]] = n
        found: dict[int, dict[str, object]] = {}
        for src, ordinals in sorted(by_source.items()):
            path, start, end = self.sources[src]
            last = max(ordinals)
            ordinal = 0
            scratch = Reading()
            try:
                for line in chunk_lines(path, start, end, scratch):
                    # A trigger line names its type, unless it spells it with \\u escapes:
                    # skip the rest unparsed, as the samples are most of the file.
                    if b"trigger" not in line and b"\\u" not in line:
                        continue
                    rec = _trigger_of(line)
                    if rec is None:
                        continue
                    got = ordinals.get(ordinal)
                    if got is not None and _wall_of(rec) == self.trigger_walls[got]:
                        found[got] = rec
                    ordinal += 1
                    if ordinal > last:
                        break
            except (OSError, BadInput):
                continue  # gone or unreadable since: those triggers show no capture
        return found

    def files(self, paths: Iterable[str]) -> Iterator[Sample]:
        """Samples of several files as one timeline: files in order of their first sample.

        Rotation splits one run over several files, and a shell glob sorts ``FILE.10`` before
        ``FILE.2``; ordering by content makes the argument order not matter.
        """
        ordered = sorted(paths, key=lambda p: (first_wall(p), p))
        for path in ordered:
            before = self.lines
            bad = self.bad_lines
            self.sources.append((path, 0, None))
            self._ordinal = 0
            yield from self.samples(_lines(path, self))
            self.check_file(path, self.lines - before, self.bad_lines - bad)

    def check_file(self, path: str, lines: int, bad: int) -> None:
        """After reading a whole file: a file of nothing but bad lines is not a recording."""
        if lines and bad == lines:
            raise BadInput(
                f"{path}: not a checkswap recording (none of its {lines} lines is a "
                "recorded sample); record one with: checkswap record -o FILE"
            )
        if lines == 0:
            self.notes.append(f"{path}: empty recording")


def _leading_records(path: str, limit: int = 1000) -> Iterator[dict[str, object]]:
    """The sane JSON objects among a file's first ``limit`` lines; a damaged file just ends
    early, one that cannot be read at all (a device, not gzip) is BadInput."""
    for n, line in enumerate(_lines(path, None)):
        if n > limit:
            return
        try:
            rec = loads(line)
            if type(rec) is dict and rec.get("type") != "raw":
                checked_record(rec)
        except ValueError:
            continue
        if type(rec) is dict:
            yield rec


def first_wall(path: str) -> float:
    """Wall time of the file's first readable sample (inf if none): for ordering files."""
    for rec in _leading_records(path):
        if rec.get("type") == "raw":
            try:
                return sample_from_record(rec)[0].wall
            except (ValueError, KeyError, TypeError):
                continue  # a bad line: the report counts it
    return float("inf")


def first_header(path: str) -> dict[str, object] | None:
    """The first header record of a file (None for a recording without one)."""
    for rec in _leading_records(path):
        if rec.get("type") == "header":
            return rec
        if rec.get("type") == "raw":
            return None
    return None
