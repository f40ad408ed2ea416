"""Hostile snapshot bundles and --root arguments: each attack is performed, for real.

The tar files are crafted here byte for byte where tarfile would not write them (a gzip bomb of
1.5 GiB in 1.5 MiB, an extended header of 1 MiB); devices and FIFOs are made with mknod/mkfifo in
a temporary directory; processes are killed with SIGKILL mid-unpack. A link that climbs out of
a bundle is given a real target outside it (a canary file, the host's /proc/1), so a test fails
if checkswap ever reads or writes there.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import json
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import clihelp
import lab
import pytest
from clihelp import FIXTURES, no_sleep

from checkswap.doctor.report import diagnose
from checkswap.errors import BadInput
from checkswap.record import snapshot
from checkswap.source import bundle, open_root
from checkswap.source.root import MANIFEST, Root

TREE = os.path.join(FIXTURES, "cgroup-v2")  # one process (812) in swap, a cgroup v2 hierarchy
# As documented in checkswap/source/bundle.py: the tests hold checkswap to its word, not to itself.
PREFIX = "checkswap-bundle-"
VARS = {
    "bytes": "CHECKSWAP_BUNDLE_MAX_BYTES",
    "members": "CHECKSWAP_BUNDLE_MAX_MEMBERS",
    "file_bytes": "CHECKSWAP_BUNDLE_MAX_FILE_BYTES",
    "link_bytes": "CHECKSWAP_BUNDLE_MAX_LINK_BYTES",
}
MAX_HOPS = 40
MAX_DEPTH = 128
ESCAPED = "checkswap-test-escaped"
CANARY = "checkswap-test-canary"
Adder = Callable[[tarfile.TarFile], None]


# Fixture trees and bundles do not move: no command here needs the real clock.
run_cli = functools.partial(clihelp.run_cli, sleep=no_sleep)


def run_sub(
    args: list[str], env: dict[str, str] | None = None, timeout: float = 10
) -> tuple[subprocess.CompletedProcess[str], float]:
    """checkswap in a child process, as a user runs it; (result, seconds it took)."""
    t = time.monotonic()
    return clihelp.run_sub(*args, timeout=timeout, env=env), time.monotonic() - t


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def need_root(what: str) -> None:
    if os.geteuid() != 0:
        if lab.kernel_tests_enabled():
            pytest.fail(f"{lab.ENV_FLAG}=1 but not root: {what} needs root")
        pytest.skip(f"{what} needs root")


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """$TMPDIR for this test: where bundles are unpacked, checked to be left empty."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setenv("TMPDIR", str(d))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() caches; read $TMPDIR anew
    yield d


def leftovers(d: Path) -> list[str]:
    gc.collect()  # a root that went away removes its directory
    return sorted(p.name for p in d.iterdir() if p.name.startswith(PREFIX))


# --- crafting tar files -----------------------------------------------------------------------


def add_file(name: str, data: bytes = b"x\n") -> Adder:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    return add


def add_link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> Adder:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = target
        tar.addfile(info)

    return add


def add_node(name: str, kind: bytes, major: int = 0, minor: int = 0) -> Adder:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.devmajor, info.devminor = major, minor
        tar.addfile(info)

    return add


def add_dir(name: str) -> Adder:
    return add_node(name, tarfile.DIRTYPE)


def make_bundle(
    path: Path,
    extra: list[Adder] = (),  # type: ignore[assignment]
    manifest: str | None = None,
    count: int = 1,
    tree: str = TREE,
) -> Path:
    """A real bundle of ``tree`` (as ``checkswap snapshot`` writes it), then ``extra`` members."""
    base = str(path) + ".base"
    snapshot.take(Root(tree), base, count, 0.01, sleep=no_sleep)
    try:
        with tarfile.open(base) as src, tarfile.open(path, "w:gz") as out:
            for m in src.getmembers():
                if m.name == MANIFEST and manifest is not None:
                    add_file(MANIFEST, manifest.encode())(out)
                else:
                    out.addfile(m, src.extractfile(m) if m.isfile() else None)
            for add in extra:
                add(out)
    finally:
        os.unlink(base)
    return path


