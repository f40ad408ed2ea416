"""Writing recordings: one line per record, rotation, retention, and surviving long runs.

What a recorder left running for weeks meets, and what it does:

- kill -9: every record is one ``write(2)`` of a whole line on an ``O_APPEND`` descriptor, with
  no buffer in between, so at most the line being written is lost and the file stays readable.
- disk full (ENOSPC, EDQUOT) or an I/O error: a short write is cut back (``ftruncate``) to the
  last whole line, so no half line is ever followed by another; samples are dropped and counted,
  one warning is printed, and when a write succeeds again an ``event`` line says how many
  samples are missing. The run goes on: raw counters make the next interval exact anyway.
- the log directory (or the file) removed: noticed by ``fstat`` (no links left), the directory
  is made again and a new file opened, with one warning.
- rotation: by size, into dated files (``--dir``) or ``FILE.1``, ``FILE.2``... (``-o``),
  optionally gzipped in the background; retention keeps ``keep`` files, the current included.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import re
import shutil
import threading
import time
from typing import Callable

from checkswap.errors import BadInput, Refused
from checkswap.store import dumps

DATED = "%Y-%m-%d-%H%M"
SUFFIX = "-checkswap.jsonl"
_DATED_RE = re.compile(r"^(\d{4}-\d\d-\d\d-\d{4})(?:-(\d+))?-checkswap\.jsonl(?:\.gz)?$")


def _age_key(name: str) -> tuple[str, int]:
    """Oldest first: by the minute in the name, then by the rotation number within it."""
    m = _DATED_RE.match(name)
    assert m is not None
    return m.group(1), int(m.group(2) or 1)


# Errors that mean "no room or no disk right now", not "this can never work".
WARN_EVERY_S = 3600.0
_TRANSIENT = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})


class Writer:
    """Appends records to a recording, rotating and pruning as it goes.

    Exactly one of ``path`` (``-o FILE``) and ``directory`` (``--dir DIR``) is set.
    ``header`` makes the line that opens each new file; ``warn`` prints one line for a person.
    """

    def __init__(
        self,
        path: str | None,
        directory: str | None,
        rotate_size: int,
        keep: int,
        compress: bool,
        header: Callable[[], dict[str, object]],
        warn: Callable[[str], None],
        wall: Callable[[], float] = time.time,
    ) -> None:
        assert (path is None) != (directory is None)
        self.path = path
        self.directory = directory
        self.rotate_size = rotate_size
        self.keep = keep
        self.compress = compress
        self._header = header
        self._warn = warn
        self._wall = wall
        self.current: str | None = None
        self._fd = -1
        self._size = 0  # bytes of whole lines in the current file
        self._failing: str | None = None  # the error while writes fail, for the resume event
        self._failed_since: float | None = None
        self._warned_at: float | None = None
        self._outage_warned = False
        self.lost = 0  # samples dropped during the current outage
        self.lost_total = 0
        self._threads: list[threading.Thread] = []

    # --- opening -----------------------------------------------------------------------

    def start(self) -> None:
        """Open the first file; a target that cannot be written at all is refused up front."""
        try:
            self._open()
        except OSError as e:
            target = self.path or self.directory
            if e.errno in (errno.EACCES, errno.EPERM):
                raise Refused(f"cannot write {target}: {e.strerror}") from None
            if e.errno in (errno.EEXIST, errno.ENOTDIR) and self.directory is not None:
                raise BadInput(f"--dir {target}: not a directory (for one file: -o FILE)") from None
            if e.errno in (errno.ENOTDIR, errno.EISDIR):
                raise BadInput(f"cannot write {target}: {e.strerror}") from None
            if e.errno not in _TRANSIENT:
                raise BadInput(f"cannot write {target}: {e.strerror}") from None
            self._begin_outage(e)

    def _new_name(self) -> str:
        if self.path is not None:
            return self.path
        assert self.directory is not None
        stamp = time.strftime(DATED, time.localtime(self._wall()))
        try:
            taken = [
                _age_key(n)[1]
                for n in os.listdir(self.directory)
                if n.startswith(stamp) and _DATED_RE.match(n)
            ]
        except FileNotFoundError:
            taken = []
        n = max(taken, default=1)

        def name(n: int) -> str:
            return os.path.join(self.directory or ".", f"{stamp}{f'-{n}' if n > 1 else ''}{SUFFIX}")

        # A restart within the minute appends to that minute's file; a rotation never does,
        # nor does anything reuse the number of a file compressed or pruned since.
        last = name(n)
        if os.path.exists(last + ".gz") or (
            os.path.exists(last) and os.path.getsize(last) + 4096 > self.rotate_size
        ):
            return name(n + 1)
        return last

    def _open(self) -> None:
        folder = self.directory or os.path.dirname(os.path.abspath(self.path or "."))
        os.makedirs(folder, exist_ok=True)
        name = self._new_name()
        fd = os.open(name, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            size = os.fstat(fd).st_size
            self._fd, self.current, self._size = fd, name, size
            if size:
                self._end_partial_line()
            self._write_line(dumps(self._header()))
        except OSError:
            self._close_fd()
            raise
        if self.directory is not None:
            self._prune()

    def _end_partial_line(self) -> None:
        """After kill -9 the file may end mid-line; end it, so that line alone is lost."""
        with open(self._fd, "rb", closefd=False) as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                self._write_line(b"\n")

    def _close_fd(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = -1

    # --- writing -----------------------------------------------------------------------

    def write(self, rec: dict[str, object]) -> bool:
        """Append one record; False (and counted) when it could not be written."""
        line = dumps(rec)
        try:
            if self._fd < 0:
                self._open()
            elif os.fstat(self._fd).st_nlink == 0:
                self._warn(f"{self.current} was removed; starting a new file")
                self._close_fd()
                self._open()
            elif self._size and self._size + len(line) > self.rotate_size:
                self._rotate()
            if self._failing is not None:
                self._write_line(
                    dumps(
                        self._event(
                            "resumed",
                            lost_samples=self.lost,
                            since=self._failed_since,
                            error=self._failing,
                        )
                    )
                )
                if self._outage_warned:
                    self._warn(f"writing again to {self.current} ({self.lost} samples lost)")
                self._failing = None
                self.lost = 0
            self._write_line(line)
            return True
        except OSError as e:
            if e.errno not in _TRANSIENT and e.errno not in (errno.ENOENT, errno.EACCES):
                raise
            self._begin_outage(e)
            self.lost += 1
            self.lost_total += 1
            return False

    def _event(self, event: str, **details: object) -> dict[str, object]:
        from checkswap.store import event_record

        return event_record(self._wall(), event, **details)

    def _begin_outage(self, e: OSError) -> None:
        if self._failing is None:
            self._failing = e.strerror or str(e)
            now = self._failed_since = self._wall()
            # A disk hovering at full fails and recovers again and again: one warning an hour
            # at most; every outage is in the recording as a "resumed" event anyway.
            self._outage_warned = self._warned_at is None or now - self._warned_at >= WARN_EVERY_S
            if self._outage_warned:
                self._warned_at = now
                target = self.current or self.path or self.directory
                self._warn(
                    f"cannot write {target}: {self._failing}; recording goes on and resumes "
                    "writing when it can (this warning is not repeated within an hour)"
                )
        if e.errno in (errno.ENOENT, errno.EROFS, errno.EIO):
            self._close_fd()  # reopen (and make the directory again) on the next write

    def _write_line(self, data: bytes) -> None:
        """Write a whole line or nothing: a short write is cut back before the error is raised."""
        try:
            n = os.write(self._fd, data)
        except OSError:
            self._truncate()
            raise
        if n != len(data):
            self._truncate()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._size += n

    def _truncate(self) -> None:
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            # Could not cut the half line off: close, and the next open ends it with "\n",
            # so it is one bad line for the reader, never two lines glued together.
            self._close_fd()

    # --- rotation and retention --------------------------------------------------------

    def _rotate(self) -> None:
        old = self.current
        self._close_fd()
        rotated: str | None = old
        if self.path is not None and self.keep <= 1:
            os.unlink(self.path)
            rotated = None
        elif self.path is not None:
            self._shift(self.path)
            rotated = self.path + ".1"
            os.rename(self.path, rotated)
        self._open()
        if self.compress and rotated is not None:
            t = threading.Thread(target=_gzip_file, args=(rotated,), daemon=True)
            t.start()
            self._threads.append(t)

    def _shift(self, path: str) -> None:
        """FILE.1 -> FILE.2 ...; the oldest beyond ``keep`` files in all is removed."""
        for n in range(self.keep - 1, 0, -1):
            for ext in ("", ".gz"):
                src = f"{path}.{n}{ext}"
                if not os.path.exists(src):
                    continue
                if n + 1 >= self.keep:
                    os.unlink(src)
                else:
                    os.rename(src, f"{path}.{n + 1}{ext}")

    def _prune(self) -> None:
        assert self.directory is not None
        try:
            names = sorted(n for n in os.listdir(self.directory) if _DATED_RE.match(n))
        except OSError:
            return
        current = os.path.basename(self.current or "")
        # A file being compressed exists twice for a moment (plain and .gz): count it once.
        stems = sorted(
            {n[:-3] if n.endswith(".gz") else n for n in names} - {current}, key=_age_key
        )
        for stem in stems[: max(0, len(stems) - (self.keep - 1))]:
            for name in (stem, stem + ".gz"):
                try:
                    os.unlink(os.path.join(self.directory, name))
                except OSError:
                    continue

    def close(self) -> None:
        if self._fd >= 0:
            # If the disk is still full, the samples before are what matters.
            with contextlib.suppress(OSError):
                self._write_line(dumps(self._event("stopped", lost_samples=self.lost_total)))
        self._close_fd()
        for t in self._threads:
            t.join()


def _gzip_file(path: str) -> None:
    """path -> path.gz, through a temporary name so a reader never sees half a gzip file."""
    tmp = path + ".gz.tmp"
    try:
        with open(path, "rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.rename(tmp, path + ".gz")
        os.unlink(path)
    except OSError:
        # No room to compress: the plain file stays, which is still a recording.
        with contextlib.suppress(OSError):
            os.unlink(tmp)
