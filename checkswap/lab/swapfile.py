"""Add and remove swapfiles safely: the emergency "give this server swap now" procedure.

Each filesystem needs its own recipe, because the kernel's swapfile code asks the filesystem
where every block of the file is (``swap_activate``/``bmap``) and refuses files it cannot map:

- ext2/3/4, xfs, f2fs: ``fallocate``. Older kernels rejected preallocated (unwritten) extents on
  xfs ("swapon: swapfile has holes"); when swapon refuses the file we write zeros and retry.
- btrfs (kernel 5.0+): the file must be no-copy-on-write (``chattr +C`` while it is still empty),
  hence also uncompressed, and the filesystem must be on a single device.
- tmpfs, overlayfs, network filesystems and anything else: refused before touching the disk.

Root makes the file, so a name that another user can swap for a link between two steps would
turn any file of root's into swap (or swap onto a file they can read). Hence: every directory on
the way must be one only root can change (``open_directory``); the file is created with O_EXCL
and from then on reached only through its descriptor (fchmod, fallocate, the header, swapon(2)
of /proc/self/fd/N), so whatever the name leads to later does not matter; and after swapon the
active area must be that inode under that name, or it is swapped off again. Once active, the
kernel itself refuses to rename or unlink the file (IS_SWAPFILE), even for root.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import stat
import struct
import time
from typing import Any, Callable, NamedTuple, Protocol

from checkswap import outfile
from checkswap.errors import BadInput, Refused
from checkswap.kernel.meminfo import read_meminfo
from checkswap.kernel.mountinfo import Mount, mount_for_path, read_mountinfo
from checkswap.kernel.swaps import SwapArea, read_swaps
from checkswap.lab import drain, fstab
from checkswap.lab.change import CommandFailed, Step, shell
from checkswap.source.root import Root
from checkswap.units import format_bytes

MiB = 1024 * 1024
MIN_SIZE = 1 * MiB
SYNC_EVERY = 32 * MiB
PRIORITY_RANGE = (-1, 32767)  # swapon(2): SWAP_FLAG_PRIO_MASK is 0x7fff

FALLOCATE_FS = frozenset({"ext2", "ext3", "ext4", "xfs", "f2fs"})
BTRFS = "btrfs"
_RAM_FS = "it lives in RAM: swap there frees no memory, and the kernel refuses it"
_NET_FS = (
    "it is a network filesystem: swapping over the network is slow and can deadlock when "
    "memory runs out, because freeing memory would need memory for the network"
)
REFUSED_FS = {
    "tmpfs": _RAM_FS,
    "ramfs": _RAM_FS,
    "overlay": "it is an overlayfs (a container's root?): the kernel cannot swap on it",
    "zfs": "the kernel cannot swap on a file in ZFS (use a zvol, or another filesystem)",
    "squashfs": "it is read-only",
    "iso9660": "it is read-only",
    "erofs": "it is read-only",
    **{
        fs: _NET_FS
        for fs in (
            "nfs",
            "nfs4",
            "cifs",
            "smb3",
            "smbfs",
            "9p",
            "ceph",
            "glusterfs",
            "lustre",
            "afs",
            "gfs2",
            "ocfs2",
        )
    },
}
SWAP_SIGNATURE = b"SWAPSPACE2"


class Progress(Protocol):
    """What a long write reports to: the command draws it (render/progress.py), the lab does not."""

    def update(self, done: int) -> None: ...

    def finish(self, done: int) -> None: ...


def default_path(now: float | None = None) -> str:
    # Dated in local time (DESIGN.md): a second add on the same day finds the first one's file.
    return time.strftime("/swapfile-checkswap-%Y%m%d", time.localtime(now))


def margin_bytes(fs_size: int) -> int:
    """Free space to leave on the filesystem: 5 % of it, at least 64 MiB and at most 2 GiB.

    A swapfile that fills the disk turns a memory emergency into a full-disk one.
    """
    return int(min(max(fs_size * 0.05, 64 * MiB), 2048 * MiB))


def round_size(size: int) -> int:
    """Whole MiB, so the zero-writing fallback is exactly ``dd bs=1M count=N``."""
    return -(-size // MiB) * MiB


def check_size(size: int, text: str) -> None:
    if size < MIN_SIZE:
        hint = f"; did you mean {text}G?" if text.strip().isdigit() else ""
        raise BadInput(f"swapfile size {text!r} is {size} bytes, below 1 MiB{hint}")


def check_priority(priority: int | None) -> None:
    if priority is not None and not PRIORITY_RANGE[0] <= priority <= PRIORITY_RANGE[1]:
        raise BadInput(
            f"--priority {priority}: must be between {PRIORITY_RANGE[0]} and {PRIORITY_RANGE[1]}"
        )


def swap_area_at(path: str, areas: list[SwapArea]) -> SwapArea | None:
    real = os.path.realpath(path)
    for area in areas:
        if area.name == path or os.path.realpath(area.name) == real:
            return area
    return None


def has_swap_signature(path: str, page_size: int) -> bool:
    """mkswap writes SWAPSPACE2 in the last 10 bytes of the first page."""
    try:
        with open(path, "rb") as f:
            f.seek(page_size - len(SWAP_SIGNATURE))
            return f.read(len(SWAP_SIGNATURE)) == SWAP_SIGNATURE
    except OSError:
        return False


# --- where the file goes: no other user may be able to change any directory on the way -------

MAX_LINKS = 40  # the kernel's MAXSYMLINKS: links followed in one lookup
_RACE = (
    "another user could put a link to another file in the swapfile's place between two steps, "
    "and root would turn that file into swap"
)


def _user(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _group(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return f"gid {gid}"


def check_directory(target: str, directory: str, st: os.stat_result) -> None:
    """Refuse a directory whose entries another user could rename, replace or remove.

    Its owner can, and so can anyone it is writable by, unless it is sticky: in a sticky
    directory (/tmp, /var/tmp) only a file's owner, or the directory's, may rename or remove it.
    So a root-owned sticky directory is safe for root's file; a group-writable one is not.
    """
    if st.st_uid not in (0, os.geteuid()):
        raise Refused(
            f"refusing --path {target}: directory {directory} is owned by {_user(st.st_uid)}, "
            f"not root: {_RACE}; choose a directory owned by root"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        who = "every user" if mode & stat.S_IWOTH else f"group {_group(st.st_gid)}"
        raise Refused(
            f"refusing --path {target}: directory {directory} is writable by {who} and not "
            f"sticky (mode {mode:04o}): {_RACE}; choose a directory only root can write, or a "
            "root-owned sticky one such as /var/tmp"
        )


def split_target(path: str) -> tuple[str, str]:
    """(directory, name) of an absolute ``path``; ``..`` is left to the walk, as the kernel does."""
    if not path.startswith("/"):
        path = os.path.join(os.getcwd(), path)
    trimmed = path.rstrip("/")
    directory, _, name = trimmed.rpartition("/")
    if name in ("", ".", ".."):
        raise Refused(f"{path} already exists (a directory); choose another --path")
    return directory or "/", name


def open_directory(directory: str, target: str) -> tuple[int, str]:
    """Walk to ``directory`` one name at a time, checking every directory on the way.

    Returns an O_PATH descriptor of it and its real path (symlinks resolved, as /proc/swaps will
    name the file). Each name is opened relative to its parent's descriptor without following
    it, so what is checked is what is used; a symlink is read and its target walked the same
    way, so the directories it passes through are checked too (every ancestor, not only the
    last, and not only those of the resolved path).
    """
    flags = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
    stack = [(os.open("/", flags | os.O_DIRECTORY), "/")]
    try:
        check_directory(target, "/", os.fstat(stack[0][0]))
        todo = directory.split("/")[::-1]
        links = 0
        while todo:
            name = todo.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if len(stack) > 1:
                    os.close(stack.pop()[0])
                continue
            parent_fd, parent = stack[-1]
            here = os.path.join(parent, name)
            try:
                fd = os.open(name, flags, dir_fd=parent_fd)
            except FileNotFoundError:
                raise BadInput(f"--path {target}: directory {directory} does not exist") from None
            except OSError as e:
                raise BadInput(f"--path {target}: {here}: {e.strerror}") from None
            st = os.fstat(fd)
            if stat.S_ISLNK(st.st_mode):
                os.close(fd)
                links += 1
                if links > MAX_LINKS:
                    raise BadInput(f"--path {target}: more than {MAX_LINKS} symbolic links")
                # The parent was checked: nobody else can change the link under us.
                link = os.readlink(name, dir_fd=parent_fd)
                if link.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop()[0])
                todo.extend(link.split("/")[::-1])
                continue
            stack.append((fd, here))
            if not stat.S_ISDIR(st.st_mode):
                raise BadInput(f"--path {target}: {here} is not a directory")
            check_directory(target, here, st)
        return stack.pop()
    finally:
        for fd, _ in stack:
            os.close(fd)


def filesystem_for(root: Root, path: str, dirfd: int) -> Mount:
    """The mount the file at real ``path`` lands on, refused (exit 1) if it cannot hold swap."""
    mount = mount_for_path(read_mountinfo(root), os.path.dirname(path))
    if mount is None:
        raise Refused(f"{path}: cannot find the filesystem it would be on in /proc/self/mountinfo")
    fs = mount.fstype
    where = f"{path} would be on {mount.mount_point} ({fs})"
    if fs in REFUSED_FS or fs.startswith("fuse"):
        reason = REFUSED_FS.get(fs, "it is a FUSE filesystem: the kernel cannot swap on it")
        raise Refused(f"{where}: {reason}. Choose another --path")
    if fs not in FALLOCATE_FS and fs != BTRFS:
        raise Refused(
            f"{where}: checkswap knows swapfiles work on ext2/3/4, xfs, btrfs and f2fs, not "
            f"{fs}. Choose another --path"
        )
    if os.fstatvfs(dirfd).f_flag & os.ST_RDONLY:
        raise Refused(f"{where}, mounted read-only. Choose another --path")
    return mount


class AddPlan(NamedTuple):
    path: str  # the real path: how /proc/swaps names the area, and what fstab gets
    size: int
    mount: Mount
    priority: int | None
    fstab: str | None  # the fstab to add a line to (--persist), or None
    zero_fill: bool  # write zeros instead of fallocate

    @property
    def fstype(self) -> str:
        return self.mount.fstype


def plan_add(
    root: Root,
    size: int,
    path: str,
    priority: int | None,
    fstab_path: str | None,
    zero_fill: bool,
) -> AddPlan:
    """Check everything that can be checked before touching the disk; Refused/BadInput if not."""
    directory, name = split_target(path)
    dirfd, real_dir = open_directory(directory, path)
    try:
        real = os.path.join(real_dir, name)
        _refuse_existing(root, real, name, dirfd)
        mount = filesystem_for(root, real, dirfd)
        st = os.fstatvfs(dirfd)
    finally:
        os.close(dirfd)
    free = st.f_bavail * st.f_frsize
    margin = margin_bytes(st.f_blocks * st.f_frsize)
    if size + margin > free:
        raise Refused(
            f"not enough space on {mount.mount_point} ({mount.fstype}): {format_bytes(free)} "
            f"free, the swapfile needs {format_bytes(size)} and checkswap keeps "
            f"{format_bytes(margin)} free; try a smaller SIZE or another --path"
        )
    if fstab_path is not None:
        _check_fstab(fstab_path)
    return AddPlan(real, size, mount, priority, fstab_path, zero_fill)


def _refuse_existing(root: Root, path: str, name: str, dirfd: int) -> None:
    try:
        st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode):
        area = swap_area_at(path, read_swaps(root))
        if area is not None:
            raise Refused(
                f"{path} already exists and is a swap area ({format_bytes(area.size_bytes)}, "
                f"{format_bytes(area.used_bytes)} used): nothing to do"
            )
        kind = "a file that is not an active swap area"
    elif stat.S_ISDIR(st.st_mode):
        kind = "a directory"
    elif stat.S_ISLNK(st.st_mode):
        kind = "a symbolic link"
    else:
        kind = "not a regular file"
    raise Refused(f"{path} already exists ({kind}); choose another --path")


# --- the swap area, made through one descriptor ----------------------------------------------

SHOWN_FD = 3  # the descriptor as --dry-run and the log print it: a shell script's fd 3
FD_LINK = f"/proc/self/fd/{SHOWN_FD}"
SWAP_FLAG_PREFER = 0x8000  # include/uapi/linux/swap.h
SWAP_FLAG_PRIO_MASK = 0x7FFF
FS_NOCOW_FL = 0x00800000  # include/uapi/linux/fs.h


def swap_header(size: int, page_size: int, uuid: bytes) -> bytes:
    """The first page of a swap area, as ``mkswap`` writes it.

    include/linux/swap.h, ``union swap_header``: 1024 bytes of boot bits, then version (1),
    last_page, nr_badpages (native-endian u32), a 16-byte UUID and a 16-byte label (empty);
    the magic "SWAPSPACE2" ends the page.
    """
    last_page = min(size // page_size - 1, 0xFFFFFFFF)
    page = bytearray(page_size)
    struct.pack_into("=III16s16s", page, 1024, 1, last_page, 0, uuid, b"")
    page[page_size - len(SWAP_SIGNATURE) :] = SWAP_SIGNATURE
    return bytes(page)


def write_header(fd: int, size: int) -> None:
    import uuid

    os.pwrite(fd, swap_header(size, os.sysconf("SC_PAGE_SIZE"), uuid.uuid4().bytes), 0)
    os.fsync(fd)


def _ioc(write: bool, nr: int, size: int) -> int:
    """_IOR/_IOW('f', nr, long): the direction bits differ on a few architectures."""
    import platform

    if platform.machine().startswith(("ppc", "powerpc", "mips", "sparc", "alpha")):
        direction, size_bits = (4 if write else 2), 13
    else:  # asm-generic/ioctl.h
        direction, size_bits = (1 if write else 2), 14
    return direction << (16 + size_bits) | size << 16 | ord("f") << 8 | nr


def set_nocow(fd: int) -> None:
    """``chattr +C`` on the descriptor (FS_IOC_GETFLAGS/SETFLAGS).

    chattr itself will not do it through /proc/self/fd/N: it refuses what lstat() calls a link.
    The ioctls are declared with a long but the kernel reads and writes an int at its start.
    """
    import fcntl

    long = struct.calcsize("l")
    buf = bytearray(long)
    fcntl.ioctl(fd, _ioc(False, 1, long), buf)
    struct.pack_into("i", buf, 0, struct.unpack_from("i", buf)[0] | FS_NOCOW_FL)
    fcntl.ioctl(fd, _ioc(True, 2, long), bytes(buf))


def _libc() -> Any:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.swapon.argtypes = [ctypes.c_char_p, ctypes.c_int]
    libc.swapoff.argtypes = [ctypes.c_char_p]
    return libc


def swapon(link: str, priority: int | None) -> None:
    """swapon(2) itself, of the descriptor's /proc link: the kernel opens the link to our inode.

    Not the swapon tool: util-linux 2.38 turns /proc/self/fd/N back into a name (readlink)
    before the call, which would reopen the window. Flags as the tool sets them: a priority
    below 0 means the kernel's default.
    """
    import ctypes

    flags = 0
    if priority is not None and priority >= 0:
        flags = SWAP_FLAG_PREFER | (priority & SWAP_FLAG_PRIO_MASK)
    if _libc().swapon(os.fsencode(link), flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def swapoff(link: str) -> None:
    import ctypes

    if _libc().swapoff(os.fsencode(link)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class NewFile:
    """The swapfile being made: created once with O_EXCL, then reached only through ``fd``.

    The name is used again only to check, after swapon, that it still leads to our inode, and
    to remove the file on failure when it does.
    """

    def __init__(self, plan: AddPlan) -> None:
        self.path = plan.path
        self.name = os.path.basename(plan.path)
        self.dirfd = -1
        self.fd = -1
        self.active = False

    @property
    def link(self) -> str:
        return f"/proc/self/fd/{self.fd}"

    def create(self) -> None:
        # Walked and checked again: the plan's descriptor is gone, and time has passed.
        directory = os.path.dirname(self.path)
        self.dirfd, real = open_directory(directory, self.path)
        if real != directory:
            raise Refused(f"{directory} now resolves to {real}: the directories changed; try again")
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            self.fd = os.open(self.name, flags, 0o600, dir_fd=self.dirfd)
        except FileExistsError:
            raise Refused(
                f"{self.path} appeared while checkswap was creating it (another user's link or "
                "file?): left alone; choose another --path"
            ) from None

    def same_inode(self, st: os.stat_result) -> bool:
        mine = os.fstat(self.fd)
        return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)

    def named_by_path(self) -> bool:
        try:
            return self.same_inode(os.stat(self.name, dir_fd=self.dirfd, follow_symlinks=False))
        except OSError:
            return False

    def swapon(self, priority: int | None) -> None:
        swapon(self.link, priority)
        self.active = True

    def check_active(self) -> None:
        """Refuse, after swapping it off again, an area that is not our inode under our name."""
        problem = None
        if not any(a.name == self.path for a in read_swaps(Root("/"))):
            problem = "/proc/swaps does not list it"
        else:
            try:
                if not self.same_inode(os.lstat(self.path)):
                    problem = "the name leads to another inode"
            except OSError as e:
                problem = f"it cannot be examined: {e.strerror}"
        if problem is None:
            return
        where = os.readlink(self.link)
        try:
            swapoff(self.link)
            self.active = False
            done = "swapped it off again, nothing was added"
        except OSError as e:
            done = f"could NOT swap it off ({e.strerror}): swapoff {where} by hand"
        raise Refused(
            f"{self.path} is not the file checkswap created ({problem}; the area it turned on is "
            f"{where}): {done}. Someone changed {os.path.dirname(self.path)} meanwhile: look "
            "there before trying again"
        )

    def undo(self) -> None:
        """Swap off, and delete the file, but only while the name still leads to it."""
        if self.fd < 0:
            return
        if self.active:
            with contextlib.suppress(OSError):
                swapoff(self.link)
                self.active = False
        if self.named_by_path():
            with contextlib.suppress(OSError):
                os.unlink(self.name, dir_fd=self.dirfd)

    def close(self) -> None:
        for fd in (self.fd, self.dirfd):
            if fd >= 0:
                os.close(fd)
        self.fd = self.dirfd = -1


class _Text(Step):
    """A step printed as shell text that argv quoting cannot express (a redirection, a note)."""

    def __init__(self, text: str, action: Callable[[], None], note: str = "") -> None:
        super().__init__([text], action, note)

    def __str__(self) -> str:
        return f"{self.argv[0]}    # {self.note}" if self.note else self.argv[0]


def _through(argv: list[str], path: str, action: Callable[[], None]) -> Callable[[], None]:
    """The action, with an OSError told as the command's failure, naming the file."""

    def run() -> None:
        try:
            action()
        except OSError as e:
            raise CommandFailed([*argv[:-1], path], e.strerror or str(e)) from None

    return run


