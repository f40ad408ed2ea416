"""The doctor's rules: pure functions from Facts to findings, worst first.

Each ``check_*`` reads only the Facts it is given (gathered by facts.py) and returns findings
built with ``finding()``; none opens a file, reads a clock or looks at the root, so a rule can be
tested with a hand-built Facts and gives the same answer on a live machine and on a bundle.
tests/test_doctor.py holds this module to that (its imports and a run with I/O forbidden).
"""

from __future__ import annotations

from checkswap.model.verdict import SWAPPING_PAGES_PER_S, ZSWAP_WRITEBACK_HEAVY_PAGES_PER_S
from checkswap.units import format_bytes

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Any, Callable

    from checkswap.doctor.facts import Facts

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
SYSCTL_FILE = "/etc/sysctl.d/60-checkswap-swappiness.conf"
# The one size every suggestion of `swapfile add` names (doctor's fixes, swapfile list's hint):
# enough to absorb a spike on most servers, small enough to fit on any root filesystem.
SUGGESTED_SWAPFILE_SIZE = "2G"


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
    fix = (
        []
        if not f.role.wants_swap
        else [f"checkswap swapfile add {SUGGESTED_SWAPFILE_SIZE} --persist"]
    )
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
                    ["checkswap top", f"checkswap swapfile add {SUGGESTED_SWAPFILE_SIZE}"],
                )
            )
    return out


def who_waited(ev: dict[str, Any]) -> str:
    """ " mysqld (pid 812) waited 3.2 s of the last 5.0 s for swap-in (and 1.1 s on block
    I/O)." for the evidence's waiters; "" without delay accounting figures."""
    parts = []
    for w in ev.get("waiters") or []:
        text = (
            f"{w['comm']} (pid {w['pid']}) waited {w['swapin_wait_s']:.1f} s of the last "
            f"{w['interval_s']:.1f} s for swap-in"
        )
        if w.get("blkio_wait_s"):
            text += f" (and {w['blkio_wait_s']:.1f} s on block I/O, where disk reads wait)"
        parts.append(text)
    return ("; ".join(parts) + ".") if parts else ""


def _and_who(text: str, ev: dict[str, Any]) -> str:
    """``text`` as a sentence, followed by who waited when the figures name anyone."""
    who = who_waited(ev)
    if not who:
        return text
    return f"{text.rstrip('.')}. Who waited: {who}"


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
                _and_who(
                    f"{ev['swap_in_per_s']:.0f} pages/s read back from swap while all busy tasks "
                    f"were stalled on memory {ev['psi_full_pct'] or 0:.1f} % of the time"
                    if ev.get("psi_full_pct") is not None
                    else f"{ev['swap_in_per_s']:.0f} pages/s read back, most of them refaults",
                    ev,
                ),
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
                _and_who(
                    f"{ev['swap_in_per_s']:.1f} pages/s in, {ev['swap_out_per_s']:.1f} pages/s "
                    "out over the sample; memory pressure stays under the thrashing threshold.",
                    ev,
                ),
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


# --- the compressed tiers (model/tiers.py's state in f.tiers) -------------------------------

ZRAM_FULL_PCT = 90.0
MTHP_FALLBACK_PCT = 50.0
MTHP_FALLBACK_MIN = 100  # folios: a handful of splits since boot is no pattern


def check_zswap_pool_full(f: Facts) -> list[dict[str, Any]]:
    z = f.tiers.get("zswap")
    if not z or not z.get("enabled"):
        return []
    full, threshold = z.get("pool_full_pct"), z.get("accept_threshold_percent")
    pool, limit, accept = z.get("pool_bytes"), z.get("pool_limit_bytes"), z.get("pool_accept_bytes")
    if full is None or pool is None or limit is None:
        return []
    # mm/zswap.c zswap_check_limits: a store at or over the limit is refused, and once refused
    # the pool takes pages again only when it is back at or below the accept threshold. Above
    # the threshold it is full or one refill away from it; at or below it, the next store is
    # taken. Without a threshold (before 5.6) only the limit itself counts.
    if (pool <= accept) if accept is not None else (pool < limit):
        return []
    debug = z.get("debug") or {}
    limit_hits = debug.get("pool_limit_hit")
    return [
        finding(
            "zswap-pool-full",
            "warning",
            f"The zswap pool is at its limit ({full:.0f} % of max_pool_percent)",
            f"zswap holds {format_bytes(z['pool_bytes'])} of its "
            f"{format_bytes(z['pool_limit_bytes'])} limit ({z['max_pool_percent']} % of RAM). "
            "At the limit new pages are rejected straight to the swap device, or older ones "
            "written back to make room: swap-outs cost disk I/O again."
            + (f" The pool hit its limit {limit_hits} times since boot." if limit_hits else ""),
            {
                "pool_bytes": z["pool_bytes"],
                "pool_limit_bytes": z["pool_limit_bytes"],
                "pool_full_pct": full,
                "max_pool_percent": z["max_pool_percent"],
                "accept_threshold_percent": threshold,
                "pool_accept_bytes": accept,
                "stored_bytes": z.get("stored_bytes"),
                "pool_limit_hit": limit_hits,
                "files": [
                    "/sys/module/zswap/parameters/max_pool_percent",
                    "/sys/module/zswap/parameters/accept_threshold_percent",
                    "/proc/meminfo",
                ]
                + (["/sys/kernel/debug/zswap/pool_limit_hit"] if limit_hits is not None else []),
            },
            [
                f"echo {min(2 * (z['max_pool_percent'] or 10), 50)} > "
                "/sys/module/zswap/parameters/max_pool_percent",
                "# or add RAM; checkswap top shows who fills it",
            ],
        )
    ]


