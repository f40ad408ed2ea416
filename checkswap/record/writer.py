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
- a second recorder on the same ``-o FILE`` or ``--dir DIR``: refused. The recorder holds an
  flock on the recording itself (``-o``) or on the directory (``--dir``), which the kernel
  releases when it dies, even by kill -9. A rotated ``-o`` file is made and locked under a
  temporary name, the old one is hard-linked to ``FILE.1``, and the new one renamed over
  ``FILE``: at every moment ``FILE`` is a locked file, so no second recorder slips in.
- what it writes goes through outfile: never through a symlink, never over a device or a file
  of another user, and ``-o`` appends only to an empty file or an earlier recording.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gzip
import os
import re
import shutil
import stat
import threading
import time

from checkswap import outfile
from checkswap.errors import BadInput, CheckswapError, Refused, denied
from checkswap.record.format import FORMAT, dumps
from checkswap.untrusted import UntrustedData, loads

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Callable


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
# Recordings name processes (trigger captures): no reason for others to read them.
FILE_MODE = 0o640
DIR_MODE = 0o750
# A header line is ~1 KiB (it carries /proc/swaps); a first line longer than this is not one.
HEAD_BYTES = 64 * 1024
# link() says "not on this filesystem" with these: rotate by two renames instead.
_NO_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK})


def _what(path: str | None) -> str:
    return "-o" if path is not None else "--dir"


def is_recording_start(head: bytes) -> bool:
    """Whether a file that begins with ``head`` is a checkswap recording (its header says so)."""
    line = head.split(b"\n", 1)[0]
    try:
        rec = loads(line)
    except UntrustedData:
        return False
    return isinstance(rec, dict) and rec.get("type") == "header" and rec.get("format") == FORMAT


