"""doctor: the verdict's thresholds, findings on fixture trees, and the exit statuses."""

from __future__ import annotations

import functools
import json
import os
from typing import Any

import clihelp
import pytest
from clihelp import FIXTURES, no_sleep

from checkswap import fields
from checkswap.doctor import facts as doctor_facts
from checkswap.doctor import report as doctor_report
from checkswap.doctor import roles, rules
from checkswap.model import verdict
from checkswap.source.root import Root


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
    # Every tier counts as swapping; PSI alone says whether it hurts.
    (
        "devices 0/s, zswap faults stall",
        rec(swap_in_all_per_s=5000.0, swap_out_all_per_s=0.0, psi_full_pct=12.0),
        "thrashing",
    ),
    (
        "devices 0/s, zswap without stall",
        rec(swap_in_all_per_s=5000.0, swap_out_all_per_s=4000.0, psi_full_pct=0.5),
        "swapping",
    ),
    ("zero-filled pages only", rec(swap_in_all_per_s=0.0, swap_out_all_per_s=40.0), "swapping"),
    (
        "all-tier out unknown: devices stand in",
        rec(swap_in_all_per_s=0.0, swap_out_all_per_s=None, swap_out_per_s=3.0),
        "swapping",
    ),
    ("one sample", rec(swap_in_per_s=None, swap_out_per_s=None), "unknown"),
]


@pytest.mark.parametrize(("what", "record", "expected"), VERDICTS, ids=[v[0] for v in VERDICTS])
def test_verdict(what: str, record: dict[str, Any], expected: str) -> None:
    got, evidence = verdict.verdict(record)
    assert got == expected
    assert evidence["thresholds"]["thrashing_psi_full_pct"] == verdict.THRASH_PSI_FULL_PCT
    assert "/proc/vmstat" in evidence["files"]
    assert evidence["rule"]


def diagnose(case: str, role: str = "general") -> dict[str, Any]:
    return doctor_report.diagnose(
        Root(os.path.join(FIXTURES, case)), role, 0.01, sleep=lambda s: None
    )


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
    assert doctor_report.exit_status(report) == 2
    severities = [f["severity"] for f in report["findings"]]
    assert severities == sorted(severities, key=rules.SEVERITY_ORDER.__getitem__)
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
    assert doctor_report.exit_status(report) == 0
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
    assert f["fix"][1].endswith(rules.SYSCTL_FILE)
    assert f"vm.swappiness = {swappiness_fix}" in f["fix"][1]
    assert f["evidence"]["swappiness"] == 60


@pytest.mark.parametrize("role", ["general", "desktop"])
def test_default_swappiness_fits_general_and_desktop(role: str) -> None:
    assert "swappiness-high-for-role" not in ids(diagnose("topo-md-raid", role))


def test_unknown_role_is_bad_input() -> None:
    from checkswap.errors import BadInput

    with pytest.raises(BadInput, match="unknown role"):
        diagnose("topo-md-raid", "databse")


# Fixture trees and bundles do not move: no command here needs the real clock.
run_cli = functools.partial(clihelp.run_cli, sleep=no_sleep)


@pytest.mark.parametrize(
    ("case", "status"),
    [("topo-old-kernel", 2), ("topo-multipath", 1), ("topo-md-raid", 0), ("topo-nfs", 2)],
)
def test_exit_status_follows_the_worst_finding(case: str, status: int) -> None:
    got, out, err = run_cli(["doctor", "--root", os.path.join(FIXTURES, case), "--sample", "0.1"])
    assert (got, err) == (status, "")
    assert out.startswith("checkswap doctor: fixture")


@pytest.mark.parametrize(
    "argv",
    [
        ["doctor", "--sample", "3x"],
        ["doctor", "--role", "databse"],
        ["doctor", "--root", "/nonexistent"],
        ["doctor", "--format", "yaml"],
    ],
)
def test_bad_input_is_unknown(argv: list[str]) -> None:
    status, out, err = run_cli(argv)
    assert status == 3
    assert "Traceback" not in out + err