def manifest_of(path: Path) -> dict[str, Any]:
    with tarfile.open(path) as tar:
        f = tar.extractfile(MANIFEST)
        assert f is not None
        return json.loads(f.read())  # type: ignore[no-any-return]


def climbing_chain(levels: int) -> tuple[list[Adder], str]:
    """Links each harmless by name that, followed on disk, climb one directory more each.

    samples/000/l0 -> ..;  samples/000/x1/l1 -> ../l0/..;  samples/000/x1/x2/l2 -> ../l1/.. ...
    Each target, joined to its own directory, names a path inside the bundle; followed on disk,
    l<k> is k+1 directories above the sample. Returns the links and the path of the last one.
    """
    adders = [add_link("samples/000/l0", "..")]
    d = "samples/000"
    for k in range(1, levels + 1):
        d += f"/x{k}"
        adders.append(add_link(f"{d}/l{k}", f"../l{k - 1}/.."))
    return adders, f"{d}/l{levels}"


# --- links: resolved inside the bundle, never made on disk ------------------------------------


def test_a_chain_of_links_read_through_stays_in_the_bundle(scratch: Path, tmp_path: Path) -> None:
    (tmp_path / CANARY).write_text("outside the bundle\n")
    # Deep enough that, followed on disk from an unpack under $TMPDIR, it reaches "/".
    levels = len(scratch.parts) + 4
    chain, last = climbing_chain(levels)
    rel = last[len("samples/000/") :]
    outside = str(tmp_path / CANARY).lstrip("/")
    path = make_bundle(
        tmp_path / "chain.tar.gz",
        [
            *chain,
            add_link("samples/000/canary", f"{rel}/{outside}"),
            # Through the hot path of `top`: a process directory that is a link to the host's.
            add_link("samples/000/proc/4242", f"../{rel}/proc/1"),
        ],
    )
    root = open_root(str(path))
    # At the top, ".." stays at the top: the whole chain leads back to the sample's own tree.
    with open(os.path.join(TREE, "proc/vmstat")) as f:
        assert root.read_text(f"{rel}/proc/vmstat") == f.read()
    assert sorted(root.listdir(rel)) == sorted(root.listdir(""))
    with pytest.raises(FileNotFoundError):
        root.read_text("canary")
    assert not root.exists("canary")
    with pytest.raises(FileNotFoundError):
        root.read_text("proc/4242/status")
    for rel_path in (f"{rel}/proc/vmstat", "proc/812/status", "canary", "proc/4242"):
        assert root.join(rel_path).startswith(root.tree.private + "/"), rel_path
    # Nothing on disk is a link: whatever a reader opens under the tree stays in it.
    for dirpath, dirnames, filenames in os.walk(root.tree.top):
        for n in dirnames + filenames:
            assert not os.path.islink(os.path.join(dirpath, n))
    status, out, err = run_cli(["top", "--root", str(path), "--format", "json", "-n", "1"])
    assert status == 0, err
    rec = json.loads(out)
    assert rec["scanned_processes"] == 1  # 812 only, not the host's pid 1 behind proc/4242


def test_a_chain_of_links_cannot_be_written_through(scratch: Path, tmp_path: Path) -> None:
    levels = len(scratch.parts) + 4
    chain, last = climbing_chain(levels)
    escaped = tmp_path / ESCAPED
    through_chain = f"{last}/{str(escaped).lstrip('/')}"
    # And the nested form: a/b -> .., then a/b/c made through it, then a file through both.
    nested = [
        add_link("samples/000/a/b", ".."),
        add_link("samples/000/a/b/c", "../../.."),
        add_file(f"samples/000/a/b/c/{ESCAPED}-nested", b"written outside\n"),
    ]
    for extra, where in (
        ([*chain, add_file(through_chain, b"written outside\n")], escaped),
        (nested, scratch / f"{ESCAPED}-nested"),
    ):
        path = make_bundle(tmp_path / "write.tar.gz", extra)
        with pytest.raises(BadInput, match="under the symlink"):
            open_root(str(path))
        assert not where.exists()
        assert leftovers(scratch) == []


