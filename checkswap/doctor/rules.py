"""The doctor's rules: pure functions from Facts to findings, worst first.

Each ``check_*`` reads only the Facts it is given (gathered by facts.py) and returns findings
built with ``finding()``; none opens a file, reads a clock or looks at the root, so a rule can be
tested with a hand-built Facts and gives the same answer on a live machine and on a bundle.
tests/test_doctor.py holds this module to that (its imports and a run with I/O forbidden).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from checkswap.model.verdict import SWAPPING_PAGES_PER_S
from checkswap.units import format_bytes

if TYPE_CHECKING:
    from checkswap.doctor.facts import Facts

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


def check_no_swap(f: Facts) -> list[dict[str, Any]]:
    if f.devices or f.virtual_swaps:
        return []
    if not f.swaps_read and f.record.get("swap_total_bytes") != 0:
        return []  # areas unknown and meminfo does not say none: no claim either way
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
            {
                "swap_areas": 0 if f.swaps_read else None,
                "swap_total_bytes": f.record.get("swap_total_bytes"),
                "role": f.role.name,
                "files": ["/proc/swaps" if f.swaps_read else "/proc/meminfo"],
            },
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
            "files": list(f.device_files),
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
    # The total is meminfo's (model/totals.py, as every command prints it); the areas only say
    # how much of it is zram, which costs RAM, not disk.
    total_swap = f.record.get("swap_total_bytes")
    zram = sum(d["size_bytes"] for d in f.devices if d["kind"] == "zram")
    if isinstance(total_swap, int):
        disk_swap = max(0, total_swap - zram)
    else:
        disk_swap = sum(d["size_bytes"] for d in f.devices if d["kind"] != "zram")
    if f.mem_total and disk_swap > 2 * f.mem_total:
        out.append(
            finding(
                "swap-larger-than-ram",
                "warning",
                "Swap is more than twice the RAM",
                f"{format_bytes(disk_swap)} of disk swap for {format_bytes(f.mem_total)} of RAM. "
                "A working set that needs that much swap runs at disk speed: add RAM instead. "
                "Large swap mostly delays the OOM killer while the machine crawls.",
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
                    f"{format_bytes(used)} of {format_bytes(total)} swap used. When it fills, "
                    "the next allocation that needs reclaim ends in the OOM killer.",
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


def check_swap_accounting(f: Facts) -> list[dict[str, Any]]:
    """SwapTotal and the sum of /proc/swaps' sizes disagree (f.swap_accounting, made by
    report.judge from model/totals.py): one of the two views is not the kernel's plain account."""
    acc = f.swap_accounting
    if not acc or not acc["mismatch"]:
        return []
    total, listed, used = (
        acc["swap_total_bytes"],
        acc["swap_areas_bytes"],
        acc["swap_areas_used_bytes"],
    )
    if total == 0:
        what = (
            f"/proc/meminfo says no swap (SwapTotal 0) while /proc/swaps lists "
            f"{acc['swap_areas']} area(s) of {format_bytes(listed)}, {format_bytes(used)} in use."
        )
    else:
        what = (
            f"/proc/meminfo says {format_bytes(total)} of swap (SwapTotal) while the areas in "
            f"/proc/swaps add up to {format_bytes(listed)}."
        )
    detail = (
        f"{what} This usually means /proc is virtualised (LXCFS in a container shows the "
        "container's swap limit in meminfo and another view in /proc/swaps), or an area was "
        "swapped on or off between the two reads. checkswap's totals are meminfo's, in every "
        "command; the areas' sizes are what the kernel or LXCFS listed for them."
    )
    evidence = {k: v for k, v in acc.items() if k != "mismatch"}
    evidence["lxcfs_mounts"] = f.lxcfs
    evidence["files"] = ["/proc/meminfo", "/proc/swaps"]
    return [
        finding(
            "swap-accounting-mismatch",
            "info" if f.lxcfs or f.virtual_swaps else "warning",
            "/proc/meminfo and /proc/swaps disagree on the swap total",
            detail,
            evidence,
            ["cat /proc/swaps; grep -i swap /proc/meminfo  # read again: a swapon in between?"],
        )
    ]


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
                f"{format_bytes(used)} sits in swap, but less than {SWAPPING_PAGES_PER_S:g} page/s "
                "went in or out during the sample: pages nobody touches were parked there. That is "
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
                f"{format_bytes(f.zswap_pool)} compressed in the zswap pool although zswap is off: "
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
    check_swap_accounting,
    check_verdict,
    check_environment,
    check_disk_cost,
)


def findings(f: Facts) -> list[dict[str, Any]]:
    """Every rule's findings, worst first (the sort is stable: rule order within a severity)."""
    out: list[dict[str, Any]] = []
    for check in CHECKS:
        out.extend(check(f))
    out.sort(key=lambda x: SEVERITY_ORDER.get(x["severity"], 9))
    return out