def test_text_is_worst_first_and_json_is_complete() -> None:
    root = os.path.join(FIXTURES, "topo-old-kernel")
    _, text, _ = run_cli(["doctor", "--root", root, "--sample", "0.1"])
    marks = [
        line.split()[0]
        for line in text.splitlines()
        if line[:8].strip() in ("CRITICAL", "WARNING", "info")
    ]
    order = {"CRITICAL": 0, "WARNING": 1, "info": 2}
    assert marks and marks == sorted(marks, key=order.__getitem__)
    assert marks[0] == "CRITICAL"
    assert "fix: chmod 600 /swapfile" in text
    assert "verdict: quiet" in text
    _, out, _ = run_cli(["doctor", "--root", root, "--sample", "0.1", "--format", "json"])
    (line,) = out.splitlines()
    report = json.loads(line)
    for key in ("findings", "devices", "swappiness", "verdict"):
        assert key in report
    for f in report["findings"]:
        assert set(f) >= {"id", "severity", "title", "detail", "evidence", "fix"}
        assert f["id"] == f["id"].lower() and " " not in f["id"]
    for d in report["devices"]:
        assert set(d) >= {
            "name",
            "kind",
            "size_bytes",
            "used_bytes",
            "priority",
            "disks",
            "rotational",
            "virtual",
            "network",
            "loop",
        }


def test_main_fixtures_without_sys_degrade_to_notes() -> None:
    old = diagnose("linux-4.19-no-psi")
    assert old["verdict"] == "quiet"  # a static tree read twice: zero deltas
    assert ids(old)["psi-unavailable"] == "info"
    assert old["verdict_evidence"]["psi_full_pct"] is None
    # 4.19 has no workingset_refault_anon: missing, never 0.
    assert old["sample"]["refault_anon_per_s"] is None
    assert {d["name"]: d["disks"] for d in old["devices"]} == {"/dev/sda2": [], "/swapfile": []}
    assert any("mountinfo unreadable" in n for n in old["notes"])

    big = diagnose("arm64-64k-pages")
    sb = big["since_boot"]
    assert big["page_size_bytes"] == 65536
    assert sb["swap_out_bytes"] == sb["swap_out_pages"] * 65536
    (dev,) = big["devices"]
    assert dev["name"] == "/var/tmp/checkswap-test-my swap"

    lxc = diagnose("lxcfs-container")
    f = next(f for f in lxc["findings"] if f["id"] == "container-host-wide-rates")
    assert f["evidence"]["virtual_swap_line"] is True
    # LXCFS's synthetic area is listed as what it is, as watch and serve list it.
    assert [(d["name"], d["kind"]) for d in lxc["devices"]] == [("none", "virtual")]


# --- checks that need figures a static tree does not have: Facts built by hand -------------


def facts(**kw: Any) -> doctor_facts.Facts:
    f = doctor_facts.Facts()
    for k, v in kw.items():
        setattr(f, k, v)
    return f


def dev(name: str, size: int, kind: str = "file", disk: str = "sda") -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "size_bytes": size,
        "used_bytes": 0,
        "priority": -2,
        "disks": [disk],
        "layers": [],
        "network": False,
        "loop": False,
        "mode": "0600",
        "disk_facts": [
            {
                "name": disk,
                "rotational": False,
                "zram": kind == "zram",
                "virtual": False,
                "virtual_kind": None,
                "network": False,
                "network_kind": None,
            }
        ],
    }


GIB = 1024**3