def test_an_absolute_link_means_the_samples_own_root(scratch: Path, tmp_path: Path) -> None:
    path = make_bundle(
        tmp_path / "abs.tar.gz",
        [
            add_file("samples/000/etc/passwd", b"bundle:x:1:\n"),
            add_link("samples/000/x", "/etc/passwd"),
            add_link("samples/000/up", "../../../../../../../../etc"),
            add_link("samples/000/root", "/"),
        ],
    )
    root = open_root(str(path))
    assert root.read_text("x") == "bundle:x:1:\n"
    assert root.read_text("up/passwd") == "bundle:x:1:\n"
    assert root.read_text("root/root/root/../etc/passwd") == "bundle:x:1:\n"
    assert root.readlink("x") == "/etc/passwd"
    assert root.realpath("x") == os.path.join(root.path, "etc/passwd")


def test_link_loops_are_missing_not_a_hang(scratch: Path, tmp_path: Path) -> None:
    hops = [add_link(f"samples/000/h{i}", f"h{i + 1}") for i in range(MAX_HOPS + 5)]
    path = make_bundle(
        tmp_path / "loop.tar.gz",
        [
            add_link("samples/000/a", "b"),
            add_link("samples/000/b", "a"),
            add_link("samples/000/self", "self/x"),
            *hops,
            add_file(f"samples/000/h{MAX_HOPS + 5}", b"end\n"),
        ],
    )
    root = open_root(str(path))
    t = time.monotonic()
    for rel in ("a", "b/c", "self", "h0"):
        assert not root.exists(rel)
        with pytest.raises(FileNotFoundError):
            root.read_text(rel)
    with pytest.raises(FileNotFoundError):
        root.listdir("a")
    assert time.monotonic() - t < 1
    # Within Linux's own 40 links a chain still resolves.
    assert root.read_text("h6") == "end\n"


# --- members refused ------------------------------------------------------------------------

REFUSED = [
    (
        "hard link to /etc/passwd",
        add_link("samples/000/proc/h", "/etc/passwd", tarfile.LNKTYPE),
        "a hard link",
    ),
    (
        "hard link inside",
        add_link("samples/000/proc/h", "samples/000/proc/vmstat", tarfile.LNKTYPE),
        "a hard link",
    ),
    (
        "character device",
        add_node("samples/000/proc/zero", tarfile.CHRTYPE, 1, 5),
        "a character device",
    ),
    ("block device", add_node("samples/000/proc/sda", tarfile.BLKTYPE, 8, 0), "a block device"),
    ("FIFO", add_node("samples/000/proc/fifo", tarfile.FIFOTYPE), "a FIFO"),
    ("contiguous file", add_node("samples/000/proc/c", tarfile.CONTTYPE), "a contiguous file"),
    ("sparse file", add_node("samples/000/proc/s", tarfile.GNUTYPE_SPARSE), "a sparse file"),
    ("../x", add_file(f"../{ESCAPED}"), "unsafe path"),
    ("/x", add_file(f"/tmp/{ESCAPED}"), "unsafe path"),
    ("a/../../x", add_file(f"samples/../../{ESCAPED}"), "unsafe path"),
    ("dir replaced by a link", add_link("samples/000/proc", "/"), "given twice"),
    ("file replaced by a dir", add_dir("samples/000/proc/vmstat"), "a directory replacing a file"),
    ("file given twice", add_file("samples/000/proc/vmstat", b"pswpin 999\n"), "given twice"),
    ("too deep", add_file("samples/" + "d/" * MAX_DEPTH + "x"), "levels deep"),
    ("link to a huge target", add_link("samples/000/l", "a/" * 2048), "not a path"),
]