def _free_name(path: str) -> str:
    stem = os.path.splitext(path)[0]
    for n in range(1, 100):
        name = f"{stem}-checkswap{f'-{n}' if n > 1 else ''}.jsonl"
        if not os.path.lexists(name):
            return name
    return f"{stem}-checkswap-new.jsonl"


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
        self._dir_fd = -1  # --dir: the locked directory

    # --- opening -----------------------------------------------------------------------

    def start(self) -> None:
        """Open the first file; a target that cannot be written at all is refused up front."""
        # One rule for missing directories: -o FILE needs FILE's directory, --dir DIR needs DIR's
        # parent (DIR itself is made, as sysstat's collector makes its own).
        if self.path is not None:
            outfile.require_parent(self.path, "-o")
        else:
            assert self.directory is not None
            outfile.require_parent(self.directory.rstrip("/") or "/", "--dir")
        try:
            self._open()
        except OSError as e:
            target = self.path or self.directory
            if denied(e):
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
        if os.path.lexists(last + ".gz") or (
            os.path.lexists(last) and os.lstat(last).st_size + 4096 > self.rotate_size
        ):
            return name(n + 1)
        return last

    def _open(self) -> None:
        if self.directory is not None:
            self._lock_directory()
        name = self._new_name()
        fd = outfile.open_append(name, _what(self.path), FILE_MODE)
        try:
            if self.path is not None:
                self._lock(fd, name)
            self._check_appendable(fd, name)
            self._adopt(fd, name)
        except BaseException:
            if self._fd != fd:
                os.close(fd)
            self._close_fd()
            raise
        if self.directory is not None:
            self._prune()

    def _adopt(self, fd: int, name: str) -> None:
        """Make ``fd`` the current file and open it with a header line."""
        size = os.fstat(fd).st_size
        self._fd, self.current, self._size = fd, name, size
        if size:
            self._end_partial_line()
        self._write_line(dumps(self._header()))

    def _lock(self, fd: int, name: str) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Refused(
                f"-o {name}: another checkswap record is writing it; stop that one first or "
                "record to another file"
            ) from None

    def _lock_directory(self) -> None:
        """Hold an flock on DIR, made if missing; again if DIR was removed and made anew."""
        assert self.directory is not None
        try:
            st = os.stat(self.directory)
        except FileNotFoundError:
            os.mkdir(self.directory, DIR_MODE)  # its parent gone too: ENOENT, an outage
            st = os.stat(self.directory)
        if self._dir_fd >= 0:
            held = os.fstat(self._dir_fd)
            if (held.st_dev, held.st_ino) == (st.st_dev, st.st_ino):
                return
            os.close(self._dir_fd)
            self._dir_fd = -1
        fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Refused(
                f"--dir {self.directory}: another checkswap record is writing there; stop that "
                "one first or record to another directory"
            ) from None
        self._dir_fd = fd

    def _check_appendable(self, fd: int, name: str) -> None:
        """Append only to an empty file or a recording: never to a log, a document, /proc/..."""
        # Read, not st_size: /proc and /sys files say 0 bytes and are not empty.
        head = os.pread(fd, HEAD_BYTES, 0)
        if head and not is_recording_start(head):
            raise BadInput(
                f"{_what(self.path)} {name}: not a checkswap recording; record appends only to "
                f"an empty file or an earlier recording: give a new name such as "
                f"{_free_name(name)}"
            )

    def _end_partial_line(self) -> None:
        """After kill -9 the file may end mid-line; end it, so that line alone is lost."""
        if os.pread(self._fd, 1, self._size - 1) != b"\n":
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
        from checkswap.record.format import event_record

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
        if self.path is None:
            old = self.current
            self._close_fd()
            self._open()  # a new dated name; the directory lock is held throughout
            self._compress(old)
            return
        rotated = self._rotate_file(self.path)
        self._compress(rotated)

    def _rotate_file(self, path: str) -> str | None:
        """FILE -> FILE.1 and a new FILE, with FILE locked by us at every moment.

        The new file is made, locked and given its header under a temporary name, the old one
        (still open and locked) is hard-linked to FILE.1, and the new one renamed over FILE: a
        second recorder opening FILE at any moment finds a file we hold locked.
        """
        fd, tmp = outfile.create_temp(path, FILE_MODE, os.O_APPEND)
        rotated: str | None = None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new name: nobody else has it
            header = dumps(self._header())
            if os.write(fd, header) != len(header):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            if self.keep > 1:
                self._shift(path)
                rotated = path + ".1"
                self._keep_old_as(path, rotated)
            outfile.rename(tmp, path, "-o")
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._close_fd()
        self._fd, self.current, self._size = fd, path, len(header)
        return rotated

    def _keep_old_as(self, path: str, rotated: str) -> None:
        """Give the current file (still at ``path``) the name ``rotated`` as well."""
        here = os.lstat(path)
        mine = os.fstat(self._fd)
        if (here.st_dev, here.st_ino) != (mine.st_dev, mine.st_ino):
            return  # moved or removed by someone else: nothing of ours to keep at FILE.1
        outfile.check(rotated, "-o")
        try:
            os.link(path, rotated, follow_symlinks=False)  # never replaces an existing name
        except OSError as e:
            if e.errno not in _NO_LINKS:
                raise
            # No hard links on this filesystem (vfat, some FUSE): a rename, and for a moment
            # FILE is absent, when a second recorder starting right then could take it.
            outfile.rename(path, rotated, "-o")

    def _compress(self, rotated: str | None) -> None:
        if self.compress and rotated is not None:
            t = threading.Thread(target=_gzip_file, args=(rotated, self._warn), daemon=True)
            t.start()
            self._threads.append(t)

    def _shift(self, path: str) -> None:
        """FILE.1 -> FILE.2 ...; the oldest beyond ``keep`` files in all is removed."""
        for n in range(self.keep - 1, 0, -1):
            for ext in ("", ".gz"):
                src = f"{path}.{n}{ext}"
                # Only our own files are moved or deleted: a link or device put among them stops
                # the rotation with one line instead of being moved along and then unlinked.
                if outfile.check(src, "-o") is None:
                    continue
                if n + 1 >= self.keep:
                    os.unlink(src)
                else:
                    outfile.rename(src, f"{path}.{n + 1}{ext}", "-o")

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
                # Only our own regular files: a device or link given a dated name stays.
                outfile.remove(os.path.join(self.directory, name))

    def close(self) -> None:
        if self._fd >= 0:
            # If the disk is still full, the samples before are what matters.
            with contextlib.suppress(OSError):
                self._write_line(dumps(self._event("stopped", lost_samples=self.lost_total)))
        self._close_fd()
        if self._dir_fd >= 0:
            os.close(self._dir_fd)
            self._dir_fd = -1
        for t in self._threads:
            t.join()


def _gzip_file(path: str, warn: Callable[[str], None]) -> None:
    """path -> path.gz, through a fresh temporary name so a reader never sees half a gzip file."""
    try:
        src_fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with open(src_fd, "rb") as src:
            if not stat.S_ISREG(os.fstat(src_fd).st_mode):
                return
            with (
                outfile.replacing(path + ".gz", "--gzip", FILE_MODE) as f,
                gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=6) as dst,
            ):
                shutil.copyfileobj(src, dst, 1 << 20)
        outfile.remove(path)
    except OSError:
        pass  # no room to compress: the plain file stays, which is still a recording
    except CheckswapError as e:
        warn(f"{path} not compressed: {e}")
