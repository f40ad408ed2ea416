"""The compressed tiers' readers (kernel/zram.py, kernel/thp.py, zswap's parameters and debugfs),
model/tiers.py's state and per-area traffic, and serve's families for them, on real text and on
the tiers-zram-zswap-6.18 tree."""

from __future__ import annotations

import os
from typing import Any

import pytest
from clihelp import FIXTURES

from checkswap.kernel.block import DiskStats
from checkswap.kernel.thp import parse_size_dir, read_mthp_stats
from checkswap.kernel.zram import parse_bd_stat, parse_comp_algorithm, parse_mm_stat, read_zrams
from checkswap.kernel.zswap import parse_zswap, read_zswap, read_zswap_debug
from checkswap.model.tiers import (
    FILE_NOTE,
    area_counters,
    area_traffic,
    mthp_summary,
    read_state,
    zswap_state,
)
from checkswap.source.root import Root

TREE = os.path.join(FIXTURES, "tiers-zram-zswap-6.18")
MIB = 1024 * 1024


def test_mm_stat_captured_and_older_kernels() -> None:
    # Captured here (6.18), nine fields; a 4.14-era line has seven (no huge_pages).
    mm = parse_mm_stat(
        "    4096       73    12288        0    12288        0        0        0        0"
    )
    assert mm is not None
    assert (mm.orig_data_bytes, mm.compr_data_bytes, mm.mem_used_bytes) == (4096, 73, 12288)
    assert mm.mem_limit_bytes == 0 and mm.huge_pages == 0
    old = parse_mm_stat("8192 100 12288 0 12288 1 0\n")
    assert old is not None and old.same_pages == 1 and old.huge_pages is None
    assert parse_mm_stat("1 2 3\n") is None  # too short: no figures rather than wrong ones
    assert parse_mm_stat("a b c d e\n") is None
    assert parse_mm_stat("1 2 -3 0 0\n") is None


def test_bd_stat_is_in_4k_units_and_algorithm() -> None:
    bd = parse_bd_stat("       3        1        2\n")
    assert bd is not None and (bd.count_bytes, bd.read_bytes, bd.write_bytes) == (12288, 4096, 8192)
    assert parse_bd_stat("x\n") is None
    assert parse_comp_algorithm("[lzo-rle] lzo lz4 \n") == "lzo-rle"  # captured here
    assert parse_comp_algorithm("lzo lz4\n") is None
    assert parse_comp_algorithm("[]\n") is None


def test_zswap_parameters_and_debugfs() -> None:
    z = parse_zswap("Y\n", "lzo\n", "20\n", "90\n", "N\n")
    assert (z.enabled, z.max_pool_percent, z.accept_threshold_percent, z.shrinker_enabled) == (
        True,
        20,
        90,
        False,
    )
    # A 5.x kernel: neither accept_threshold_percent (5.6) nor shrinker_enabled (6.8).
    old = parse_zswap("N\n", "lzo\n", "20\n")
    assert old.accept_threshold_percent is None and old.shrinker_enabled is None
    assert parse_zswap("Y", None, "lots", "-1", "maybe")[2:] == (None, None, None)
    root = Root(TREE)
    got = read_zswap(root)
    assert got is not None and got.max_pool_percent == 1 and got.enabled
    debug = read_zswap_debug(root)
    assert debug is not None and debug["pool_limit_hit"] == 37 and debug["stored_pages"] == 34957
    # debugfs not mounted (or not root): absent, never zeros.
    assert read_zswap_debug(Root(os.path.join(FIXTURES, "linux-6.18-swapping"))) is None


def test_mthp_sizes_and_counters() -> None:
    assert parse_size_dir("hugepages-64kB") == 65536
    assert parse_size_dir("hugepages-2048kB") == 2 * MIB
    assert parse_size_dir("hugepages-1GB") == 1024**3
    assert parse_size_dir("hugepages-") is None and parse_size_dir("khugepaged") is None
    assert parse_size_dir("hugepages-²kB") is None  # isdigit() says yes, int() says no
    stats = read_mthp_stats(Root(TREE))
    assert sorted(stats) == [8192 * 2**i for i in range(9)]  # 8 kB .. 2048 kB, captured here
    assert stats[65536] == {
        "swpout": 120,
        "swpout_fallback": 880,
        "swpin": 40,
        "swpin_fallback": 0,
        "zswpout": 0,
    }
    rows = mthp_summary(stats)
    assert [r["size_bytes"] for r in rows] == [65536]  # the sizes with traffic only
    assert rows[0]["fallback_pct"] == 88.0
    assert read_mthp_stats(Root(os.path.join(FIXTURES, "linux-6.18-swapping"))) == {}


