"""Metric families for ``checkswap serve``: pure functions from what was read to Prometheus.

Every family serve exports is built here, from a raw sample and /proc/swaps (the machine), a
``top --format json`` record (processes, cgroups), a doctor report (findings, device facts) and
the background jobs' status, so each metric name and help text has this one home. Nothing here
opens a socket, starts a thread or reads a file: counters are exported as counters and PromQL's
``rate()`` makes the rates, so nothing here divides by time either.

Imports ``prometheus_client`` (the ``exporter`` extra) at the top, as fleet/http.py and
fleet/serve.py do: only ``serve`` imports them, inside ``run``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from checkswap import __version__
from checkswap.fields import cgroup_field, exported, metric_values, process_field, top_field
from checkswap.fleet.names import CGROUP_MEMORY_PRESSURE, FINDING, PROCESS_SWAPIN_WAIT
from checkswap.model.cgroups import kube_ids

if TYPE_CHECKING:
    from checkswap.fleet.waits import WaitTotals
    from checkswap.kernel.swaps import SwapArea
    from checkswap.model.sample import Sample


def system_metrics(sample: Sample, areas: list[SwapArea] | None, page_size: int) -> list[Metric]:
    """Metric families for the whole machine from one raw sample and /proc/swaps.

    Names, types, help and order come from the field registry; only the swap areas, which are
    not fields of a sample, are built here.
    """
    out: list[Metric] = []
    labelled: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
    for meta, value in metric_values(sample, page_size):
        make = CounterMetricFamily if meta.type == "counter" else GaugeMetricFamily
        if meta.label is None:
            out.append(make(meta.name, meta.help, value=value))
            continue
        family: CounterMetricFamily | GaugeMetricFamily | None = labelled.get(meta.name)
        if family is None:
            family = labelled[meta.name] = make(meta.name, meta.help, labels=[meta.label[0]])
            out.append(family)
        family.add_metric([meta.label[1]], value)
    if areas is not None:
        used_fam = GaugeMetricFamily(
            "checkswap_swap_device_used_bytes",
            "Swap in use on each swap area (Used column of /proc/swaps).",
            labels=["device"],
        )
        size_fam = GaugeMetricFamily(
            "checkswap_swap_device_size_bytes",
            "Size of each swap area (Size column of /proc/swaps).",
            labels=["device"],
        )
        prio_fam = GaugeMetricFamily(
            "checkswap_swap_device_priority",
            "Priority of each swap area: higher is used first (Priority column of /proc/swaps).",
            labels=["device"],
        )
        for a in areas:
            used_fam.add_metric([a.name], a.used_bytes)
            size_fam.add_metric([a.name], a.size_bytes)
            prio_fam.add_metric([a.name], a.priority)
        out += [used_fam, size_fam, prio_fam]
    return out


def process_metrics(top: dict[str, Any], limit: int) -> list[Metric]:
    """Per-name and per-cgroup swap from a ``top --format json`` record, ``limit`` of each.

    Processes are summed by (comm, unit) with no pid label, so a worker pool is one series and
    series do not come and go with pids; only the ``limit`` largest holders are exported, so the
    number of series is bounded whatever runs on the machine.

    Chosen by swap held, the value exported, not by swap activity (model/procs.py's
    process_activity): activity is a rate, and serve leaves rates to PromQL.
    """
    sums: dict[tuple[str, str], int] = {}
    for p in top.get("processes") or []:
        swap = p.get("swap_bytes")
        if not swap:
            continue
        key = (str(p.get("comm") or ""), str(p.get("unit") or ""))
        sums[key] = sums.get(key, 0) + int(swap)
    # Names and help are the registry's (fields.PROCESS_FIELDS...), as top's keys are.
    procs = GaugeMetricFamily(
        *exported(process_field("swap_bytes"), limit=limit), labels=["comm", "unit"]
    )
    for (comm, unit), swap in sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]:
        procs.add_metric([comm, unit], swap)
    cgroups = GaugeMetricFamily(
        *exported(cgroup_field("swap_bytes"), limit=limit),
        labels=["cgroup", "pod_uid", "container_id"],
    )
    rows = [c for c in top.get("cgroups") or [] if c.get("swap_bytes")]
    rows.sort(key=lambda c: (-int(c["swap_bytes"]), str(c.get("path"))))
    for c in rows[:limit]:
        # Empty outside a pod, which Prometheus stores as no label at all.
        pod_uid, container_id = kube_ids(str(c.get("path"))) or ("", "")
        cgroups.add_metric([str(c.get("path")), pod_uid, container_id], int(c["swap_bytes"]))
    out: list[Metric] = [procs, cgroups]
    unattributed = top.get("unattributed_swap_bytes")
    if unattributed is not None:
        out.append(
            GaugeMetricFamily(*exported(top_field("unattributed_swap_bytes")), value=unattributed)
        )
    return out


def process_wait_metrics(totals: WaitTotals, limit: int) -> list[Metric]:
    """``checkswap_process_swapin_wait_seconds_total{comm,unit}``: the ``limit`` series that
    waited longest, each a running total of its processes' positive deltas (fleet/waits.py),
    so neither an exit nor a fall out of the top N makes it drop."""
    fam = CounterMetricFamily(
        PROCESS_SWAPIN_WAIT,
        "Time the threads of processes with this comm and unit waited reading pages back from "
        f"swap (taskstats swapin_delay_total, summed over threads); the {limit} longest only. "
        "Needs root and kernel.task_delayacct=1 (serve --delayacct); a disk's wait is mostly "
        "block I/O instead (docs/top.md).",
        labels=["comm", "unit"],
    )
    for (comm, unit), seconds in totals.top(limit):
        fam.add_metric([comm, unit], seconds)
    return [fam]


def cgroup_pressure_metrics(
    totals: dict[str, tuple[int | None, int | None]], limit: int
) -> list[Metric]:
    """``checkswap_cgroup_memory_pressure_seconds_total{cgroup,pod_uid,container_id,kind}``
    (the Kubernetes ids as on ``checkswap_cgroup_swap_bytes``) for the ``limit``
    cgroups that stalled longest (``some``): the kernel's own per-cgroup counter, so it is
    exported as read. ``totals`` is path -> (some, full) in µs; cgroup v1 has none."""
    fam = CounterMetricFamily(
        CGROUP_MEMORY_PRESSURE,
        "Time tasks of each memory cgroup stalled on memory (cgroup v2 memory.pressure total; "
        "v1 has no per-cgroup pressure): kind=some when at least one waited, kind=full when "
        f"all its non-idle tasks did. The {limit} most stalled cgroups only.",
        labels=["cgroup", "pod_uid", "container_id", "kind"],
    )
    rows = [(path, some, full) for path, (some, full) in totals.items() if some is not None]
    rows.sort(key=lambda r: (-int(r[1] or 0), r[0]))
    for path, some, full in rows[:limit]:
        pod_uid, container_id = kube_ids(path) or ("", "")
        fam.add_metric([path, pod_uid, container_id, "some"], int(some or 0) / 1e6)
        if full is not None:
            fam.add_metric([path, pod_uid, container_id, "full"], full / 1e6)
    return [fam]


def finding_metrics(findings: Iterable[dict[str, Any]]) -> list[Metric]:
    fam = GaugeMetricFamily(
        FINDING,
        "1 for each finding of checkswap doctor (id, severity); see `checkswap doctor`.",
        labels=["id", "severity"],
    )
    seen = set()
    for f in findings:
        key = (str(f.get("id")), str(f.get("severity")))
        if key not in seen:  # two findings with one id (two devices) are one series
            seen.add(key)
            fam.add_metric(list(key), 1)
    return [fam]


class ScanStatus(Protocol):
    """What scan_metrics needs of a background job (serve.Periodic), so this module needs no
    scheduler."""

    name: str
    duration_s: float | None
    finished_wall: float | None
    errors: int


def scan_metrics(jobs: Iterable[ScanStatus]) -> list[Metric]:
    duration = GaugeMetricFamily(
        "checkswap_scan_duration_seconds",
        "How long the last background scan took (processes, doctor).",
        labels=["scan"],
    )
    stamp = GaugeMetricFamily(
        "checkswap_scan_timestamp_seconds",
        "When the last background scan finished (Unix time): the age of what is exported.",
        labels=["scan"],
    )
    errors = CounterMetricFamily(
        "checkswap_scan_errors_total", "Background scans that failed.", labels=["scan"]
    )
    for job in jobs:
        if job.duration_s is not None:
            duration.add_metric([job.name], job.duration_s)
        if job.finished_wall is not None:
            stamp.add_metric([job.name], job.finished_wall)
        errors.add_metric([job.name], job.errors)
    return [duration, stamp, errors]


def info_metrics() -> list[Metric]:
    info = GaugeMetricFamily(
        "checkswap_exporter_info", "checkswap's version; always 1.", labels=["version"]
    )
    info.add_metric([__version__], 1)
    return [info]


def device_metrics(devices: Iterable[dict[str, Any]]) -> list[Metric]:
    """``checkswap_swap_device_info`` from the doctor's device facts (topology.py)."""
    fam = GaugeMetricFamily(
        "checkswap_swap_device_info",
        "1 for each swap area, with what it is: kind (file, partition, zram...), whether its "
        "disk is flagged rotational (true, false, unknown) and network-backed.",
        labels=["device", "kind", "rotational", "network"],
    )
    for d in devices:
        fam.add_metric(
            [
                str(d.get("name")),
                str(d.get("kind")),
                _flag(d.get("rotational")),
                _flag(d.get("network")),
            ],
            1,
        )
    return [fam]


