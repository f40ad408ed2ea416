"""Is the swap set up sanely, and is it hurting? Findings with evidence and fixes, and a verdict.

``verdict(record)`` judges one ``watch`` sample record; ``diagnose(root)`` samples the root for a
few seconds (or replays a snapshot bundle's samples) and returns the ``doctor --format json``
object of DESIGN.md. Every finding carries the figures it was decided on and the kernel files
they came from, so a reader can check them by hand.
"""

from __future__ import annotations

import time
from typing import Any, Callable, NamedTuple

from checkswap.errors import BadInput, kernel_file_error
from checkswap.fields import sample_record
from checkswap.kernel.block import SECTOR_BYTES, DiskStats, read_diskstats
from checkswap.kernel.meminfo import swap_used
from checkswap.kernel.mountinfo import read_mountinfo
from checkswap.kernel.swaps import read_swaps
from checkswap.kernel.sysctl import read_sysctl_int
from checkswap.kernel.uptime import read_uptime
from checkswap.kernel.zswap import read_zswap
from checkswap.model.rates import Interval, Tracker, counter_rates
from checkswap.model.sample import Sample, Sampler, Ticker
from checkswap.model.topology import FILES as TOPOLOGY_FILES
from checkswap.model.topology import Topology
from checkswap.source.root import Root
from checkswap.units import format_bytes

# --- the verdict ---------------------------------------------------------------------------

# Documented in docs/doctor.md; every verdict's evidence repeats the ones it used.
SWAPPING_PAGES_PER_S = 1.0  # in or out: below this the swap is quiet (a stray page is not use)
THRASH_SWAP_IN_PAGES_PER_S = 100.0  # swap-in that processes are waiting on...
THRASH_PSI_FULL_PCT = 5.0  # ...while all busy tasks stalled on memory this share of the time
THRASH_REFAULT_SHARE = 0.5  # without PSI: refaulted share of swap-ins (working set churning)
THRASH_NO_PSI_SWAP_IN_PAGES_PER_S = 1000.0  # without PSI: a higher swap-in bar

THRESHOLDS = {
    "swapping_pages_per_s": SWAPPING_PAGES_PER_S,
    "thrashing_swap_in_per_s": THRASH_SWAP_IN_PAGES_PER_S,
    "thrashing_psi_full_pct": THRASH_PSI_FULL_PCT,
    "thrashing_refault_share_without_psi": THRASH_REFAULT_SHARE,
    "thrashing_swap_in_per_s_without_psi": THRASH_NO_PSI_SWAP_IN_PAGES_PER_S,
}
VERDICT_FILES = ["/proc/vmstat", "/proc/meminfo", "/proc/pressure/memory"]
VERDICTS = ("quiet", "swapping", "thrashing", "no-swap", "unknown")


def _num(record: dict[str, Any], key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, (int, float)) else None


