"""A swap area whose file or device node was deleted while it stays active.

/proc/swaps shows ``/dev/sdb2\\040(deleted)``: the kernel's d_path() suffix, its space escaped.
Doctor once said nothing about it; the area must be named as the kernel names it, raise
``swap-area-deleted``, and a deleted partition must not be resolved to whatever device now has
its old name.
"""

from __future__ import annotations

import json
import os

from clihelp import FIXTURES, no_sleep, run_cli

from checkswap.kernel.swaps import deleted_path, parse_swaps
from checkswap.model.devices import area_kind, is_deleted
from checkswap.model.topology import swap_devices
from checkswap.source.root import Root

TREE = os.path.join(FIXTURES, "swap-area-deleted")


def test_parse_keeps_the_kernel_name_and_the_old_path() -> None:
    with open(os.path.join(TREE, "proc", "swaps")) as f:
        areas = parse_swaps(f.read())
    assert [a.name for a in areas] == ["/dev/sdb2 (deleted)", "/swapfile (deleted)"]
    assert [deleted_path(a.name) for a in areas] == ["/dev/sdb2", "/swapfile"]
    assert areas[0].used_bytes == 524288 * 1024 and areas[0].priority == -2
    assert deleted_path("/swapfile") is None and deleted_path(" (deleted)") is None
    # a name with a space of its own is unescaped, not mistaken for the suffix
    (spaced,) = parse_swaps("Filename\tType\tSize\tUsed\tPriority\n/my\\040swap file 8 0 -2\n")
    assert spaced.name == "/my swap" and deleted_path(spaced.name) is None


def test_extra_columns_after_priority_still_parse() -> None:
    text = "Filename\t\tType\t\tSize\t\tUsed\t\tPriority\t\tId\n/dev/vdb partition 1024 0 -2 7\n"
    (area,) = parse_swaps(text)
    assert (area.name, area.size_bytes, area.priority) == ("/dev/vdb", 1024 * 1024, -2)


def test_a_deleted_zram_node_is_still_zram() -> None:
    assert area_kind(Root(TREE), "partition", "/dev/zram0 (deleted)", None) == "zram"
    assert is_deleted("/dev/zram0 (deleted)") and not is_deleted("/dev/zram0")


def test_deleted_partition_is_not_resolved_to_a_disk() -> None:
    """sys/class/block/sdb2 exists in the tree, but the node that named it is gone."""
    part, swapfile = swap_devices(Root(TREE))
    assert part["deleted"] is True and part["kind"] == "partition"
    assert part["block_device"] is None and part["disks"] == [] and part["disk_facts"] == []
    assert part["rotational"] is None
    assert any("device node deleted" in n for n in part["notes"])
    # the deleted swapfile's inode still lives on its filesystem: that disk is still real
    assert swapfile["deleted"] is True and swapfile["disks"] == ["vda"]
    assert swapfile["mode"] is None


def test_doctor_warns_swap_area_deleted() -> None:
    status, out, err = run_cli(
        "doctor", "--sample", "1", "--format", "json", "--root", TREE, sleep=no_sleep
    )
    assert status == 1, err  # a warning
    report = json.loads(out)
    found = [f for f in report["findings"] if f["id"] == "swap-area-deleted"]
    assert [f["evidence"]["path"] for f in found] == ["/dev/sdb2", "/swapfile"]
    assert all(f["severity"] == "warning" for f in found)
    part = found[0]
    assert part["evidence"]["used_bytes"] == 512 * 1024 * 1024
    assert "cannot be known" in part["detail"]
    assert any("swapoff" in line for line in part["fix"])
    assert report["devices"][0]["deleted"] is True
    status, text, _ = run_cli("doctor", "--sample", "1", "--root", TREE, sleep=no_sleep)
    assert "WARNING  swap-area-deleted: Swap area /dev/sdb2 was deleted while in use" in text


def test_an_ordinary_area_is_not_deleted() -> None:
    (dev,) = swap_devices(Root(os.path.join(FIXTURES, "topo-md-raid")))
    assert dev["deleted"] is False