def _flag(value: object) -> str:
    return "unknown" if value is None else str(bool(value)).lower()


def doctor_metrics(report: dict[str, Any]) -> list[Metric]:
    return finding_metrics(report.get("findings") or []) + device_metrics(
        report.get("devices") or []
    )


# The compressed tiers and per-area I/O (model/tiers.py): one family per figure, labelled by
# device (bounded by the zram devices and swap areas there are) or folio size (a dozen at most).
_ZRAM_GAUGES = (
    (
        "original_bytes",
        "checkswap_zram_original_bytes",
        "Data stored in the zram device, uncompressed (mm_stat orig_data_size).",
    ),
    (
        "compressed_bytes",
        "checkswap_zram_compressed_bytes",
        "Data stored in the zram device, compressed (mm_stat compr_data_size).",
    ),
    (
        "memory_used_bytes",
        "checkswap_zram_memory_used_bytes",
        "RAM the zram device uses, allocator overhead included (mm_stat mem_used_total).",
    ),
    (
        "memory_limit_bytes",
        "checkswap_zram_memory_limit_bytes",
        "The zram device's mem_limit; no series when it has none (mm_stat mem_limit 0).",
    ),
    (
        "memory_used_max_bytes",
        "checkswap_zram_memory_used_max_bytes",
        "Most RAM the zram device has used (mm_stat mem_used_max).",
    ),
    ("disksize_bytes", "checkswap_zram_disksize_bytes", "The zram device's size (disksize)."),
    (
        "same_pages",
        "checkswap_zram_same_pages",
        "Same-filled pages the zram device stores without data (mm_stat same_pages).",
    ),
    (
        "huge_pages",
        "checkswap_zram_huge_pages",
        "Incompressible pages the zram device stores whole (mm_stat huge_pages).",
    ),
)
_ZSWAP_GAUGES = (
    ("enabled", "checkswap_zswap_enabled", "1 when zswap takes new pages (parameters/enabled)."),
    (
        "max_pool_percent",
        "checkswap_zswap_max_pool_percent",
        "zswap pool limit, percent of RAM (parameters/max_pool_percent).",
    ),
    (
        "pool_limit_bytes",
        "checkswap_zswap_pool_limit_bytes",
        "zswap pool limit in bytes: max_pool_percent of MemTotal.",
    ),
    (
        "accept_threshold_percent",
        "checkswap_zswap_accept_threshold_percent",
        "Once full, zswap refuses pages until the pool is below this share of its limit.",
    ),
    (
        "shrinker_enabled",
        "checkswap_zswap_shrinker_enabled",
        "1 when zswap writes cold pages back under memory pressure (parameters/shrinker_enabled).",
    ),
)
# debugfs counters (root, debugfs mounted): only these are counters; the others are sizes.
_ZSWAP_DEBUG_COUNTERS = (
    "pool_limit_hit",
    "reject_reclaim_fail",
    "reject_alloc_fail",
    "reject_kmemcache_fail",
    "reject_compress_fail",
    "reject_compress_poor",
    "decompress_fail",
    "written_back_pages",
)
_MTHP = (
    ("swpout", "checkswap_mthp_swap_out_total", "Folios of this size swapped out whole."),
    (
        "swpout_fallback",
        "checkswap_mthp_swap_out_fallback_total",
        "Folios of this size split before swap-out (no contiguous swap space).",
    ),
    ("swpin", "checkswap_mthp_swap_in_total", "Folios of this size swapped in whole."),
)