def zero_argv(link: str, size: int) -> list[str]:
    return [
        "dd", "if=/dev/zero", f"of={link}", "bs=1M", f"count={size // MiB}", "conv=notrunc,fsync"
    ]  # fmt: skip


def zero_step(plan: AddPlan, made: NewFile, progress: Callable[[int], Progress]) -> Step:
    argv = zero_argv(FD_LINK, plan.size)
    action = _through(argv, plan.path, lambda: write_zeros(made.fd, plan.size, progress(plan.size)))
    return Step(
        argv, action, note="written by checkswap through the descriptor, with a progress bar"
    )


def write_zeros(fd: int, size: int, bar: Progress) -> None:
    """Write real zero blocks over the whole file (no holes, no unwritten extents).

    Synced and dropped from the page cache every 32 MiB: this runs when memory is short, and
    a gigabyte of dirty pages would make it shorter; the bar then shows the disk's pace.
    """
    chunk = memoryview(bytes(4 * MiB))
    done = synced = 0
    while done < size:
        done += os.pwrite(fd, chunk[: min(len(chunk), size - done)], done)
        if done - synced >= SYNC_EVERY or done == size:
            os.fdatasync(fd)
            os.posix_fadvise(fd, synced, done - synced, os.POSIX_FADV_DONTNEED)
            synced = done
        bar.update(done)
    bar.finish(done)


