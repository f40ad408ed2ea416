"""The compressed tiers on the real kernel: a zram device of our own as the only swap, a hog in a
memory-limited v1 cgroup, and zswap switched on with parameters of our own.

checkswap's figures (doctor's per-area rates and zram state, serve's families) are compared with
/proc/diskstats, /sys/block/zramN/mm_stat, /sys/module/zswap/parameters and
/sys/kernel/debug/zswap read by the test's own few lines. zram0 is left alone: the device is
made with hot_add and removed in ``finally``, as are the cgroup, the swap area, zswap's
parameters and a debugfs mount the test made.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import lab
import pytest

from checkswap.doctor import roles
from checkswap.doctor.facts import gather
from checkswap.doctor.rules import findings
from checkswap.model.tiers import read_state
from checkswap.source.root import Root

pytestmark = pytest.mark.kernel

ZSWAP = lab.ZSWAP


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def diskstats(name: str) -> tuple[int, int, int, int]:
    """reads, sectors read, writes, sectors written of one device, as the kernel has them."""
    for line in read("/proc/diskstats").splitlines():
        p = line.split()
        if p[2] == name:
            return int(p[3]), int(p[5]), int(p[7]), int(p[9])
    raise AssertionError(f"{name} not in /proc/diskstats")


@contextlib.contextmanager
def zram_swap(size_mib: int) -> Iterator[str]:
    """A zram device of our own (hot_add), swapped on at the top priority."""
    if not os.path.exists("/sys/class/zram-control/hot_add"):
        pytest.fail("no /sys/class/zram-control: zram module not loaded")
    name = f"zram{int(read('/sys/class/zram-control/hot_add'))}"
    on = False
    try:
        write(f"/sys/block/{name}/disksize", str(size_mib << 20))
        lab.run("mkswap", "-L", f"{lab.PREFIX}zram", f"/dev/{name}")
        try:
            lab.run("swapon", "-p", "32000", f"/dev/{name}")
        except subprocess.CalledProcessError as e:
            pytest.fail(f"swapon /dev/{name} refused: {e.stderr.strip()}")
        on = True
        yield name
    finally:
        if on or f"/dev/{name}" in lab.active_swaps():
            subprocess.run(["swapoff", f"/dev/{name}"], check=False)
        write("/sys/class/zram-control/hot_remove", name[4:])


def mm_stat(name: str) -> list[int]:
    return [int(x) for x in read(f"/sys/block/{name}/mm_stat").split()]


def test_zram_area_rates_and_mm_stat_equal_the_kernels() -> None:
    # zswap off for the run: with it on, the pages would stop in its pool, not reach zram.
    off = lab.zswap_params(enabled="N")
    with off, zram_swap(256) as name, lab.memory_cgroup(48, "tiers") as cg:
        own: dict[str, Any] = {}
        hogs: list[lab.Hog] = []

        def swap_between_readings(_: float) -> None:
            # Called between doctor's two diskstats readings: all the swap I/O happens here,
            # bracketed by the test's own readings.
            own["before"] = diskstats(name)
            hog = lab.Hog(cg, 160, 2.0)
            hogs.append(hog)
            hog.wait_ready()
            hog.wait_done()  # the hog then sleeps, its pages in zram: the device is quiet
            own["after"] = diskstats(name)
            own["mm"] = mm_stat(name)

        try:
            t0 = time.monotonic()
            f = gather(Root("/"), roles.ROLES["general"], 0.2, swap_between_readings)
            seconds = f.last.mono - f.first.mono  # type: ignore[union-attr]
            assert seconds >= time.monotonic() - t0 - 5  # the sample spans the hog's run
            (area,) = [a for a in f.tiers["areas"] if a["device"] == f"/dev/{name}"]
            r0, rs0, w0, ws0 = own["before"]
            r1, rs1, w1, ws1 = own["after"]
            assert w1 - w0 > 1000, "the hog did not swap to zram"
            assert area["exact"] and area["block_device"] == name
            assert area["writes_per_s"] * seconds == pytest.approx(w1 - w0, rel=1e-9)
            assert area["reads_per_s"] * seconds == pytest.approx(r1 - r0, rel=1e-9)
            assert area["write_bytes_per_s"] * seconds == pytest.approx((ws1 - ws0) * 512)
            assert area["read_bytes_per_s"] * seconds == pytest.approx((rs1 - rs0) * 512)
            # The zram device's state, at rest, against mm_stat read by the test.
            mm = own["mm"]
            (z,) = [d for d in read_state(Root("/"))["zram"] if d["device"] == name]
            assert z["swap"] and z["disksize_bytes"] == 256 << 20
            assert (z["original_bytes"], z["compressed_bytes"], z["memory_used_bytes"]) == (
                mm[0],
                mm[1],
                mm[2],
            )
            assert z["memory_limit_bytes"] is None and mm[3] == 0
            assert z["original_bytes"] > 50 << 20
            # No mem_limit on a zram swap device: the finding says so, with the device.
            ids = {x["id"]: x for x in findings(f)}
            assert ids["zram-without-limit"]["evidence"]["device"] == name
            # serve's families carry the same figures.
            pytest.importorskip("prometheus_client")
            from checkswap.fleet.metrics import tier_metrics

            fams = {m.name: m for m in tier_metrics(read_state(Root("/")), None)}
            got = {
                s.labels["device"]: s.value for s in fams["checkswap_zram_original_bytes"].samples
            }
            assert got[name] == mm_stat(name)[0]
        finally:
            for h in hogs:
                h.stop()


def test_zswap_state_and_debugfs_equal_the_kernels() -> None:
    params = lab.zswap_params(enabled="Y", max_pool_percent="7", accept_threshold_percent="85")
    with params, lab.debugfs():
        state = read_state(Root("/"))
        z = state["zswap"]
        params_now = {n: read(f"{ZSWAP}/{n}").strip() for n in os.listdir(ZSWAP)}
        assert z["enabled"] is True and params_now["enabled"] == "Y"
        assert z["compressor"] == params_now["compressor"]
        assert z["max_pool_percent"] == 7 and z["accept_threshold_percent"] == 85
        assert z["shrinker_enabled"] is (params_now["shrinker_enabled"] == "Y")
        # mm/zswap.c zswap_max_pages and zswap_accept_thr_pages: whole pages, rounded down.
        page = os.sysconf("SC_PAGE_SIZE")
        limit_pages = lab.meminfo_kb("MemTotal") * 1024 // page * 7 // 100
        assert z["pool_limit_bytes"] == limit_pages * page
        assert z["pool_accept_bytes"] == limit_pages * 85 // 100 * page
        debug_dir = "/sys/kernel/debug/zswap"
        own = {n: int(read(f"{debug_dir}/{n}")) for n in os.listdir(debug_dir)}
        # Counters that only move with zswap traffic; nothing of ours swaps here.
        for n in ("pool_limit_hit", "reject_compress_poor", "written_back_pages"):
            if n in own:
                assert z["debug"][n] == own[n]
        assert set(z["debug"]) == set(own)