def test_zram_devices_of_the_tree() -> None:
    devs = read_zrams(Root(TREE))
    assert [d.name for d in devs] == ["zram1", "zram2"]  # zram0 is not there; only set-up ones
    state = read_state(Root(TREE))
    z1, z2 = state["zram"]
    assert z1["swap"] and not z2["swap"]
    assert z1["memory_limit_bytes"] is None and z2["memory_limit_bytes"] == 128 * MIB
    assert z1["disk_used_pct"] == pytest.approx(250 / 256 * 100)
    assert z2["limit_used_pct"] == pytest.approx(22 / 128 * 100)
    assert z1["ratio"] == pytest.approx(262144000 / 84000768)
    assert z2["backing_bytes"] == 0 and z1["backing_bytes"] is None  # bd_stat only on zram2
    assert z2["algorithm"] == "zstd"


def test_zswap_pool_fullness_is_the_kernels_test() -> None:
    # The limit is max_pool_percent of MemTotal; meminfo Zswap is the pool itself.
    z = parse_zswap("Y", "lzo", "20", "90", "Y")
    s = zswap_state(
        z, {"MemTotal": 1000 * MIB, "Zswap": 150 * MIB, "Zswapped": 600 * MIB}, None, 4096
    )
    assert s is not None
    assert s["pool_limit_bytes"] == 200 * MIB and s["pool_full_pct"] == 75.0 and s["ratio"] == 4
    assert s["pool_accept_bytes"] == 180 * MIB
    assert s["debug"] is None
    empty = zswap_state(z, {"MemTotal": 1000 * MIB, "Zswap": 0, "Zswapped": 0}, None, 4096)
    assert empty is not None and empty["ratio"] is None  # an empty pool has no ratio, not 0
    assert zswap_state(None, {}, None, 4096) is None


def test_zswap_limits_are_whole_pages_rounded_down_as_the_kernel_does() -> None:
    # mm/zswap.c: zswap_max_pages = totalram_pages * max_pool_percent / 100 and
    # zswap_accept_thr_pages = that * accept_threshold_percent / 100, in integer pages. 24105 MiB
    # of RAM (this project's VM) is 6,170,880 pages: 1 % is 61,708.8, so 61,708 pages, not the
    # 252,759,490 bytes (61,708.8 pages) that MemTotal in bytes times 1 % gives.
    total = 24105 * MIB
    s = zswap_state(parse_zswap("Y", "lzo", "1", "90"), {"MemTotal": total, "Zswap": 0}, None, 4096)
    assert s is not None
    assert s["pool_limit_bytes"] == 61_708 * 4096
    assert s["pool_accept_bytes"] == 61_708 * 90 // 100 * 4096  # 55,537 pages
    # No accept_threshold_percent (before 5.6): no threshold, the limit alone.
    old = zswap_state(parse_zswap("Y", "lzo", "1"), {"MemTotal": total, "Zswap": 0}, None, 4096)
    assert old is not None and old["pool_accept_bytes"] is None


def ds(name: str, reads: int, rsec: int, writes: int, wsec: int) -> DiskStats:
    return DiskStats(253, 1, name, reads, rsec, writes, wsec, 0)


