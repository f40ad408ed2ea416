"""Snapshot bundles as roots: ``--root BUNDLE`` replays the samples ``checkswap snapshot`` took.

A bundle is a tar.gz holding ``checkswap-manifest.json`` and one complete kernel tree per sample
(``samples/000/proc/...``, ``samples/000/sys/...``). The manifest lists the samples with the
monotonic and wall-clock times they were captured at, the page size, the kernel release and the
stat() facts of the swapfiles. ``BundleRoot`` points at the first sample's tree; ``clock()``
returns its capture times and ``advance()`` moves to the next one, so every command that samples
a live root replays the bundle unchanged: one sample gives null rates, two give one interval.

A bundle comes from another machine: it is read, never trusted.

- Its regular files and directories are copied, member by member, into one private directory,
  ``checkswap-bundle-<pid>-XXXXXXXX/tree`` (mode 0700). That directory is on /dev/shm when that
  tmpfs has four times the byte bound free (tens of thousands of small files: 3 to 5 times
  faster than on ext4 here), else in the temp directory; $TMPDIR, when set, always decides. It is
  removed when the root goes away, and a directory whose process is gone (killed with SIGKILL
  mid-unpack) is removed by the next run that opens a bundle.
- Its symlinks (sys/block/NAME -> ../devices/..., slaves/) are never made on disk. They are kept
  in memory and resolved here, component by component, inside the sample's own tree as a chroot
  would: ``..`` at the top stays at the top, an absolute target starts at the sample's top, and
  more than 40 links in one lookup is a loop, read as missing. The tree on disk holds no link at
  all, so a path joined under it stays in it, whichever reader opens it.
- Refused, as bad input: devices, FIFOs, sockets, hard links and sparse files (``checkswap
  snapshot`` writes none of them), a name that is absolute, holds ``..``, is longer than PATH_MAX
  or more than 128 directories deep, a member under a symlink, a name given twice (but for a
  directory), a symlink target longer than PATH_MAX, and tar extended headers above 64 KiB.
- Bounds, each ending the unpack at once with one line (raise one with its variable, in bytes
  or with a unit, as ``CHECKSWAP_BUNDLE_MAX_BYTES=4G``):

  ======================================  =========  ===================================
  bound                                   default    variable
  ======================================  =========  ===================================
  bytes read from the decompressor        1 GiB      CHECKSWAP_BUNDLE_MAX_BYTES
  members (files, directories, links)     1000000    CHECKSWAP_BUNDLE_MAX_MEMBERS
  bytes of one file                       64 MiB     CHECKSWAP_BUNDLE_MAX_FILE_BYTES
  link names and targets, held in RAM     64 MiB     CHECKSWAP_BUNDLE_MAX_LINK_BYTES
  ======================================  =========  ===================================

  What a snapshot takes: one sample of a server is about 4.6 KiB and 4 members per process
  plus about 14 KiB and 14 members per memory cgroup; one of 10,000 processes and the 4,096
  cgroups ``snapshot`` keeps at most is ~100 MiB and ~100,000 members, so the defaults hold ten
  such samples. The bytes count what the decompressor gives (headers included), not what the
  headers claim, so a gzip bomb stops at the bound; the files on disk are never more than that.

The unpacked-directory form of a bundle (``tar xzf`` of one) is read the same way: its files are
copied (opened with O_NOFOLLOW|O_NONBLOCK, each checked to be a regular file with one link), its
symlinks read into memory, under the same bounds.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import tempfile
import weakref
from typing import Any, BinaryIO, Callable, NamedTuple, Protocol, cast

from checkswap.errors import BadInput, Refused
from checkswap.source.root import MANIFEST, PreadFile, Root, file_kind

FORMAT = "checkswap-bundle"
PREFIX = "checkswap-bundle-"
_MIB = 1024 * 1024


class Limits(NamedTuple):
    bytes: int
    members: int
    file_bytes: int
    link_bytes: int


DEFAULT_LIMITS = Limits(
    bytes=1024 * _MIB, members=1_000_000, file_bytes=64 * _MIB, link_bytes=64 * _MIB
)
VARIABLES = {
    "bytes": "CHECKSWAP_BUNDLE_MAX_BYTES",
    "members": "CHECKSWAP_BUNDLE_MAX_MEMBERS",
    "file_bytes": "CHECKSWAP_BUNDLE_MAX_FILE_BYTES",
    "link_bytes": "CHECKSWAP_BUNDLE_MAX_LINK_BYTES",
}
# Fixed, not worth a knob: a real bundle has no extended header or a tiny one, its names are a few
# directories deep, and Linux itself stops at PATH_MAX and 40 links (MAXSYMLINKS).
MAX_HEADER_BYTES = 64 * 1024
PATH_MAX = 4096
MAX_DEPTH = 128
MAX_HOPS = 40
_CHUNK = 64 * 1024


def limits() -> Limits:
    """The bounds in force: the defaults, each raised or lowered by its environment variable."""
    from checkswap.units import parse_count, parse_size

    values = []
    for field, default in zip(Limits._fields, DEFAULT_LIMITS):
        variable = VARIABLES[field]
        text = os.environ.get(variable, "")
        if not text:
            values.append(default)
        elif field == "members":
            values.append(parse_count(text, variable))
        else:
            values.append(parse_size(text, variable))
    return Limits(*values)


class _Refusal(Exception):
    """A bundle that is not read any further; the message says why, the caller says where."""


class BundleFile(PreadFile):
    """A kept-open file of a bundle: each read() reads the current sample's copy."""

    def __init__(self, root: BundleRoot, rel: str) -> None:
        self._fd = -1
        self.root = root
        self.rel = rel
        self.path = root.join(rel)
        if not os.path.exists(self.path):
            # As os.open would: the sampler treats a missing optional file (PSI) as absent.
            raise FileNotFoundError(2, "No such file or directory", self.path)

    def read(self) -> str:
        return self.root.read_text(self.rel)

    def close(self) -> None:
        pass