def test_swap_larger_than_ram_counts_disk_swap_only() -> None:
    f = facts(mem_total=4 * GIB, devices=[dev("/swapfile", 9 * GIB)])
    (x,) = rules.check_sizes(f)
    assert x["id"] == "swap-larger-than-ram" and x["evidence"]["ratio"] == 9 / 4
    f = facts(mem_total=4 * GIB, devices=[dev("/swapfile", 8 * GIB)])
    assert rules.check_sizes(f) == []  # exactly twice is not more than twice
    f = facts(mem_total=4 * GIB, devices=[dev("/dev/zram1", 16 * GIB, "zram", "zram1")])
    assert rules.check_sizes(f) == []


@pytest.mark.parametrize(
    ("used_pct", "severity"), [(89.9, None), (90, "warning"), (98, "critical")]
)
def test_swap_nearly_full(used_pct: float, severity: str | None) -> None:
    total = 1000 * 4096
    f = facts(record={"swap_total_bytes": total, "swap_used_bytes": int(total * used_pct / 100)})
    got = [x["severity"] for x in rules.check_sizes(f) if x["id"] == "swap-nearly-full"]
    assert got == ([severity] if severity else [])


@pytest.mark.parametrize(
    ("role", "severity", "fix"),
    [
        ("general", "info", True),
        ("database", "warning", True),
        ("desktop", "warning", True),
        ("compute", "info", False),
        ("nosql", "info", False),
    ],
)
def test_no_swap_by_role(role: str, severity: str, fix: bool) -> None:
    (x,) = rules.check_no_swap(facts(role=roles.ROLES[role]))
    assert (x["id"], x["severity"], bool(x["fix"])) == ("no-swap", severity, fix)


def test_swap_configured_for_compute() -> None:
    f = facts(role=roles.ROLES["compute"], devices=[dev("/swapfile", GIB)])
    (x,) = rules.check_role_swap(f)
    assert x["id"] == "swap-configured-for-role" and x["fix"] == ["swapoff /swapfile"]
    assert rules.check_role_swap(facts(devices=[dev("/swapfile", GIB)])) == []


def test_zswap_findings() -> None:
    (x,) = rules.check_environment(facts(psi=True, zswap_enabled=False, zswap_pool=4096))
    assert x["id"] == "zswap-pool-while-disabled"
    assert rules.check_environment(facts(psi=True, zswap_enabled=False, zswap_pool=0)) == []
    f = facts(psi=True, zswap_enabled=True, devices=[dev("/dev/zram1", GIB, "zram", "zram1")])
    (x,) = rules.check_environment(f)
    assert x["id"] == "zswap-with-zram" and x["severity"] == "warning"


def test_verdict_evidence_names_each_tier() -> None:
    r = rec(swap_in_all_per_s=800.0, zswap_in_per_s=700.0, swap_in_zero_per_s=100.0)
    got, ev = verdict.verdict(r)
    assert got == "swapping"
    assert ev["swap_in_per_s"] == 800.0 and ev["swap_in_source"] == "swap_in_all_per_s"
    assert ev["tiers"]["swap_in_per_s"] == 0.0  # the devices saw none of it
    assert ev["tiers"]["zswap_in_per_s"] == 700.0 and ev["tiers"]["swap_in_zero_per_s"] == 100.0
    assert ev["swap_out_source"] == "swap_out_per_s"  # no all-tier rate in this record


def test_zswap_writeback_heavy() -> None:
    heavy = {"zswap_writeback_per_s": 900.0, "zswap_out_per_s": 1200.0}
    (x,) = rules.check_zswap_writeback(facts(record=heavy))
    assert x["id"] == "zswap-writeback-heavy" and x["severity"] == "warning"
    assert x["evidence"]["writeback_share"] == 0.75 and x["fix"]
    assert rules.check_zswap_writeback(facts(record={"zswap_writeback_per_s": 255.0})) == []
    assert rules.check_zswap_writeback(facts(record={"zswap_writeback_per_s": None})) == []