def header_step(plan: AddPlan, made: NewFile) -> Step:
    argv = ["mkswap", FD_LINK]
    return Step(
        argv,
        _through(argv, plan.path, lambda: write_header(made.fd, plan.size)),
        note="the header written by checkswap: SWAPSPACE2, version 1, a new UUID",
    )


def create_steps(plan: AddPlan, made: NewFile, progress: Callable[[int], Progress]) -> list[Step]:
    """Everything up to swapon; after the first step, only the descriptor is used."""
    steps: list[Step] = [
        _Text(
            f"set -o noclobber; exec {SHOWN_FD}>{shlex.quote(plan.path)}",
            made.create,
            note="open(O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600): every step below goes "
            "through this descriptor, never the name",
        )
    ]
    # 0600 whatever the umask, before any data: a readable swapfile would leak memory contents.
    chmod = ["chmod", "600", FD_LINK]
    steps.append(Step(chmod, _through(chmod, plan.path, lambda: os.fchmod(made.fd, 0o600))))
    if plan.fstype == BTRFS:
        # +C only takes effect on an empty file; it also turns compression off for the file.
        chattr = ["chattr", "+C", FD_LINK]
        steps.append(
            Step(
                chattr,
                _through(chattr, plan.path, lambda: set_nocow(made.fd)),
                note="ioctl FS_IOC_SETFLAGS on the descriptor, while the file is empty",
            )
        )
    if plan.zero_fill:
        steps.append(zero_step(plan, made, progress))
    else:
        argv = ["fallocate", "-l", str(plan.size), FD_LINK]
        steps.append(
            Step(argv, _through(argv, plan.path, lambda: os.posix_fallocate(made.fd, 0, plan.size)))
        )
    steps.append(header_step(plan, made))
    return steps