class BundleRoot(Root):
    """A snapshot bundle (a tar.gz, or the directory it unpacks to), replayed sample by sample."""

    replays = True  # samples carry their capture times; nothing sleeps between them

    def __init__(self, path: str) -> None:
        self.bundle_path = os.path.abspath(path)
        where = f"--root {path}"
        bounds = limits()
        private = _private_dir(bounds)
        self._cleanup = weakref.finalize(self, shutil.rmtree, private, True)
        try:
            self.tree = _load(path, private, bounds)
            self.base = ""  # the manifest is read from the bundle's top
            super().__init__(self.tree.top)
            manifest = self.manifest
            if manifest is None or manifest.get("format") != FORMAT:
                raise BadInput(f"{where}: not a checkswap snapshot bundle (no {MANIFEST})")
            self.samples = _samples(where, manifest, self.tree)
            if len(self.samples) == 1:
                # A rate needs two samples: say so where the "-" and "0 samples" show up.
                self.notes.append(
                    f"{path} holds one sample, so no rates: take it with "
                    "`checkswap snapshot -n 2` (or more) to see swap-in and swap-out"
                )
        except _Refusal as e:
            self._cleanup()
            raise BadInput(f"{where}: {e}") from None
        except BaseException:
            self._cleanup()
            raise
        self._at(0)

    def __repr__(self) -> str:
        return f"BundleRoot({self.bundle_path!r}, sample {self.index + 1}/{len(self.samples)})"

    def _at(self, index: int) -> None:
        self.index = index
        self.base = self.samples[index]["dir"]
        self.path = self.tree.disk(self.base)

    def clock(self) -> tuple[float, float]:
        s = self.samples[self.index]
        return s["mono"], s["wall"]

    def advance(self) -> bool:
        if self.index + 1 >= len(self.samples):
            return False
        self._at(self.index + 1)
        return True

    # Every path goes through the bundle's own resolver; see the module's docstring.

    def join(self, rel: str) -> str:
        resolved = self.tree.resolve(self.base, rel)
        if resolved is None:
            # A loop: as ELOOP, missing. Nothing is ever made under the private dir's "unresolved".
            return os.path.join(self.tree.private, "unresolved", rel.lstrip("/"))
        return self.tree.disk(_under(self.base, resolved))

    def listdir(self, rel: str) -> list[str]:
        resolved = self.tree.resolve(self.base, rel)
        if resolved is None:
            raise FileNotFoundError(2, "No such file or directory", self.join(rel))
        at = _under(self.base, resolved)
        return os.listdir(self.tree.disk(at)) + self.tree.link_children.get(at, [])

    def realpath(self, rel: str) -> str | None:
        path = self.join(rel)
        return path if os.path.exists(path) else None

    def readlink(self, rel: str) -> str:
        resolved = self.tree.resolve(self.base, rel, follow=False)
        target = None if resolved is None else self.tree.links.get(_under(self.base, resolved))
        if target is None:
            raise OSError(22, "Not a symbolic link", self.join(rel))
        return target

    def open_pread(self, rel: str) -> PreadFile:
        return BundleFile(self, rel)

    @property
    def interval_s(self) -> float | None:
        value = (self.manifest or {}).get("interval_s")
        return float(value) if isinstance(value, (int, float)) else None


