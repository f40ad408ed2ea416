"""lab/drain.py without changing the machine: the estimate and its refusal on hand-made trees,
the readings and the interrupted path with swapoff(2) replaced, and the pending-signal check.

The real syscall, its progress and its interruption by SIGINT and SIGTERM are in
test_drain_live.py.
"""

from __future__ import annotations

import io
import os
import signal
import threading

import pytest

from checkswap.env import Env
from checkswap.errors import Refused
from checkswap.kernel.pid import pending_signals
from checkswap.lab import drain
from checkswap.source.root import Root

MiB = 2**20


def tree(tmp: str, swaps: str, meminfo: str, mm_stat: str | None = None) -> Root:
    os.makedirs(os.path.join(tmp, "proc"))
    with open(os.path.join(tmp, "proc/swaps"), "w") as f:
        f.write("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n" + swaps)
    with open(os.path.join(tmp, "proc/meminfo"), "w") as f:
        f.write(meminfo)
    with open(os.path.join(tmp, "proc/vmstat"), "w") as f:
        f.write("pswpin 100\npswpout 200\n")
    if mm_stat is not None:
        # As sysfs has it: one device directory, linked from sys/block and sys/class/block.
        d = os.path.join(tmp, "sys/devices/virtual/block/zram1")
        os.makedirs(d)
        with open(os.path.join(d, "mm_stat"), "w") as f:
            f.write(mm_stat)
        for top, up in (("sys/block", "../"), ("sys/class/block", "../../")):
            os.makedirs(os.path.join(tmp, top))
            os.symlink(f"{up}devices/virtual/block/zram1", os.path.join(tmp, top, "zram1"))
    return Root(tmp)


def zram_root(tmp: str, available_kb: int) -> Root:
    """1 GiB of pages on /dev/zram1, stored in 300 MiB of zram."""
    return tree(
        tmp,
        "/dev/zram1                              partition\t2097148\t\t1048576\t\t100\n",
        f"MemTotal: 4000000 kB\nMemAvailable: {available_kb} kB\n",
        f"{1024 * MiB} {250 * MiB} {300 * MiB} 0 {300 * MiB} 0 0 0\n",
    )


def test_zram_needs_its_original_size_minus_what_it_uses(tmp_path: os.PathLike[str]) -> None:
    # Draining it takes 724 MiB more, not 1 GiB.
    root = zram_root(str(tmp_path), 819200)
    area = drain.find_area(root, "/dev/zram1")
    assert area is not None
    plan = drain.plan_drain(root, area, force=False)  # 800 MiB available: enough
    assert (plan.kind, plan.used, plan.needs, plan.zram_used) == (
        "zram",
        1024 * MiB,
        724 * MiB,
        300 * MiB,
    )


def test_zram_refused_when_the_decompressed_rest_does_not_fit(
    tmp_path: os.PathLike[str],
) -> None:
    root = zram_root(str(tmp_path), 512000)
    area = drain.find_area(root, "/dev/zram1")
    assert area is not None
    with pytest.raises(Refused) as e:
        drain.plan_drain(root, area, force=False)
    assert "/dev/zram1 holds 1.0 GiB of swapped-out memory (724.0 MiB more RAM once " in str(
        e.value
    )
    assert "zram itself uses 300.0 MiB) and MemAvailable is 500.0 MiB" in str(e.value)
    assert drain.plan_drain(root, area, force=True).needs == 724 * MiB


def test_partition_needs_what_is_used(tmp_path: os.PathLike[str]) -> None:
    root = tree(
        str(tmp_path),
        "/dev/vdb2                               partition\t4194300\t\t2097152\t\t-2\n",
        "MemAvailable: 1048576 kB\n",
    )
    area = drain.find_area(root, "/dev/vdb2")
    assert area is not None
    with pytest.raises(Refused, match=r"holds 2\.0 GiB of swapped-out memory and MemAvailable"):
        drain.plan_drain(root, area, force=False)


def _file_root(tmp: str) -> Root:
    return tree(
        tmp,
        "/var/tmp/swap                           file\t\t1048572\t\t524288\t\t-2\n",
        "MemAvailable: 8388608 kB\n",
    )