def test_disk_cost_and_swap_disk_busy() -> None:
    from checkswap.kernel.block import DiskStats
    from checkswap.model.sample import Sample

    page = 4096
    a = Sample(10.0, 1000.0, {"pswpin": 0, "pswpout": 0}, {}, None)
    b = Sample(12.0, 1002.0, {"pswpin": 10000, "pswpout": 5000}, {}, None)
    d0 = {"sda": DiskStats(8, 0, "sda", 0, 0, 0, 0, 0)}
    # 2 s: 80000 sectors read, 40000 written (40.96 MB + 20.48 MB), busy 1800 ms of 2000.
    d1 = {"sda": DiskStats(8, 0, "sda", 900, 80000, 300, 40000, 1800)}
    cost = doctor_facts.disk_cost(a, b, d0, d1, ["sda"], page)
    assert cost is not None
    (row,) = cost["disks"]
    assert row["read_bytes_per_s"] == 80000 * 512 / 2
    assert row["write_bytes_per_s"] == 40000 * 512 / 2
    assert row["util_pct"] == 90.0
    assert cost["swap_bytes_per_s"] == 15000 * page / 2
    assert cost["swap_share_pct"] == 15000 * page / (120000 * 512) * 100
    (x,) = rules.check_disk_cost(facts(disk_cost=cost))
    assert x["id"] == "swap-disk-busy" and x["evidence"]["util_pct"] == 90.0
    # A disk that went missing between the reads: no share, never a made-up one.
    cost = doctor_facts.disk_cost(a, b, d0, {}, ["sda"], page)
    assert cost is not None and cost["swap_share_pct"] is None


def test_verdict_findings() -> None:
    ev = {"swap_in_per_s": 500.0, "swap_out_per_s": 3.0, "psi_full_pct": 12.0}
    (x,) = rules.check_verdict(facts(verdict="thrashing", verdict_evidence=ev))
    assert (x["id"], x["severity"]) == ("thrashing", "critical")
    (x,) = rules.check_verdict(facts(verdict="swapping", verdict_evidence=ev))
    assert (x["id"], x["severity"]) == ("swapping", "info")
    assert rules.check_verdict(facts(verdict="quiet", record={"swap_used_bytes": 0})) == []


# --- the shape of doctor/: pure rules, one sample record, one role list --------------------

DOCTOR_DIR = os.path.join(os.path.dirname(__file__), "..", "checkswap", "doctor")


def runtime_imports(path: str) -> set[str]:
    """Modules a file imports when it runs (``if TYPE_CHECKING:`` blocks left out)."""
    import ast

    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If)
        and isinstance(block.test, ast.Name)
        and block.test.id == "TYPE_CHECKING"
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_rules_import_nothing_that_reads_the_machine() -> None:
    # What rules.py may use: figures (units, the verdict's thresholds) and typing. Facts is
    # named for the type checker only: importing facts.py would bring in source/ and kernel/.
    allowed = {"__future__", "typing", "checkswap.units", "checkswap.model.verdict"}
    got = runtime_imports(os.path.join(DOCTOR_DIR, "rules.py"))
    assert got <= allowed, f"rules.py imports {sorted(got - allowed)}: a rule must not read"
    assert runtime_imports(verdict.__file__) <= {"__future__", "typing"}


def every_rule_facts() -> doctor_facts.Facts:
    """Facts, built by hand with no root at all, on which every rule but no-swap has a say."""
    rot = dev("/dev/sdb1", 64 * GIB, "partition", "sdb")
    rot["disk_facts"][0]["rotational"] = True
    rot["network"], rot["network_kind"], rot["filesystem"] = True, "nbd", None
    rot["loop"] = True
    loose = dev("/swapfile", 64 * GIB, disk="sdb")
    loose["mode"] = "0644"
    ev = {"swap_in_per_s": 500.0, "swap_out_per_s": 3.0, "psi_full_pct": 12.0}
    row = {"name": "sdb", "util_pct": 90.0}
    return facts(
        role=roles.ROLES["compute"],
        devices=[
            rot,
            loose,
            dev("/dev/zram0", GIB, "zram", "zram0"),
            {**dev("/dev/sdc1 (deleted)", GIB, "partition", "sdc"), "deleted": True},
        ],
        swappiness=60,
        mem_total=GIB,
        record={
            "swap_total_bytes": 100 * GIB,
            "swap_used_bytes": 99 * GIB,
            "zswap_writeback_per_s": 1000.0,
        },
        verdict="thrashing",
        verdict_evidence=ev,
        lxcfs=["/proc/meminfo"],
        psi=False,
        zswap_enabled=True,
        disk_cost={"disks": [row], "swap_share_pct": 80.0},
        tiers=TIERS_FULL,
        swap_accounting={
            "swap_total_bytes": 100 * GIB,
            "swap_areas_bytes": 129 * GIB,
            "swap_areas_used_bytes": 0,
            "swap_areas": 3,
            "mismatch": True,
        },
    )