def swapon_step(plan: AddPlan, made: NewFile) -> Step:
    pri = [] if plan.priority is None else ["--priority", str(plan.priority)]
    argv = ["swapon", *pri, FD_LINK]
    return Step(
        argv,
        _through(argv, plan.path, lambda: made.swapon(plan.priority)),
        note="swapon(2) of the descriptor's link (the swapon tool would resolve it to a name)",
    )


def check_step(plan: AddPlan, made: NewFile) -> Step:
    return _Text(
        f"# then: /proc/swaps must list {plan.path} as the descriptor's inode (st_dev, st_ino); "
        f"if not, swapoff {FD_LINK} and refuse",
        made.check_active,
    )


def _check_fstab(fstab_path: str) -> None:
    """In the plan, so --dry-run refuses it too: the fstab and its backup are files that
    checkswap replaces, so a link or a foreign file at either name is refused before swapon."""
    if outfile.check(fstab_path, "--fstab") is None:
        raise BadInput(f"--fstab {fstab_path}: no such file")
    outfile.check(fstab.backup_path(fstab_path), "--fstab backup")


def fstab_add_step(plan: AddPlan) -> Step | None:
    if plan.fstab is None:
        return None
    line = fstab.swap_line(plan.path, plan.priority)
    text = fstab.read(plan.fstab)
    if fstab.line_numbers(text, plan.path):
        return None

    def add() -> None:
        # Re-read under the lock: the file may have changed since the plan was made.
        current = fstab.read(plan.fstab or "")
        if not fstab.line_numbers(current, plan.path):
            fstab.write(plan.fstab or "", fstab.with_line(current, line))

    return Step(
        fstab.shell_add(plan.fstab, line),
        add,
        note="checkswap does this itself, refusing links and other users' files",
    )


