"""What the doctor's rules read, gathered once: Facts, the two samples, /proc/diskstats, since boot.

``gather(root, role, ...)`` does all of the doctor's I/O and clock reading: /proc/swaps and the
device topology under each area, two samples ``sample_s`` apart (a bundle: its first and last)
with /proc/diskstats at each, swappiness, mounts (LXCFS), zswap and uptime. The rules in
rules.py then judge a Facts without touching the root. ``disk_cost`` and ``since_boot`` are the
doctor's own arithmetic on those facts: no other command reads /proc/diskstats rates, so they
live here, on top of the generic ``model.rates.counter_rates``, rather than in model/.
"""

from __future__ import annotations

import os
import time

from checkswap.doctor.roles import ROLES, Role
from checkswap.fields import doctor_object
from checkswap.kernel.block import SECTOR_BYTES, DiskStats, read_diskstats
from checkswap.kernel.mountinfo import read_mountinfo
from checkswap.kernel.swaps import SwapArea, read_swaps
from checkswap.kernel.sysctl import read_sysctl_int
from checkswap.kernel.uptime import read_uptime
from checkswap.kernel.zswap import Zswap, read_zswap
from checkswap.model.procs import Scanner, process_wait_key
from checkswap.model.rates import counter_rates
from checkswap.model.sample import Sample, Sampler, Ticker
from checkswap.model.tiers import area_counters, area_traffic
from checkswap.model.tiers import read_state as read_tier_state
from checkswap.model.topology import FILES as TOPOLOGY_FILES
from checkswap.model.topology import Topology
from checkswap.source.root import Root

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Any, Callable


class Facts:
    """Everything the checks read, gathered once so each check is a small pure function."""

    def __init__(self) -> None:
        self.role: Role = ROLES["general"]
        self.devices: list[dict[str, Any]] = []
        self.device_files: list[str] = list(TOPOLOGY_FILES)  # where the device facts came from
        self.first: Sample | None = None
        self.last: Sample | None = None
        self.disk_before: dict[str, DiskStats] = {}
        self.disk_after: dict[str, DiskStats] = {}
        self.record: dict[str, Any] = {}
        self.verdict = "unknown"
        self.verdict_evidence: dict[str, Any] = {}
        self.swappiness: int | None = None
        self.mem_total: int | None = None
        self.lxcfs: list[str] = []
        self.virtual_swaps = False
        self.zswap: Zswap | None = None
        self.zswap_enabled: bool | None = None
        self.zswap_pool: int | None = None
        self.uptime_s: float | None = None
        self.disk_cost: dict[str, Any] | None = None
        self.since_boot: dict[str, Any] = {}
        self.psi = False
        self.page_size = 4096
        self.kernel_release: str | None = None
        self.hostname: str | None = None
        self.notes: list[str] = []
        self.tiers: dict[str, Any] = {}  # gather_tiers: model/tiers.py's state and area traffic
        # Who waited for swap-in over the sample (delay accounting; empty without it).
        self.waiters: list[dict[str, Any]] = []
        self.swaps_read = True  # False: /proc/swaps could not be read, the areas are unknown
        self.areas: list[SwapArea] = []  # /proc/swaps as read (every kind, virtual included)
        self.swap_accounting: dict[str, Any] | None = None  # model/totals.accounting, judged

    def swap_disks(self) -> list[str]:
        """The disks under the swap areas (not zram), each once, in the areas' order."""
        out: list[str] = []
        for d in self.devices:
            for x in d["disk_facts"]:
                if not x["zram"] and x["name"] not in out:
                    out.append(x["name"])
        return out