def verdict(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """quiet | swapping | thrashing | no-swap (| unknown: no rates yet) for one sample record.

    thrashing: swap-in >= 100 pages/s while PSI memory full >= 5 % of the time (the share over
    the record's interval, else the kernel's avg10). Without PSI (old kernel, psi=0): swap-in
    >= 1000 pages/s of which >= 50 % are refaults (workingset_refault_anon). swapping: either
    direction >= 1 page/s. quiet: less, however full the swap is. no-swap: SwapTotal is 0.
    """
    swap_in = _num(record, "swap_in_per_s")
    swap_out = _num(record, "swap_out_per_s")
    psi = _num(record, "psi_full_pct")
    psi_source = "psi_full_pct"
    if psi is None:
        psi, psi_source = _num(record, "psi_full_avg10"), "psi_full_avg10"
    refault = _num(record, "refault_anon_per_s")
    total = record.get("swap_total_bytes")
    evidence: dict[str, Any] = {
        "swap_in_per_s": swap_in,
        "swap_out_per_s": swap_out,
        "psi_full_pct": psi,
        "psi_source": psi_source if psi is not None else None,
        "refault_anon_per_s": refault,
        "swap_used_bytes": record.get("swap_used_bytes"),
        "swap_total_bytes": total,
        "interval_s": record.get("interval_s"),
        "thresholds": dict(THRESHOLDS),
        "files": list(VERDICT_FILES),
    }
    moving = (
        swap_in is not None
        and swap_out is not None
        and (swap_in >= SWAPPING_PAGES_PER_S or swap_out >= SWAPPING_PAGES_PER_S)
    )
    if total == 0 and not moving:
        evidence["rule"] = "SwapTotal is 0: no swap area is active"
        return "no-swap", evidence
    if swap_in is None or swap_out is None:
        evidence["rule"] = "no rates: one sample only, or a counter reset"
        return "unknown", evidence
    if swap_in >= THRASH_SWAP_IN_PAGES_PER_S and psi is not None and psi >= THRASH_PSI_FULL_PCT:
        evidence["rule"] = (
            f"swap-in {swap_in:.0f} >= {THRASH_SWAP_IN_PAGES_PER_S:g} pages/s and PSI memory "
            f"full {psi:.1f} >= {THRASH_PSI_FULL_PCT:g} %"
        )
        return "thrashing", evidence
    if (
        psi is None
        and refault is not None
        and swap_in >= THRASH_NO_PSI_SWAP_IN_PAGES_PER_S
        and refault >= THRASH_REFAULT_SHARE * swap_in
    ):
        evidence["rule"] = (
            f"no PSI; swap-in {swap_in:.0f} >= {THRASH_NO_PSI_SWAP_IN_PAGES_PER_S:g} pages/s "
            f"and refaults {refault:.0f}/s >= {THRASH_REFAULT_SHARE:.0%} of it"
        )
        return "thrashing", evidence
    if moving:
        evidence["rule"] = (
            f"swap-in {swap_in:.1f} or swap-out {swap_out:.1f} >= {SWAPPING_PAGES_PER_S:g} "
            "pages/s, below the thrashing thresholds"
        )
        return "swapping", evidence
    evidence["rule"] = (
        f"swap-in {swap_in:.2f} and swap-out {swap_out:.2f} < {SWAPPING_PAGES_PER_S:g} pages/s"
    )
    return "quiet", evidence


# --- roles ---------------------------------------------------------------------------------


class Role(NamedTuple):
    name: str
    swappiness_max: int  # above this: swappiness-high-for-role, and the fix sets this value
    swappiness_advised: str
    swap_advice: str
    wants_swap: bool


ROLES = {
    r.name: r
    for r in (
        Role("general", 60, "10-60 (60 is the kernel default)", "a modest amount is fine", True),
        Role("database", 10, "1-10", "small, as a safety net", True),
        Role("compute", 1, "<= 1", "none preferred", False),
        Role("nosql", 1, "<= 1", "none preferred (vendor docs)", False),
        Role("desktop", 60, "60, or up to 100+ with zram", "yes", True),
    )
}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
SYSCTL_FILE = "/etc/sysctl.d/60-checkswap-swappiness.conf"


def finding(
    id: str,
    severity: str,
    title: str,
    detail: str,
    evidence: dict[str, Any],
    fix: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "id": id,
        "severity": severity,
        "title": title,
        "detail": detail,
        "evidence": evidence,
        "fix": fix or [],
    }


def gib(n: float | None) -> str:
    return format_bytes(n)


# --- the checks ----------------------------------------------------------------------------


class Facts:
    """Everything the checks read, gathered once so each check is a small pure function."""

    def __init__(self) -> None:
        self.role = ROLES["general"]
        self.devices: list[dict[str, Any]] = []
        self.first: Sample | None = None
        self.last: Sample | None = None
        self.record: dict[str, Any] = {}
        self.verdict = "unknown"
        self.verdict_evidence: dict[str, Any] = {}
        self.swappiness: int | None = None
        self.mem_total: int | None = None
        self.lxcfs: list[str] = []
        self.virtual_swaps = False
        self.zswap_enabled: bool | None = None
        self.zswap_pool: int | None = None
        self.disk_cost: dict[str, Any] | None = None
        self.since_boot: dict[str, Any] = {}
        self.psi = False


def check_no_swap(f: Facts) -> list[dict[str, Any]]:
    if f.devices or f.virtual_swaps:
        return []
    sev = "info" if not f.role.wants_swap or f.role.name == "general" else "warning"
    detail = (
        f"No swap area is active. For the {f.role.name} role: {f.role.swap_advice}. Without "
        "swap, anonymous memory can never leave RAM: a memory spike goes straight to the OOM "
        "killer, and idle pages hold RAM the page cache could use."
    )
    fix = [] if not f.role.wants_swap else ["checkswap swapfile add 2G --persist"]
    return [
        finding(
            "no-swap",
            sev,
            "No swap is configured",
            detail,
            {"swap_areas": 0, "role": f.role.name, "files": ["/proc/swaps"]},
            fix,
        )
    ]


def check_devices(f: Facts) -> list[dict[str, Any]]:
    out = []
    for d in f.devices:
        name = d["name"]
        ev_base = {
            "device": name,
            "kind": d["kind"],
            "disks": d["disks"],
            "layers": d["layers"],
            "files": list(TOPOLOGY_FILES),
        }
        disk_rot = [x for x in d["disk_facts"] if x["rotational"] and not x["zram"]]
        if disk_rot:
            all_virtual = all(x["virtual"] for x in disk_rot)
            disks = ", ".join(x["name"] for x in disk_rot)
            evidence = {
                **ev_base,
                "rotational_files": [f"/sys/block/{x['name']}/queue/rotational" for x in disk_rot],
                "rotational": True,
                "virtual": all_virtual,
                "virtual_kinds": sorted({x["virtual_kind"] for x in disk_rot if x["virtual_kind"]}),
            }
            if all_virtual:
                detail = (
                    f"{name} is on {disks}, which the kernel flags rotational; but "
                    f"{disks} is a virtual disk "
                    f"({', '.join(evidence['virtual_kinds'])}), whose rotational flag is the "
                    "hypervisor's default, not the medium. Check what the host stores it on."
                )
                sev = "info"
            else:
                what = "a spinning disk" if len(disk_rot) == 1 else "spinning disks"
                detail = (
                    f"{name} is on {disks}, {what}: every swap-in is a seek "
                    "(milliseconds), so a working set that spills to it crawls."
                )
                sev = "warning"
            out.append(
                finding(
                    "swap-on-rotational",
                    sev,
                    f"Swap {name} is on a rotational disk",
                    detail,
                    evidence,
                    [
                        "# put swap on an SSD/NVMe disk or zram instead, then:",
                        f"swapoff {name}",
                    ],
                )
            )
        if d["network"]:
            out.append(
                finding(
                    "swap-on-network-device",
                    "critical",
                    f"Swap {name} is network-backed ({d['network_kind']})",
                    f"{name} reaches its storage over the network ({d['network_kind']}): "
                    "terrible performance when swapping, and writing memory out needs memory "
                    "for the network stack, so it can deadlock under pressure.",
                    {**ev_base, "network_kind": d["network_kind"], "filesystem": d["filesystem"]},
                    [f"swapoff {name}", "# and remove it from /etc/fstab; use a local disk"],
                )
            )
        if d["loop"]:
            out.append(
                finding(
                    "swap-on-loop-device",
                    "warning",
                    f"Swap {name} goes through a loop device",
                    f"{name} is a loop device over a file: each page is cached twice (the "
                    "loop device and the backing file's page cache) and writing it needs "
                    "memory. A swapfile on the filesystem itself does the same job directly.",
                    ev_base,
                    [f"swapoff {name}", "# then swapon the backing file itself, or a swapfile"],
                )
            )
        mode = d.get("mode")
        if d["kind"] == "file" and mode is not None and mode != "0600":
            bits = int(mode, 8)
            world = bool(bits & 0o004)
            out.append(
                finding(
                    "swapfile-insecure-permissions",
                    "critical" if world else "warning",
                    f"Swapfile {name} has permissions {mode}, not 0600",
                    f"{name} holds copies of process memory (passwords, keys): "
                    + (
                        "anyone on the machine can read it."
                        if world
                        else "users other than root can read or write it."
                    ),
                    {**ev_base, "mode": mode, "uid": d.get("uid"), "files": ["stat(2)"]},
                    [f"chmod 600 {name}", f"chown root:root {name}"],
                )
            )
    out.extend(check_same_disk(f))
    return out


def check_same_disk(f: Facts) -> list[dict[str, Any]]:
    by_disk: dict[str, list[dict[str, Any]]] = {}
    for d in f.devices:
        for x in d["disk_facts"]:
            if not x["zram"]:
                by_disk.setdefault(x["name"], []).append(d)
    out = []
    for disk, devs in sorted(by_disk.items()):
        if len(devs) < 2:
            continue
        facts = next(x for x in devs[0]["disk_facts"] if x["name"] == disk)
        spinning = bool(facts["rotational"]) and not facts["virtual"]
        names = [d["name"] for d in devs]
        prios = [d["priority"] for d in devs]
        same_prio = len(set(prios)) < len(prios)
        detail = (
            f"{' and '.join(names)} are all on {disk}. "
            + (
                "They share a priority, so the kernel spreads pages over them in turn: "
                if same_prio
                else "When the first fills, the next is used on the same disk: "
            )
            + (
                "on a spinning disk the head moves between them on every swap-in."
                if spinning
                else "no extra bandwidth, only more areas to manage."
            )
        )
        out.append(
            finding(
                "multiple-swap-same-disk",
                "warning" if spinning else "info",
                f"{len(devs)} swap areas on one disk ({disk})",
                detail,
                {
                    "disk": disk,
                    "devices": names,
                    "priorities": prios,
                    "rotational": facts["rotational"],
                    "virtual": facts["virtual"],
                    "files": ["/proc/swaps", "/sys/class/block"],
                },
                [f"swapoff {names[-1]}", "# and drop it from /etc/fstab; keep one area per disk"],
            )
        )
    return out


def check_swappiness(f: Facts) -> list[dict[str, Any]]:
    s = f.swappiness
    if s is None:
        return []
    role = f.role
    limit = role.swappiness_max
    has_zram = any(d["kind"] == "zram" for d in f.devices)
    if role.name == "desktop" and has_zram:
        limit = 200  # with zram a swap-out costs no disk I/O: the kernel's maximum is fine
    if s <= limit:
        return []
    return [
        finding(
            "swappiness-high-for-role",
            "warning",
            f"vm.swappiness is {s}, high for a {role.name} machine",
            f"For the {role.name} role swappiness {role.swappiness_advised} is advised; at {s} "
            "the kernel swaps anonymous memory out rather than dropping page cache, so "
            "processes wait for swap-ins later.",
            {
                "swappiness": s,
                "role": role.name,
                "advised": role.swappiness_advised,
                "files": ["/proc/sys/vm/swappiness"],
            },
            [
                f"sysctl -w vm.swappiness={limit}",
                f"echo 'vm.swappiness = {limit}' > {SYSCTL_FILE}",
            ],
        )
    ]


def check_role_swap(f: Facts) -> list[dict[str, Any]]:
    if f.role.wants_swap or not f.devices:
        return []
    return [
        finding(
            "swap-configured-for-role",
            "info",
            f"Swap is configured on a {f.role.name} machine",
            f"For the {f.role.name} role, {f.role.swap_advice}: latency from a swap-in hurts "
            "more than an OOM kill that a scheduler retries.",
            {"role": f.role.name, "swap_areas": len(f.devices), "files": ["/proc/swaps"]},
            [f"swapoff {d['name']}" for d in f.devices],
        )
    ]


def check_sizes(f: Facts) -> list[dict[str, Any]]:
    out = []
    disk_swap = sum(d["size_bytes"] for d in f.devices if d["kind"] != "zram")
    if f.mem_total and disk_swap > 2 * f.mem_total:
        out.append(
            finding(
                "swap-larger-than-ram",
                "warning",
                "Swap is more than twice the RAM",
                f"{gib(disk_swap)} of disk swap for {gib(f.mem_total)} of RAM. A working set "
                "that needs that much swap runs at disk speed: add RAM instead. Large swap "
                "mostly delays the OOM killer while the machine crawls.",
                {
                    "swap_bytes": disk_swap,
                    "mem_total_bytes": f.mem_total,
                    "ratio": disk_swap / f.mem_total,
                    "files": ["/proc/swaps", "/proc/meminfo"],
                },
                ["# add RAM; or shrink swap: swapoff, recreate smaller, swapon"],
            )
        )
    rec = f.record
    total, used = rec.get("swap_total_bytes"), rec.get("swap_used_bytes")
    if isinstance(total, int) and isinstance(used, int) and total > 0:
        pct = used / total * 100
        if pct >= 90:
            out.append(
                finding(
                    "swap-nearly-full",
                    "critical" if pct >= 98 else "warning",
                    f"Swap is {pct:.0f} % full",
                    f"{gib(used)} of {gib(total)} swap used. When it fills, the next "
                    "allocation that needs reclaim ends in the OOM killer.",
                    {
                        "swap_used_bytes": used,
                        "swap_total_bytes": total,
                        "used_pct": pct,
                        "files": ["/proc/meminfo"],
                    },
                    ["checkswap top", "checkswap swapfile add 2G"],
                )
            )
    return out


def check_verdict(f: Facts) -> list[dict[str, Any]]:
    ev = f.verdict_evidence
    used = f.record.get("swap_used_bytes")
    if f.verdict == "thrashing":
        return [
            finding(
                "thrashing",
                "critical",
                "Swap is thrashing: processes are stalled on swap-ins",
                f"{ev['swap_in_per_s']:.0f} pages/s read back from swap while all busy tasks "
                f"were stalled on memory {ev['psi_full_pct'] or 0:.1f} % of the time"
                if ev.get("psi_full_pct") is not None
                else f"{ev['swap_in_per_s']:.0f} pages/s read back, most of them refaults",
                ev,
                ["checkswap top --sort activity", "# then limit, move or stop that workload"],
            )
        ]
    if f.verdict == "swapping":
        return [
            finding(
                "swapping",
                "info",
                "Swap is in use and moving, without stalling",
                f"{ev['swap_in_per_s']:.1f} pages/s in, {ev['swap_out_per_s']:.1f} pages/s out "
                "over the sample; memory pressure stays under the thrashing threshold.",
                ev,
                ["checkswap watch", "checkswap top --sort activity"],
            )
        ]
    if f.verdict == "quiet" and isinstance(used, int) and used > 0:
        return [
            finding(
                "swap-used-but-quiet",
                "info",
                "Swap holds pages but nothing moves",
                f"{gib(used)} sits in swap, but less than {SWAPPING_PAGES_PER_S:g} page/s went in "
                "or out during the sample: pages nobody touches were parked there. That is "
                "harmless; it costs nothing until they are read back.",
                ev,
            )
        ]
    return []


def check_environment(f: Facts) -> list[dict[str, Any]]:
    out = []
    if f.lxcfs or f.virtual_swaps:
        out.append(
            finding(
                "container-host-wide-rates",
                "info",
                "Inside a container: swap rates are the host's",
                "/proc/meminfo and /proc/swaps are virtualised for this container (LXCFS) "
                "while /proc/vmstat is the host's: swap-in and swap-out rates are host-wide, "
                "the sizes are the container's.",
                {
                    "lxcfs_mounts": f.lxcfs,
                    "virtual_swap_line": f.virtual_swaps,
                    "files": ["/proc/self/mountinfo", "/proc/swaps"],
                },
            )
        )
    if not f.psi:
        out.append(
            finding(
                "psi-unavailable",
                "info",
                "No pressure stall information (PSI)",
                "/proc/pressure/memory is missing (kernel older than 4.20 or built without "
                "CONFIG_PSI) or disabled (psi=0): thrashing is judged from refaults alone.",
                {"files": ["/proc/pressure/memory"]},
                ["# boot with psi=1 on kernels built with CONFIG_PSI_DEFAULT_DISABLED"],
            )
        )
    if f.zswap_enabled is False and f.zswap_pool:
        out.append(
            finding(
                "zswap-pool-while-disabled",
                "info",
                "zswap is disabled but its pool still holds pages",
                f"{gib(f.zswap_pool)} compressed in the zswap pool although zswap is off: "
                "disabling it does not empty the pool; the pages leave as they are read back.",
                {
                    "zswap_pool_bytes": f.zswap_pool,
                    "files": ["/sys/module/zswap/parameters/enabled", "/proc/meminfo"],
                },
            )
        )
    if f.zswap_enabled and any(d["kind"] == "zram" for d in f.devices):
        out.append(
            finding(
                "zswap-with-zram",
                "warning",
                "zswap is enabled in front of zram swap",
                "Pages are compressed by zswap, then again by zram: double the CPU for no "
                "saving. Use one or the other.",
                {"files": ["/sys/module/zswap/parameters/enabled", "/proc/swaps"]},
                ["echo N > /sys/module/zswap/parameters/enabled"],
            )
        )
    return out


def check_disk_cost(f: Facts) -> list[dict[str, Any]]:
    cost = f.disk_cost
    if not cost:
        return []
    out = []
    for disk in cost["disks"]:
        util = disk.get("util_pct")
        share = cost.get("swap_share_pct")
        if util is not None and util >= 50 and share is not None and share >= 50:
            out.append(
                finding(
                    "swap-disk-busy",
                    "warning",
                    f"Swap keeps {disk['name']} {util:.0f} % busy",
                    f"{disk['name']} was busy {util:.0f} % of the sample, and {share:.0f} % of "
                    "the traffic on the swap disks was swap: other I/O on it waits.",
                    {**disk, "swap_share_pct": share, "files": ["/proc/diskstats", "/proc/vmstat"]},
                    ["checkswap top --sort activity"],
                )
            )
    return out


CHECKS: tuple[Callable[[Facts], list[dict[str, Any]]], ...] = (
    check_no_swap,
    check_devices,
    check_swappiness,
    check_role_swap,
    check_sizes,
    check_verdict,
    check_environment,
    check_disk_cost,
)


# --- gathering -----------------------------------------------------------------------------


def disk_cost(
    first: Sample,
    last: Sample,
    d0: dict[str, DiskStats],
    d1: dict[str, DiskStats],
    disks: list[str],
    page_size: int,
) -> dict[str, Any] | None:
    """I/O rate and utilisation of each disk under swap, and the share of it that is swap."""
    seconds = last.mono - first.mono
    if not disks or seconds <= 0:
        return None
    rows = []
    total_bytes = 0.0
    complete = True
    for name in disks:
        a, b = d0.get(name), d1.get(name)
        if a is None or b is None:
            complete = False
            continue
        r = counter_rates(_counters(a), _counters(b), seconds)
        rd, wr, busy = r["read_sectors"], r["write_sectors"], r["io_ms"]
        row = {
            "name": name,
            "read_bytes_per_s": None if rd is None else rd * SECTOR_BYTES,
            "write_bytes_per_s": None if wr is None else wr * SECTOR_BYTES,
            "reads_per_s": r["reads"],
            "writes_per_s": r["writes"],
            "util_pct": None if busy is None else busy / 10.0,  # ms per s -> %
        }
        if rd is None or wr is None:
            complete = False
        else:
            total_bytes += (rd + wr) * SECTOR_BYTES
        rows.append(row)
    sw = counter_rates(_swap(first), _swap(last), seconds)
    swap_bytes = None
    if sw["pswpin"] is not None and sw["pswpout"] is not None:
        swap_bytes = (sw["pswpin"] + sw["pswpout"]) * page_size
    share = None
    if complete and swap_bytes is not None and total_bytes > 0:
        share = swap_bytes / total_bytes * 100
    return {
        "interval_s": seconds,
        "swap_bytes_per_s": swap_bytes,
        "disk_bytes_per_s": total_bytes if complete else None,
        "swap_share_pct": share,
        "disks": rows,
        "files": ["/proc/diskstats", "/proc/vmstat"],
    }


def _counters(s: DiskStats) -> dict[str, int]:
    return {
        "reads": s.reads,
        "writes": s.writes,
        "read_sectors": s.read_sectors,
        "write_sectors": s.write_sectors,
        "io_ms": s.io_ms,
    }


def _swap(s: Sample) -> dict[str, int]:
    return {k: s.vmstat[k] for k in ("pswpin", "pswpout") if k in s.vmstat}


def since_boot(first: Sample, uptime_s: float | None, page_size: int) -> dict[str, Any]:
    """Totals since boot (the seed's pswpin * page size in GiB) and what they amount to."""
    vm = first.vmstat
    pin, pout = vm.get("pswpin"), vm.get("pswpout")
    out: dict[str, Any] = {
        "uptime_s": uptime_s,
        "swap_in_pages": pin,
        "swap_out_pages": pout,
        "swap_in_bytes": None if pin is None else pin * page_size,
        "swap_out_bytes": None if pout is None else pout * page_size,
        "swap_in_gib": None if pin is None else pin * page_size / 1024**3,
        "swap_out_gib": None if pout is None else pout * page_size / 1024**3,
        "files": ["/proc/vmstat", "/proc/uptime"],
    }
    if uptime_s and pin is not None and pout is not None:
        days = uptime_s / 86400
        out["swap_in_gib_per_day"] = out["swap_in_gib"] / days
        out["swap_out_gib_per_day"] = out["swap_out_gib"] / days
        if pin == 0 and pout == 0:
            meaning = "nothing was ever swapped since boot"
        elif pin == 0:
            meaning = "pages went out but none was ever read back: swap only held idle pages"
        else:
            span = f"{days:.1f} days" if days >= 1 else f"{uptime_s / 3600:.1f} hours"
            meaning = (
                f"{out['swap_in_gib']:.2f} GiB was read back over {span} "
                f"({out['swap_in_gib_per_day']:.2f} GiB/day on average): each page of it was "
                "a wait for a process; compare with today's rate to see if this is new"
            )
        out["meaning"] = meaning
    return out


def gather_samples(
    root: Root,
    sample_s: float,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float] = time.monotonic,
) -> tuple[Sample, Sample | None, dict[str, DiskStats], dict[str, DiskStats]]:
    """Two samples sample_s apart (a bundle: its first and last), with /proc/diskstats at each."""
    ticker = Ticker(root, sample_s, monotonic, sleep)
    sampler = Sampler(root)
    try:
        first = sampler.take()
        d0 = _diskstats(root)
        last: Sample | None = None
        d1: dict[str, DiskStats] = {}
        while ticker.wait():
            last = sampler.take()
            d1 = _diskstats(root)
            if not root.replays:
                break  # live: one interval; a bundle is measured over all its samples
        return first, last, d0, d1
    finally:
        sampler.close()


