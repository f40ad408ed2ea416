"""Topology where sysfs is only partly there, and stacks with several devices side by side.

- sys/class/block links that dangle while sys/block/NAME is a real directory: topology once
  gave up ("block device not found"), leaving the area with no disk at all.
- A disk nothing is known about (no sys/devices path, so no bus) is ``virtual: null``, never
  ``false``.
- Multipath legs and RAID members are siblings: the layers once read
  ``dm-0 (...) -> sdb -> sdc``, as if sdc sat below sdb.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from clihelp import FIXTURES, no_sleep, run_cli

from checkswap.kernel import block
from checkswap.model.topology import swap_devices
from checkswap.source.root import Root

DANGLING = os.path.join(FIXTURES, "topo-class-dangling")


def test_dangling_class_links_fall_back_to_sys_block() -> None:
    root = Root(DANGLING)
    assert not root.exists("sys/class/block/sda")  # the link is there but leads nowhere
    assert block.device_dir(root, "sda") == "sys/block/sda"
    assert block.device_dir(root, "sda2") == "sys/block/sda/sda2"
    assert block.is_partition(root, "sda2") and block.parent_disk(root, "sda2") == "sda"
    assert block.name_by_devnum(root, 8, 2) == "sda2"
    assert block.name_by_devnum(root, 8, 0) == "sda"
    assert block.name_by_devnum(root, 8, 9) is None
    assert block.rotational(root, "sda") is True
    assert block.device_dir(root, "sdz") is None and block.device_dir(root, "../x") is None


def test_topology_finds_the_disk_and_says_its_bus_is_unknown() -> None:
    part, swapfile = swap_devices(Root(DANGLING))
    assert part["block_device"] == "sda2"
    assert part["disks"] == ["sda"] and part["rotational"] is True
    assert part["layers"] == ["sda2 (partition of sda)", "sda"]
    assert part["virtual"] is None and part["disk_facts"][0]["virtual"] is None
    assert "notes" not in part
    assert swapfile["disks"] == ["sda"] and swapfile["virtual"] is None


def test_doctor_json_on_the_dangling_tree() -> None:
    status, out, err = run_cli(
        "doctor", "--sample", "1", "--format", "json", "--root", DANGLING, sleep=no_sleep
    )
    assert status == 2, err  # the 0644 swapfile is critical, as on topo-old-kernel
    report = json.loads(out)
    assert [d["disks"] for d in report["devices"]] == [["sda"], ["sda"]]
    assert "multiple-swap-same-disk" in {f["id"] for f in report["findings"]}


def test_a_known_bus_is_still_known() -> None:
    (dev,) = swap_devices(Root(os.path.join(FIXTURES, "topo-multipath")))
    assert dev["virtual"] is False
    assert all(f["virtual"] is False for f in dev["disk_facts"])


def test_a_disk_without_any_sysfs_entry_is_unknown(tmp_path: Any) -> None:
    """One multipath leg's sysfs is gone: that disk's bus is unknown, and so is the area's."""
    tree = str(tmp_path / "tree")
    shutil.copytree(os.path.join(FIXTURES, "topo-multipath"), tree, symlinks=True)
    os.unlink(f"{tree}/sys/class/block/sdc")
    os.unlink(f"{tree}/sys/block/sdc")
    (dev,) = swap_devices(Root(tree))
    facts = {f["name"]: f for f in dev["disk_facts"]}
    assert facts["sdb"]["virtual"] is False and facts["sdc"]["virtual"] is None
    assert dev["virtual"] is False  # one disk is known not to be virtual: not all are


def test_multipath_legs_are_siblings() -> None:
    (dev,) = swap_devices(Root(os.path.join(FIXTURES, "topo-multipath")))
    assert dev["layers"] == [
        "dm-0 (multipath mpatha over sdb, sdc)",
        "sdb | sdc (paths to one device)",
    ]
    assert dev["disks"] == ["sdb", "sdc"]
    status, text, err = run_cli(
        "doctor",
        "--sample",
        "1",
        "--root",
        os.path.join(FIXTURES, "topo-multipath"),
        sleep=no_sleep,
    )
    assert status == 1, err  # swap-on-rotational
    assert "-> sdb -> sdc" not in text
    assert "via dm-0 (multipath mpatha over sdb, sdc) -> sdb | sdc (paths to one device)" in text


def test_raid_members_are_siblings_each_with_its_own_chain() -> None:
    (dev,) = swap_devices(Root(os.path.join(FIXTURES, "topo-md-raid")))
    assert dev["layers"] == [
        "md0 (md raid1 over sda2, sdb2)",
        "[sda2 (partition of sda) -> sda] + [sdb2 (partition of sdb) -> sdb]",
    ]
