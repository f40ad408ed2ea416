"""swapfile add/remove for real, on ext4, xfs and btrfs made on loop devices (root, opt-in)."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from typing import Callable

import lab
import pytest
from clihelp import run_cli
from lab import fstab_copy
from loopfs import loop_filesystem

from checkswap.lab import swapfile

pytestmark = pytest.mark.kernel
MiB = 2**20


def checkswap_process(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "checkswap", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def verify(fstab: str) -> list[str]:
    """findmnt's own check of the edited fstab: no parse error, no error; returns the warnings.

    util-linux 2.38 warns "non-bind mount source ... is a directory or regular file" for every
    swapfile line, so that warning alone is expected.
    """
    p = subprocess.run(
        ["findmnt", "--verify", "--verbose", "--tab-file", fstab], capture_output=True, text=True
    )
    text = p.stdout + p.stderr
    assert p.returncode == 0, text
    last = text.strip().splitlines()[-1]
    assert last.startswith("0 parse errors, 0 errors,") or last.startswith("Success"), text
    warnings = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("[W]")]
    return [w for w in warnings if not w.endswith("is a directory or regular file")]


def disk_under(path: str) -> str:
    """The disk holding ``path``, found with util-linux rather than checkswap's topology."""
    source = lab.run("findmnt", "-n", "-o", "SOURCE", "--target", path).stdout.strip()
    parent = lab.run("lsblk", "-n", "-o", "PKNAME", source).stdout.strip()
    return parent or os.path.basename(source)


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def swap_kib(path: str) -> int | None:
    with open("/proc/swaps") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if parts[0] == path:
                return int(parts[2])
    return None


@pytest.mark.parametrize("fstype", ["ext4", "xfs", "btrfs"])
def test_add_list_remove_on_real_filesystem(fstype: str) -> None:
    with loop_filesystem(fstype) as mnt, fstab_copy() as fstab:
        original = read(fstab)
        path = os.path.join(mnt, "swap file")  # a space: fstab and /proc/swaps escape it
        code, out, err = run_cli(
            "swapfile", "add", "64M", "--path", path, "--priority", "5", "--persist",
            "--fstab", fstab,
        )  # fmt: skip
        assert (code, err) == (0, ""), out
        escaped = path.replace(" ", "\\040")
        # The kernel has it: 64 MiB minus mkswap's header page, at our priority.
        assert swap_kib(escaped) == 64 * 1024 - os.sysconf("SC_PAGE_SIZE") // 1024
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        probe = lab.run("blkid", "-p", "-o", "export", path).stdout  # our header, as blkid sees it
        assert "TYPE=swap" in probe and "VERSION=1" in probe and "UUID=" in probe, probe
        lines = [ln for ln in read(fstab).splitlines() if ln.startswith(escaped + " ")]
        assert lines == [f"{escaped} none swap sw,pri=5 0 0"]
        assert verify(fstab) == []
        assert read(fstab + ".checkswap-backup") == original
        if fstype == "btrfs":
            attrs = lab.run("lsattr", path).stdout.split()[0]
            assert "C" in attrs, attrs
        assert "Swap:" in out and "64.0 MiB" in out

        code, out, _ = run_cli("swapfile", "list")
        (row,) = [ln for ln in out.splitlines() if ln.startswith(path + " ")]
        assert row.split()[2:8] == ["file", "64.0", "MiB", "0", "B", "5"], row
        assert f"  {fstype} {mnt}  {disk_under('/var/tmp')} " in row, row
        assert row.endswith(" via loop"), row

        code, out, err = run_cli("swapfile", "remove", path, "--fstab", fstab)
        assert (code, err) == (0, ""), out
        assert swap_kib(escaped) is None
        assert not os.path.exists(path)
        assert read(fstab) == original
        assert verify(fstab) == []


def test_zero_fill_writes_every_block() -> None:
    with loop_filesystem("ext4") as mnt:
        path = os.path.join(mnt, "swap")
        code, out, err = run_cli("swapfile", "add", "40M", "--path", path, "--zero-fill")
        assert (code, err) == (0, ""), out  # no bar: stderr is not a terminal
        assert "dd if=/dev/zero of=/proc/self/fd/3 bs=1M count=40 conv=notrunc,fsync" in out
        assert "fallocate" not in out
        assert os.stat(path).st_blocks * 512 >= 40 * MiB
        assert swap_kib(path) is not None
        assert run_cli("swapfile", "remove", path, "--fstab", "/etc/fstab")[0] == 0