def _under(base: str, rel: str) -> str:
    if not base:
        return rel
    return f"{base}/{rel}" if rel else base


class Tree:
    """A bundle's namespace: its files and directories on disk under ``top``, its links in RAM."""

    def __init__(self, private: str, bounds: Limits) -> None:
        self.private = private
        self.top = os.path.join(private, "tree")
        os.mkdir(self.top, 0o700)
        self.bounds = bounds
        self.links: dict[str, str] = {}
        self.link_children: dict[str, list[str]] = {}  # directory -> names of links in it
        self.members = 0
        self.bytes = 0
        self.link_bytes = 0
        self._made = ""  # the last directory made: members come in order, most share it

    def disk(self, rel: str) -> str:
        return f"{self.top}/{rel}" if rel else self.top

    # -- reading --

    def resolve(self, base: str, rel: str, follow: bool = True) -> str | None:
        """``rel`` with every link resolved inside ``base`` as its root; None for a loop.

        The result names no link (but the last component when ``follow`` is false), so its
        on-disk path is what the bundle means by ``rel``, or does not exist.
        """
        links = self.links
        todo = rel.split("/")
        todo.reverse()
        done: list[str] = []
        prefix = f"{base}/" if base else ""
        hops = 0
        while todo:
            part = todo.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            done.append(part)
            if not links:
                continue
            target = links.get(prefix + "/".join(done))
            if target is None or (not follow and not any(p not in ("", ".") for p in todo)):
                continue
            hops += 1
            if hops > MAX_HOPS:
                return None
            done.pop()
            if target.startswith("/"):
                done.clear()
            todo.extend(reversed(target.split("/")))
        return "/".join(done)

    # -- building, member by member --

    def _take(self, raw: str) -> str | None:
        self.members += 1
        if self.members > self.bounds.members:
            raise _Refusal(
                f"the bundle has more than {self.bounds.members} members, refused "
                f"(raise {VARIABLES['members']} to read it)"
            )
        return member_name(raw)

    def count(self, n: int) -> None:
        """Bytes read from the source: the bound against decompression bombs."""
        self.bytes += n
        if self.bytes > self.bounds.bytes:
            raise _Refusal(
                f"the bundle unpacks to more than {_size(self.bounds.bytes)}, refused "
                f"(raise {VARIABLES['bytes']} to read it)"
            )

    def _parent(self, name: str) -> None:
        parent = name.rpartition("/")[0]
        if parent == self._made:
            return
        parts = parent.split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p in self.links:
                raise _Refusal(f"refusing bundle member {name!r} (under the symlink {p!r})")
        try:
            os.makedirs(self.disk(parent), 0o700, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise _Refusal(f"refusing bundle member {name!r} (under a file)") from None
        except OSError as e:
            raise _unpack_failed(self, e) from None
        self._made = parent

    def _fresh(self, name: str) -> None:
        if name in self.links or os.path.lexists(self.disk(name)):
            raise _given_twice(name)

    def add_dir(self, raw: str) -> None:
        name = self._take(raw)
        if name is None:
            return  # "." or "./": the top itself
        self._parent(name)
        path = self.disk(name)
        if name in self.links:
            raise _Refusal(f"refusing bundle member {name!r} (a directory replacing a symlink)")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                raise _Refusal(
                    f"refusing bundle member {name!r} (a directory replacing a file)"
                ) from None
        except OSError as e:
            raise _unpack_failed(self, e) from None
        self._made = name  # its files follow: their parent is known to be a directory

    def add_file(self, raw: str, read: Callable[[int], bytes], size: int | None) -> None:
        name = self._take(raw)
        if name is None:
            raise _Refusal(f"refusing bundle member {raw!r} (unsafe path)")
        limit = self.bounds.file_bytes
        if size is not None and size > limit:
            raise _too_big(name, limit)
        self._parent(name)
        if name in self.links:
            raise _given_twice(name)
        # O_EXCL: never onto or through anything already there (a file, a directory).
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self.disk(name), flags, 0o600)
        except FileExistsError:
            raise _given_twice(name) from None
        except OSError as e:
            raise _unpack_failed(self, e) from None
        with open(fd, "wb") as out:
            n = 0
            while True:
                chunk = read(_CHUNK)
                if not chunk:
                    break
                n += len(chunk)
                if n > limit:
                    raise _too_big(name, limit)
                try:
                    out.write(chunk)
                except OSError as e:
                    raise _unpack_failed(self, e) from None

    def add_link(self, raw: str, target: str) -> None:
        name = self._take(raw)
        if name is None:
            raise _Refusal(f"refusing bundle member {raw!r} (unsafe path)")
        if not target or "\0" in target or len(target) >= PATH_MAX:
            raise _Refusal(f"refusing bundle symlink {name!r} (its target is not a path)")
        self._parent(name)
        self._fresh(name)
        self.link_bytes += len(name) + len(target)
        if self.link_bytes > self.bounds.link_bytes:
            raise _Refusal(
                f"the bundle's symlinks take more than {_size(self.bounds.link_bytes)}, refused "
                f"(raise {VARIABLES['link_bytes']} to read it)"
            )
        self.links[name] = target
        parent, _, leaf = name.rpartition("/")
        self.link_children.setdefault(parent, []).append(leaf)


