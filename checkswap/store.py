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

A header opens every file the recorder writes: host, kernel, page size, interval, boot id and
the text of /proc/swaps at that moment (so replay shows the swap areas as ``watch`` does). A
trigger holds what ``top --format json`` saw when the swap rate crossed ``--trigger``. Events
say what the recorder lived through (disk full, directory removed, stopped). Readers skip types
they do not know. A truncated or corrupt line is not fatal: it is counted and skipped.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Callable

from checkswap import __version__
from checkswap.errors import BadInput
from checkswap.fields import iso_utc
from checkswap.kernel.pressure import Pressure, PressureLine
from checkswap.root import PreadFile, Root
from checkswap.sample import Sample

_DECODER = json.JSONDecoder()
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


def _psi_in(value: object) -> PressureLine | None:
    if value is None:
        return None
    if type(value) is not list or len(value) != 4:
        raise ValueError("bad psi line")
    a10, a60, a300, total = value
    if type(total) is not int:
        raise ValueError("psi total is not an integer")
    return PressureLine(float(a10), float(a60), float(a300), total)


def _counters(value: object) -> dict[str, int]:
    # The hot path of every report: 604,800 lines a week. json gives str keys; only the
    # values need checking (bool is a subclass of int, hence the exact type test).
    if type(value) is not dict:
        raise ValueError("counters must be an object")
    for v in value.values():
        if type(v) is not int:
            raise ValueError("a counter is not an integer")
    return value


def sample_from_record(rec: dict[str, object]) -> tuple[Sample, int]:
    """(sample, page size) from a ``raw`` record; ValueError/KeyError/TypeError if malformed."""
    psi_obj = rec.get("psi")
    psi = None
    if psi_obj is not None:
        if type(psi_obj) is not dict:
            raise ValueError("psi must be an object")
        psi = Pressure(_psi_in(psi_obj.get("some")), _psi_in(psi_obj.get("full")))
    mono, wall, page = rec["mono"], rec["wall"], rec["page_size_bytes"]
    if not isinstance(mono, (float, int)) or not isinstance(wall, (float, int)):
        raise ValueError("mono and wall must be numbers")
    if type(page) is not int or page <= 0:
        raise ValueError("bad page size")
    sample = Sample(
        float(mono), float(wall), _counters(rec["vmstat"]), _counters(rec["meminfo"]), psi
    )
    return sample, page


def paced(
    samples: Iterable[Sample],
    speed: float,
    monotonic: Callable[[], float],
    sleep: Callable[[float], None],
) -> Iterator[Sample]:
    """Recorded samples released at their recorded pace, ``speed`` times faster (0: at once).

    The pace follows the recorded monotonic clock; across a reboot (the clock went back) the
    next sample comes at once.
    """
    it = iter(samples)
    first = next(it, None)
    if first is None:
        return
    yield first
    if speed <= 0:
        yield from it
        return
    base_rec, base_now = first.mono, monotonic()
    for s in it:
        if s.mono < base_rec:
            base_rec, base_now = s.mono, monotonic()
        delay = (s.mono - base_rec) / speed - (monotonic() - base_now)
        if delay > 0:
            sleep(delay)
        yield s


def header_record(root: Root, wall: float, interval: float) -> dict[str, object]:
    """The line that opens each recording file."""
    files: dict[str, str] = {}
    for rel in HEADER_FILES:
        try:
            files[rel] = root.read_text(rel)
        except OSError:
            continue  # absent on this kernel or tree: the replay says "unknown"
    boot = files.get("proc/sys/kernel/random/boot_id")
    return {
        "type": "header",
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "time": iso_utc(wall),
        "wall": wall,
        "version": __version__,
        "hostname": root.hostname,
        "kernel_release": root.kernel_release,
        "boot_id": boot.strip() if boot else None,
        "page_size_bytes": root.page_size,
        "interval_s": interval,
        "files": files,
    }


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


def _open_text(path: str) -> IO[str]:
    try:
        if path.endswith(".gz"):
            return gzip.open(path, "rt", encoding="utf-8", errors="replace")
        return open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such recording") from None
    except IsADirectoryError:
        hint = f" (did you mean {os.path.join(path, '*-checkswap.jsonl*')}?)"
        raise BadInput(f"{path}: is a directory, not a recording{hint}") from None
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})") from None


def _lines(path: str, reading: Reading) -> Iterator[str]:
    """The file's lines; a gzip file cut short ends the file as one bad line, not an error."""
    with _open_text(path) as f:
        try:
            yield from f
        except (EOFError, OSError, zlib.error):
            reading.bad_lines += 1
            reading.notes.append(f"{path}: compressed data ends early; read up to there")


def chunk_lines(path: str, start: int, end: int | None, reading: Reading) -> Iterator[str]:
    """The lines of a plain file from byte ``start`` (a line start) up to ``end`` (None: to
    the end, which may still be growing); a gzip file is always read whole."""
    if path.endswith(".gz"):
        yield from _lines(path, reading)
        return
    with _open_text(path) as probe:
        probe.close()  # only for the error message when the file is missing or unreadable
    with open(path, "rb") as f:
        f.seek(start)
        pos = start
        for raw in f:
            if end is not None and pos >= end:
                break
            pos += len(raw)
            yield raw.decode("utf-8", "replace")