def refusing_unwritten_extents(real: Callable[[str, int | None], None]) -> Callable[..., None]:
    """swapon(2) as older kernels did it on xfs: a file with unwritten (preallocated) extents is
    refused ("swapon: swapfile has holes"). Kernels since 4.18 accept them, so this emulates the
    kernel's answer; everything else is the real call."""

    def swapon(link: str, priority: int | None) -> None:
        own = link.replace("/proc/self/", f"/proc/{os.getpid()}/")  # filefrag is another process
        if "unwritten" in lab.run("filefrag", "-v", own).stdout:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        real(link, priority)

    return swapon


def test_falls_back_to_zeros_when_swapon_refuses_preallocated_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with loop_filesystem("xfs") as mnt:
        monkeypatch.setattr(swapfile, "swapon", refusing_unwritten_extents(swapfile.swapon))
        path = os.path.join(mnt, "swap")
        code, out, err = run_cli("swapfile", "add", "32M", "--path", path)
        assert (code, err) == (0, ""), out
        assert "swapon refused the preallocated file (Invalid argument)" in out
        assert out.index("$ fallocate") < out.index("$ dd if=/dev/zero") < out.rindex("$ swapon")
        assert swap_kib(path) == 32 * 1024 - os.sysconf("SC_PAGE_SIZE") // 1024
        assert "unwritten" not in lab.run("filefrag", "-v", path).stdout
        assert run_cli("swapfile", "remove", path)[0] == 0


def test_failed_swapon_leaves_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(link: str, priority: int | None) -> None:
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    with loop_filesystem("ext4") as mnt:
        monkeypatch.setattr(swapfile, "swapon", refuse)
        path = os.path.join(mnt, "swap")
        code, _, err = run_cli("swapfile", "add", "32M", "--path", path)
        assert code == 1
        assert err == f"checkswap: swapon {path} failed: Operation not permitted\n"
        assert os.listdir(mnt) == ["lost+found"]


def snapshot(directory: str, fstab: str) -> tuple[object, ...]:
    files = sorted(
        (name, os.stat(os.path.join(directory, name)).st_size) for name in os.listdir(directory)
    )
    return tuple(files), read("/proc/swaps"), read(fstab)


def test_dry_run_changes_nothing() -> None:
    with loop_filesystem("btrfs") as mnt, fstab_copy() as fstab:
        path = os.path.join(mnt, "swap")
        before = snapshot(mnt, fstab)
        code, out, _ = run_cli(
            "swapfile", "add", "64M", "--path", path, "--persist", "--fstab", fstab, "--dry-run"
        )
        assert code == 0 and "chattr +C" in out
        assert snapshot(mnt, fstab) == before

        assert (
            run_cli("swapfile", "add", "64M", "--path", path, "--persist", "--fstab", fstab)[0] == 0
        )
        before = snapshot(mnt, fstab)
        code, out, _ = run_cli("swapfile", "remove", path, "--fstab", fstab, "--dry-run")
        assert code == 0 and f"swapoff {path}" in out
        assert snapshot(mnt, fstab) == before
        assert run_cli("swapfile", "remove", path, "--fstab", fstab)[0] == 0


def test_refusals_on_real_filesystems() -> None:
    with loop_filesystem("ext4", size_mib=256) as mnt:
        path = os.path.join(mnt, "swap")
        code, _, err = run_cli("swapfile", "add", "1G", "--path", path)
        assert code == 1 and "not enough space" in err
        assert os.listdir(mnt) == ["lost+found"]

        with fstab_copy() as fstab:
            with open(fstab, "a") as f:
                f.write(f"{path} none swap sw 0 0\n")  # a stale line from an earlier setup
            code, out, _ = run_cli(
                "swapfile", "add", "32M", "--path", path, "--persist", "--fstab", fstab
            )
            assert code == 0 and f"{fstab} already has a line for {path}" in out
            assert read(fstab).count(f"{path} none swap") == 1
        code, _, err = run_cli("swapfile", "add", "32M", "--path", path)
        assert code == 1 and "already exists and is a swap area" in err
        assert run_cli("swapfile", "remove", path)[0] == 0

    tmpfs = tempfile.mkdtemp(prefix=f"{lab.PREFIX}tmpfs-")
    try:
        lab.run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", tmpfs)
        try:
            code, _, err = run_cli("swapfile", "add", "16M", "--path", os.path.join(tmpfs, "s"))
            assert code == 1 and "(tmpfs): it lives in RAM" in err
            assert os.listdir(tmpfs) == []
        finally:
            lab.run("umount", tmpfs)
    finally:
        os.rmdir(tmpfs)