def member_name(raw: str) -> str | None:
    """A member's name as a relative path of plain components; None for the top itself."""
    if raw.startswith("/") or "\0" in raw or len(raw) >= PATH_MAX:
        raise _Refusal(f"refusing bundle member {raw[:200]!r} (unsafe path)")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _Refusal(f"refusing bundle member {raw[:200]!r} (unsafe path)")
    if len(parts) > MAX_DEPTH:
        raise _Refusal(f"refusing bundle member {raw[:200]!r} (more than {MAX_DEPTH} levels deep)")
    return "/".join(parts) or None


def _given_twice(name: str) -> _Refusal:
    return _Refusal(f"refusing bundle member {name!r} (given twice)")


def _too_big(name: str, limit: int) -> _Refusal:
    return _Refusal(
        f"bundle member {name!r} is larger than {_size(limit)}, refused "
        f"(raise {VARIABLES['file_bytes']} to read it)"
    )


def _unpack_failed(tree: Tree, e: OSError) -> Refused:
    # Our side (a full /tmp), not the bundle's: the action failed, the input may be fine.
    return Refused(f"cannot unpack the bundle into {tree.private}: {e.strerror or e}")


def _size(n: int) -> str:
    from checkswap.units import format_bytes

    return format_bytes(n, 0) if n % 1024 == 0 else f"{n} bytes"


# --- where a bundle is unpacked ------------------------------------------------------------


def _private_dir(bounds: Limits) -> str:
    where, places = _scratch(bounds)
    for place in places:
        sweep(place)
    try:
        private = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=where)
    except OSError as e:
        raise Refused(
            f"cannot make a directory to unpack the bundle in {where}: {e.strerror}"
        ) from None
    return os.path.realpath(private)


def _scratch(bounds: Limits) -> tuple[str, list[str]]:
    """Where to unpack, and every place an earlier run may have left a directory."""
    tmp = tempfile.gettempdir()
    shm = "/dev/shm"
    if os.environ.get("TMPDIR"):
        return tmp, [tmp, shm]
    try:
        vfs = os.statvfs(shm)
        if os.access(shm, os.W_OK | os.X_OK) and vfs.f_bavail * vfs.f_frsize >= 4 * bounds.bytes:
            return shm, [shm, tmp]
    except OSError:
        pass
    return tmp, [tmp, shm]


def sweep(directory: str) -> list[str]:
    """Remove what runs that are gone left in ``directory``; the paths removed.

    Only our own directories named checkswap-bundle-<pid>-... whose pid no longer runs: never a
    symlink, never another user's, never one of a process still alive.
    """
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    me = os.geteuid()
    for name in names:
        if not name.startswith(PREFIX):
            continue
        pid_text, sep, _ = name[len(PREFIX) :].partition("-")
        if not sep or not pid_text.isascii() or not pid_text.isdigit() or len(pid_text) > 10:
            continue
        if _alive(int(pid_text)):
            continue
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != me:
            continue
        shutil.rmtree(path, ignore_errors=True)  # fd-based on Linux: follows no link inside
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # EPERM: alive, another user's; not ours to judge
    return True