def test_area_traffic_exact_for_block_devices_nothing_for_files() -> None:
    blocks = [("/dev/zram1", "partition", "zram1"), ("/swapfile", "file", None)]
    before = area_counters(blocks, {"zram1": ds("zram1", 10, 80, 100, 800)})
    after = area_counters(blocks, {"zram1": ds("zram1", 30, 240, 600, 4800)})
    z, f = area_traffic(before, after, 2.0)
    assert z["exact"] and z["reads_per_s"] == 10.0 and z["writes_per_s"] == 250.0
    assert z["read_bytes_per_s"] == 160 * 512 / 2 and z["write_bytes_per_s"] == 4000 * 512 / 2
    assert not f["exact"] and f["note"] == FILE_NOTE and "read_bytes_per_s" not in f
    # A counter that went backwards (a device re-created): no rate, not a negative one.
    back = area_traffic(after, before, 2.0)[0]
    assert back["reads_per_s"] is None and back["write_bytes_per_s"] is None
    # A block device with no diskstats line: a note, no figures.
    gone = area_counters([("/dev/sdz1", "partition", "sdz1")], {})
    assert not gone[0]["exact"] and "no /proc/diskstats line" in gone[0]["note"]


def test_serve_families_for_the_tiers() -> None:
    pytest.importorskip("prometheus_client")
    from checkswap.fleet.metrics import tier_metrics

    state = read_state(Root(TREE))
    blocks = [("/dev/zram1", "partition", "zram1")]
    io = area_counters(blocks, {"zram1": ds("zram1", 181020, 1448160, 512000, 4096000)})
    fams = {m.name: m for m in tier_metrics(state, io)}
    by_dev = {s.labels["device"]: s.value for s in fams["checkswap_zram_original_bytes"].samples}
    assert by_dev == {"zram1": 262144000, "zram2": 104857600}
    limits = fams["checkswap_zram_memory_limit_bytes"].samples
    assert [s.labels["device"] for s in limits] == ["zram2"]  # zram1 has no limit: no series
    hits = {s.labels["counter"]: s.value for s in fams["checkswap_zswap_debug_events"].samples}
    assert hits["pool_limit_hit"] == 37 and "stored_pages" not in hits  # a size, not a count
    sizes = {s.labels["size"] for s in fams["checkswap_mthp_swap_out_fallback"].samples}
    assert "64kB" in sizes and "2048kB" in sizes  # every size, zeros too: rate() needs them
    written = fams["checkswap_swap_device_written_bytes"].samples
    assert [(s.labels["device"], s.value) for s in written] == [("/dev/zram1", 4096000 * 512)]
    # No zram, no zswap, no mTHP, no areas: no family at all, never a zero.
    assert tier_metrics({"zswap": None, "zram": [], "mthp_counters": {}}, None) == []


def test_record_writes_the_tiers_at_their_own_slow_cadence(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from clihelp import run_cli

    from checkswap.record.format import Reading

    clock = [1000.0]

    def sleep(s: float) -> None:
        clock[0] += s

    # A tree's samples take the time module's clock (Root.clock): the fake one, as golden's.
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(time, "time", lambda: clock[0] + 1.7e9)

    out = tmp_path / "r.jsonl"
    status, _, err = run_cli(
        ["record", "-o", str(out), "-n", "130", "-i", "1", "--root", TREE],
        sleep=sleep,
        monotonic=lambda: clock[0],
        wall=lambda: clock[0] + 1.7e9,
    )
    assert status == 0, err
    reading = Reading()
    samples = list(reading.files([str(out)]))
    assert len(samples) == 131
    # The first sample, then one a minute of the samples' clock: 0, 60 and 120 s.
    assert reading.tiers_seen == 3 and reading.bad_lines == 0
    last = reading.tiers  # the last one read: the only one a replay shows
    assert last is not None and last["wall"] == samples[0].wall + 120
    assert [z["device"] for z in last["zram"]] == ["zram1", "zram2"]  # type: ignore[union-attr, index]
    assert last["zswap"]["pool_full_pct"] > 99  # type: ignore[index]
    assert last["mthp"][0]["size_bytes"] == 65536  # type: ignore[index]


def test_a_hostile_tiers_line_is_a_bad_line_not_a_crash(tmp_path: Any) -> None:
    import json

    from checkswap.record.format import Reading

    good = {"type": "tiers", "wall": 1.7e9, "zswap": None, "zram": [], "mthp": []}
    lines = [
        json.dumps(good),
        json.dumps({**good, "zram": "all of it"}),
        json.dumps({**good, "zram": [1, 2]}),
        json.dumps({**good, "zswap": [1]}),
        json.dumps({**good, "wall": "never"}),
    ]
    reading = Reading()
    list(reading.samples(lines))
    assert reading.tiers_seen == 1 and reading.bad_lines == 4