@pytest.mark.parametrize(("what", "add", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_members(
    what: str, add: Adder, message: str, scratch: Path, tmp_path: Path
) -> None:
    path = make_bundle(tmp_path / "bad.tar.gz", [add])
    with pytest.raises(BadInput, match=message):
        open_root(str(path))
    status, _, err = run_cli(["watch", "--root", str(path)])
    assert status == 2 and message in one_line(err)
    status, out, _ = run_cli(["doctor", "--root", str(path)])
    assert status == 3 and message in out
    assert leftovers(scratch) == []
    assert not (tmp_path / ESCAPED).exists() and not Path(f"/tmp/{ESCAPED}").exists()


def test_a_link_then_a_file_of_its_name_cannot_write_through_it(
    scratch: Path, tmp_path: Path
) -> None:
    # On disk, the second member would be written through the first, over the manifest.
    path = make_bundle(
        tmp_path / "wt.tar.gz",
        [
            add_link("samples/000/proc/w", "../../../checkswap-manifest.json"),
            add_file("samples/000/proc/w", b"{}"),
        ],
    )
    with pytest.raises(BadInput, match="given twice"):
        open_root(str(path))
    path = make_bundle(
        tmp_path / "wd.tar.gz",
        [add_link("samples/000/proc/w", ".."), add_dir("samples/000/proc/w")],
    )
    with pytest.raises(BadInput, match="a directory replacing a symlink"):
        open_root(str(path))
    assert leftovers(scratch) == []


# --- bounds: a gzip bomb and friends --------------------------------------------------------


def write_bomb(path: Path, files: int, file_mib: int, name: str = "samples/000/bomb") -> None:
    """A tar.gz of ``files`` members of ``file_mib`` MiB of zeros, at ~1000:1, made in a second.

    After a full flush a deflate stream no longer depends on what came before, so the
    compressed MiB of zeros is written once per MiB instead of compressing each.
    """
    zero = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed_zero = c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
    crc = size = 0
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")
        for i in range(files):
            info = tarfile.TarInfo(f"{name}/{i:05d}")
            info.size = file_mib << 20
            header = info.tobuf()
            f.write(c.compress(header) + c.flush(zlib.Z_FULL_FLUSH))
            crc, size = zlib.crc32(header, crc), size + len(header)
            for _ in range(file_mib):
                f.write(compressed_zero)
                crc, size = zlib.crc32(zero, crc), size + len(zero)
        end = bytes(2 * 512)
        f.write(c.compress(end) + c.flush())
        crc, size = zlib.crc32(end, crc), size + len(end)
        f.write(struct.pack("<II", crc, size & 0xFFFFFFFF))


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1.5 GiB of tar in 48 files of 32 MiB, each under the per-file bound: 1.5 MiB of gzip."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.tar.gz"
    write_bomb(path, 48, 32)
    assert path.stat().st_size < 2 * 1024 * 1024
    return path


def disk_bytes(d: Path) -> int:
    total = 0
    for p, _, names in os.walk(d):
        for n in names:
            # Sampled while the child writes: a file it has just removed is no bytes.
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(p, n)).st_size
    return total


def test_gzip_bomb_stops_at_the_byte_bound(
    bomb: Path, scratch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VARS["bytes"], "40M")
    dest = tmp_path / "dest"
    dest.mkdir()
    t = time.monotonic()
    with pytest.raises(Exception, match="unpacks to more than 40 MiB") as caught:
        bundle.unpack(str(bomb), str(dest))
    elapsed = time.monotonic() - t
    # What is on disk when it stopped, its peak: files only grow until the bound ends it.
    on_disk = disk_bytes(dest)
    assert 32 * 1024 * 1024 <= on_disk <= 40 * 1024 * 1024
    assert elapsed < 10, caught.value
    # Through the CLI: one line, and the private directory gone.
    status, _, err = run_cli(["watch", "--root", str(bomb)])
    assert status == 2 and "CHECKSWAP_BUNDLE_MAX_BYTES" in one_line(err)
    assert leftovers(scratch) == []


def hwm_kib(pid: int) -> int:
    """The child's own peak RSS (VmHWM), 0 once it is gone. Not wait4's ru_maxrss: Linux
    carries that across fork and exec, so it would include this pytest process's peak."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def test_gzip_bomb_in_a_child_keeps_its_disk_and_memory(bomb: Path, scratch: Path) -> None:
    limit = 64 * 1024 * 1024
    env = {**os.environ, VARS["bytes"]: str(limit), "TMPDIR": str(scratch)}
    p = subprocess.Popen(
        [sys.executable, "-m", "checkswap", "watch", "--root", str(bomb)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    peak_disk = 0
    peak_rss_kib = 0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # The private directory, sampled while the child unpacks into it.
            peak_disk = max(peak_disk, disk_bytes(scratch))
            peak_rss_kib = max(peak_rss_kib, hwm_kib(p.pid))
            pid, status, _ = os.wait4(p.pid, os.WNOHANG)
            if pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                break
            time.sleep(0.002)
        else:
            pytest.fail("the child did not stop at the bound")
    finally:
        if p.returncode is None:
            p.kill()
            p.wait()
    assert p.stderr is not None
    err = p.stderr.read().decode()
    assert p.returncode == 2, err
    assert "more than 64 MiB" in one_line(err)
    assert peak_disk <= limit
    # The interpreter and checkswap, not the bomb (1.5 GiB unpacked).
    assert 0 < peak_rss_kib * 1024 < 64 * 1024 * 1024, peak_rss_kib
    assert leftovers(scratch) == []


def test_one_member_claiming_gigabytes_is_refused_before_a_byte(
    scratch: Path, tmp_path: Path
) -> None:
    path = tmp_path / "one.tar.gz"
    write_bomb(path, 1, 1536)
    dest = tmp_path / "dest"
    dest.mkdir()
    t = time.monotonic()
    with pytest.raises(Exception, match="larger than 64 MiB"):
        bundle.unpack(str(path), str(dest))
    assert time.monotonic() - t < 1
    assert disk_bytes(dest) == 0


def test_member_count_bound(scratch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARS["members"], "1000")
    many = [add_file(f"samples/000/many/{i}", b"") for i in range(3000)]
    path = make_bundle(tmp_path / "many.tar.gz", many)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(Exception, match="more than 1000 members"):
        bundle.unpack(str(path), str(dest))
    assert sum(len(names) + len(dirs) for _, dirs, names in os.walk(dest)) <= 1001
    status, out, _ = run_cli(["doctor", "--root", str(path)])
    assert status == 3 and "more than 1000 members" in one_line(out)
    assert leftovers(scratch) == []


def test_link_bytes_bound(scratch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARS["link_bytes"], "64K")
    links = [add_link(f"samples/000/links/{i}", "t" * 1000) for i in range(200)]
    path = make_bundle(tmp_path / "links.tar.gz", links)
    with pytest.raises(BadInput, match="symlinks take more than 64 KiB"):
        open_root(str(path))
    assert leftovers(scratch) == []


def test_a_huge_extended_header_is_refused_unread(scratch: Path, tmp_path: Path) -> None:
    def pax(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo("samples/000/proc/p")
        info.pax_headers = {"comment": "x" * (1 << 20)}
        tar.addfile(info, io.BytesIO(b""))

    path = make_bundle(tmp_path / "pax.tar.gz", [pax])
    with pytest.raises(BadInput, match="extended header"):
        open_root(str(path))
    assert leftovers(scratch) == []


def test_bounds_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for v in VARS.values():
        monkeypatch.delenv(v, raising=False)
    assert bundle.limits() == bundle.Limits(1 << 30, 1_000_000, 64 << 20, 64 << 20)
    assert bundle.VARIABLES == VARS
    for word in ("1 GiB", "1000000", "64 MiB", *VARS.values()):
        assert word in (bundle.__doc__ or "")
    monkeypatch.setenv(VARS["bytes"], "lots")
    with pytest.raises(BadInput, match="CHECKSWAP_BUNDLE_MAX_BYTES"):
        bundle.limits()


# --- kill -9 mid-unpack: the next run sweeps -------------------------------------------------


def test_sigkill_mid_unpack_is_swept_by_the_next_run(
    bomb: Path, scratch: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "TMPDIR": str(scratch), VARS["bytes"]: "4G"}
    p = subprocess.Popen(
        [sys.executable, "-m", "checkswap", "watch", "--root", str(bomb)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    mine = f"{PREFIX}{p.pid}-"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            left = [n for n in leftovers(scratch) if n.startswith(mine)]
            if left and disk_bytes(scratch / left[0]) > 8 * 1024 * 1024:
                break
            assert p.poll() is None, "the unpack ended before it could be killed"
            time.sleep(0.01)
        else:
            pytest.fail(f"no {mine}* directory being filled in {scratch}")
        p.send_signal(signal.SIGKILL)
        p.wait()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert [n for n in leftovers(scratch) if n.startswith(mine)]  # what SIGKILL leaves
    good = make_bundle(tmp_path / "good.tar.gz")
    result, _ = run_sub(["watch", "--root", str(good)], {"TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stderr
    assert leftovers(scratch) == []


def test_sweep_removes_only_our_own_dead_directories(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive = tmp_path / f"{PREFIX}{os.getpid()}-alive"
    gone = tmp_path / f"{PREFIX}{dead.pid}-gone"
    for d in (alive, gone):
        (d / "tree").mkdir(parents=True)
        (d / "tree" / "f").write_text("x")
    # A link planted under a dead pid's name, to a directory that must survive.
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / CANARY).write_text("keep\n")
    planted = tmp_path / f"{PREFIX}{dead.pid}-planted"
    planted.symlink_to(victim)
    odd = [tmp_path / f"{PREFIX}{n}" for n in ("x-1", "99999999999999999999-1", "12")]
    for d in odd:
        d.mkdir()
    removed = bundle.sweep(str(tmp_path))
    assert removed == [str(gone)]
    assert alive.exists() and planted.is_symlink() and (victim / CANARY).exists()
    assert all(d.exists() for d in odd)


def test_sweep_leaves_another_users_directory(tmp_path: Path) -> None:
    need_root("chown to another user")
    import pwd

    nobody = pwd.getpwnam("nobody")
    dead = subprocess.Popen(["true"])
    dead.wait()
    theirs = tmp_path / f"{PREFIX}{dead.pid}-theirs"
    theirs.mkdir()
    os.chown(theirs, nobody.pw_uid, nobody.pw_gid)
    assert bundle.sweep(str(tmp_path)) == []
    assert theirs.exists()


# --- --root on a device, a FIFO, a socket ---------------------------------------------------


@pytest.fixture
def specials(tmp_path: Path) -> Iterator[dict[str, str]]:
    fifo = tmp_path / "checkswap-test-fifo"
    os.mkfifo(fifo)
    sock_path = tmp_path / "checkswap-test-sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(sock_path))
        sock.listen(1)
        yield {"/dev/zero": "a character device", str(fifo): "a FIFO", str(sock_path): "a socket"}
    finally:
        sock.close()


def test_root_on_a_device_fifo_or_socket_is_one_line_at_once(
    specials: dict[str, str], scratch: Path
) -> None:
    # Within a second of what starting the interpreter and checkswap takes here.
    baseline, startup = run_sub(["--version"])
    for path, kind in specials.items():
        t = time.monotonic()
        with pytest.raises(BadInput, match=kind):
            open_root(path)
        assert time.monotonic() - t < 1
        for command in ("watch", "doctor", "top", "snapshot"):
            args = [command, "--root", path]
            if command == "snapshot":
                args += ["-o", str(scratch / "s.tar.gz")]
            result, seconds = run_sub(args, timeout=10)
            status = 3 if command == "doctor" else 2
            assert result.returncode == status, (args, result.stderr)
            line = one_line(result.stdout if command == "doctor" else result.stderr)
            assert kind in line, line
            assert seconds < startup + 1, (args, seconds)
    assert baseline.returncode == 0


def test_a_device_node_made_here_as_root(tmp_path: Path) -> None:
    need_root("mknod")
    node = tmp_path / "checkswap-test-zero"
    os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 5))
    result, _ = run_sub(["watch", "--root", str(node)], timeout=10)
    assert result.returncode == 2
    assert "a character device" in one_line(result.stderr)


# --- the unpacked-directory form ------------------------------------------------------------


def unpacked(path: Path, dest: Path) -> Path:
    """The directory a user gets with tar xzf (the bundle is ours, made by the test)."""
    dest.mkdir()
    subprocess.run(["tar", "-xzf", str(path), "-C", str(dest)], check=True)
    return dest


def test_unpacked_directory_with_a_fifo_is_refused_at_once(scratch: Path, tmp_path: Path) -> None:
    d = unpacked(make_bundle(tmp_path / "b.tar.gz"), tmp_path / "unpacked")
    vmstat = d / "samples/000/proc/vmstat"
    vmstat.unlink()
    os.mkfifo(vmstat)
    result, _ = run_sub(["watch", "--root", str(d)], {"TMPDIR": str(scratch)}, timeout=10)
    assert result.returncode == 2
    assert "a FIFO" in one_line(result.stderr)
    assert leftovers(scratch) == []


def test_unpacked_directory_with_a_device_is_refused(scratch: Path, tmp_path: Path) -> None:
    need_root("mknod")
    d = unpacked(make_bundle(tmp_path / "b.tar.gz"), tmp_path / "unpacked")
    vmstat = d / "samples/000/proc/vmstat"
    vmstat.unlink()
    os.mknod(vmstat, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero: reads never end
    result, _ = run_sub(["watch", "--root", str(d)], {"TMPDIR": str(scratch)}, timeout=10)
    assert result.returncode == 2
    assert "a character device" in one_line(result.stderr)


def test_unpacked_directory_links_and_hard_links(scratch: Path, tmp_path: Path) -> None:
    d = unpacked(make_bundle(tmp_path / "b.tar.gz"), tmp_path / "unpacked")
    os.symlink("/etc", d / "samples/000/leak")  # absolute, as tar xzf would make it
    os.symlink("/proc/1", d / "samples/000/proc/4242")
    root = open_root(str(d))
    assert not root.exists("leak/passwd")  # the sample's etc/, which has no passwd
    with pytest.raises(FileNotFoundError):
        root.read_text("proc/4242/status")
    del root
    (tmp_path / CANARY).write_text("secret\n")
    os.link(tmp_path / CANARY, d / "samples/000/proc/hard")
    with pytest.raises(BadInput, match="a hard link"):
        open_root(str(d))
    assert leftovers(scratch) == []


# --- the manifest -----------------------------------------------------------------------------


def good_manifest(path: Path) -> dict[str, Any]:
    return manifest_of(make_bundle(path))


BAD_MANIFESTS: list[tuple[str, Callable[[dict[str, Any]], str], str]] = [
    ("nested 100000 deep", lambda m: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (
        "nested object",
        lambda m: json.dumps({**m, "x": 1})[:-1] + ',"y":' + "[" * 100_000 + "]" * 100_000 + "}",
        "nested too deeply",
    ),
    (
        "mono NaN",
        lambda m: json.dumps(m).replace(f'"mono": {m["samples"][0]["mono"]}', '"mono": NaN'),
        "not a number",
    ),
    (
        "wall 1e300",
        lambda m: json.dumps({**m, "samples": [{**m["samples"][0], "wall": 1e300}]}),
        "wall",
    ),
    (
        "mono 400 digits",
        lambda m: json.dumps({**m, "samples": [{**m["samples"][0], "mono": 10**400}]}),
        "mono",
    ),
    (
        "mono backwards",
        lambda m: json.dumps({**m, "samples": [m["samples"][0], {**m["samples"][0], "mono": 0.0}]}),
        "not after",
    ),
    ("page size 2^400", lambda m: json.dumps({**m, "page_size_bytes": 2**400}), "page_size_bytes"),
    ("page size true", lambda m: json.dumps({**m, "page_size_bytes": True}), "page_size_bytes"),
    (
        "interval Infinity",
        lambda m: json.dumps(m)[:-1] + ', "interval_s": Infinity}',
        "not a number",
    ),
    ("hostname escapes", lambda m: json.dumps({**m, "hostname": "\x1b]0;owned\x07"}), "hostname"),
    (
        "stat mode huge",
        lambda m: json.dumps({**m, "stat": {"/swap": {"mode": 10**30}}}),
        "stat mode",
    ),
    ("stat not an object", lambda m: json.dumps({**m, "stat": [1]}), "stat"),
    (
        "sample dir escapes",
        lambda m: json.dumps({**m, "samples": [{**m["samples"][0], "dir": "../../etc"}]}),
        "not a directory of the bundle",
    ),
    (
        "sample dir absolute",
        lambda m: json.dumps({**m, "samples": [{**m["samples"][0], "dir": "/etc"}]}),
        "not a directory of the bundle",
    ),
    (
        "samples not a list",
        lambda m: json.dumps({**m, "samples": {"dir": "samples/000"}}),
        "no valid list",
    ),
    ("too large", lambda m: json.dumps({**m, "pad": "x" * (17 << 20)}), "longer than"),
]


@pytest.mark.parametrize(
    ("what", "edit", "message"), BAD_MANIFESTS, ids=[b[0] for b in BAD_MANIFESTS]
)
def test_insane_manifests_are_one_clear_line(
    what: str, edit: Callable[[dict[str, Any]], str], message: str, scratch: Path, tmp_path: Path
) -> None:
    text = edit(good_manifest(tmp_path / "good.tar.gz"))
    path = make_bundle(tmp_path / "m.tar.gz", manifest=text)
    with pytest.raises(BadInput, match=message):
        open_root(str(path))
    for command, expected in (("watch", 2), ("top", 2), ("doctor", 3), ("check", 3)):
        status, out, err = run_cli([command, "--root", str(path)])
        assert status == expected, (command, out, err)
        assert message in one_line(err or out)
    assert leftovers(scratch) == []


def test_a_sample_dir_behind_a_link_is_refused(scratch: Path, tmp_path: Path) -> None:
    m = good_manifest(tmp_path / "good.tar.gz")
    m["samples"][0]["dir"] = "elsewhere/000"
    path = make_bundle(tmp_path / "m.tar.gz", [add_link("elsewhere", "samples")], json.dumps(m))
    with pytest.raises(BadInput, match="not a directory of the bundle"):
        open_root(str(path))


def test_manifest_of_a_plain_directory_root(tmp_path: Path) -> None:
    d = tmp_path / "tree"
    shutil.copytree(TREE, d, symlinks=True)
    manifest = d / MANIFEST
    manifest.write_text("[" * 100_000 + "]" * 100_000)
    status, _, err = run_cli(["watch", "--root", str(d)])
    assert status == 2 and "nested too deeply" in one_line(err)
    manifest.write_text('{"page_size_bytes": 4096, "stat": {"/x": {"uid": -1}}}')
    with pytest.raises(BadInput, match="stat uid"):
        open_root(str(d))
    manifest.unlink()
    os.mkfifo(manifest)  # opening a FIFO to read it would wait for a writer forever
    result, _ = run_sub(["watch", "--root", str(d), "-n", "1"], timeout=10)
    assert result.returncode == 2
    assert "not a regular file" in one_line(result.stderr)


# --- real bundles still replay ----------------------------------------------------------------


def devices(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (d["name"], d["kind"], d["disks"], d["rotational"], d["virtual"], d["network"])
        for d in report["devices"]
    ]


def test_a_live_snapshot_replays_as_tar_and_as_directory(scratch: Path, tmp_path: Path) -> None:
    out = tmp_path / "live.tar.gz"
    status, _, err = run_cli(["snapshot", "-n", "2", "-i", "0.5", "-o", str(out)])
    assert status == 0, err
    live = diagnose(Root("/"), sample_s=0.1)
    directory = unpacked(out, tmp_path / "unpacked")
    for source in (str(out), str(directory)):
        for argv in (
            ["watch", "--root", source, "--format", "json"],
            ["top", "--root", source, "--format", "json", "-n", "2"],
            ["doctor", "--root", source, "--format", "json"],
        ):
            status, _, err = run_cli(argv)
            # doctor's status is its verdict (0, 1 or 2); bad input would be 3.
            assert status in ((0, 1, 2) if argv[0] == "doctor" else (0,)), (argv, err)
            assert "Traceback" not in err
        root = open_root(source)
        assert isinstance(root, bundle.BundleRoot)
        replayed = diagnose(root, sleep=no_sleep)
        assert devices(replayed) == devices(live)
        root = open_root(source)
        # Topology's links: every sys/block/NAME leads to its device's directory in the bundle.
        for disk in os.listdir("/sys/block"):
            resolved = root.realpath(f"sys/block/{disk}")
            assert resolved is not None and resolved.startswith(root.path + "/sys/devices/")
            assert os.path.basename(resolved) == disk
            assert sorted(root.listdir(f"sys/block/{disk}/slaves")) == sorted(
                os.listdir(f"/sys/block/{disk}/slaves")
            )
            with open(f"/sys/block/{disk}/queue/rotational") as f:
                assert root.read_text(f"sys/block/{disk}/queue/rotational") == f.read()
        del root, replayed
    assert leftovers(scratch) == []
