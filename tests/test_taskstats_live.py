"""Delay accounting against the real kernel: who waits for swap, and --delayacct's switch.

The kernel's figures come from the test's own few lines of generic netlink (``_swapin``
below), never from checkswap's reader; kernel.task_delayacct is put back in a ``finally``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator

import lab
import pytest
from test_top_live import top_as_nobody, top_json

from checkswap.cli import main
from checkswap.doctor.report import diagnose
from checkswap.env import Env
from checkswap.source.root import Root

SWITCH = "/proc/sys/kernel/task_delayacct"
STATE = "/run/checkswap-delayacct.state"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- the kernel's own figures: taskstats by hand ---------------------------------------------


def _genl(sock: socket.socket, family: int, cmd: int, attr_type: int, payload: bytes) -> bytes:
    attr = struct.pack("=HH", 4 + len(payload), attr_type) + payload
    attr += b"\0" * (-len(attr) % 4)
    body = struct.pack("=BBH", cmd, 1, 0) + attr
    sock.send(struct.pack("=IHHII", 16 + len(body), family, 1, 1, 0) + body)
    data = sock.recv(65536)
    assert struct.unpack_from("=H", data, 4)[0] != 2, "netlink error"
    return data[20:]  # past nlmsghdr and genlmsghdr: the attributes


def _attr(data: bytes, kind: int) -> bytes:
    off = 0
    while off < len(data):
        length, t = struct.unpack_from("=HH", data, off)
        if t & 0x3FFF == kind:
            return data[off + 4 : off + length]
        off += (length + 3) & ~3
    raise KeyError(kind)


def taskstats(pid: int) -> dict[str, int]:
    """swapin and blkio delay totals (ns) of a thread group, struct taskstats version 16."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16) as s:
        s.bind((0, 0))
        fam = _genl(s, 0x10, 3, 2, b"TASKSTATS\0")  # CTRL_CMD_GETFAMILY by name
        family = struct.unpack_from("=H", _attr(fam, 1))[0]
        stats = _attr(_attr(_genl(s, family, 1, 2, struct.pack("=I", pid)), 5), 3)
    assert struct.unpack_from("=H", stats)[0] == 16, "this test knows version 16"
    blkio, swapin = struct.unpack_from("=Q", stats, 40)[0], struct.unpack_from("=Q", stats, 56)[0]
    return {"swapin": swapin, "blkio": blkio}


def switch() -> int:
    with open(SWITCH) as f:
        return int(f.read())


def set_switch(value: int) -> None:
    with open(SWITCH, "w") as f:
        f.write(f"{value}\n")


@contextlib.contextmanager
def switch_restored() -> Iterator[None]:
    old = switch()
    try:
        yield
    finally:
        set_switch(old)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(STATE)


# --- who waits -------------------------------------------------------------------------------


def majflt(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[9])