# The compressed tiers at their limits (model/tiers.py's shapes): a full zswap pool, a zram
# device 95 % full without a mem_limit, and 64 kB folios mostly split before swap-out.
TIERS_FULL: dict[str, Any] = {
    "zswap": {
        "enabled": True,
        "pool_bytes": 200 * 1024**2,
        "pool_limit_bytes": 205 * 1024**2,
        "pool_full_pct": 97.6,
        "max_pool_percent": 20,
        "accept_threshold_percent": 90,
        "pool_accept_bytes": 205 * 1024**2 * 90 // 100,
        "stored_bytes": 600 * 1024**2,
        "debug": {"pool_limit_hit": 12},
    },
    "zram": [
        {
            "device": "zram0",
            "swap": True,
            "disksize_bytes": GIB,
            "original_bytes": 973 * 1024**2,
            "compressed_bytes": 300 * 1024**2,
            "memory_used_bytes": 310 * 1024**2,
            "memory_limit_bytes": None,
            "disk_used_pct": 95.0,
            "limit_used_pct": None,
        }
    ],
    "mthp": [
        {
            "size_bytes": 65536,
            "swpout": 100,
            "swpout_fallback": 900,
            "swpin": 3,
            "zswpout": None,
            "fallback_pct": 90.0,
        }
    ],
}


def test_tier_findings_evidence_and_fixes() -> None:
    def tier_ids(tiers: dict[str, Any]) -> dict[str, dict[str, Any]]:
        found = rules.findings(facts(mem_total=GIB, tiers=tiers, psi=True))
        return {x["id"]: x for x in found if x["id"] != "no-swap"}

    got = tier_ids(TIERS_FULL)
    pool = got["zswap-pool-full"]
    assert pool["severity"] == "warning" and pool["evidence"]["pool_limit_hit"] == 12
    assert pool["fix"][0] == "echo 40 > /sys/module/zswap/parameters/max_pool_percent"
    full = got["zram-nearly-full"]
    assert full["severity"] == "warning" and full["evidence"]["disk_used_pct"] == 95.0
    # Its size is MemTotal: incompressible data could take all of RAM.
    limit = got["zram-without-limit"]
    assert limit["severity"] == "warning" and "all of RAM" in limit["detail"]
    assert limit["fix"] == [f"echo {GIB // 4} > /sys/block/zram0/mem_limit"]
    mthp = got["mthp-swapout-fallback"]
    assert mthp["evidence"]["fallback_pct"] == 90.0 and "64 kB" in mthp["title"]
    # Under the thresholds, or zswap off: nothing.
    calm = {
        "zswap": {**TIERS_FULL["zswap"], "pool_bytes": 100 * 1024**2, "pool_full_pct": 50.0},
        "zram": [{**TIERS_FULL["zram"][0], "disk_used_pct": 10.0, "memory_limit_bytes": GIB}],
        "mthp": [{**TIERS_FULL["mthp"][0], "swpout_fallback": 20, "fallback_pct": 16.7}],
    }
    assert tier_ids(calm) == {}
    assert tier_ids({"zswap": {**TIERS_FULL["zswap"], "enabled": False}}) == {}