def fallback_note(plan: AddPlan) -> str | None:
    """What happens when swapon refuses the preallocated file (said in --dry-run)."""
    if plan.zero_fill or plan.fstype == BTRFS:
        return None
    made = NewFile(plan)
    cmds = [
        shell(zero_argv(FD_LINK, plan.size)),
        shell(["mkswap", FD_LINK]),
        shell(swapon_step(plan, made).argv),
    ]
    return "if swapon refuses the preallocated file: " + "; ".join(cmds)


def add_steps(plan: AddPlan, progress: Callable[[int], Progress]) -> list[Step]:
    """The steps of an add as --dry-run prints them (never run: each run makes its own)."""
    made = NewFile(plan)
    steps = [*create_steps(plan, made, progress), swapon_step(plan, made), check_step(plan, made)]
    persist = fstab_add_step(plan)
    if persist is not None:
        steps.append(persist)
    return steps


def _run(step: Step, say: Callable[[str], None]) -> None:
    text = str(step)
    say(text if text.startswith("#") else f"$ {text}")
    step.run()


def execute_add(
    plan: AddPlan, progress: Callable[[int], Progress], say: Callable[[str], None]
) -> None:
    """Run the plan; on any failure take back what was done (swapoff, delete the file)."""
    made = NewFile(plan)
    try:
        for step in create_steps(plan, made, progress):
            _run(step, say)
        on = swapon_step(plan, made)
        try:
            _run(on, say)
        except CommandFailed as e:
            if plan.zero_fill or plan.fstype == BTRFS:
                raise
            say(f"swapon refused the preallocated file ({e.output}); writing zeros instead")
            for step in [zero_step(plan, made, progress), header_step(plan, made), on]:
                _run(step, say)
        _run(check_step(plan, made), say)
        persist = fstab_add_step(plan)
        if persist is not None:
            _run(persist, say)
        elif plan.fstab is not None:
            say(f"# {plan.fstab} already has a line for {plan.path}: not adding another")
    except BaseException:
        made.undo()
        raise
    finally:
        made.close()


