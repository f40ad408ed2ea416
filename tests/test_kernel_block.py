"""Parsers for diskstats, mountinfo, zswap, sysctl and uptime, on real kernel text."""

from __future__ import annotations

import pytest

from checkswap.kernel.block import parse_diskstats
from checkswap.kernel.mountinfo import Mount, mount_for_path, parse_mountinfo
from checkswap.kernel.sysctl import parse_int, sysctl_path
from checkswap.kernel.uptime import parse_uptime
from checkswap.kernel.zswap import parse_zswap

# Captured on this machine, kernel 6.18.44 (20 fields), and a 4.19-style line (14 fields).
DISKSTATS = """\
   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 66860 167973 4259986 30157 41411 274137 5214024 70181 0 20072 102031 9167 32 2036600 1455 2566 237
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
   8       0 sda 1200 10 90000 500 300 20 4000 800 0 1100 1300
   8       1 sda1 garbage 0 0 0 0 0 0 0 0 0 0
short line
"""  # noqa: E501


def test_diskstats() -> None:
    d = parse_diskstats(DISKSTATS)
    vda = d["vda"]
    assert (vda.major, vda.minor) == (254, 0)
    assert (vda.reads, vda.read_sectors, vda.writes, vda.write_sectors, vda.io_ms) == (
        66860,
        4259986,
        41411,
        5214024,
        20072,
    )
    assert d["sda"].io_ms == 1100
    assert "sda1" not in d  # malformed: skipped, not fatal
    assert d["zram0"].reads == 0


MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
48 27 0:45 / /mnt/my\\040nfs rw,relatime shared:1 master:2 - nfs4 srv:/export rw,vers=4.2
50 27 0:46 /@home /home rw,relatime - btrfs /dev/sda2 rw,subvol=/@home
61 27 0:50 /proc/meminfo /proc/meminfo rw,nosuid - fuse.lxcfs lxcfs rw,allow_other
broken line without separator
"""


def test_mountinfo() -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    assert len(mounts) == 6
    nfs = mounts[3]
    assert nfs == Mount(0, 45, "/", "/mnt/my nfs", "nfs4", "srv:/export", {"rw": "", "vers": "4.2"})
    assert mounts[4].root == "/@home" and mounts[4].source == "/dev/sda2"
    assert mounts[2].super_options == {"rw": "", "memory": ""}


@pytest.mark.parametrize(
    ("path", "mount_point"),
    [
        ("/var/tmp/swap", "/"),
        ("/home/u/swapfile", "/home"),
        ("/homes/x", "/"),
        ("/mnt/my nfs/swapfile", "/mnt/my nfs"),
        ("/proc/meminfo", "/proc/meminfo"),
    ],
)
def test_mount_for_path(path: str, mount_point: str) -> None:
    m = mount_for_path(parse_mountinfo(MOUNTINFO), path)
    assert m is not None and m.mount_point == mount_point


def test_zswap_sysctl_uptime() -> None:
    assert parse_zswap("N\n", "lzo\n", "20\n").enabled is False
    z = parse_zswap("Y\n", "zstd\n", "x")
    assert (z.enabled, z.compressor, z.max_pool_percent) == (True, "zstd", None)
    assert sysctl_path("vm.swappiness") == "proc/sys/vm/swappiness"
    assert parse_int("60\n") == 60
    assert parse_int("") is None
    assert parse_uptime("2161.42 4176.55\n") == 2161.42
    assert parse_uptime("") is None


def test_zram_parsers() -> None:
    # One zram reader (kernel/zram.py) for doctor's devices, drain and the tiers.
    from checkswap.kernel.zram import parse_comp_algorithm, parse_mm_stat

    # Captured from a zram device here (kernel 6.18) after a lab hog swapped 16 MiB to it.
    mm = parse_mm_stat(
        "17039360   212173   299008        0   299008        0        0        0        0\n"
    )
    assert mm is not None
    assert (mm.orig_data_bytes, mm.compr_data_bytes, mm.mem_used_bytes) == (
        17039360,
        212173,
        299008,
    )
    assert parse_mm_stat("") is None
    assert parse_comp_algorithm("[lzo-rle] lzo lz4 \n") == "lzo-rle"  # captured here
    assert parse_comp_algorithm("lzo lzo-rle lz4 lz4hc [zstd] deflate 842\n") == "zstd"
    assert parse_comp_algorithm("lzo lz4\n") is None