@pytest.mark.kernel
def test_the_swapping_hog_is_first_by_wait_and_its_delay_is_the_kernels() -> None:
    with switch_restored(), contextlib.ExitStack() as stack:
        set_switch(0)
        stack.enter_context(lab.swapfile(512))
        early_cg = stack.enter_context(lab.memory_cgroup(32, "wait-early"))
        early = stack.enter_context(lab.Hog(early_cg, 96, 60, step=2))
        early.wait_ready()
        set_switch(1)
        busy_cg = stack.enter_context(lab.memory_cgroup(32, "wait-busy"))
        quiet_cg = stack.enter_context(lab.memory_cgroup(24, "wait-quiet"))
        quiet = stack.enter_context(lab.Hog(quiet_cg, 64, 0.1))
        quiet.wait_ready()
        quiet.wait_done()  # now idle, holding swap
        busy = stack.enter_context(lab.Hog(busy_cg, 96, 60))
        busy.wait_ready()

        # Forked while the switch was off, a task is never accounted: it swaps in (major
        # faults) with the switch on, and its swap-in delay stays 0 (6.18).
        faults = majflt(early.pid)
        time.sleep(1)
        assert majflt(early.pid) > faults
        assert taskstats(early.pid)["swapin"] == 0
        assert taskstats(busy.pid)["swapin"] > 0

        before = taskstats(busy.pid)
        _, rec = top_json("--sort", "wait", "-n", "2", "-i", "1")
        after = taskstats(busy.pid)
        procs = rec["processes"]
        assert procs[0]["pid"] == busy.pid, [(p["pid"], p["swapin_wait_pct"]) for p in procs]
        hog = procs[0]
        assert before["swapin"] / 1e9 <= hog["swapin_delay_s"] <= after["swapin"] / 1e9
        assert before["blkio"] / 1e9 <= hog["blkio_delay_s"] <= after["blkio"] / 1e9
        assert hog["swapin_wait_pct"] > 0
        # On a disk swapfile the wait for the disk is block I/O, not swap-in (docs/top.md).
        assert hog["blkio_wait_pct"] > hog["swapin_wait_pct"]
        idle = {p["pid"]: p for p in procs}[quiet.pid]
        assert idle["swap_bytes"] > 16 * 1024 * 1024
        assert idle["swapin_wait_pct"] == 0.0
        assert idle["thrashing_wait_pct"] == 0.0
        assert not any("delay accounting is off" in n for n in rec["notes"])

        # doctor's evidence names the hog and its wait over the sample.
        report = diagnose(Root("/"), sample_s=2.0)
        who = report["verdict_evidence"].get("waiters")
        assert who and who[0]["pid"] == busy.pid, report["verdict_evidence"]
        assert 0 < who[0]["swapin_wait_s"] <= who[0]["interval_s"] + 0.5
        assert quiet.pid not in {w["pid"] for w in who}
        detail = " ".join(f["detail"] for f in report["findings"])
        assert f"(pid {busy.pid}) waited" in detail

        # The host's /proc bind-mounted elsewhere, as a hostPID pod's /host/proc: the same
        # processes, so taskstats is asked about them under --root too.
        host = stack.enter_context(host_mounted_at_another_path())
        before = taskstats(busy.pid)
        _, rec = top_json("--root", host, "--sort", "wait", "-n", "2", "-i", "1")
        after = taskstats(busy.pid)
        first = rec["processes"][0]
        assert first["pid"] == busy.pid, [(p["pid"], p["swapin_wait_pct"]) for p in procs]
        assert before["swapin"] / 1e9 <= first["swapin_delay_s"] <= after["swapin"] / 1e9

        # Off: null figures and the note saying how to switch it on.
        set_switch(0)
        _, rec = top_json("-n", "2", "-i", "0.5")
        off = {p["pid"]: p for p in rec["processes"]}[busy.pid]
        assert off["swapin_delay_s"] is None and off["swapin_wait_pct"] is None
        assert any("--delayacct" in n and "task_delayacct = 0" in n for n in rec["notes"])

        # --delayacct switches it on for the run and back: the processes that were already
        # running are shown as unknown, with a note, never as 0.
        out, err = io.StringIO(), io.StringIO()
        argv = ["top", "--delayacct", "--format", "json", "-n", "2", "-i", "0.5"]
        assert main(argv, Env(stdout=out, stderr=err)) == 0
        assert "switched kernel.task_delayacct on for this run" in err.getvalue()
        assert "set back to 0" in err.getvalue()
        assert switch() == 0
        last = json.loads(out.getvalue().splitlines()[-1])
        was = {p["pid"]: p for p in last["processes"]}[early.pid]
        assert was["swapin_delay_s"] is None and was["swapin_wait_pct"] is None
        assert any("started before delay accounting was switched on" in n for n in last["notes"])

        # As nobody: one note, null figures, no traceback (top_as_nobody checks stderr).
        set_switch(1)
        rec = top_as_nobody("/")
        mine = {p["pid"]: p for p in rec["processes"]}[busy.pid]
        assert mine["swapin_delay_s"] is None
        assert [n for n in rec["notes"] if "CAP_NET_ADMIN" in n] == [
            "wait figures are null: delay accounting (taskstats) needs root (CAP_NET_ADMIN)"
        ]