# --- reading the source: a tar stream or an unpacked directory ------------------------------


def _load(path: str, private: str, bounds: Limits) -> Tree:
    if os.path.isdir(path):
        return copy_dir(path, private, bounds)
    return unpack(path, private, bounds)


class _Header(tarfile.TarInfo):
    """Tar headers with a bound on what tarfile reads into memory before we see a member."""

    @classmethod
    def frombuf(cls, buf: bytes | bytearray, encoding: str, errors: str) -> Any:
        obj = super().frombuf(buf, encoding, errors)
        if obj.type in _EXTENDED and obj.size > MAX_HEADER_BYTES:
            # tarfile reads a pax or GNU long-name header whole, into memory.
            raise _Refusal(f"a tar extended header of {obj.size} bytes, refused")
        if obj.type == tarfile.GNUTYPE_SPARSE:
            raise _Refusal(f"refusing bundle member {obj.name!r} (a sparse file)")
        return obj


_EXTENDED = frozenset(
    {
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
    }
)
_KINDS = {
    tarfile.LNKTYPE: "a hard link",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a FIFO",
    tarfile.CONTTYPE: "a contiguous file",
    tarfile.GNUTYPE_SPARSE: "a sparse file",
}


class _Counted:
    """The decompressed stream, counted as tarfile reads it: headers, data and skipped bytes."""

    def __init__(self, src: Any, tree: Tree) -> None:
        self.src = src
        self.tree = tree

    def read(self, n: int = -1) -> bytes:
        room = self.tree.bounds.bytes - self.tree.bytes
        n = _CHUNK if n is None or n < 0 else n
        data: bytes = self.src.read(max(0, min(n, room + 1)))
        self.tree.count(len(data))
        return data


def _open_regular(path: str) -> BinaryIO:
    # O_NONBLOCK: a FIFO swapped in after open_root's stat must not block the open.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _Refusal("not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _decompressor(f: Any) -> Any:
    """The file's decompressed stream, by its magic bytes (what tarfile's "r|*" accepted)."""
    magic = f.peek(6)[:6]
    if magic[:2] == b"\x1f\x8b":
        import gzip

        return gzip.GzipFile(fileobj=f, mode="rb")
    if magic[:3] == b"BZh":
        import bz2

        return bz2.BZ2File(f)
    if magic == b"\xfd7zXZ\x00":
        import lzma

        return lzma.LZMAFile(f)
    return f


def _stream_errors() -> tuple[type[BaseException], ...]:
    import zlib

    errors: list[type[BaseException]] = [OSError, EOFError, tarfile.TarError, zlib.error]
    try:
        import lzma

        errors.append(lzma.LZMAError)
    except ImportError:
        pass
    return tuple(errors)


def _open_tar(stream: _Counted) -> tarfile.TarFile:
    try:
        # "r|": a stream, read once in archive order; what it decompresses is ours to count.
        return tarfile.open(None, "r|", cast(Any, stream), _CHUNK, tarinfo=_Header)
    except tarfile.ReadError:
        raise _Refusal(
            "neither a directory holding proc/ and sys/ nor a snapshot bundle made by "
            "`checkswap snapshot`"
        ) from None


class UnpackProgress(Protocol):
    def update(self, done: int) -> None: ...

    def finish(self, done: int) -> None: ...


# Set by the entry point (cli.py) to draw the unpacking of a big bundle: given the bundle's
# size, what to tell the bytes read so far. This layer cannot import the renderer itself.
unpack_progress: Callable[[int], UnpackProgress] | None = None


def unpack(path: str, dest: str, bounds: Limits | None = None) -> Tree:
    """Read a bundle's tar stream into a Tree under ``dest`` (an empty private directory)."""
    tree = Tree(dest, bounds or limits())
    errors = _stream_errors()
    try:
        with _open_regular(path) as raw, _open_tar(_Counted(_decompressor(raw), tree)) as tar:
            bar = None
            if unpack_progress is not None:
                bar = unpack_progress(os.fstat(raw.fileno()).st_size)
            while True:
                m = tar.next()
                if m is None:
                    break
                # Stream mode keeps every header it read: RAM per member, which we bound.
                tar.members.clear()  # type: ignore[attr-defined]  # not in typeshed
                _member(tree, tar, m)
                if bar is not None:
                    bar.update(raw.tell())  # compressed bytes read: what the size is of
            if bar is not None:
                bar.finish(raw.tell())
    except (_Refusal, Refused):
        raise
    except errors as e:
        raise _Refusal(f"not a readable snapshot bundle ({e})") from None
    return tree


