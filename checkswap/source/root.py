"""Where checkswap reads the kernel from: the one place that knows the path of /proc and /sys.

Every reader takes a ``Root`` and names files relative to it (``"proc/vmstat"``), so ``--root DIR``
works for every command and tests point a root at a fixture tree. A DIR is read live, exactly like
/proc: two reads of a static tree give zero deltas. A root may carry ``checkswap-manifest.json``
(page size, kernel release, capture times); without one the host's page size is used and a note
says so. A manifest may come from another machine: it is read only if it is a regular file of at
most 16 MiB, parsed with bounded depth and finite numbers, and every field checkswap uses is
checked here, so an absurd one is one clear error, never a traceback later.
"""

from __future__ import annotations

import os
import stat
import time

from checkswap.errors import BadInput, kernel_file_error

MANIFEST = "checkswap-manifest.json"
# A snapshot's manifest is a few KiB; its skipped-files summary of a large server a few MiB.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
# The stat() facts topology reads offline, with the widths the kernel gives them.
_STAT_FIELDS = {
    "mode": 2**32 - 1,
    "uid": 2**32 - 1,
    "gid": 2**32 - 1,
    "size": 2**64 - 1,
    "blocks": 2**64 - 1,
    "dev_major": 2**32 - 1,
    "dev_minor": 2**32 - 1,
    "rdev_major": 2**32 - 1,
    "rdev_minor": 2**32 - 1,
}


class PreadFile:
    """A kernel file kept open and re-read from offset 0 on every call.

    Keeping the descriptor open and using pread() saves the open/close per tick; seq_file based
    /proc files regenerate their text when read from offset 0.
    """

    __slots__ = ("_bufsize", "_fd", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = -1  # set first: __del__ runs even when open() below fails
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self._bufsize = 16384

    def read(self) -> str:
        while True:
            data = os.pread(self._fd, self._bufsize, 0)
            if len(data) < self._bufsize:
                return data.decode("utf-8", "surrogateescape")
            self._bufsize *= 4

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        try:  # noqa: SIM105 (contextlib is ~0.5 ms of every command's start-up)
            self.close()
        except OSError:
            pass


class Root:
    """A directory holding ``proc/`` and ``sys/``: ``/`` on a live system, or a fixture tree."""

    # True for a root that replays captured samples with their own clock (a snapshot bundle).
    replays = False

    def __init__(self, path: str = "/") -> None:
        self._start(os.path.abspath(path))
        self.manifest: dict[str, object] | None = self._load_manifest()
        self.page_size = self._page_size()

    def _start(self, path: str, is_host: bool | None = None) -> None:
        """What every root has, wherever its files come from; subclasses call it first."""
        self.path = path
        self.is_host = path == "/" if is_host is None else is_host
        self.notes: list[str] = []
        self.manifest = None
        # Only a directory given as --root can be a live procfs (the host's /proc mounted in a
        # container); a bundle or a recording never is, whatever its files say.
        self._shares_pids: bool | None = None if is_host is None else is_host

    @property
    def shares_pids(self) -> bool:
        """Whether the root's processes are this kernel's, in this process's pid namespace:
        this host, or the host's /proc mounted into a container that shares its pids (a
        DaemonSet with hostPID reading --root /host). Their pids are then the ones taskstats
        answers for. Asked of the procfs itself: its proc/self must be this very process (our
        pid, and our start time, which a tree copied from anywhere cannot know)."""
        if self._shares_pids is None:
            self._shares_pids = self.is_host or _is_our_procfs(self.join("proc"))
        return self._shares_pids

    def __repr__(self) -> str:
        return f"Root({self.path!r})"

    def join(self, rel: str) -> str:
        return os.path.join(self.path, rel)

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.join(rel))

    def read_text(self, rel: str) -> str:
        """Whole file as text; OSError propagates so callers decide what "missing" means."""
        with open(self.join(rel), "rb") as f:
            return f.read().decode("utf-8", "surrogateescape")

    def open_pread(self, rel: str) -> PreadFile:
        return PreadFile(self.join(rel))

    def listdir(self, rel: str) -> list[str]:
        return os.listdir(self.join(rel))

    def realpath(self, rel: str) -> str | None:
        """The path ``rel`` leads to, links resolved; None when nothing is there."""
        path = self.join(rel)
        return os.path.realpath(path) if os.path.exists(path) else None

    def readlink(self, rel: str) -> str:
        """A symlink's target; OSError when ``rel`` is not a link."""
        return os.readlink(self.join(rel))

    # A live root's clock is the host's. A snapshot bundle replays its recorded clock instead.
    def clock(self) -> tuple[float, float]:
        """(monotonic seconds, wall-clock epoch seconds) for a sample taken now."""
        return time.monotonic(), time.time()

    def advance(self) -> bool:
        """Move to the next captured sample; a live root has an endless supply."""
        return True

    @property
    def kernel_release(self) -> str | None:
        if self.manifest and isinstance(self.manifest.get("kernel_release"), str):
            return str(self.manifest["kernel_release"])
        try:
            return self.read_text("proc/sys/kernel/osrelease").strip() or None
        except OSError:
            return os.uname().release if self.is_host else None

    @property
    def hostname(self) -> str | None:
        if self.manifest and isinstance(self.manifest.get("hostname"), str):
            return str(self.manifest["hostname"])
        try:
            return self.read_text("proc/sys/kernel/hostname").strip() or None
        except OSError:
            return os.uname().nodename if self.is_host else None

    def _load_manifest(self) -> dict[str, object] | None:
        path = self.join(MANIFEST)
        try:
            # O_NONBLOCK: a FIFO in its place must not hang the open; it is refused below.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise BadInput(f"{path}: not a valid checkswap manifest ({e.strerror})") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise BadInput(f"{path}: not a regular file, refused as a manifest")
            data = _read_at_most(fd, MAX_MANIFEST_BYTES + 1)
        except OSError as e:
            raise BadInput(f"{path}: not a valid checkswap manifest ({e.strerror})") from None
        finally:
            os.close(fd)
        from checkswap import untrusted  # only roots that carry a manifest pay for json

        try:
            return checked_manifest(untrusted.loads(data, MAX_MANIFEST_BYTES))
        except untrusted.UntrustedData as e:
            raise BadInput(f"{path}: not a valid checkswap manifest ({e})") from None

    def _page_size(self) -> int:
        if self.manifest is not None and "page_size_bytes" in self.manifest:
            value = self.manifest["page_size_bytes"]
            assert isinstance(value, int)  # checked_manifest made sure
            return value
        size = os.sysconf("SC_PAGE_SIZE")
        if not self.is_host:
            why = f"has no {MANIFEST}" if self.manifest is None else f"{MANIFEST} has no page size"
            # A bundle is named as the user gave it, not by its private unpack directory.
            where = getattr(self, "bundle_path", self.path)
            self.notes.append(f"{where} {why}: assuming this host's page size, {size} bytes")
        return size


