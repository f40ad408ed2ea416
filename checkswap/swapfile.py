"""Add and remove swapfiles safely: the emergency "give this server swap now" procedure.

Each filesystem needs its own recipe, because the kernel's swapfile code asks the filesystem
where every block of the file is (``swap_activate``/``bmap``) and refuses files it cannot map:

- ext2/3/4, xfs, f2fs: ``fallocate``. Older kernels rejected preallocated (unwritten) extents on
  xfs ("swapon: swapfile has holes"); when swapon refuses the file we write zeros and retry.
- btrfs (kernel 5.0+): the file must be no-copy-on-write (``chattr +C`` while it is still empty),
  hence also uncompressed, and the filesystem must be on a single device.
- tmpfs, overlayfs, network filesystems and anything else: refused before touching the disk.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import stat
import time
from typing import Callable, NamedTuple

from checkswap import fstab
from checkswap.change import CommandFailed, Step, run_command, shell
from checkswap.errors import BadInput, Refused
from checkswap.kernel.meminfo import read_meminfo
from checkswap.kernel.mountinfo import Mount, mount_for_path, read_mountinfo
from checkswap.kernel.swaps import SwapArea, read_swaps
from checkswap.progress import Progress
from checkswap.root import Root
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
    if fstab_path is not None and not os.path.isfile(fstab_path):
        raise BadInput(f"--fstab {fstab_path}: no such file")
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


# --- the steps ------------------------------------------------------------------------------


def zero_argv(path: str, size: int) -> list[str]:
    return ["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={size // MiB}", "conv=fsync"]


def zero_step(path: str, size: int, progress: Callable[[int], Progress]) -> Step:
    def write() -> None:
        write_zeros(path, size, progress(size))

    return Step(zero_argv(path, size), write, note="written by checkswap, with a progress bar")


def write_zeros(path: str, size: int, bar: Progress) -> None:
    """Write real zero blocks over the whole file (no holes, no unwritten extents).

    Synced and dropped from the page cache every 32 MiB: this runs when memory is short, and
    a gigabyte of dirty pages would make it shorter; the bar then shows the disk's pace.
    """
    chunk = bytes(4 * MiB)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        done = synced = 0
        while done < size:
            done += os.write(fd, chunk[: min(len(chunk), size - done)])
            if done - synced >= SYNC_EVERY or done == size:
                os.fdatasync(fd)
                os.posix_fadvise(fd, synced, done - synced, os.POSIX_FADV_DONTNEED)
                synced = done
            bar.update(done)
        bar.finish(done)
    finally:
        os.close(fd)


def create_steps(plan: AddPlan, progress: Callable[[int], Progress]) -> list[Step]:
    path = plan.path
    steps = []
    if plan.fstype == BTRFS:
        # +C only takes effect on an empty file; it also turns compression off for the file.
        steps += [Step(["truncate", "-s", "0", path]), Step(["chattr", "+C", path])]
    if plan.zero_fill:
        steps.append(zero_step(path, plan.size, progress))
    else:
        steps.append(Step(["fallocate", "-l", str(plan.size), path]))
    return steps


def format_steps(path: str) -> list[Step]:
    # chmod before mkswap: a world-readable swapfile would leak memory contents.
    return [Step(["chmod", "600", path]), Step(["mkswap", path])]


def swapon_step(path: str, priority: int | None) -> Step:
    pri = [] if priority is None else ["--priority", str(priority)]
    return Step(["swapon", *pri, path])


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
        ["sh", "-c", f"echo {shlex.quote(line)} >> {shlex.quote(plan.fstab)}"],
        add,
        note=f"atomically (temp file, fsync, rename); backup {fstab.backup_path(plan.fstab)}",
    )


def fallback_note(plan: AddPlan) -> str | None:
    """What happens when swapon refuses the preallocated file (said in --dry-run)."""
    if plan.zero_fill or plan.fstype == BTRFS:
        return None
    cmds = [
        shell(zero_argv(plan.path, plan.size)),
        shell(["mkswap", plan.path]),
        str(swapon_step(plan.path, plan.priority)),
    ]
    return "if swapon refuses the preallocated file: " + "; ".join(cmds)


def add_steps(plan: AddPlan, progress: Callable[[int], Progress]) -> list[Step]:
    steps = [
        *create_steps(plan, progress),
        *format_steps(plan.path),
        swapon_step(plan.path, plan.priority),
    ]
    persist = fstab_add_step(plan)
    if persist is not None:
        steps.append(persist)
    return steps


def execute_add(
    plan: AddPlan, progress: Callable[[int], Progress], say: Callable[[str], None]
) -> None:
    """Run the plan; on any failure take back what was done (swapoff, delete the file)."""
    created = False
    try:
        for step in create_steps(plan, progress):
            say(f"$ {step}")
            created = True
            step.run()
        for step in format_steps(plan.path):
            say(f"$ {step}")
            step.run()
        on = swapon_step(plan.path, plan.priority)
        say(f"$ {on}")
        try:
            on.run()
        except CommandFailed as e:
            if plan.zero_fill or plan.fstype == BTRFS:
                raise
            say(f"swapon refused the preallocated file ({e.output}); writing zeros instead")
            for step in [zero_step(plan.path, plan.size, progress), *format_steps(plan.path), on]:
                say(f"$ {step}")
                step.run()
        persist = fstab_add_step(plan)
        if persist is not None:
            say(f"$ {persist}")
            persist.run()
        elif plan.fstab is not None:
            say(f"# {plan.fstab} already has a line for {plan.path}: not adding another")
    except BaseException:
        if created:
            _undo_add(plan.path)
        raise


def _undo_add(path: str) -> None:
    with contextlib.suppress(CommandFailed, Refused):
        if swap_area_at(path, read_swaps(Root("/"))) is not None:
            run_command(["swapoff", path])
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


# --- remove --------------------------------------------------------------------------------


class RemovePlan(NamedTuple):
    path: str
    area: SwapArea | None  # None: a swapfile that is not active
    fstab: str
    fstab_lines: list[int]


def plan_remove(root: Root, path: str, fstab_path: str, force: bool) -> RemovePlan:
    path = os.path.abspath(path)
    area = swap_area_at(path, read_swaps(root))
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
        mem = read_meminfo(root)
        available = mem.get("MemAvailable")
        if not force and (available is None or area.used_bytes > available):
            shown = format_bytes(available) if available is not None else "unknown"
            raise Refused(
                f"{path} holds {format_bytes(area.used_bytes)} of swapped-out memory and "
                f"MemAvailable is {shown}: swapoff would have to bring it all back into RAM "
                f"(out-of-memory kills, or hours of thrashing). Free memory first, or use "
                f"--force if you are sure"
            )
    if not os.path.isfile(fstab_path):
        raise BadInput(f"--fstab {fstab_path}: no such file")
    lines = fstab.line_numbers(fstab.read(fstab_path), path)
    return RemovePlan(path, area, fstab_path, lines)


def remove_steps(plan: RemovePlan) -> list[Step]:
    steps = []
    if plan.area is not None:
        steps.append(Step(["swapoff", plan.path]))
    if plan.fstab_lines:

        def drop() -> None:
            current = fstab.read(plan.fstab)
            fstab.write(
                plan.fstab, fstab.without_lines(current, fstab.line_numbers(current, plan.path))
            )

        numbers = ",".join(f"{n + 1}d" for n in plan.fstab_lines)
        steps.append(
            Step(
                ["sed", "-i", numbers.replace(",", ";"), plan.fstab],
                drop,
                note=f"atomically; backup {fstab.backup_path(plan.fstab)}",
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