@contextlib.contextmanager
def host_mounted_at_another_path() -> Iterator[str]:
    """A directory with this machine's /proc and /sys bind-mounted in it, unmounted after."""
    import tempfile

    top = tempfile.mkdtemp(prefix="checkswap-test-host-")
    mounted = []
    try:
        for part in ("proc", "sys"):
            os.mkdir(os.path.join(top, part))
            subprocess.run(["mount", "--rbind", f"/{part}", os.path.join(top, part)], check=True)
            mounted.append(os.path.join(top, part))
        yield top
    finally:
        for path in reversed(mounted):
            subprocess.run(["umount", "-R", path], check=False)
        for part in ("proc", "sys"):
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(top, part))
        os.rmdir(top)


@pytest.mark.kernel
def test_on_zram_the_swap_in_wait_is_swapin_delay_and_no_block_io() -> None:
    with switch_restored(), contextlib.ExitStack() as stack:
        set_switch(1)
        stack.enter_context(zram(512))
        cg = stack.enter_context(lab.memory_cgroup(32, "wait-zram"))
        hog = stack.enter_context(lab.Hog(cg, 96, 30))
        hog.wait_ready()
        before = taskstats(hog.pid)
        _, rec = top_json("--sort", "wait", "-n", "2", "-i", "1")
        after = taskstats(hog.pid)
        assert after["swapin"] > before["swapin"]
        # zram reads synchronously inside swap_read_folio: no block I/O wait at all.
        assert after["blkio"] == before["blkio"]
        p = rec["processes"][0]
        assert p["pid"] == hog.pid
        assert p["swapin_wait_pct"] > 0
        assert p["blkio_wait_pct"] == 0.0
        assert before["swapin"] / 1e9 <= p["swapin_delay_s"] <= after["swapin"] / 1e9


@contextlib.contextmanager
def zram(size_mib: int) -> Iterator[str]:
    """Our own zram device (hot_add, never zram0), swapped on above the disk; removed after."""
    with open("/sys/class/zram-control/hot_add") as f:
        n = int(f.read())
    dev = f"/dev/zram{n}"
    try:
        with open(f"/sys/block/zram{n}/disksize", "w") as f:
            f.write(f"{size_mib}M")
        lab.run("mkswap", "-L", f"{lab.PREFIX}zram", dev)
        lab.run("swapon", "-p", "100", dev)
        yield dev
    finally:
        subprocess.run(["swapoff", dev], check=False, capture_output=True)
        with open("/sys/class/zram-control/hot_remove", "w") as f:
            f.write(str(n))


# --- --delayacct: on for the run, off after the last one ---------------------------------------


def _top_delayacct() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "checkswap", "top", "--delayacct", "-i", "0.5", "--format", "json"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _until(cond: object, what: str, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _registered(proc: subprocess.Popen[str]) -> bool:
    try:
        with open(STATE) as f:
            return f"holder {proc.pid} " in f.read()
    except FileNotFoundError:
        return False


@pytest.mark.kernel
def test_delayacct_switch_is_shared_restored_on_sigterm_and_repaired_after_sigkill() -> None:
    procs: list[subprocess.Popen[str]] = []
    with switch_restored():
        try:
            set_switch(0)
            first = _top_delayacct()
            procs.append(first)
            _until(lambda: _registered(first), "the first --delayacct run to register")
            assert switch() == 1
            second = _top_delayacct()
            procs.append(second)
            _until(lambda: _registered(second), "the second --delayacct run to register")

            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=20) == 0
            assert switch() == 1  # the second still needs it
            assert "left on" in first.stderr.read()  # type: ignore[union-attr]

            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=20) == 0
            assert switch() == 0  # the last one put it back
            err = second.stderr.read()  # type: ignore[union-attr]
            assert "set back to 0" in err and "Traceback" not in err
            assert not os.path.exists(STATE)

            killed = _top_delayacct()
            procs.append(killed)
            _until(lambda: _registered(killed), "the third --delayacct run to register")
            killed.kill()
            killed.wait(timeout=20)
            assert switch() == 1  # SIGKILL: no chance to put it back
            # The next run, even without --delayacct, repairs it and says so.
            repair = subprocess.run(
                [sys.executable, "-m", "checkswap", "top"],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert repair.returncode == 0, repair.stderr
            assert switch() == 0
            assert f"pid {killed.pid}" in repair.stderr and "was killed" in repair.stderr
            assert not os.path.exists(STATE)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait(timeout=20)