def test_drain_reports_readings_and_returns_the_last(tmp_path: os.PathLike[str]) -> None:
    root = _file_root(str(tmp_path))
    area = drain.find_area(root, "/var/tmp/swap")
    assert area is not None
    plan = drain.plan_drain(root, area, force=False)
    seen: list[drain.Reading] = []
    swaps = os.path.join(str(tmp_path), "proc/swaps")

    def swapoff(name: str) -> int:
        assert name == "/var/tmp/swap"
        # The kernel's side, played here: half back, then the area gone from /proc/swaps.
        with open(swaps, "w") as f:
            f.write("Filename\tType\tSize\tUsed\tPriority\n/var/tmp/swap file 1048572 262144 -2\n")
        while not seen:
            threading.Event().wait(0.01)
        with open(swaps, "w") as f:
            f.write("Filename\tType\tSize\tUsed\tPriority\n")
        return 0

    last = drain.drain(root, plan, seen.append, every_s=0.01, call=swapoff)
    assert seen[0].moved in (256 * MiB, 512 * MiB)
    assert (last.moved, last.left, last.available) == (512 * MiB, 0, 8 * 2**30)


def test_drain_interrupted_keeps_the_figures(tmp_path: os.PathLike[str]) -> None:
    root = _file_root(str(tmp_path))
    area = drain.find_area(root, "/var/tmp/swap")
    assert area is not None
    plan = drain.plan_drain(root, area, force=False)
    swaps = os.path.join(str(tmp_path), "proc/swaps")

    def swapoff(name: str) -> int:
        # What EINTR leaves: the area back on, with 100 MiB brought back so far.
        with open(swaps, "w") as f:
            f.write("Filename\tType\tSize\tUsed\tPriority\n/var/tmp/swap file 1048572 421888 -2\n")
        raise KeyboardInterrupt

    with pytest.raises(drain.Interrupted) as e:
        drain.drain(root, plan, lambda r: None, every_s=0.01, call=swapoff)
    assert e.value.on
    assert (e.value.reading.moved, e.value.reading.left) == (100 * MiB, 412 * MiB)


def test_swapfile_off_interrupted_says_so_and_exits_1(
    tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command's end of it: one line on stderr naming what moved, exit 1, stdout clean of
    the bar."""
    from checkswap.commands import swapfile as command

    root = _file_root(str(tmp_path))
    area = drain.find_area(root, "/var/tmp/swap")
    assert area is not None
    plan = drain.plan_drain(root, area, force=False)
    reading = drain.Reading(12.0, 100 * MiB, 412 * MiB, 8 * 2**30, 8 * MiB)

    def interrupted(*a: object, **k: object) -> drain.Reading:
        raise drain.Interrupted(reading, True)

    monkeypatch.setattr(drain, "drain", interrupted)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(Refused) as e:
        command._drain(root, plan, Env(out, err), lambda s: out.write(s + "\n"), "")
    assert str(e.value) == (
        "interrupted: /var/tmp/swap is still on (412.0 MiB left on it); 100.0 MiB of "
        "512.0 MiB came back into RAM in 0:12"
    )
    assert e.value.status == 1
    assert out.getvalue() == ""


def test_pending_signals_parsed_from_status() -> None:
    text = "Name:\tx\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000004002\n"
    assert pending_signals(text) == {signal.SIGINT, signal.SIGTERM}
    assert pending_signals("Name:\tx\n") == set()


def test_watcher_sees_a_signal_waiting_for_the_main_thread(tmp_path: os.PathLike[str]) -> None:
    root = _file_root(str(tmp_path))
    area = drain.find_area(root, "/var/tmp/swap")
    assert area is not None
    plan = drain.plan_drain(root, area, force=False)
    watcher = drain._Watcher(root, plan, lambda r: None, lambda: 0.0, 1.0)
    assert not watcher.look().stopping
    old_handler = signal.signal(signal.SIGTERM, lambda *a: None)
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # pending, as while swapoff(2) runs
        assert watcher.look().stopping
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        signal.signal(signal.SIGTERM, old_handler)


def test_swapfile_off_interrupted_before_swapoff_is_exit_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C while waiting for the lock or planning: exit 1 with the area's state, not the
    monitors' quiet exit 0."""
    import contextlib

    from clihelp import run_cli

    from checkswap.kernel.swaps import SwapArea
    from checkswap.lab import change

    calls: list[str] = []

    def find_area(root: Root, name: str) -> SwapArea | None:
        calls.append(name)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return SwapArea(name, "partition", 1 << 30, 1 << 20, -2)

    monkeypatch.setattr(change, "require_root", lambda what: None)
    monkeypatch.setattr(change, "locked", lambda *a, **k: contextlib.nullcontext())
    monkeypatch.setattr(drain, "find_area", find_area)
    code, out, err = run_cli("swapfile", "off", "/dev/vdb2")
    assert (code, out) == (1, "")
    assert err == "checkswap: interrupted: /dev/vdb2 is still on\n"
