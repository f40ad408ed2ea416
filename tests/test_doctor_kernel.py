"""doctor on the real kernel: swap areas made here give the expected findings and device facts.

Each test builds its swap with the lab and compares checkswap's figures with the kernel's own
files read by the test (/proc/swaps, /sys/block/*/queue/rotational), not with checkswap's readers.
"""

from __future__ import annotations

import os
from typing import Any

import lab
import pytest

from checkswap import doctor
from checkswap.root import Root

pytestmark = pytest.mark.kernel


def kernel_swaps() -> dict[str, tuple[str, int, int, int]]:
    with open("/proc/swaps") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return {r[0]: (r[1], int(r[2]) * 1024, int(r[3]) * 1024, int(r[4])) for r in rows}


def sysfs(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def root_disk() -> str:
    """The disk holding /var/tmp, found by the test from st_dev and /sys/dev/block."""
    st = os.stat("/var/tmp")
    link = os.path.realpath(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}")
    if os.path.exists(os.path.join(link, "partition")):
        link = os.path.dirname(link)
    return os.path.basename(link)


def run_doctor(**kw: Any) -> dict[str, Any]:
    return doctor.diagnose(Root("/"), sample_s=kw.pop("sample_s", 0.5), **kw)


def device(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(d for d in report["devices"] if d["name"] == name)


def findings(report: dict[str, Any], id: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["id"] == id]


def test_swapfile_on_root_disk() -> None:
    with lab.swapfile(64, name="rootdisk") as path:
        report = run_doctor()
        kind, size, _used, prio = kernel_swaps()[path]
        assert kind == "file"
        dev = device(report, path)
        disk = root_disk()
        assert (dev["kind"], dev["size_bytes"], dev["priority"]) == ("file", size, prio)
        assert dev["disks"] == [disk]
        assert dev["mode"] == "0600"
        assert dev["loop"] is False and dev["network"] is False
        assert dev["rotational"] is (sysfs(f"/sys/block/{disk}/queue/rotational") == "1")
        virtio = "virtio" in os.path.realpath(f"/sys/block/{disk}")
        assert dev["virtual"] is virtio
        rot = findings(report, "swap-on-rotational")
        if dev["rotational"]:
            assert rot[0]["severity"] == ("info" if virtio else "warning")
        assert not findings(report, "swapfile-insecure-permissions")
        assert not findings(report, "no-swap")
    assert path not in kernel_swaps()
