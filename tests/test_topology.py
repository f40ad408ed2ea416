"""Topology on fixture trees: what each swap area sits on, down to the physical disks."""

from __future__ import annotations

import os

import pytest
from clihelp import FIXTURES

from checkswap.model.topology import swap_devices
from checkswap.source.root import Root


def devices(case: str) -> list[dict[str, object]]:
    return swap_devices(Root(os.path.join(FIXTURES, case)))


# case, swap name, expected subset of the device entry
CASES = [
    (
        "topo-multipath",
        "/dev/dm-0",
        {
            "kind": "multipath",
            "disks": ["sdb", "sdc"],
            "rotational": True,
            "virtual": False,
            "network": False,
            "loop": False,
            "size_bytes": 8388604 * 1024,
        },
    ),
    (
        "topo-md-raid",
        "/dev/md0",
        {
            "kind": "md",
            "disks": ["sda", "sdb"],
            "rotational": False,
            "virtual": False,
            "network": False,
            "used_bytes": 1024 * 1024,
        },
    ),
    (
        "topo-nbd",
        "/dev/nbd0",
        {"kind": "nbd", "disks": ["nbd0"], "network": True, "network_kind": "nbd"},
    ),
    (
        "topo-iscsi",
        "/dev/sdb1",
        {
            "kind": "partition",
            "disks": ["sdb"],
            "network": True,
            "network_kind": "iscsi",
            "rotational": True,
        },
    ),
    (
        "topo-nfs",
        "/mnt/nfs/swapfile",
        {
            "kind": "file",
            "disks": [],
            "network": True,
            "network_kind": "nfs4",
            "filesystem": "nfs4",
            "rotational": None,
            "virtual": None,
            "mode": "0600",
        },
    ),
    (
        "topo-64k-pages",
        "/dev/vda2",
        {
            "kind": "partition",
            "disks": ["vda"],
            "rotational": True,
            "virtual": True,
            "priority": -2,
        },
    ),
]


@pytest.mark.parametrize(("case", "name", "expected"), CASES, ids=[c[0] for c in CASES])
def test_fixture_topology(case: str, name: str, expected: dict[str, object]) -> None:
    by_name = {d["name"]: d for d in devices(case)}
    got = by_name[name]
    for key, value in expected.items():
        assert got[key] == value, (key, got)


def test_two_areas_on_one_spindle_and_file_mode() -> None:
    devs = {d["name"]: d for d in devices("topo-old-kernel")}
    assert devs["/dev/sda2"]["disks"] == ["sda"]
    assert devs["/dev/sda2"]["layers"] == ["sda2 (partition of sda)", "sda"]
    assert devs["/swapfile"]["disks"] == ["sda"]
    assert devs["/swapfile"]["mode"] == "0644"
    assert devs["/swapfile"]["filesystem"] == "ext4"
    assert devs["/swapfile"]["rotational"] is True
    assert devs["/swapfile"]["virtual"] is False


def test_multipath_layers_name_the_map() -> None:
    (dev,) = devices("topo-multipath")
    assert dev["layers"][0] == "dm-0 (multipath mpatha over sdb, sdc)"


def test_lxcfs_virtual_line_has_no_disks() -> None:
    (dev,) = devices("topo-lxcfs")
    assert dev["name"] == "none"
    assert dev["kind"] == "virtual"
    assert dev["disks"] == []