def tier_metrics(state: dict[str, Any], areas: list[dict[str, Any]] | None) -> list[Metric]:
    """zram per device, zswap's state, mTHP per folio size and each swap area's own I/O.

    ``state`` is model/tiers.py's read_state, ``areas`` its area_counters; a figure the kernel
    does not give leaves its series out, and a family with no series is not exported.
    """
    out: list[Metric] = []
    zrams = state.get("zram") or []
    for key, name, help in _ZRAM_GAUGES:
        fam = GaugeMetricFamily(name, help, labels=["device"])
        for z in zrams:
            if z.get(key) is not None:
                fam.add_metric([str(z["device"])], z[key])
        out.append(fam)
    zswap = state.get("zswap")
    if zswap is not None:
        for key, name, help in _ZSWAP_GAUGES:
            value = zswap.get(key)
            if value is not None:
                out.append(GaugeMetricFamily(name, help, value=float(value)))
        debug = zswap.get("debug") or {}
        fam_c = CounterMetricFamily(
            "checkswap_zswap_debug_events_total",
            "zswap's debugfs counters, by name (pool_limit_hit, reject_*, written_back_pages); "
            "only as root with debugfs mounted.",
            labels=["counter"],
        )
        for counter in _ZSWAP_DEBUG_COUNTERS:
            if counter in debug:
                fam_c.add_metric([counter], debug[counter])
        out.append(fam_c)
    mthp: dict[int, dict[str, int]] = state.get("mthp_counters") or {}
    for key, name, help in _MTHP:
        fam_m = CounterMetricFamily(name, help, labels=["size"])
        for size, counters in mthp.items():
            if key in counters:
                fam_m.add_metric([f"{size // 1024}kB"], counters[key])
        out.append(fam_m)
    if areas is not None:
        exact = [a for a in areas if a.get("exact")]
        io = (
            (
                "read_bytes",
                "checkswap_swap_device_read_bytes_total",
                "Bytes read from the swap "
                "area's own block device (diskstats); only areas that are a whole block device.",
            ),
            (
                "written_bytes",
                "checkswap_swap_device_written_bytes_total",
                "Bytes written to the "
                "swap area's own block device (diskstats); only areas that are a whole block "
                "device.",
            ),
            (
                "reads",
                "checkswap_swap_device_reads_total",
                "Reads completed on the swap area's own block device (diskstats).",
            ),
            (
                "writes",
                "checkswap_swap_device_writes_total",
                "Writes completed on the swap area's own block device (diskstats).",
            ),
        )
        for key, name, help in io:
            fam_a = CounterMetricFamily(name, help, labels=["device"])
            for a in exact:
                fam_a.add_metric([str(a["device"])], a[key])
            out.append(fam_a)
    return [m for m in out if m.samples]