def test_zswap_pool_full_is_the_kernels_hysteresis() -> None:
    """Full above the accept threshold, not at it: zswap_check_limits takes pages again once
    the pool is back at or below zswap_accept_thr_pages. Before 5.6 (no threshold): the limit."""

    def full(**z: Any) -> bool:
        tiers = {"zswap": {**TIERS_FULL["zswap"], **z}}
        found = rules.findings(facts(mem_total=GIB, tiers=tiers, psi=True))
        return any(x["id"] == "zswap-pool-full" for x in found)

    accept = TIERS_FULL["zswap"]["pool_accept_bytes"]
    assert full(pool_bytes=accept + 4096) and not full(pool_bytes=accept)
    limit = TIERS_FULL["zswap"]["pool_limit_bytes"]
    old = {"accept_threshold_percent": None, "pool_accept_bytes": None}
    assert full(pool_bytes=limit, **old) and not full(pool_bytes=limit - 4096, **old)


def test_rules_are_pure_functions_of_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins
    import time

    def forbidden(*args: object, **kw: object) -> None:
        raise AssertionError(f"a rule did I/O or read a clock: {args}")

    for mod, name in [
        (builtins, "open"),
        (os, "open"),
        (os, "stat"),
        (os, "lstat"),
        (os, "listdir"),
        (os, "scandir"),
        (os, "readlink"),
        (time, "time"),
        (time, "monotonic"),
    ]:
        monkeypatch.setattr(mod, name, forbidden)
    f = every_rule_facts()
    bare = facts(role=roles.ROLES["database"])  # no swap at all: the one rule f cannot reach
    try:
        found = {check.__name__: check(f) + check(bare) for check in rules.CHECKS}
        got = rules.findings(f)
    finally:
        monkeypatch.undo()  # before pytest itself writes a file
    for name, out in found.items():
        assert out, f"{name} found nothing: the test does not exercise it"
    assert [x["severity"] for x in got] == sorted(
        (x["severity"] for x in got), key=rules.SEVERITY_ORDER.__getitem__
    )
    assert {x["id"] for x in got} >= {"swap-on-network-device", "thrashing", "swap-disk-busy"}


def test_one_sample_record_is_the_sample_record_without_rates() -> None:
    from checkswap.model.sample import Sampler
    from checkswap.units import iso_utc

    root = Root(os.path.join(FIXTURES, "linux-6.18-swapping"))
    f = doctor_facts.Facts()
    f.first = Sampler(root).take()
    f.page_size = 4096
    doctor_report.judge(f)  # no second sample: a bundle with one
    assert f.record == {
        "type": "sample",
        "time": iso_utc(f.first.wall),
        "interval_s": None,
        "swap_in_per_s": None,
        "swap_out_per_s": None,
        "page_size_bytes": 4096,
        "swap_used_bytes": (262140 - 139256) * 1024,
        "swap_total_bytes": 262140 * 1024,
        "swap_cached_bytes": 48912 * 1024,
        "psi_full_avg10": 1.44,
        "psi_full_pct": None,
        "refault_anon_per_s": None,
    }
    assert list(f.record) == list(fields.DOCTOR_STATIC_SAMPLE_KEYS)
    assert f.verdict == "unknown" and f.disk_cost is None
    assert f.notes == ["one sample only: no rates, so no verdict on activity"]