# --- remove --------------------------------------------------------------------------------


class RemovePlan(NamedTuple):
    path: str
    area: SwapArea | None  # None: a swapfile that is not active
    fstab: str
    fstab_lines: list[int]
    drain: drain.DrainPlan | None = None  # the swapoff's estimate, when active


def plan_remove(root: Root, path: str, fstab_path: str, force: bool) -> RemovePlan:
    path = os.path.abspath(path)
    area = swap_area_at(path, read_swaps(root))
    estimate = None
    if area is not None and area.type != "file":
        raise Refused(
            f"{path} is a swap {area.type}, not a file: checkswap removes only swapfiles "
            f"(use swapoff {path} and edit /etc/fstab yourself)"
        )
    if area is None:
        if not os.path.lexists(path):
            raise Refused(f"{path} is not a swap area and does not exist")
        if not os.path.isfile(path) or os.path.islink(path):
            raise Refused(f"{path} is not a swap area, nor a regular file: not removing it")
        if not has_swap_signature(path, root.page_size):
            raise Refused(f"{path} is not a swap area and has no swap signature: not deleting it")
    else:
        # The refusal when MemAvailable cannot take the swap in use: the drain's, shared.
        estimate = drain.plan_drain(root, area, force)
    _check_fstab(fstab_path)
    lines = fstab.line_numbers(fstab.read(fstab_path), path)
    return RemovePlan(path, area, fstab_path, lines, estimate)