def check_zswap_writeback(f: Facts) -> list[dict[str, Any]]:
    """zswap-writeback-heavy: the pool sends pages on to the device as fast as it takes them."""
    rec = f.record
    wb, stored = rec.get("zswap_writeback_per_s"), rec.get("zswap_out_per_s")
    if not isinstance(wb, (int, float)) or wb < ZSWAP_WRITEBACK_HEAVY_PAGES_PER_S:
        return []
    share = wb / stored if isinstance(stored, (int, float)) and stored > 0 else None
    return [
        finding(
            "zswap-writeback-heavy",
            "warning",
            "zswap is writing its pool back to the swap device",
            f"{wb:.0f} pages/s written back from the zswap pool to the device"
            + (f" ({share:.0%} of the {stored:.0f} pages/s it stores)" if share else "")
            + ": these pages pay for compression and then for device I/O anyway. The pool is "
            "at its limit (max_pool_percent) or its shrinker is evicting it.",
            {
                "zswap_writeback_per_s": wb,
                "zswap_out_per_s": stored,
                "writeback_share": share,
                "threshold_pages_per_s": ZSWAP_WRITEBACK_HEAVY_PAGES_PER_S,
                "files": ["/proc/vmstat", "/sys/module/zswap/parameters/max_pool_percent"],
            },
            [
                "cat /sys/module/zswap/parameters/max_pool_percent",
                "echo 30 > /sys/module/zswap/parameters/max_pool_percent",
                "checkswap top --sort activity",
            ],
        )
    ]


def check_zram_full(f: Facts) -> list[dict[str, Any]]:
    out = []
    for z in f.tiers.get("zram") or []:
        if not z.get("swap"):
            continue
        name = f"/dev/{z['device']}"
        files = [f"/sys/block/{z['device']}/mm_stat", f"/sys/block/{z['device']}/disksize"]
        disk_pct, limit_pct = z.get("disk_used_pct"), z.get("limit_used_pct")
        full = [p for p in (disk_pct, limit_pct) if p is not None and p >= ZRAM_FULL_PCT]
        if full:
            by_limit = limit_pct is not None and limit_pct >= ZRAM_FULL_PCT
            what = (
                f"uses {format_bytes(z['memory_used_bytes'])} of RAM of its "
                f"{format_bytes(z['memory_limit_bytes'])} mem_limit"
                if by_limit
                else f"stores {format_bytes(z['original_bytes'])} of its "
                f"{format_bytes(z['disksize_bytes'])} size"
            )
            out.append(
                finding(
                    "zram-nearly-full",
                    "critical" if max(full) >= 98 else "warning",
                    f"zram swap {name} is {max(full):.0f} % full",
                    f"{name} {what}. When it is full, swap-outs to it fail and the kernel moves "
                    "on to a lower-priority area, or to the OOM killer if there is none.",
                    {**_zram_evidence(z), "files": files},
                    [
                        "checkswap top",
                        "# give zram more room (swapoff, zramctl --size) or add a disk swap "
                        "area at a lower priority behind it",
                    ],
                )
            )
        if z.get("memory_limit_bytes") is None and z.get("disksize_bytes"):
            big = f.mem_total is not None and z["disksize_bytes"] >= f.mem_total
            out.append(
                finding(
                    "zram-without-limit",
                    "warning" if big else "info",
                    f"zram swap {name} has no mem_limit",
                    f"{name} may store {format_bytes(z['disksize_bytes'])} and has no limit on "
                    "the RAM it takes: incompressible pages are stored whole, so it can take "
                    + (
                        "all of RAM (its size is at least MemTotal)."
                        if big
                        else "as much RAM as its size."
                    ),
                    {**_zram_evidence(z), "mem_total_bytes": f.mem_total, "files": files},
                    # A quarter of RAM (or less, the device's size): the RAM it may take.
                    [
                        f"echo {min(z['disksize_bytes'], (f.mem_total or 0) // 4 or 1 << 26)} > "
                        f"/sys/block/{z['device']}/mem_limit"
                    ],
                )
            )
    return out