def _start_time(stat_path: str) -> str | None:
    """Field 22 of a /proc/PID/stat (start time in clock ticks after boot); None if unreadable.
    The name in field 2 may hold spaces and parentheses: fields count after its last ')'."""
    try:
        with open(stat_path, "rb") as f:
            rest = f.read(4096).rsplit(b")", 1)[-1].split()
    except OSError:
        return None
    return rest[19].decode() if len(rest) > 19 else None


def _is_our_procfs(proc: str) -> bool:
    try:
        if os.readlink(os.path.join(proc, "self")) != str(os.getpid()):
            return False
    except OSError:
        return False
    ours = _start_time("/proc/self/stat")
    return ours is not None and _start_time(os.path.join(proc, "self", "stat")) == ours


def file_kind(mode: int) -> str:
    """What a file that checkswap will not read is, for the line that says so."""
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "neither a file, a directory nor a symlink"


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks = []
    got = 0
    while got < limit:
        chunk = os.read(fd, min(limit - got, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def checked_manifest(doc: object) -> dict[str, object]:
    """The manifest, each field checkswap uses checked; UntrustedData says which is not sane.

    A bundle's samples are checked by the bundle code, which knows its tree.
    """
    from checkswap.untrusted import MAX_MONO, UntrustedData, count, number

    if not isinstance(doc, dict):
        raise UntrustedData("expected a JSON object")
    if "page_size_bytes" in doc:
        page = doc["page_size_bytes"]
        if type(page) is not int or not 512 <= page <= 2**30 or page & (page - 1):
            raise UntrustedData("page_size_bytes must be a power of two from 512 to 2^30")
    for key in ("kernel_release", "hostname"):
        text = doc.get(key)
        # Printed as they are: text a terminal would act on (escapes) is not a host's name.
        if text is not None and not (
            isinstance(text, str) and len(text) <= 256 and text.isprintable()
        ):
            raise UntrustedData(f"{key} must be printable text of at most 256 characters")
    if doc.get("interval_s") is not None:
        number(doc["interval_s"], 1e-9, MAX_MONO, "interval_s")
    facts = doc.get("stat")
    if facts is not None:
        if not isinstance(facts, dict):
            raise UntrustedData("stat must be an object of paths")
        clean: dict[str, dict[str, int]] = {}
        for where, values in facts.items():
            if len(where) > 4096 or not isinstance(values, dict):
                raise UntrustedData(f"stat of {where[:200]!r} must be an object of numbers")
            clean[where] = {
                k: count(values[k], f"stat {k} of {where[:200]!r}", hi)
                for k, hi in _STAT_FIELDS.items()
                if k in values
            }
        doc["stat"] = clean
    return doc


# What each kernel file a command may require is for, to say why its absence stops it.
NEEDED_FOR = {
    "proc/vmstat": "the swap-in/swap-out counters",
    "proc/meminfo": "swap used and total",
    "proc/swaps": "the swap areas",
}
NEEDS_VMSTAT = ("proc/vmstat",)


def check_kernel_tree(
    root: Root, needs: tuple[str, ...] = NEEDS_VMSTAT, command: str | None = None
) -> None:
    """Refuse a root that is not a kernel tree (no proc/), or lacks a file ``command`` cannot
    do without (``needs``). What a command can do without, it reads and reports as missing."""
    proc = root.join("proc")
    try:
        os.stat(proc)
    except FileNotFoundError:
        hint = ""
        if root.exists("vmstat") or root.exists("meminfo"):
            parent = os.path.dirname(root.path.rstrip("/")) or "/"
            hint = f" (did you mean --root {parent}? the root holds proc/ and sys/)"
        raise BadInput(f"--root {root.path}: not a kernel tree, it has no proc/{hint}") from None
    except OSError as e:
        raise kernel_file_error(proc, e) from None
    for rel in needs:
        path = root.join(rel)
        try:
            os.stat(path)
        except FileNotFoundError:
            who = f"{command} needs" if command else "this command needs"
            why = NEEDED_FOR.get(rel)
            raise BadInput(
                f"--root {root.path}: no {rel}{f' ({why})' if why else ''}, which {who}"
            ) from None
        except OSError as e:
            raise kernel_file_error(path, e) from None