def _diskstats(root: Root) -> dict[str, DiskStats]:
    try:
        return read_diskstats(root)
    except OSError:
        return {}


def diagnose(
    root: Root,
    role: str = "general",
    sample_s: float = 3.0,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The ``doctor --format json`` object: findings worst first, devices, swappiness, verdict."""
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    f = Facts()
    f.role = ROLES[role]
    notes = list(root.notes)
    try:
        areas = read_swaps(root)
    except OSError as e:
        raise kernel_file_error(root.join("proc/swaps"), e) from None
    f.virtual_swaps = any(a.type == "virtual" for a in areas)
    topo = Topology(root)
    f.devices = [topo.device(a) for a in areas if a.type in ("file", "partition")]
    notes.extend(topo.notes)
    first, last, d0, d1 = gather_samples(root, sample_s, sleep, monotonic)
    f.first, f.last = first, last
    f.psi = first.psi is not None and first.psi.full is not None
    page_size = root.page_size
    if last is not None:
        iv = Interval(first, last)
        tracker = Tracker()
        tracker.add(iv)
        f.record = sample_record(iv, tracker, page_size)
    else:
        notes.append("one sample only: no rates, so no verdict on activity")
        f.record = _static_record(first, page_size)
    f.verdict, f.verdict_evidence = verdict(f.record)
    f.swappiness = read_sysctl_int(root, "vm.swappiness")
    f.mem_total = first.meminfo.get("MemTotal")
    try:
        mounts = read_mountinfo(root)
    except OSError:
        mounts = []
    f.lxcfs = sorted(
        m.mount_point
        for m in mounts
        if m.fstype == "fuse.lxcfs" and m.mount_point != "/var/lib/lxcfs"
    )
    z = read_zswap(root)
    f.zswap_enabled = None if z is None else z.enabled
    f.zswap_pool = first.meminfo.get("Zswap")
    swap_disks = []
    for d in f.devices:
        for x in d["disk_facts"]:
            if not x["zram"] and x["name"] not in swap_disks:
                swap_disks.append(x["name"])
    if last is not None:
        f.disk_cost = disk_cost(first, last, d0, d1, swap_disks, page_size)
    f.since_boot = since_boot(first, read_uptime(root), page_size)
    findings: list[dict[str, Any]] = []
    for check in CHECKS:
        findings.extend(check(f))
    findings.sort(key=lambda x: SEVERITY_ORDER.get(x["severity"], 9))
    end = last or first
    return {
        "type": "doctor",
        "findings": findings,
        "devices": f.devices,
        "swappiness": f.swappiness,
        "verdict": f.verdict,
        "verdict_evidence": f.verdict_evidence,
        "role": role,
        "sample": f.record,
        "disk_cost": f.disk_cost,
        "since_boot": f.since_boot,
        "zswap": None
        if z is None
        else {"enabled": z.enabled, "compressor": z.compressor, "pool_bytes": f.zswap_pool},
        "mem_total_bytes": f.mem_total,
        "page_size_bytes": page_size,
        "kernel_release": root.kernel_release,
        "hostname": root.hostname,
        "time": f.record.get("time"),
        "start_wall": first.wall,
        "end_wall": end.wall,
        "notes": notes,
    }


def _static_record(s: Sample, page_size: int) -> dict[str, Any]:
    from checkswap.units import iso_utc

    psi = s.psi
    return {
        "type": "sample",
        "time": iso_utc(s.wall),
        "interval_s": None,
        "swap_in_per_s": None,
        "swap_out_per_s": None,
        "page_size_bytes": page_size,
        "swap_used_bytes": swap_used(s.meminfo),
        "swap_total_bytes": s.meminfo.get("SwapTotal"),
        "swap_cached_bytes": s.meminfo.get("SwapCached"),
        "psi_full_avg10": psi.full.avg10 if psi is not None and psi.full is not None else None,
        "psi_full_pct": None,
        "refault_anon_per_s": None,
    }


def exit_status(report: dict[str, Any]) -> int:
    """monitoring-plugins convention: 0 OK, 1 a warning, 2 a critical finding."""
    severities = {x["severity"] for x in report["findings"]}
    if "critical" in severities:
        return 2
    if "warning" in severities:
        return 1
    return 0