def split_points(path: str, chunk_bytes: int) -> list[tuple[int, int | None]]:
    """(start, end) byte ranges of whole lines, about ``chunk_bytes`` each."""
    if path.endswith(".gz"):
        return [(0, None)]
    size = os.path.getsize(path)
    bounds = [0]
    with open(path, "rb") as f:
        for k in range(1, size // chunk_bytes + 1):
            f.seek(k * chunk_bytes)
            f.readline()
            pos = f.tell()
            if bounds[-1] < pos < size:
                bounds.append(pos)
    ranges: list[tuple[int, int | None]] = list(zip(bounds, bounds[1:]))
    ranges.append((bounds[-1], None))
    return ranges


class Reading:
    """Raw samples from one or more recording files, in order, with the bad lines counted.

    Records of other types are kept by type: ``headers``, ``triggers``, ``events`` (and any type
    this version does not know in ``other``).
    """

    def __init__(self) -> None:
        self.bad_lines = 0
        self.lines = 0
        self.page_size: int | None = None
        self.headers: list[dict[str, object]] = []
        self.triggers: list[dict[str, object]] = []
        self.events: list[dict[str, object]] = []
        self.other: list[dict[str, object]] = []
        self.notes: list[str] = []

    def samples(self, lines: Iterable[str]) -> Iterator[Sample]:
        # raw_decode: json.loads minus a regex over each line (the lines are stripped).
        decode = _DECODER.raw_decode
        for line in lines:
            line = line.strip()
            if not line:
                continue
            self.lines += 1
            try:
                rec, end = decode(line)
                if end != len(line):
                    raise ValueError("extra data after the object")
                if not isinstance(rec, dict):
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
        self.headers += other.headers
        self.triggers += other.triggers
        self.events += other.events
        self.other += other.other
        self.notes += other.notes

    def _keep(self, kind: object, rec: dict[str, object]) -> None:
        if kind == "header":
            self.headers.append(rec)
            page = rec.get("page_size_bytes")
            if self.page_size is None and isinstance(page, int) and page > 0:
                self.page_size = page
        elif kind == "trigger":
            self.triggers.append(rec)
        elif kind == "event":
            self.events.append(rec)
        else:
            self.other.append(rec)

    def files(self, paths: Iterable[str]) -> Iterator[Sample]:
        """Samples of several files as one timeline: files in order of their first sample.

        Rotation splits one run over several files, and a shell glob sorts ``FILE.10`` before
        ``FILE.2``; ordering by content makes the argument order not matter.
        """
        ordered = sorted(paths, key=lambda p: (first_wall(p), p))
        for path in ordered:
            before = self.lines
            bad = self.bad_lines
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
    """The JSON objects among a file's first ``limit`` lines; a damaged file just ends early."""
    with _open_text(path) as f:
        try:
            for n, line in enumerate(f):
                if n > limit:
                    return
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict):
                    yield rec
        except (EOFError, OSError, zlib.error):
            return


def first_wall(path: str) -> float:
    """Wall time of the file's first readable sample (inf if none): for ordering files."""
    for rec in _leading_records(path):
        if rec.get("type") == "raw" and isinstance(rec.get("wall"), (int, float)):
            return float(rec["wall"])  # type: ignore[arg-type]
    return float("inf")


def first_header(path: str) -> dict[str, object] | None:
    """The first header record of a file (None for a recording without one)."""
    for rec in _leading_records(path):
        if rec.get("type") == "header":
            return rec
        if rec.get("type") == "raw":
            return None
    return None


class RecordingRoot(Root):
    """The root a replay renders against: host, kernel, page size and swap areas as recorded.

    Only the kernel files the header carries can be read; the samples come from the recording.
    """

    def __init__(self, path: str, header: dict[str, object] | None, page_size: int) -> None:
        # Not Root.__init__: there is no directory to look at, only what the header says.
        self.path = path
        self.is_host = False
        self.notes = []
        header = header or {}
        self.manifest = {k: header[k] for k in ("hostname", "kernel_release") if k in header}
        self.page_size = page_size
        files = header.get("files")
        self._files = files if isinstance(files, dict) else {}
        if not header:
            self.notes.append(f"{path} has no header: host and swap areas unknown")

    def join(self, rel: str) -> str:
        return f"{self.path}:{rel}"

    def exists(self, rel: str) -> bool:
        return rel in self._files

    def read_text(self, rel: str) -> str:
        text = self._files.get(rel)
        if not isinstance(text, str):
            raise FileNotFoundError(errno.ENOENT, "not in the recording", self.join(rel))
        return text

    def open_pread(self, rel: str) -> PreadFile:
        raise FileNotFoundError(errno.ENOENT, "not in the recording", self.join(rel))

    def listdir(self, rel: str) -> list[str]:
        raise FileNotFoundError(errno.ENOENT, "not in the recording", self.join(rel))