def role_option(command: str) -> Any:
    import argparse

    from checkswap.cli import build_parser

    parser, _ = build_parser(command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return next(a for a in sub.choices[command]._actions if "--role" in a.option_strings)


@pytest.mark.parametrize("command", ["doctor", "serve"])
def test_role_choices_come_from_the_one_role_table(command: str) -> None:
    opt = role_option(command)
    assert tuple(opt.choices) == tuple(roles.ROLES) == roles.NAMES
    assert opt.default == roles.DEFAULT in roles.ROLES


def test_doctor_help_lists_each_role_as_the_table_advises() -> None:
    # The help once said "none preferred (hypervisors, HPC, batch)" where the findings say
    # "none preferred": the help's advice must be the table's, word for word.
    from checkswap.commands import doctor as command

    lines = {ln.split()[0]: ln for ln in command.DESCRIPTION.splitlines() if ln.startswith("  ")}
    for r in roles.ROLES.values():
        advice = lines[r.name][2:].split(";")[0][len(f"{r.name:<9} ") :]
        assert advice == f"{r.swappiness_advised} / {r.swap_advice}", r.name


def test_role_options_do_not_load_the_doctor() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import checkswap.commands.doctor, checkswap.commands.serve; "
        "print(sorted(m for m in sys.modules if m.startswith('checkswap.doctor.') "
        "or m in ('checkswap.model.topology', 'checkswap.kernel.block')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['checkswap.doctor.roles']"


def test_zswap_pool_is_the_sample_records_on_a_bundle_where_it_grew(tmp_path: Any) -> None:
    """doctor's zswap.pool_bytes and the rule's evidence are the sample's zswap_pool_bytes.

    They were read at the first sample while the sample record reads the end of the interval:
    on a bundle whose pool grew from 0 to 8 MiB, one report said both, and the finding on a
    pool left behind by a disabled zswap was missed.
    """
    import re
    import shutil

    tree = str(tmp_path / "tree")
    shutil.copytree(os.path.join(FIXTURES, "cgroup-v2"), tree, symlinks=True)  # zswap off
    meminfo = os.path.join(tree, "proc", "meminfo")

    def grow_pool(seconds: float) -> None:
        with open(meminfo) as f:
            text = f.read()
        with open(meminfo, "w") as f:
            f.write(re.sub(r"^Zswap:\s+\d+ kB", "Zswap:            8192 kB", text, flags=re.M))

    bundle = str(tmp_path / "bundle")
    status, _, err = clihelp.run_cli(
        "snapshot", "-n", "2", "-i", "1", "-o", bundle, "--root", tree, sleep=grow_pool
    )
    assert status == 0, err
    _, out, _ = clihelp.run_cli("doctor", "--format", "json", "--root", bundle, sleep=no_sleep)
    report = json.loads(out)
    assert report["sample"]["zswap_pool_bytes"] == 8192 * 1024
    assert report["zswap"]["pool_bytes"] == report["sample"]["zswap_pool_bytes"]
    (finding,) = (x for x in report["findings"] if x["id"] == "zswap-pool-while-disabled")
    assert finding["evidence"]["zswap_pool_bytes"] == 8192 * 1024


def test_since_boot_without_uptime_says_why_there_is_no_average() -> None:
    # The line ended on "out; " with nothing after it when /proc/uptime was missing.
    root = os.path.join(FIXTURES, "linux-4.19-no-psi")
    assert not os.path.exists(os.path.join(root, "proc", "uptime"))
    _, out, _ = run_cli("doctor", "--root", root, "--sample", "0.1")
    line = next(x for x in out.splitlines() if x.startswith("since boot:"))
    assert line.endswith("out; uptime unknown (no /proc/uptime): no per-day average"), line
    _, out, _ = run_cli("doctor", "--root", root, "--format", "json")
    since = json.loads(out)["since_boot"]
    assert since["uptime_s"] is None and "swap_in_gib_per_day" not in since
    assert since["meaning"] == "uptime unknown (no /proc/uptime): no per-day average"


def test_evidence_line_names_no_waiter_objects() -> None:
    from checkswap.render.doctor import evidence_line

    waiter = {"pid": 812, "comm": "mysqld", "swapin_wait_s": 3.2, "interval_s": 5.0}
    line = evidence_line({"swap_in_per_s": 40.0, "waiters": [waiter]})
    assert line == "swap_in_per_s=40" and "{" not in line
