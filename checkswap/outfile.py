"""Output files: the one place checkswap creates, replaces or appends a file it writes.

checkswap runs as root and is pointed at paths in shared directories (/tmp, /var/tmp, a log
directory other users can write), so what it writes is only ever its own regular file:

- a name that exists is lstat()ed, never followed: a symlink, device, FIFO, socket or directory
  there is refused with one line, and so is a regular file of another user;
- a whole file (state, bundle, HTML page, textfile, fstab) is written under a random name made
  with O_CREAT|O_EXCL|O_NOFOLLOW in the same directory, then renamed over the name, so a reader
  sees the old file or the new one and a planted link at a predictable temp name is never used;
- an append (a recording) opens the checked regular file with O_NOFOLLOW, or creates it with
  O_EXCL, and checks what it opened with fstat();
- an output whose directory does not exist is bad input; only ``record --dir`` makes its own
  directory (``make_dir``), whose parent must exist.

What remains between the lstat() and the rename(): someone who can write the directory may put
another name there. rename() over a symlink replaces the link, not its target, and over a FIFO
or a hard link only the name: harmless. The one replacement that would do harm, a device node,
can only be made by root (CAP_MKNOD). renameat2(RENAME_NOREPLACE) would close the window, but
Python's stdlib has no binding for it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterator

from checkswap.errors import BadInput

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import BinaryIO


_KINDS = (
    (stat.S_ISLNK, "a symbolic link (checkswap never writes through one)"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def require_parent(path: str, what: str) -> str:
    """The directory ``path`` goes into; bad input when it does not exist."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        problem = "is not a directory" if os.path.lexists(directory) else "does not exist"
        raise BadInput(f"{what} {path}: cannot write there: {directory} {problem}")
    return directory


def check(path: str, what: str) -> os.stat_result | None:
    """None if nothing is at ``path``; its lstat if it is our own regular file; else refused."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise BadInput(f"{what} {path}: {e.strerror}") from None
    _require_ours(st, path, what)
    return st


def _require_ours(st: os.stat_result, path: str, what: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise BadInput(
            f"{what} {path}: is {_kind(st.st_mode)}; checkswap writes only its own regular "
            "files (remove it or choose another name)"
        )
    if st.st_uid != os.geteuid():
        raise BadInput(
            f"{what} {path}: belongs to uid {st.st_uid}; checkswap replaces only its own files "
            "(remove it or choose another name)"
        )


def check_output(path: str, what: str) -> None:
    """Up front, before the work: the directory exists and nothing foreign is at the name."""
    require_parent(path, what)
    check(path, what)


def create_temp(path: str, mode: int, flags: int = 0) -> tuple[int, str]:
    """A new file with a random name beside ``path`` (never one that exists, never a link)."""
    directory = os.path.dirname(os.path.abspath(path))
    # Hidden and ending in .tmp: neither node_exporter (*.prom) nor a recording's rotation
    # (dated names) ever takes it for the real file.
    stem = os.path.basename(path)[:64]
    create = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC | flags
    for _ in range(100):
        tmp = os.path.join(directory, f".{stem}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, create, mode), tmp
        except FileExistsError:
            continue
    raise OSError(errno.EEXIST, f"no free temporary name beside {path}")


def rename(src: str, dst: str, what: str) -> None:
    """rename(), but never over something that is not our own regular file (see the top)."""
    check(dst, what)
    os.rename(src, dst)


@contextlib.contextmanager
def replacing(
    path: str,
    what: str,
    mode: int = 0o600,
    like: os.stat_result | None = None,
    sync: bool = False,
) -> Iterator[BinaryIO]:
    """Write a whole new ``path``: yields a file; on success it replaces ``path`` in one step.

    ``like`` gives the new file the old one's mode and owner (fstab); ``sync`` fsyncs the file
    and the directory, for files a crash must not lose. On any failure the temp file is removed.
    """
    directory = require_parent(path, what)
    check(path, what)
    fd, tmp = create_temp(path, mode)
    try:
        if like is not None:
            os.fchmod(fd, stat.S_IMODE(like.st_mode))
            with contextlib.suppress(PermissionError):
                os.fchown(fd, like.st_uid, like.st_gid)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if sync:
                os.fsync(f.fileno())
        rename(tmp, path, what)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync:
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def write(
    path: str,
    data: bytes,
    what: str,
    mode: int = 0o600,
    like: os.stat_result | None = None,
    sync: bool = False,
) -> None:
    """``replacing`` for data already in memory."""
    with replacing(path, what, mode, like, sync) as f:
        f.write(data)


def read_own(path: str, what: str) -> tuple[bytes, os.stat_result]:
    """The content and lstat of our own regular file ``path`` (fstab before it is edited)."""
    st = check(path, what)
    if st is None:
        raise BadInput(f"{what} {path}: no such file")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    with os.fdopen(fd, "rb") as f:
        _same_file(os.fstat(fd), st, path, what)
        return f.read(), st


def _same_file(got: os.stat_result, want: os.stat_result, path: str, what: str) -> None:
    if (got.st_dev, got.st_ino) != (want.st_dev, want.st_ino):
        raise BadInput(f"{what} {path}: replaced while checkswap opened it; try again")
    _require_ours(got, path, what)


def open_append(path: str, what: str, mode: int = 0o640) -> int:
    """A descriptor appending to our own regular file ``path``, created if absent.

    An existing name is checked before it is opened, so a device is never even opened (opening
    some has effects: a watchdog starts counting). O_NONBLOCK and O_NOCTTY make opening a FIFO
    or a tty put there after the check harmless, and fstat() then refuses it.
    """
    for _ in range(3):
        st = check(path, what)
        if st is None:
            flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            try:
                return os.open(path, flags, mode)
            except FileExistsError:
                continue  # appeared since the lstat: check what it is
        flags = os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            continue
        except OSError as e:
            if e.errno == errno.ELOOP:
                continue  # became a symlink: the lstat says so next time round
            raise
        try:
            _same_file(os.fstat(fd), st, path, what)
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        except BaseException:
            os.close(fd)
            raise
        return fd
    raise BadInput(f"{what} {path}: keeps changing while checkswap opens it")


def remove(path: str) -> None:
    """Unlink ``path`` if it is our own regular file (cleaning up what we wrote), else leave it."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
        with contextlib.suppress(OSError):
            os.unlink(path)