def _zram_evidence(z: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "device",
        "disksize_bytes",
        "original_bytes",
        "compressed_bytes",
        "memory_used_bytes",
        "memory_limit_bytes",
        "disk_used_pct",
        "limit_used_pct",
    )
    return {k: z.get(k) for k in keys}


def check_mthp_fallback(f: Facts) -> list[dict[str, Any]]:
    out = []
    for row in f.tiers.get("mthp") or []:
        pct, fb = row.get("fallback_pct"), row.get("swpout_fallback")
        if pct is None or fb is None or pct < MTHP_FALLBACK_PCT or fb < MTHP_FALLBACK_MIN:
            continue
        kb = row["size_bytes"] // 1024
        out.append(
            finding(
                "mthp-swapout-fallback",
                "info",
                f"{pct:.0f} % of {kb} kB folios were split before swap-out",
                f"Since boot {fb} folios of {kb} kB had to be split into pages to be swapped "
                f"out, {row['swpout'] or 0} went out whole: swap has no free runs of "
                f"{kb // 4} contiguous slots, so each is written and read back page by page.",
                {**row, "files": [f"/sys/kernel/mm/transparent_hugepage/hugepages-{kb}kB/stats"]},
                [
                    "# more swap space (a fragmented area has few free runs), or fewer sizes:",
                    f"echo never > /sys/kernel/mm/transparent_hugepage/hugepages-{kb}kB/enabled",
                ],
            )
        )
    return out


def check_deleted_areas(f: Facts) -> list[dict[str, Any]]:
    """swap-area-deleted: an area whose file or device node was unlinked after swapon."""
    out = []
    for d in f.devices:
        if not d.get("deleted"):
            continue
        name = d["name"]
        path = name[: -len(" (deleted)")]
        is_file = d.get("type") == "file"
        what = "file" if is_file else "device node"
        if is_file:
            fix = [
                "# swapoff(2) needs a path to the same inode, and a deleted file has none: unless "
                "a hard link to it is left, the space comes back only at the next reboot",
                "# then make a new swapfile (checkswap swapfile add) and put it in /etc/fstab",
            ]
        else:
            fix = [
                "# swapoff may be the only way to release it: recreate the node with the area's "
                "device number (mknod PATH b MAJOR MINOR), then swapoff that node",
                f"swapoff {path}",
            ]
        out.append(
            finding(
                "swap-area-deleted",
                "warning",
                f"Swap area {path} was deleted while in use",
                f"The kernel still swaps to {path}, but its {what} was deleted after swapon "
                '(/proc/swaps marks it "(deleted)"). It can no longer be reached by name: '
                f"swapoff {path} fails, and anything made at that path since is not this area. "
                f"{format_bytes(d['used_bytes'])} of pages sit there; "
                "which processes hold them cannot be known (the kernel counts swap per "
                "process, not per area).",
                {
                    "device": name,
                    "path": path,
                    "type": d.get("type"),
                    "size_bytes": d["size_bytes"],
                    "used_bytes": d["used_bytes"],
                    "files": ["/proc/swaps"],
                },
                fix,
            )
        )
    return out


CHECKS: tuple[Callable[[Facts], list[dict[str, Any]]], ...] = (
    check_no_swap,
    check_devices,
    check_deleted_areas,
    check_swappiness,
    check_role_swap,
    check_sizes,
    check_swap_accounting,
    check_verdict,
    check_environment,
    check_zswap_writeback,
    check_disk_cost,
    check_zswap_pool_full,
    check_zram_full,
    check_mthp_fallback,
)


def findings(f: Facts) -> list[dict[str, Any]]:
    """Every rule's findings, worst first (the sort is stable: rule order within a severity)."""
    out: list[dict[str, Any]] = []
    for check in CHECKS:
        out.extend(check(f))
    out.sort(key=lambda x: SEVERITY_ORDER.get(x["severity"], 9))
    return out
