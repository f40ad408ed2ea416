"""``swapfile add`` raced by a second user: between two steps, ``nobody`` swaps the name.

Deterministic, not by luck: every step of an add runs through ``Step.run``, which these tests wrap
so that before each step a forked child that setuid()s to nobody makes its move and finishes
before the step goes on. The prize is a root-owned file elsewhere (the victim): the attack wins
if the victim becomes a swap area or is written to, or if an area ends up on a file that another
user owns (they could read swapped-out memory from it).

fs.protected_symlinks and fs.protected_regular are turned off for the duration (and restored):
distributions set them, but checkswap must be safe without them, and with them on the attacks in
the sticky directory would fail for the kernel's reasons, not checkswap's.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Callable, NamedTuple

import lab
import pytest
from clihelp import run_cli
from lab import fstab_copy

from checkswap.lab import change

pytestmark = pytest.mark.kernel
MiB = 2**20
SIZE_MIB = 16
NOBODY = pwd.getpwnam("nobody")
PROTECTIONS = ("/proc/sys/fs/protected_symlinks", "/proc/sys/fs/protected_regular")


def as_nobody(action: Callable[[], str]) -> str:
    """Run ``action`` in a forked child as nobody; what it did (or the error it got)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 0
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(NOBODY.pw_gid)
            os.setuid(NOBODY.pw_uid)
            text = action()
        except OSError as e:
            text = f"{type(e).__name__} ({e.strerror})"
        except BaseException as e:  # reported to the parent, which fails
            text, code = f"crashed: {e!r}", 1
        finally:
            with contextlib.suppress(BaseException):
                os.write(w, text.encode())
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        text = f.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, text
    return text


class Pauses:
    """Before every step of an add, ``attack`` runs as nobody to its end; ``log`` tells what."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, attack: Callable[[], str]) -> None:
        self.log: list[tuple[str, str]] = []
        original = change.Step.run

        def paused(step: change.Step) -> None:
            self.log.append((str(step), as_nobody(attack)))
            original(step)

        monkeypatch.setattr(change.Step, "run", paused)


# --- what nobody does at each pause ----------------------------------------------------------


def plant_link(path: str, victim: str) -> Callable[[], str]:
    """Put a link to the victim where the swapfile is (or is about to be)."""

    def attack() -> str:
        if os.path.islink(path) and os.readlink(path) == victim:
            return "link in place"
        if os.path.lexists(path):
            os.rename(path, path + ".moved")
        os.symlink(victim, path)
        return "planted a link"

    return attack


def plant_own_file(path: str) -> Callable[[], str]:
    """Put nobody's own file where the swapfile is about to be: as a swap area, it would let
    nobody read what root's processes swapped out."""

    def attack() -> str:
        if os.path.lexists(path):
            return "exists"
        with open(path, "wb") as f:
            f.write(b"mine")
        os.chmod(path, 0o666)
        return "planted own file"

    return attack


def swap_parent(parent: str, name: str, victim: str) -> Callable[[], str]:
    """The last directory is safe, but the one above it is not: replace the last directory."""
    target = os.path.join(parent, name)

    def attack() -> str:
        if os.path.islink(target):
            return "link in place"
        if os.path.lexists(parent):
            os.rename(parent, parent + ".moved")
        os.mkdir(parent)
        os.symlink(victim, target)
        return "replaced the directory"

    return attack


# --- the scene ---------------------------------------------------------------------------------


@contextlib.contextmanager
def kernel_protections_off() -> Iterator[None]:
    saved = {}
    for p in PROTECTIONS:
        with open(p) as f:
            saved[p] = f.read().strip()
    try:
        for p in PROTECTIONS:
            with open(p, "w") as f:
                f.write("0")
        yield
    finally:
        for p, value in saved.items():
            with open(p, "w") as f:
                f.write(value)


def fingerprint(path: str) -> tuple[object, ...]:
    st = os.lstat(path)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return st.st_ino, st.st_size, st.st_mode, st.st_uid, digest


def swapoff_under(*prefixes: str) -> None:
    for name in lab.active_swaps():
        if name.startswith(prefixes):
            subprocess.run(["swapoff", name], check=False)


class Scene(NamedTuple):
    top: str  # a root-owned 0755 directory holding the directories of the case
    victim: str  # root's precious file, 0644, in a root-only directory


