"""One swap-device classification (checkswap/model/devices.py): every command names an area's
kind alike.

watch's header, doctor's devices, serve's checkswap_swap_device_info, ``swapfile list`` and the
dashboard's area rows once classified separately: watch called /dev/zram0 zram where doctor and
serve called it a partition when sysfs had no entry for it, and /dev/block/zram1 (Android) was a
partition to all of them.
"""

from __future__ import annotations

import json
import os

import clihelp
import pytest
from clihelp import FIXTURES, no_sleep

from checkswap.doctor.report import diagnose
from checkswap.model.devices import area_kind, is_zram_name
from checkswap.source.root import Root

ZRAM_NO_SYSFS = os.path.join(FIXTURES, "zram-no-sysfs")
ANDROID = os.path.join(FIXTURES, "android-block-zram")  # /proc/swaps as Android prints it
TREES = sorted(
    d
    for d in os.listdir(FIXTURES)
    if not d.startswith("_")
    and os.path.isfile(os.path.join(FIXTURES, d, "proc", "swaps"))
    # watch, one of the commands compared, needs it (procfs's fixtures have none)
    and os.path.isfile(os.path.join(FIXTURES, d, "proc", "vmstat"))
)


def run_cli(*argv: str) -> str:
    status, out, err = clihelp.run_cli(*argv, sleep=no_sleep)
    assert status in (0, 1, 2), err  # doctor's exit status is its verdict
    return out


def watch_kinds(tree: str) -> dict[str, str]:
    header = json.loads(
        run_cli("watch", "--root", tree, "-n", "1", "--format", "json").splitlines()[0]
    )
    assert header["type"] == "header"
    return {a["name"]: a["kind"] for a in header["swap_areas"]}


def doctor_report(tree: str) -> dict[str, object]:
    return json.loads(run_cli("doctor", "--root", tree, "--format", "json"))


def doctor_kinds(tree: str) -> dict[str, str]:
    devices = doctor_report(tree)["devices"]
    assert isinstance(devices, list)
    return {d["name"]: d["kind"] for d in devices}


def swapfile_list_kinds(tree: str) -> dict[str, str]:
    devices = json.loads(run_cli("swapfile", "list", "--root", tree, "--format", "json"))["devices"]
    return {d["name"]: d["kind"] for d in devices}


def serve_kinds(tree: str) -> dict[str, str]:
    """The kind label of checkswap_swap_device_info, as serve's doctor job builds it."""
    metrics = pytest.importorskip("checkswap.fleet.metrics")
    report = diagnose(Root(tree), sample_s=0.01, sleep=lambda s: None)
    kinds = {}
    for fam in metrics.doctor_metrics(report):
        if fam.name == "checkswap_swap_device_info":
            for s in fam.samples:
                kinds[s.labels["device"]] = s.labels["kind"]
    return kinds


def dash_rows(tree: str) -> list[str]:
    """The dashboard's swap-area rows, from its own render function over its own device source."""
    pytest.importorskip("rich")
    from checkswap.model.areas import SwapAreas
    from checkswap.render.dash import DashState, areas

    state = DashState("vm", None, 1.0, "live")
    state.devices = SwapAreas(Root(tree), live_use=True).get()
    state.record = {"swap_total_bytes": 1}
    lines = [t.plain for t in areas(state, 160, 40).build()]
    return lines[1 : 1 + len(state.devices or [])]  # the title, then one row per area


def dash_kinds(tree: str, names: list[str]) -> dict[str, str]:
    """Each row's kind cell: 'zram (in RAM)', 'lvm on sda, rotational': its first word."""
    kinds = {}
    for name, text in zip(names, dash_rows(tree)):
        assert name in text, (name, text)
        kinds[name] = text.split(name, 1)[1].split()[0].rstrip(",")
    return kinds


def all_kinds(tree: str) -> dict[str, dict[str, str]]:
    watch = watch_kinds(tree)
    return {
        "watch": watch,
        "doctor": doctor_kinds(tree),
        "serve": serve_kinds(tree),
        "swapfile list": swapfile_list_kinds(tree),
        "dash": dash_kinds(tree, list(watch)),
    }


def test_zram_by_name() -> None:
    assert is_zram_name("/dev/zram0") and is_zram_name("/dev/block/zram12")
    assert not is_zram_name("/dev/zram") and not is_zram_name("/var/zram0")
    assert not is_zram_name("/dev/vda2") and not is_zram_name("/dev/zram0p1")
    root = Root(ZRAM_NO_SYSFS)
    assert area_kind(root, "partition", "/dev/block/zram1", None) == "zram"
    assert area_kind(root, "partition", "/dev/vdb", None) == "partition"
    assert area_kind(root, "file", "/swapfile", None) == "file"
    assert area_kind(root, "virtual", "none", None) == "virtual"


@pytest.mark.parametrize(
    ("tree", "names"),
    [
        (ZRAM_NO_SYSFS, ["/dev/zram0", "/dev/block/zram1"]),
        (ANDROID, [f"/dev/block/zram{i}" for i in range(4)]),
    ],
)
def test_zram_without_sysfs_is_zram_in_every_command(tree: str, names: list[str]) -> None:
    want = dict.fromkeys(names, "zram")
    for command, kinds in all_kinds(tree).items():
        assert kinds == want, command
    rows = dash_rows(tree)
    assert len(rows) == len(names) and all("zram (in RAM)" in r for r in rows), rows
    # doctor's devices (serve's and the dashboard's source) say compressed RAM, no disk
    for d in doctor_report(tree)["devices"]:  # type: ignore[attr-defined]
        assert d["zram"] is True and d["disks"] == [] and d["rotational"] is False, d


def test_zram_is_not_disk_swap_for_doctor() -> None:
    """50 GiB of zram on 23.5 GiB of RAM: compressed RAM, not swap larger than RAM, no disk."""
    report = doctor_report(ZRAM_NO_SYSFS)
    ids = [f["id"] for f in report["findings"]]  # type: ignore[attr-defined]
    assert "swap-larger-than-ram" not in ids
    assert not any("rotational" in i or "same-disk" in i for i in ids), ids
    for d in report["devices"]:  # type: ignore[attr-defined]
        assert d["zram"] is True and d["rotational"] is False, d


@pytest.mark.parametrize("tree", TREES)
def test_every_command_gives_every_area_the_same_kind(tree: str) -> None:
    path = os.path.join(FIXTURES, tree)
    kinds = all_kinds(path)
    watch = kinds["watch"]
    # doctor's devices (and so serve's and the dashboard's) leave out LXCFS's synthetic
    # "none virtual" line, as the interface says: every other area must be there, same kind.
    real = {n: k for n, k in watch.items() if k != "virtual"}
    for command, got in kinds.items():
        assert set(real) <= set(got) <= set(watch), (command, got, watch)
        assert got == {n: watch[n] for n in got}, (command, got, watch)