def remove_steps(plan: RemovePlan, swapoff: Callable[[], None] | None = None) -> list[Step]:
    """The steps of a remove; ``swapoff`` is the drain that runs the first (lab/drain.py)."""
    steps = []
    if plan.area is not None:
        note = "swapoff(2) by checkswap, showing its progress"
        steps.append(Step(["swapoff", plan.path], swapoff, note=note))
    if plan.fstab_lines:

        def drop() -> None:
            current = fstab.read(plan.fstab)
            fstab.write(
                plan.fstab, fstab.without_lines(current, fstab.line_numbers(current, plan.path))
            )

        steps.append(
            Step(
                fstab.shell_remove(plan.fstab, plan.fstab_lines),
                drop,
                note="checkswap does this itself, refusing links and other users' files",
            )
        )

    def unlink() -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(plan.path)

    steps.append(Step(["rm", "-f", plan.path], unlink))
    return steps


# --- the state after a change, as free -h and swapon --show would show it ----------------


def swap_state(root: Root) -> list[str]:
    mem = read_meminfo(root)
    total, free = mem.get("SwapTotal"), mem.get("SwapFree")
    used = total - free if total is not None and free is not None else None
    lines = [
        f"{'':6}{'total':>12}{'used':>12}{'free':>12}",
        f"{'Swap:':6}{format_bytes(total):>12}{format_bytes(used):>12}{format_bytes(free):>12}",
    ]
    areas = read_swaps(root)
    if areas:
        width = max(len("NAME"), *(len(a.name) for a in areas))
        lines.append("")
        lines.append(f"{'NAME':<{width}}  {'TYPE':<9} {'SIZE':>10} {'USED':>10} {'PRIO':>5}")
        for a in areas:
            lines.append(
                f"{a.name:<{width}}  {a.type:<9} {format_bytes(a.size_bytes):>10} "
                f"{format_bytes(a.used_bytes):>10} {a.priority:>5}"
            )
    return lines