def gather(
    root: Root,
    role: Role,
    sample_s: float,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Facts:
    """Read everything the rules need from root; the derived figures are left to the caller."""
    f = Facts()
    f.role = role
    f.notes = list(root.notes)
    try:
        areas = read_swaps(root)
    except OSError as e:
        # A container or a restricted /proc: the sizes and the activity are still in meminfo,
        # vmstat and PSI, so the doctor judges those and says what it could not see.
        areas = []
        f.swaps_read = False
        f.notes.append(
            f"{root.join('proc/swaps')} unreadable ({e.strerror or e}): swap areas unknown, "
            "so no finding on devices; judged from /proc/meminfo, /proc/vmstat and PSI"
        )
    f.areas = areas
    f.virtual_swaps = any(a.type == "virtual" for a in areas)
    topo = Topology(root)
    f.devices = [topo.device(a) for a in areas]
    f.notes.extend(topo.notes)
    waits = _wait_scanner(root)
    first, f.last, f.disk_before, f.disk_after = gather_samples(root, sample_s, sleep, monotonic)
    if waits is not None:
        f.waiters = waiters(waits.sample())
    f.first = first
    if not first.vmstat:
        f.notes.append(
            f"{root.join('proc/vmstat')} missing: no swap-in/swap-out counters, so no rates "
            "and no verdict on activity; the setup is judged from the other files"
        )
    f.psi = first.psi is not None and first.psi.full is not None
    f.page_size = root.page_size
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
    f.zswap = read_zswap(root)
    f.zswap_enabled = None if f.zswap is None else f.zswap.enabled
    # At the end of the sample, as the sample record's zswap_pool_bytes (meminfo:Zswap at the
    # interval's end): read at the start, one report gave two pool sizes on a bundle.
    f.zswap_pool = (f.last or first).meminfo.get("Zswap")
    f.uptime_s = read_uptime(root)
    f.kernel_release = root.kernel_release
    f.hostname = root.hostname
    gather_tiers(root, f)
    return f


def gather_tiers(root: Root, f: Facts) -> None:
    """The compressed tiers' state at the sample's end, and each area's own I/O over the sample
    from the diskstats gather_samples read (the block devices are the topology's)."""
    end = f.last or f.first
    state = read_tier_state(root, end.meminfo if end is not None else None)
    blocks = [(d["name"], d["type"], d.get("block_device")) for d in f.devices]
    traffic: list[dict[str, Any]] = []
    if f.first is not None and f.last is not None and f.disk_before and f.disk_after:
        traffic = area_traffic(
            area_counters(blocks, f.disk_before),
            area_counters(blocks, f.disk_after),
            f.last.mono - f.first.mono,
        )
    state["areas"] = traffic
    f.tiers = state


WAITERS = 3  # named in the verdict's evidence


def _wait_scanner(root: Root) -> Scanner | None:
    """A process scan taken now, to be taken again after the sample: only where delay
    accounting can answer (this host, root, kernel.task_delayacct on), since it costs two
    scans of every /proc/PID/status."""
    if not root.is_host or os.geteuid() != 0:
        return None
    if read_sysctl_int(root, "kernel.task_delayacct") != 1:
        return None
    scanner = Scanner(root, cgroups=False)
    scanner.sample()
    return scanner


def waiters(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """The processes that waited for swap-in over the scan's interval, longest first: pid,
    name, seconds waited in swap-in and in block I/O (where a disk swap-in's wait goes), and
    the interval."""
    span = rec.get("interval_s")
    if not isinstance(span, (int, float)) or span <= 0:
        return []
    out = []
    for p in sorted(rec.get("processes") or [], key=process_wait_key):
        pct = p.get("swapin_wait_pct")
        if not isinstance(pct, (int, float)) or pct <= 0:
            continue
        blkio = p.get("blkio_wait_pct")
        out.append(
            {
                "pid": p.get("pid"),
                "comm": p.get("comm"),
                "swapin_wait_s": pct * span / 100,
                "blkio_wait_s": blkio * span / 100 if isinstance(blkio, (int, float)) else None,
                "interval_s": span,
            }
        )
        if len(out) == WAITERS:
            break
    return out


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
        row = doctor_object(
            "disk_cost.disks[]",
            {
                "name": name,
                "read_bytes_per_s": None if rd is None else rd * SECTOR_BYTES,
                "write_bytes_per_s": None if wr is None else wr * SECTOR_BYTES,
                "reads_per_s": r["reads"],
                "writes_per_s": r["writes"],
                "util_pct": None if busy is None else busy / 10.0,  # ms per s -> %
            },
        )
        if rd is None or wr is None:
            complete = False
        else:
            total_bytes += (rd + wr) * SECTOR_BYTES
        rows.append(row)
    sw = counter_rates(_swap(first), _swap(last), seconds)
    swap_bytes = None
    pin, pout = sw.get("pswpin"), sw.get("pswpout")  # absent without proc/vmstat
    if pin is not None and pout is not None:
        swap_bytes = (pin + pout) * page_size
    share = None
    if complete and swap_bytes is not None and total_bytes > 0:
        share = swap_bytes / total_bytes * 100
    return doctor_object(
        "disk_cost",
        {
            "interval_s": seconds,
            "swap_bytes_per_s": swap_bytes,
            "disk_bytes_per_s": total_bytes if complete else None,
            "swap_share_pct": share,
            "disks": rows,
            "files": ["/proc/diskstats", "/proc/vmstat"],
        },
    )


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


PER_DAY_MIN_UPTIME_S = 86400.0  # a per-day average only from at least one day of uptime


def _ago(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 120:
        return f"{minutes:.0f} minutes"
    return f"{minutes / 60:.1f} hours"


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
        # A per-day average from minutes of uptime is an extrapolation, not a measure: a boot
        # storm over 6 minutes read as "1949.96 GiB/day". Below a day, say how long it has been.
        per_day = uptime_s >= PER_DAY_MIN_UPTIME_S
        out["swap_in_gib_per_day"] = out["swap_in_gib"] / days if per_day else None
        out["swap_out_gib_per_day"] = out["swap_out_gib"] / days if per_day else None
        if pin == 0 and pout == 0:
            meaning = "nothing was ever swapped since boot"
        elif pin == 0:
            meaning = "pages went out but none was ever read back: swap only held idle pages"
        elif not per_day:
            meaning = (
                f"{out['swap_in_gib']:.2f} GiB was read back since boot, "
                f"{_ago(uptime_s)} ago (too short for a per-day average): each page of it "
                "was a wait for a process; compare with today's rate to see if this is new"
            )
        else:
            meaning = (
                f"{out['swap_in_gib']:.2f} GiB was read back over {days:.1f} days "
                f"({out['swap_in_gib_per_day']:.2f} GiB/day on average): each page of it was "
                "a wait for a process; compare with today's rate to see if this is new"
            )
        out["meaning"] = meaning
    elif pin is not None and pout is not None:
        # Without uptime the totals stand alone: say why there is no average rather than
        # end the line on nothing.
        out["meaning"] = (
            "nothing was ever swapped since boot"
            if pin == 0 and pout == 0
            else "uptime unknown (no /proc/uptime): no per-day average"
        )
    return doctor_object("since_boot", out)


def gather_samples(
    root: Root,
    sample_s: float,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float] = time.monotonic,
) -> tuple[Sample, Sample | None, dict[str, DiskStats], dict[str, DiskStats]]:
    """Two samples sample_s apart (a bundle: its first and last), with /proc/diskstats at each."""
    ticker = Ticker(root, sample_s, monotonic, sleep)
    sampler = Sampler(root, need_vmstat=False)
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