def _member(tree: Tree, tar: tarfile.TarFile, m: tarfile.TarInfo) -> None:
    if m.type in (tarfile.REGTYPE, tarfile.AREGTYPE) and m.sparse is None:
        src = tar.extractfile(m)
        assert src is not None  # a regular member always has a file object
        with src:
            tree.add_file(m.name, src.read, m.size)
    elif m.type == tarfile.DIRTYPE:
        tree.add_dir(m.name)
    elif m.type == tarfile.SYMTYPE:
        tree.add_link(m.name, m.linkname)
    else:
        kind = _KINDS.get(m.type, "not a file, directory or symlink")
        raise _Refusal(f"refusing bundle member {m.name[:200]!r} ({kind})")


def copy_dir(path: str, dest: str, bounds: Limits | None = None) -> Tree:
    """Read an unpacked bundle into a Tree under ``dest``, as its tar would be read."""
    tree = Tree(dest, bounds or limits())
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            _copy_walk(tree, fd, "", 0)
        finally:
            os.close(fd)
    except (_Refusal, Refused):
        raise
    except OSError as e:
        raise _Refusal(f"not a readable snapshot bundle ({e.strerror or e})") from None
    return tree


def _copy_walk(tree: Tree, dfd: int, rel: str, depth: int) -> None:
    # Everything relative to an open directory, nothing followed: the directory may change under
    # us, and a name swapped for a link or a FIFO meanwhile is refused, not followed or blocked on.
    if depth > MAX_DEPTH:
        raise _Refusal(f"refusing bundle member {rel[:200]!r} (more than {MAX_DEPTH} levels deep)")
    for name in sorted(os.listdir(dfd)):
        member = f"{rel}/{name}" if rel else name
        mode = os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            tree.add_link(member, os.readlink(name, dir_fd=dfd))
        elif stat.S_ISDIR(mode):
            tree.add_dir(member)
            flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
            sub = os.open(name, flags, dir_fd=dfd)
            try:
                _copy_walk(tree, sub, member, depth + 1)
            finally:
                os.close(sub)
        elif stat.S_ISREG(mode):
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
            with os.fdopen(os.open(name, flags, dir_fd=dfd), "rb") as f:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise _Refusal(f"refusing bundle member {member!r} ({file_kind(st.st_mode)})")
                if st.st_nlink > 1:
                    raise _Refusal(f"refusing bundle member {member!r} (a hard link)")

                def read(n: int, f: BinaryIO = f) -> bytes:
                    data = f.read(n)
                    tree.count(len(data))
                    return data

                tree.add_file(member, read, st.st_size)
        else:
            raise _Refusal(f"refusing bundle member {member!r} ({file_kind(mode)})")


def _samples(where: str, manifest: dict[str, object], tree: Tree) -> list[dict[str, Any]]:
    from checkswap import untrusted

    samples = manifest.get("samples")

    def bad(why: str) -> BadInput:
        return BadInput(f"{where}: the bundle's manifest has no valid list of samples ({why})")

    if not isinstance(samples, list) or not samples:
        raise bad("none listed")
    out: list[dict[str, Any]] = []
    for i, s in enumerate(samples):
        if not isinstance(s, dict) or not isinstance(s.get("dir"), str):
            raise bad(f"sample {i} names no directory")
        try:
            d = member_name(s["dir"])
        except _Refusal:
            d = None
        # A real directory of the bundle, named without links: the sample's tree is the top of
        # its own namespace, so it must not be somewhere a link leads.
        if d is None or tree.resolve("", d) != d or not os.path.isdir(tree.disk(d)):
            raise bad(f"sample {i}: {s['dir'][:200]!r} is not a directory of the bundle")
        try:
            mono = untrusted.number(s.get("mono"), 0.0, untrusted.MAX_MONO, "mono")
            wall = untrusted.number(s.get("wall"), 0.0, untrusted.MAX_WALL, "wall")
        except untrusted.UntrustedData as e:
            raise bad(f"sample {i}: {e}") from None
        if out and mono <= out[-1]["mono"]:
            raise bad(f"sample {i}: its monotonic time is not after the one before")
        out.append({"dir": d, "mono": mono, "wall": wall})
    return out


def is_bundle_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, MANIFEST)) and os.path.isdir(
        os.path.join(path, "samples")
    )