def test_remove_refuses_a_swap_partition() -> None:
    with loop_filesystem("ext4", size_mib=64) as mnt:
        dev = lab.run("findmnt", "-n", "-o", "SOURCE", mnt).stdout.strip()
        lab.run("umount", mnt)
        lab.run("mkswap", dev)
        lab.run("swapon", dev)
        try:
            code, _, err = run_cli("swapfile", "remove", dev)
            assert code == 1 and "is a swap partition, not a file" in err
            assert dev in lab.active_swaps()
        finally:
            subprocess.run(["swapoff", dev], check=False)


def test_remove_inactive_swapfile_and_its_fstab_line() -> None:
    with loop_filesystem("ext4") as mnt, fstab_copy() as fstab:
        path = os.path.join(mnt, "swap")
        assert (
            run_cli("swapfile", "add", "32M", "--path", path, "--persist", "--fstab", fstab)[0] == 0
        )
        lab.run("swapoff", path)  # as after a reboot when the fstab line was lost
        code, out, _ = run_cli("swapfile", "remove", path, "--fstab", fstab)
        assert code == 0 and "swapoff" not in out
        assert not os.path.exists(path) and path not in read(fstab)


def test_two_concurrent_adds_make_one_file_and_one_line() -> None:
    with loop_filesystem("xfs") as mnt, fstab_copy() as fstab:
        path = os.path.join(mnt, "swap")
        argv = ("swapfile", "add", "128M", "--path", path, "--persist", "--fstab", fstab)
        procs = [checkswap_process(*argv) for _ in range(2)]
        results = sorted((p.wait(timeout=120), *p.communicate()) for p in procs)
        try:
            (ok, _, ok_err), (refused, _, refused_err) = results
            assert (ok, ok_err) == (0, "")
            assert refused == 1
            assert f"{path} already exists and is a swap area" in refused_err
            assert os.listdir(mnt) == ["swap"]
            assert read(fstab).count(f"{path} none swap") == 1
            assert verify(fstab) == []
            assert lab.active_swaps().count(path) == 1
        finally:
            run_cli("swapfile", "remove", path, "--fstab", fstab)


def test_list_and_remove_refusal_for_zram() -> None:
    with open("/sys/class/zram-control/hot_add") as f:
        n = int(f.read())
    dev = f"/dev/zram{n}"
    try:
        with open(f"/sys/block/zram{n}/disksize", "w") as f:
            f.write(str(32 * MiB))
        lab.run("mkswap", dev)
        lab.run("swapon", "--priority", "100", dev)
        code, out, _ = run_cli("swapfile", "list")
        (row,) = [ln for ln in out.splitlines() if ln.startswith(dev + " ")]
        assert row.split()[1:7] == ["zram", "32.0", "MiB", "0", "B", "100"], row
        assert row.endswith(f"zram{n} (compressed RAM, no disk I/O)"), row
        code, _, err = run_cli("swapfile", "remove", dev)
        assert code == 1 and "is a swap partition, not a file" in err
        assert dev in lab.active_swaps()
    finally:
        subprocess.run(["swapoff", dev], check=False, capture_output=True)
        with open("/sys/class/zram-control/hot_remove", "w") as f:
            f.write(str(n))


def test_interrupted_add_removes_the_partial_file() -> None:
    with loop_filesystem("ext4", size_mib=1536) as mnt:
        path = os.path.join(mnt, "swap")
        proc = checkswap_process("swapfile", "add", "1200M", "--zero-fill", "--path", path)
        try:
            deadline = time.monotonic() + 30
            while not (os.path.exists(path) and os.stat(path).st_size > 0):
                assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
                time.sleep(0.01)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 1, err
        assert err.endswith(f"interrupted: no swap added, {path} removed\n"), err
        assert not os.path.exists(path)
        assert path not in lab.active_swaps()
