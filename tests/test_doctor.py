"""doctor: the verdict's thresholds, findings on fixture trees, and the exit statuses."""

from __future__ import annotations

import os
from typing import Any

import pytest

from checkswap import doctor
from checkswap.root import Root

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def rec(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "swap_in_per_s": 0.0,
        "swap_out_per_s": 0.0,
        "psi_full_pct": 0.0,
        "psi_full_avg10": 0.0,
        "refault_anon_per_s": 0.0,
        "swap_total_bytes": 1 << 30,
        "swap_used_bytes": 300 << 20,
        "interval_s": 3.0,
    }
    base.update(kw)
    return base


VERDICTS = [
    ("full swap, nothing moves", rec(), "quiet"),
    ("under one page/s", rec(swap_in_per_s=0.9, swap_out_per_s=0.99), "quiet"),
    ("one page/s out", rec(swap_out_per_s=1.0), "swapping"),
    ("heavy but no stall", rec(swap_in_per_s=30000.0, psi_full_pct=4.99), "swapping"),
    ("stalled but little swap-in", rec(swap_in_per_s=99.0, psi_full_pct=50.0), "swapping"),
    ("thrashing", rec(swap_in_per_s=100.0, psi_full_pct=5.0), "thrashing"),
    ("peers scenario", rec(swap_in_per_s=31100.0, psi_full_pct=17.0), "thrashing"),
    (
        "avg10 when no interval share",
        rec(swap_in_per_s=500.0, psi_full_pct=None, psi_full_avg10=12.0),
        "thrashing",
    ),
    (
        "no PSI: refaults decide",
        rec(
            swap_in_per_s=2000.0, psi_full_pct=None, psi_full_avg10=None, refault_anon_per_s=1500.0
        ),
        "thrashing",
    ),
    (
        "no PSI: few refaults",
        rec(swap_in_per_s=2000.0, psi_full_pct=None, psi_full_avg10=None, refault_anon_per_s=10.0),
        "swapping",
    ),
    ("no swap", rec(swap_total_bytes=0, swap_used_bytes=0), "no-swap"),
    ("one sample", rec(swap_in_per_s=None, swap_out_per_s=None), "unknown"),
]


@pytest.mark.parametrize(("what", "record", "expected"), VERDICTS, ids=[v[0] for v in VERDICTS])
def test_verdict(what: str, record: dict[str, Any], expected: str) -> None:
    got, evidence = doctor.verdict(record)
    assert got == expected
    assert evidence["thresholds"]["thrashing_psi_full_pct"] == doctor.THRASH_PSI_FULL_PCT
    assert "/proc/vmstat" in evidence["files"]
    assert evidence["rule"]


def diagnose(case: str, role: str = "general") -> dict[str, Any]:
    return doctor.diagnose(Root(os.path.join(FIXTURES, case)), role, 0.01, sleep=lambda s: None)


def ids(report: dict[str, Any]) -> dict[str, str]:
    return {f["id"]: f["severity"] for f in report["findings"]}


def test_seed_layout_old_kernel() -> None:
    report = diagnose("topo-old-kernel")
    found = ids(report)
    assert found["multiple-swap-same-disk"] == "warning"
    assert found["swap-on-rotational"] == "warning"
    assert found["swapfile-insecure-permissions"] == "critical"
    assert found["psi-unavailable"] == "info"
    # A static tree read twice moves nothing: quiet, with 1 GiB parked in swap.
    assert report["verdict"] == "quiet"
    assert found["swap-used-but-quiet"] == "info"
    assert doctor.exit_status(report) == 2
    severities = [f["severity"] for f in report["findings"]]
    assert severities == sorted(severities, key=doctor.SEVERITY_ORDER.__getitem__)
    same = next(f for f in report["findings"] if f["id"] == "multiple-swap-same-disk")
    assert same["evidence"]["devices"] == ["/dev/sda2", "/swapfile"]
    assert same["evidence"]["disk"] == "sda"


def test_virtual_disk_lowers_rotational_severity() -> None:
    report = diagnose("topo-64k-pages")
    rot = next(f for f in report["findings"] if f["id"] == "swap-on-rotational")
    assert rot["severity"] == "info"
    assert rot["evidence"]["virtual_kinds"] == ["virtio"]
    assert "hypervisor" in rot["detail"]
    assert report["page_size_bytes"] == 65536
    assert report["since_boot"]["swap_in_bytes"] == report["since_boot"]["swap_in_pages"] * 65536


@pytest.mark.parametrize(
    ("case", "finding", "severity"),
    [
        ("topo-nbd", "swap-on-network-device", "critical"),
        ("topo-iscsi", "swap-on-network-device", "critical"),
        ("topo-nfs", "swap-on-network-device", "critical"),
        ("topo-multipath", "swap-on-rotational", "warning"),
        ("topo-lxcfs", "container-host-wide-rates", "info"),
    ],
)
def test_fixture_findings(case: str, finding: str, severity: str) -> None:
    assert ids(diagnose(case))[finding] == severity


def test_md_raid_on_ssds_is_clean() -> None:
    report = diagnose("topo-md-raid")
    assert doctor.exit_status(report) == 0
    assert "swap-on-rotational" not in ids(report)


def test_lxcfs_names_the_mounts() -> None:
    report = diagnose("topo-lxcfs")
    f = next(f for f in report["findings"] if f["id"] == "container-host-wide-rates")
    assert "/proc/meminfo" in f["evidence"]["lxcfs_mounts"]
    assert "/proc/swaps" in f["evidence"]["lxcfs_mounts"]
    assert "no-swap" not in ids(report)


@pytest.mark.parametrize(
    ("role", "swappiness_fix"),
    [("database", 10), ("compute", 1), ("nosql", 1)],
)
def test_swappiness_for_role(role: str, swappiness_fix: int) -> None:
    report = diagnose("topo-md-raid", role)
    f = next(f for f in report["findings"] if f["id"] == "swappiness-high-for-role")
    assert f["fix"][0] == f"sysctl -w vm.swappiness={swappiness_fix}"
    assert f["fix"][1].endswith(doctor.SYSCTL_FILE)
    assert f"vm.swappiness = {swappiness_fix}" in f["fix"][1]
    assert f["evidence"]["swappiness"] == 60


@pytest.mark.parametrize("role", ["general", "desktop"])
def test_default_swappiness_fits_general_and_desktop(role: str) -> None:
    assert "swappiness-high-for-role" not in ids(diagnose("topo-md-raid", role))


def test_unknown_role_is_bad_input() -> None:
    from checkswap.errors import BadInput

    with pytest.raises(BadInput, match="unknown role"):
        diagnose("topo-md-raid", "databse")