@pytest.fixture
def scene() -> Iterator[Scene]:
    top = tempfile.mkdtemp(prefix=f"{lab.PREFIX}race-", dir="/var/tmp")
    vault = tempfile.mkdtemp(prefix=f"{lab.PREFIX}victim-", dir="/var/tmp")
    try:
        os.chmod(top, 0o755)
        os.chmod(vault, 0o755)
        victim = os.path.join(vault, "precious")
        with open(victim, "wb") as f:
            f.write(b"root's data, not a swap area\n".ljust(4096, b".") * (SIZE_MIB * MiB // 4096))
        os.chmod(victim, 0o644)
        with kernel_protections_off():
            yield Scene(top, victim)
    finally:
        swapoff_under(top, vault)
        shutil.rmtree(top, ignore_errors=True)
        shutil.rmtree(vault, ignore_errors=True)


def mkdir(path: str, mode: int, owner: pwd.struct_passwd | None = None) -> str:
    os.mkdir(path)
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    os.chmod(path, mode)
    return path


def assert_victim_safe(scene: Scene, before: tuple[object, ...]) -> None:
    active = lab.active_swaps()
    assert scene.victim not in active, f"the victim {scene.victim} became a swap area"
    assert fingerprint(scene.victim) == before, "the victim was written to"
    others = [n for n in active if n.startswith(scene.top)]
    for name in others:
        st = os.lstat(name)
        assert st.st_uid == 0 and stat.S_ISREG(st.st_mode), (
            f"{name}: swap on a file of uid {st.st_uid}"
        )


# --- refused before anything is made ----------------------------------------------------------


def world_writable(scene: Scene) -> tuple[str, str, Callable[[], str]]:
    d = mkdir(os.path.join(scene.top, "world-writable"), 0o777)
    path = os.path.join(d, "swap")
    return path, f"{d} is writable by every user and not sticky", plant_link(path, scene.victim)


def owned_by_nobody(scene: Scene) -> tuple[str, str, Callable[[], str]]:
    d = mkdir(os.path.join(scene.top, "nobodys"), 0o755, NOBODY)
    path = os.path.join(d, "swap")
    return path, f"{d} is owned by nobody", plant_link(path, scene.victim)


def unsafe_ancestor(scene: Scene) -> tuple[str, str, Callable[[], str]]:
    above = mkdir(os.path.join(scene.top, "open-above"), 0o777)
    d = mkdir(os.path.join(above, "root-only"), 0o755)
    attack = swap_parent(d, "swap", scene.victim)
    return os.path.join(d, "swap"), f"{above} is writable by every user and not sticky", attack


@pytest.mark.parametrize("case", [world_writable, owned_by_nobody, unsafe_ancestor])
def test_unsafe_directory_is_refused_before_the_race(
    scene: Scene,
    monkeypatch: pytest.MonkeyPatch,
    case: Callable[[Scene], tuple[str, str, Callable[[], str]]],
) -> None:
    path, why, attack = case(scene)
    before = fingerprint(scene.victim)
    pauses = Pauses(monkeypatch, attack)
    code, out, err = run_cli("swapfile", "add", f"{SIZE_MIB}M", "--path", path)
    assert_victim_safe(scene, before)
    assert code == 1, (out, err, pauses.log)
    assert why in err and err.count("\n") == 1, err
    assert pauses.log == [], "a step ran in a directory that should have been refused"
    assert not os.path.lexists(path)
    # The refusal was not for nothing: nobody really can redirect that name.
    monkeypatch.undo()
    assert as_nobody(attack) in ("planted a link", "replaced the directory")


# --- a root-owned sticky directory: allowed, and nobody's moves get nowhere ----------------------


def test_link_planted_in_sticky_directory_before_creation(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = mkdir(os.path.join(scene.top, "sticky"), 0o1777)
    path = os.path.join(d, "swap")
    before = fingerprint(scene.victim)
    pauses = Pauses(monkeypatch, plant_link(path, scene.victim))
    code, out, err = run_cli("swapfile", "add", f"{SIZE_MIB}M", "--path", path)
    assert_victim_safe(scene, before)
    assert code == 1, (out, err, pauses.log)
    assert f"{path} appeared while checkswap was creating it" in err, err
    assert pauses.log[0][1] == "planted a link"
    assert os.readlink(path) == scene.victim  # left as found: not ours to remove


def test_own_file_planted_in_sticky_directory_before_creation(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = mkdir(os.path.join(scene.top, "sticky"), 0o1777)
    path = os.path.join(d, "swap")
    before = fingerprint(scene.victim)
    pauses = Pauses(monkeypatch, plant_own_file(path))
    code, out, err = run_cli("swapfile", "add", f"{SIZE_MIB}M", "--path", path)
    assert_victim_safe(scene, before)
    assert code == 1, (out, err, pauses.log)
    assert f"{path} appeared while checkswap was creating it" in err, err
    st = os.lstat(path)
    assert (st.st_uid, st.st_size) == (NOBODY.pw_uid, 4)  # nobody's file, untouched


def test_rename_after_creation_in_sticky_directory_fails(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once root's file exists in a sticky directory, nobody can rename it or remove it.

    The sticky bit does the work here, not checkswap: this guards the case that stays allowed.
    """
    d = mkdir(os.path.join(scene.top, "sticky"), 0o1777)
    path = os.path.join(d, "swap")
    link = plant_link(path, scene.victim)

    def once_it_exists() -> str:
        return link() if os.path.lexists(path) else "waiting"

    before = fingerprint(scene.victim)
    pauses = Pauses(monkeypatch, once_it_exists)
    code, out, err = run_cli("swapfile", "add", f"{SIZE_MIB}M", "--path", path)
    try:
        assert_victim_safe(scene, before)
        assert (code, err) == (0, ""), out
        moves = [what for _, what in pauses.log if what != "waiting"]
        assert moves and all(m == "PermissionError (Operation not permitted)" for m in moves), (
            pauses.log
        )
        st = os.lstat(path)
        assert stat.S_ISREG(st.st_mode) and st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600
        assert path in lab.active_swaps()
    finally:
        swapoff_under(path)


# --- the check after swapon: the area is the inode checkswap created ----------------------------


@pytest.mark.parametrize("how", ["directory renamed", "mounted over"])
def test_area_that_is_not_the_created_file_is_turned_off(
    scene: Scene, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Only root can change a safe directory, so this is root playing the attacker: as soon as
    the area is on, the name is made to lead to another file before the next step.

    The kernel refuses to rename or unlink an active swapfile (IS_SWAPFILE, EPERM even for
    root), so what is left is renaming a directory above it, or mounting over one.
    """
    d = mkdir(os.path.join(scene.top, "safe"), 0o755)
    path = os.path.join(d, "swap")
    original = change.Step.run
    changed: list[str] = []
    mounted = False

    def paused(step: change.Step) -> None:
        nonlocal mounted
        if not changed and path in lab.active_swaps():
            if how == "directory renamed":
                os.rename(d, d + ".moved")
                mkdir(d, 0o755)
            else:
                lab.run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d)
                mounted = True
            with open(path, "wb") as f:
                f.write(b"someone else's")
            changed.append(str(step))
        original(step)

    monkeypatch.setattr(change.Step, "run", paused)
    with fstab_copy() as fstab:
        with open(fstab) as f:
            original_fstab = f.read()
        try:
            code, out, err = run_cli(
                "swapfile", "add", f"{SIZE_MIB}M", "--path", path, "--persist", "--fstab", fstab
            )
            assert changed, "the area never became active"
            assert code == 1, (out, err)
            assert f"{path} is not the file checkswap created" in err, err
            assert err.count("\n") == 1, err
            assert not [n for n in lab.active_swaps() if n.startswith(scene.top)]
            with open(fstab) as f:
                assert f.read() == original_fstab
            if how == "directory renamed":
                assert f"the area it turned on is {d}.moved/swap" in err  # told where it went
        finally:
            if mounted:  # first: swapoff by name must not find the tmpfs file
                subprocess.run(["umount", d], check=False)
            swapoff_under(scene.top)
    # The file it made was removed (found through the directory's descriptor); the other stays.
    assert os.listdir(d + ".moved" if how == "directory renamed" else d) == []
    if how == "directory renamed":
        with open(path, "rb") as f:
            assert f.read() == b"someone else's"
