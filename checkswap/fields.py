"""The field registry: every figure checkswap prints, as data, each field written once.

A field carries its machine key, title, unit and help, where its value comes from (``source``),
how a text column shows it (width, decimals, scale) and, where ``serve`` exports the raw figure
behind it, the Prometheus family's name, type and help. The JSON-lines ``sample`` record, the
CSV columns, the text columns and the exported families are all built from this table, so a
record and its renderers cannot drift apart (below's model: metadata attached to the field).

Machine keys are snake_case with their unit in the name; titles are for people.

``source`` says how the sample record computes the field from one ``Interval``:

    time              end of the interval, UTC ISO 8601
    interval          the interval's length in seconds (monotonic clock)
    delta:C / rate:C  the vmstat counter C's increase, or its increase per second
    bytes_rate:C      rate:C times the page size
    page_size         the kernel's page size
    meminfo:F         the meminfo field F at the interval's end (bytes)
    swap_used         SwapTotal - SwapFree at the interval's end
    psi_avg10:K       the kernel's PSI 10 s average of K (some/full) at the interval's end
    psi_pct:K         share of the interval stalled, from PSI K's total

Exported families take the raw figure behind the source: the counter C since boot, the
meminfo field, the page size, swap used, or PSI K's total in seconds.
"""

from __future__ import annotations

from collections import namedtuple

from checkswap.kernel.meminfo import swap_used
from checkswap.kernel.pressure import avg10, line_of
from checkswap.units import iso_utc

TYPE_CHECKING = False  # typing costs ~4 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, NamedTuple

    from checkswap.model.rates import Interval, Tracker
    from checkswap.model.sample import Sample

    class Metric(NamedTuple):
        """A Prometheus family: ``rank`` orders the families as serve has always emitted them;
        ``label`` is the (name, value) this field's sample carries in a labelled family."""

        name: str
        type: str  # "counter" or "gauge"
        help: str
        rank: int
        label: tuple[str, str] | None = None

    class Field(NamedTuple):
        key: str
        title: str  # short column title for text output
        unit: str
        help: str
        source: str  # see the module docstring
        record: str = "sample"  # the record that carries the field: "sample" or "header"
        width: int = 9  # text column: characters, decimals, and value / scale (2**20: MiB)
        decimals: int = 0
        scale: int = 1
        metric: Metric | None = None

else:
    Metric = namedtuple("Metric", "name type help rank label", defaults=(None,))
    Field = namedtuple(
        "Field",
        "key title unit help source record width decimals scale metric",
        defaults=("sample", 9, 0, 1, None),
    )

MIB = 1024 * 1024

SWAP_IN_HELP = "swap-in: pages read back from swap into RAM (pswpin); processes wait for these"
SWAP_OUT_HELP = "swap-out: pages written from RAM to swap (pswpout)"
_RATE_HINT = ". rate() gives pages/s; times checkswap_page_size_bytes gives bytes/s."
PSI_STALL = (
    "checkswap_memory_pressure_stall_seconds_total",
    "counter",
    "Time tasks stalled on memory, from /proc/pressure/memory total: kind=some when at least "
    "one task waited, kind=full when all non-idle tasks waited at once. rate() gives the "
    "share of time stalled (0-1).",
    17,
)

_FIELDS = (
    Field("time", "time", "", "end of the interval, UTC ISO 8601 (local time in text)", "time"),
    Field(
        "interval_s", "interval", "s", "length of the interval on the monotonic clock", "interval"
    ),
    Field(
        "swap_in_pages",
        "in",
        "pages",
        "pages swapped in during the interval",
        "delta:pswpin",
        metric=Metric("checkswap_swap_in_pages_total", "counter", SWAP_IN_HELP + _RATE_HINT, 0),
    ),
    Field(
        "swap_out_pages",
        "out",
        "pages",
        "pages swapped out during the interval",
        "delta:pswpout",
        metric=Metric("checkswap_swap_out_pages_total", "counter", SWAP_OUT_HELP + _RATE_HINT, 1),
    ),
    Field("swap_in_per_s", "in/s", "pages/s", SWAP_IN_HELP, "rate:pswpin"),
    Field("swap_out_per_s", "out/s", "pages/s", SWAP_OUT_HELP, "rate:pswpout"),
    Field(
        "swap_in_bytes_per_s",
        "in MiB/s",
        "bytes/s",
        "swap-in rate in bytes",
        "bytes_rate:pswpin",
        decimals=2,
        scale=MIB,
    ),
    Field(
        "swap_out_bytes_per_s",
        "out MiB/s",
        "bytes/s",
        "swap-out rate in bytes",
        "bytes_rate:pswpout",
        decimals=2,
        scale=MIB,
    ),
    Field(
        "page_size_bytes",
        "page",
        "bytes",
        "page size of the kernel read",
        "page_size",
        metric=Metric(
            "checkswap_page_size_bytes",
            "gauge",
            "Page size of this kernel, for turning page counts into bytes.",
            9,
        ),
    ),
    Field(
        "swap_used_bytes",
        "used MiB",
        "bytes",
        "SwapTotal - SwapFree (as free(1))",
        "swap_used",
        decimals=1,
        scale=MIB,
        metric=Metric(
            "checkswap_swap_used_bytes",
            "gauge",
            "Swap in use: SwapTotal - SwapFree, as free(1) shows it (SwapCached included).",
            10,
        ),
    ),
    Field(
        "swap_total_bytes",
        "total MiB",
        "bytes",
        "SwapTotal",
        "meminfo:SwapTotal",
        metric=Metric(
            "checkswap_swap_total_bytes", "gauge", "Swap space configured (SwapTotal).", 11
        ),
    ),
    Field(
        "swap_cached_bytes",
        "cached MiB",
        "bytes",
        "SwapCached: pages both in swap and in RAM (part of used, not subtracted)",
        "meminfo:SwapCached",
        metric=Metric(
            "checkswap_swap_cached_bytes",
            "gauge",
            "Pages both in swap and in RAM (SwapCached): part of used swap, not subtracted.",
            12,
        ),
    ),
    Field(
        "mem_available_bytes",
        "avail MiB",
        "bytes",
        "MemAvailable",
        "meminfo:MemAvailable",
        metric=Metric(
            "checkswap_memory_available_bytes",
            "gauge",
            "RAM available for new work without swapping (MemAvailable).",
            14,
        ),
    ),
    Field(
        "majflt_per_s",
        "majflt/s",
        "faults/s",
        "major page faults per second (pgmajfault): swap-ins and file reads that waited",
        "rate:pgmajfault",
        width=8,
        metric=Metric(
            "checkswap_major_faults_total",
            "counter",
            "Major page faults (pgmajfault): swap-ins and file reads that made a task wait.",
            2,
        ),
    ),
    Field(
        "refault_anon_per_s",
        "refault/s",
        "pages/s",
        "anonymous pages swapped in soon after eviction (workingset_refault_anon)",
        "rate:workingset_refault_anon",
        metric=Metric(
            "checkswap_refault_anon_pages_total",
            "counter",
            "Anonymous pages swapped in soon after being evicted (workingset_refault_anon, 5.9+).",
            3,
        ),
    ),
    Field(
        "psi_some_avg10",
        "some10%",
        "%",
        "PSI memory some, kernel's 10 s average",
        "psi_avg10:some",
    ),
    Field(
        "psi_full_avg10",
        "full10%",
        "%",
        "PSI memory full, kernel's 10 s average",
        "psi_avg10:full",
    ),
    Field(
        "psi_some_pct",
        "some%",
        "%",
        "share of the interval in which some task stalled on memory (PSI some total)",
        "psi_pct:some",
        width=6,
        decimals=1,
        metric=Metric(*PSI_STALL, ("kind", "some")),
    ),
    Field(
        "psi_full_pct",
        "full%",
        "%",
        "share of the interval in which all busy tasks stalled on memory (PSI full total)",
        "psi_pct:full",
        width=6,
        decimals=1,
        metric=Metric(*PSI_STALL, ("kind", "full")),
    ),
    Field(
        "zswap_in_per_s",
        "zsw in/s",
        "pages/s",
        "pages loaded back from the zswap pool (zswpin): no disk I/O",
        "rate:zswpin",
        metric=Metric(
            "checkswap_zswap_in_pages_total",
            "counter",
            "Pages loaded back from the zswap pool (zswpin): no disk I/O.",
            6,
        ),
    ),
    Field(
        "zswap_out_per_s",
        "zsw out/s",
        "pages/s",
        "pages stored into the zswap pool (zswpout): no disk I/O",
        "rate:zswpout",
        metric=Metric(
            "checkswap_zswap_out_pages_total",
            "counter",
            "Pages stored into the zswap pool (zswpout): no disk I/O.",
            7,
        ),
    ),
    Field(
        "zswap_writeback_per_s",
        "zsw wb/s",
        "pages/s",
        "pages written back from zswap to the swap device (zswpwb)",
        "rate:zswpwb",
        metric=Metric(
            "checkswap_zswap_writeback_pages_total",
            "counter",
            "Pages written back from zswap to the swap device (zswpwb).",
            8,
        ),
    ),
    Field(
        "zswap_pool_bytes",
        "zswap MiB",
        "bytes",
        "Zswap: compressed size of the pool",
        "meminfo:Zswap",
        metric=Metric(
            "checkswap_zswap_pool_bytes", "gauge", "Compressed size of the zswap pool (Zswap).", 15
        ),
    ),
    Field(
        "zswapped_bytes",
        "zswapped MiB",
        "bytes",
        "Zswapped: uncompressed size stored",
        "meminfo:Zswapped",
        metric=Metric(
            "checkswap_zswapped_bytes",
            "gauge",
            "Uncompressed size of what zswap holds (Zswapped).",
            16,
        ),
    ),
    Field(
        "swap_in_zero_per_s",
        "zero in/s",
        "pages/s",
        "zero-filled pages swapped in without device I/O (swpin_zero, 6.12+)",
        "rate:swpin_zero",
        metric=Metric(
            "checkswap_swap_in_zero_pages_total",
            "counter",
            "Zero-filled pages swapped in without device I/O (swpin_zero, 6.12+); not in pswpin.",
            4,
        ),
    ),
    Field(
        "swap_out_zero_per_s",
        "zero out/s",
        "pages/s",
        "zero-filled pages swapped out without device I/O (swpout_zero, 6.12+)",
        "rate:swpout_zero",
        metric=Metric(
            "checkswap_swap_out_zero_pages_total",
            "counter",
            "Zero-filled pages swapped out without device I/O (swpout_zero, 6.12+); not in "
            "pswpout.",
            5,
        ),
    ),
    # Each tier's pages over the interval, and the all-tier totals (model/rates._all_tiers):
    # swap_in_pages/swap_out_pages are the swap devices' share, zram included.
    Field(
        "zswap_in_pages",
        "zsw in",
        "pages",
        "pages loaded back from the zswap pool during the interval (zswpin, 5.19+)",
        "delta:zswpin",
    ),
    Field(
        "zswap_out_pages",
        "zsw out",
        "pages",
        "pages stored into the zswap pool during the interval (zswpout, 5.19+)",
        "delta:zswpout",
    ),
    Field(
        "zswap_writeback_pages",
        "zsw wb",
        "pages",
        "pages written back from the zswap pool to the swap device (zswpwb, 6.8+); "
        "counted again in swap_out_pages",
        "delta:zswpwb",
    ),
    Field(
        "swap_in_zero_pages",
        "zero in",
        "pages",
        "zero-filled pages swapped in without device I/O (swpin_zero, 6.12+)",
        "delta:swpin_zero",
    ),
    Field(
        "swap_out_zero_pages",
        "zero out",
        "pages",
        "zero-filled pages swapped out without device I/O (swpout_zero, 6.12+)",
        "delta:swpout_zero",
    ),
    Field(
        "swap_in_all_pages",
        "all in",
        "pages",
        "pages read back into RAM from any tier: pswpin + zswpin + swpin_zero",
        "delta:swap_in_all",
    ),
    Field(
        "swap_out_all_pages",
        "all out",
        "pages",
        "pages that left RAM for any tier: zswpout + (pswpout - zswpwb) + swpout_zero",
        "delta:swap_out_all",
    ),
    Field(
        "swap_in_all_per_s",
        "all in/s",
        "pages/s",
        "swap-in from every tier (devices, zswap, zero-filled), pages/s",
        "rate:swap_in_all",
    ),
    Field(
        "swap_out_all_per_s",
        "all out/s",
        "pages/s",
        "swap-out to every tier (devices, zswap, zero-filled), pages/s",
        "rate:swap_out_all",
    ),
    # The header's, exported too: RAM as the kernel counts it.
    Field(
        "mem_total_bytes",
        "RAM MiB",
        "bytes",
        "MemTotal",
        "meminfo:MemTotal",
        record="header",
        metric=Metric(
            "checkswap_memory_total_bytes", "gauge", "RAM usable by the kernel (MemTotal).", 13
        ),
    ),
)

# --- top's records: the processes object, its processes and its cgroups ----------------------
# The same Field, for the records of model/procs.py (``record="processes"``, the object
# ``top --format json`` prints once per refresh), one per listed process (``"process"``) and one
# per memory cgroup (``"cgroup"``, built by model/cgroups.py). Each tuple is in the order the
# record carries its keys (the JSON output follows it). ``source`` names where the model reads
# the figure, for people: these records are built by the scan, not from an Interval. top's text
# columns take title (upper-cased), width and decimals from here, dash's tables the titles; the
# per-process and per-cgroup Prometheus families of serve take name and help ("{limit}": the
# --top cut) from ``metric``.


def _top_field(key: str) -> Field:
    """A sample field the processes object carries too: same key, title, unit and help."""
    f = next(f for f in _FIELDS if f.key == key)
    return f._replace(record="processes", metric=None)


PROCESS_FIELDS: tuple[Field, ...] = tuple(
    Field(*f[:5], "process", *f[5:])
    for f in (
        ("pid", "PID", "", "process id", "proc/PID", 8),
        ("comm", "command", "", "process name", "status:Name", 16),
        ("user", "user", "", "user name, or the uid as text", "status:Uid", 10),
        ("uid", "uid", "", "real user id", "status:Uid"),
        ("state", "state", "", "state letter", "stat:state"),
        (
            "swap_bytes",
            "swap",
            "bytes",
            "held in swap (VmSwap)",
            "status:VmSwap",
            10,
            0,
            1,
            Metric(
                "checkswap_process_swap_bytes",
                "gauge",
                "Swap held (VmSwap) by processes, summed per name and unit; the {limit} "
                "largest only.",
                0,
            ),
        ),
        (
            "swap_delta_bytes_per_s",
            "swap/s",
            "bytes/s",
            "change of SWAP per second (+ swapped out, - swapped back in)",
            "rate:VmSwap",
            11,
        ),
        (
            "majflt_per_s",
            "majflt/s",
            "faults/s",
            "major faults per second (swap-ins, also file reads that waited)",
            "rate:stat.majflt",
            9,
        ),
        (
            "cgroup",
            "cgroup",
            "",
            "raw path in the memory hierarchy (v1: the memory controller's line of "
            "/proc/PID/cgroup)",
            "cgroup",
        ),
        (
            "unit",
            "unit",
            "",
            "systemd unit, docker:<12 hex>-style container, pod:<uid>, or null",
            "cgroup",
        ),
        (
            "swap_pss_bytes",
            "swappss",
            "bytes",
            "SwapPss from smaps_rollup (--pss, within its time budget; else null)",
            "smaps_rollup:SwapPss",
            10,
        ),
        # Delay accounting (taskstats, root, kernel.task_delayacct on; else null). Thread
        # group totals, so the shares sum over threads and exceed 100 when several wait.
        (
            "swapin_delay_s",
            "swapin-s",
            "s",
            "time its threads waited in swap_read_folio, cumulative (taskstats swapin_delay_total)",
            "taskstats:swapin_delay_total",
            8,
            1,
        ),
        (
            "swapin_wait_pct",
            "swapin%",
            "%",
            "share of the interval its threads waited reading swap, summed over threads (can "
            "exceed 100); a disk read's wait is mostly in BLKIO%",
            "rate:taskstats.swapin_delay_total",
            8,
            1,
        ),
        (
            "blkio_delay_s",
            "blkio-s",
            "s",
            "time its threads waited for block I/O, cumulative: swap-ins from a disk wait here, "
            "and so do file reads (taskstats blkio_delay_total)",
            "taskstats:blkio_delay_total",
            8,
            1,
        ),
        (
            "blkio_wait_pct",
            "blkio%",
            "%",
            "share of the interval its threads waited for block I/O (swap or file), summed over "
            "threads",
            "rate:taskstats.blkio_delay_total",
            7,
            1,
        ),
        (
            "thrashing_delay_s",
            "thrash-s",
            "s",
            "time its threads waited for refaulting pages (workingset thrashing), cumulative; "
            "overlaps the swap-in time, never add them (taskstats thrashing_delay_total)",
            "taskstats:thrashing_delay_total",
            8,
            1,
        ),
        (
            "thrashing_wait_pct",
            "thrash%",
            "%",
            "share of the interval its threads waited on thrashing refaults, summed over threads",
            "rate:taskstats.thrashing_delay_total",
            8,
            1,
        ),
    )
)

CGROUP_FIELDS: tuple[Field, ...] = tuple(
    Field(*f[:5], "cgroup", *f[5:])
    for f in (
        ("path", "cgroup", "", "cgroup path in the memory hierarchy", "path"),
        ("unit", "unit", "", "systemd unit, short container id or pod", "path"),
        ("version", "version", "", "cgroup version, 1 or 2", "mount"),
        (
            "swap_bytes",
            "swap",
            "bytes",
            "swap charged to the cgroup: v2 memory.swap.current (hierarchical), v1 memory.stat "
            "swap (its own)",
            "memory.swap.current",
            10,
            0,
            1,
            Metric(
                "checkswap_cgroup_swap_bytes",
                "gauge",
                "Swap charged to each memory cgroup; the {limit} largest only.",
                1,
            ),
        ),
        (
            "swap_in_per_s",
            "in/s",
            "pages/s",
            SWAP_IN_HELP + " (v2, 6.13+)",
            "rate:memory.stat.pswpin",
            8,
        ),
        (
            "swap_out_per_s",
            "out/s",
            "pages/s",
            SWAP_OUT_HELP + " (v2, 6.13+)",
            "rate:memory.stat.pswpout",
            8,
        ),
        (
            "zswap_in_per_s",
            "zsw in/s",
            "pages/s",
            "pages loaded back from zswap",
            "rate:memory.stat.zswpin",
        ),
        (
            "zswap_out_per_s",
            "zsw out/s",
            "pages/s",
            "pages stored into zswap",
            "rate:memory.stat.zswpout",
        ),
        (
            "swap_delta_bytes_per_s",
            "swap/s",
            "bytes/s",
            "change of swap_bytes per second",
            "rate:memory.swap.current",
            11,
        ),
        (
            "majflt_per_s",
            "majflt/s",
            "faults/s",
            "major faults per second",
            "rate:memory.stat.pgmajfault",
            9,
        ),
        (
            "swap_max_bytes",
            "swapmax",
            "bytes",
            "v2 memory.swap.max (null: max, or v1)",
            "memory.swap.max",
            10,
        ),
        (
            "swap_events",
            "events",
            "",
            "v2 memory.swap.events {high, max, fail}; max/fail in text",
            "memory.swap.events",
            9,
        ),
        (
            "swap_events_delta",
            "events+",
            "",
            "their increase since the previous refresh",
            "memory.swap.events",
        ),
        (
            "psi_some_avg10",
            "psi%",
            "%",
            "PSI memory some, the cgroup's 10 s average",
            "memory.pressure",
            5,
            1,
        ),
        (
            "psi_full_avg10",
            "full10%",
            "%",
            "PSI memory full, the cgroup's 10 s average",
            "memory.pressure",
        ),
        (
            "psi_some_pct",
            "some%",
            "%",
            "share of the interval some task stalled",
            "memory.pressure",
            6,
            1,
        ),
        (
            "psi_full_pct",
            "full%",
            "%",
            "share of the interval all busy tasks stalled",
            "memory.pressure",
            6,
            1,
        ),
        # Sums over the cgroup's own listed processes (delay accounting on; else null).
        (
            "swapin_wait_pct",
            "swapin%",
            "%",
            "its listed processes' swapin% summed: the share of the interval their threads "
            "waited reading swap (can exceed 100)",
            "sum:processes.swapin_wait_pct",
            8,
            1,
        ),
        (
            "blkio_wait_pct",
            "blkio%",
            "%",
            "its listed processes' blkio% summed (block I/O wait, swap or file)",
            "sum:processes.blkio_wait_pct",
            7,
            1,
        ),
        (
            "thrashing_wait_pct",
            "thrash%",
            "%",
            "its listed processes' thrash% summed (overlaps swapin%, never add them)",
            "sum:processes.thrashing_wait_pct",
            8,
            1,
        ),
        (
            "memsw_usage_bytes",
            "memsw",
            "bytes",
            "v1 memory.memsw.usage_in_bytes",
            "memory.memsw.usage_in_bytes",
        ),
        (
            "memsw_limit_bytes",
            "memsw max",
            "bytes",
            "v1 memory.memsw.limit_in_bytes",
            "memory.memsw.limit_in_bytes",
        ),
        ("memsw_failcnt", "memsw fail", "", "v1 memory.memsw.failcnt", "memory.memsw.failcnt"),
        ("processes", "procs", "", "listed processes in this cgroup", "scan"),
        ("note", "note", "", "cgroup v1 only: which figures stand in for the missing ones", "v1"),
    )
)

TOP_FIELDS: tuple[Field, ...] = (
    Field("type", "type", "", "the record's kind: processes", "", record="processes"),
    _top_field("time"),
    _top_field("interval_s"),
    Field(
        "processes",
        "processes",
        "",
        "processes holding swap (PROCESS_FIELDS)",
        "scan",
        record="processes",
    ),
    Field(
        "cgroups",
        "cgroups",
        "",
        "memory cgroups (CGROUP_FIELDS), null without --cgroups",
        "scan",
        record="processes",
    ),
    _top_field("swap_used_bytes"),
    _top_field("swap_total_bytes"),
    _top_field("swap_cached_bytes"),
    *(
        Field(*f[:5], "processes", *f[5:])
        for f in (
            (
                "process_swap_bytes",
                "in processes",
                "bytes",
                "sum of VmSwap over the processes",
                "scan",
            ),
            (
                "unattributed_swap_bytes",
                "unattributed",
                "bytes",
                "swap used - process_swap_bytes (shmem/tmpfs, swap cache, hidden)",
                "scan",
                9,
                0,
                1,
                Metric(
                    "checkswap_unattributed_swap_bytes",
                    "gauge",
                    "Swap used that no process's VmSwap accounts for (shmem, tmpfs).",
                    2,
                ),
            ),
            (
                "hidden_processes",
                "hidden",
                "",
                "/proc hides processes (hidepid=2/invisible and not root), or some could not be "
                "read",
                "scan",
            ),
            ("hidepid", "hidepid", "", "the hidepid= mount option of /proc", "mountinfo"),
            (
                "unreadable_processes",
                "unreadable",
                "",
                "processes that could not be read (EACCES/EPERM)",
                "scan",
            ),
            ("scanned_processes", "scanned", "", "processes read", "scan"),
            ("notes", "notes", "", "notes as text", "scan"),
        )
    ),
)

# Keys a record carries only in some cases (see each field's help); all others always.
OPTIONAL_KEYS = frozenset({"note"})

PROCESS_KEYS = tuple(f.key for f in PROCESS_FIELDS)
CGROUP_KEYS = tuple(f.key for f in CGROUP_FIELDS)
TOP_KEYS = tuple(f.key for f in TOP_FIELDS)

# dash's tables are laid out for a screen, not a pipe: their own widths, by field key.
DASH_PROCESS_WIDTHS = {
    "pid": 7,
    "comm": 15,
    "swap_bytes": 10,
    "swap_delta_bytes_per_s": 13,
    "majflt_per_s": 8,
}
DASH_CGROUP_WIDTHS = {"swap_bytes": 10, "swap_out_per_s": 13, "swap_in_per_s": 13}


def process_field(key: str) -> Field:
    return next(f for f in PROCESS_FIELDS if f.key == key)


def cgroup_field(key: str) -> Field:
    return next(f for f in CGROUP_FIELDS if f.key == key)


def top_field(key: str) -> Field:
    return next(f for f in TOP_FIELDS if f.key == key)


def top_metric_families() -> list[Metric]:
    """The families serve exports from a processes record (fleet/metrics.process_metrics),
    in the order it emits them; their help may hold a "{limit}" placeholder."""
    every = (*PROCESS_FIELDS, *CGROUP_FIELDS, *TOP_FIELDS)
    return sorted((f.metric for f in every if f.metric is not None), key=lambda m: m.rank)


def exported(f: Field, **fill: object) -> tuple[str, str]:
    """(name, help) of a processes-record field's family; ``fill``: the help's placeholders."""
    assert f.metric is not None, f"{f.key} is not exported"
    return f.metric.name, f.metric.help.format(**fill)


FIELDS: dict[str, Field] = {f.key: f for f in _FIELDS}
SAMPLE_FIELDS: tuple[Field, ...] = tuple(f for f in _FIELDS if f.record == "sample")

# The sub-records of a sample: rolling averages (one per window of model/rates.WINDOWS) and the
# peaks of the run so far.
AVG_FIELDS: dict[str, Field] = {
    f.key: f
    for f in (
        Field(
            "swap_in_per_s", "in/s", "pages/s", "time-weighted mean swap-in rate", "", decimals=1
        ),
        Field(
            "swap_out_per_s", "out/s", "pages/s", "time-weighted mean swap-out rate", "", decimals=1
        ),
        Field("covered_s", "covered", "s", "seconds of rated intervals inside the window", ""),
        # Every tier's, over the seconds of the window it was known (model/rates.Tracker).
        Field(
            "swap_in_all_per_s",
            "all in/s",
            "pages/s",
            "time-weighted mean swap-in rate from every tier (devices, zswap, zero-filled)",
            "",
            decimals=1,
        ),
        Field(
            "swap_out_all_per_s",
            "all out/s",
            "pages/s",
            "time-weighted mean swap-out rate to every tier (devices, zswap, zero-filled)",
            "",
            decimals=1,
        ),
    )
}
MAX_FIELDS: dict[str, Field] = {
    f.key: f
    for f in (
        Field("swap_in_per_s", "max in/s", "pages/s", "highest interval swap-in rate", ""),
        Field("swap_in_at", "at", "", "end of the interval with that peak, UTC", ""),
        Field("swap_out_per_s", "max out/s", "pages/s", "highest interval swap-out rate", ""),
        Field("swap_out_at", "at", "", "end of the interval with that peak, UTC", ""),
        Field("swap_in_all_per_s", "max all in/s", "pages/s", "highest all-tier swap-in rate", ""),
        Field("swap_in_all_at", "at", "", "end of the interval with that peak, UTC", ""),
        Field(
            "swap_out_all_per_s", "max all out/s", "pages/s", "highest all-tier swap-out rate", ""
        ),
        Field("swap_out_all_at", "at", "", "end of the interval with that peak, UTC", ""),
    )
}
AVG_KEYS = tuple(AVG_FIELDS)
MAX_KEYS = tuple(MAX_FIELDS)
WINDOW_KEYS = ("avg_1m", "avg_5m", "avg_15m")

# The text columns of ``watch``, in the order they print; "avg_5m.K" is AVG_FIELDS[K] of that
# window. The zswap columns only when the kernel has zswap counters (render/watch.py).
TEXT_COLUMNS = (
    "swap_in_per_s",
    "swap_in_bytes_per_s",
    "swap_out_per_s",
    "swap_out_bytes_per_s",
    "swap_used_bytes",
    "avg_5m.swap_in_per_s",
    "avg_5m.swap_out_per_s",
    "psi_some_pct",
    "psi_full_pct",
    "majflt_per_s",
)
TEXT_ZSWAP_COLUMNS = ("zswap_in_per_s", "zswap_out_per_s")
# All tiers at once, when there is more than the devices to see (render/watch.py decides).
TEXT_ALL_COLUMNS = ("swap_in_all_per_s", "swap_out_all_per_s")


def column(key: str) -> tuple[str, Field]:
    """The text title and the field of a TEXT_COLUMNS key."""
    window, dot, inner = key.partition(".")
    if dot:
        return f"{window[4:]} {AVG_FIELDS[inner].title}", AVG_FIELDS[inner]
    return FIELDS[key].title, FIELDS[key]


# --- computing a field from an interval ------------------------------------------------------

if TYPE_CHECKING:
    Getter = Callable[[Interval, Tracker, int], object]
    RecordBuilder = Callable[[Interval, Tracker, int], dict[str, object]]

# How each source reads as a Python expression, in the generated functions below: getter(),
# the sample record and watch's text line are all compiled from these, so they cannot compute
# a field two ways. Names bound by every function's prelude: iv, tracker, page_size, end, d
# (the deltas), secs (the interval's length) and mem (meminfo at the end).
_EXPRESSIONS = {
    "time": "iso_utc(end.wall)",
    "interval": "secs",
    "delta": "d.get({arg!r})",
    "rate": "(None if (x := d.get({arg!r})) is None else x / secs)",
    "bytes_rate": "(None if (x := d.get({arg!r})) is None else x / secs * page_size)",
    "page_size": "page_size",
    "swap_used": "swap_used(mem)",
    "meminfo": "mem.get({arg!r})",
    "psi_avg10": "avg10(end.psi, {arg!r})",
    "psi_pct": "iv.psi_{arg}_pct",
}
_PRELUDE = "    end = iv.end\n    d = iv.deltas\n    secs = iv.interval_s\n    mem = end.meminfo\n"


def _windows() -> tuple[tuple[str, float], ...]:
    from checkswap.model.rates import WINDOWS

    return WINDOWS


def expression(key: str) -> tuple[str, str]:
    """(expression, statement it needs first or "") computing a field or "avg_5m.K"."""
    window, dot, inner = key.partition(".")
    if dot:
        index = next(i for i, (k, _) in enumerate(_windows()) if k == window)
        pos = AVG_KEYS.index(inner)
        # One means() per window and function, however many of its columns are shown.
        need = f"w{index} = tracker.windows[{index}][1].means()"
        if pos == 2:
            return f"w{index}[1]", need
        if pos > 2:  # the all-tier means: the window's columns 2 and 3 (rates.Tracker)
            return f"all_tier_mean(w{index}[0], {pos - 1})", need
        return f"w{index}[0][{pos}]", need
    kind, _, arg = FIELDS[key].source.partition(":")
    return _EXPRESSIONS[kind].format(arg=arg), ""


def compile_fields(
    keys: Sequence[str],
    body: Callable[[list[str]], str],
    label: str,
    namespace: dict[str, object] | None = None,
) -> Callable[..., Any]:
    """``f(iv, tracker, page_size)`` compiled from the fields' expressions, once.

    ``body`` gets the keys' expressions in order and returns the function's statements (indented
    four spaces) after the prelude. Straight-line code from the registry is what a hand-written
    record or line would be, without a per-field call: at 1 Hz a tick runs cache-cold, where each
    Python call and loop step costs several times its warm price.
    """
    exprs = [expression(k) for k in keys]
    needs = "".join(f"    {s}\n" for s in dict.fromkeys(s for _, s in exprs if s))
    source = f"def f(iv, tracker, page_size):\n{_PRELUDE}{needs}{body([e for e, _ in exprs])}"
    from checkswap.model.rates import all_tier_mean

    ns: dict[str, object] = {
        "iso_utc": iso_utc,
        "swap_used": swap_used,
        "avg10": avg10,
        "all_tier_mean": all_tier_mean,
    }
    ns.update(namespace or {})
    # exec() of the text, not of compile()'s code: the compile() builtin first checks whether
    # it was given a syntax tree, which builds the ast module's node classes, ~0.8 ms the first
    # time in a process (exec and eval of a string skip that), and every watch starts here.
    # The code still carries its label for tracebacks.
    exec(source, ns)
    f: Any = ns["f"]
    f.__code__ = f.__code__.replace(co_filename=f"<checkswap.fields {label}>")
    return f  # type: ignore[no-any-return]


def getter(key: str) -> Getter:
    """How to compute a field (or "avg_5m.K") from an interval, the tracker and the page size."""
    return compile_fields([key], lambda e: f"    return {e[0]}\n", f"getter {key}")


_build_record: RecordBuilder | None = None


def _record_builder() -> RecordBuilder:
    """The sample record's fields as one dict display, generated from the registry once.

    A loop over per-field getters made every JSON and CSV tick ~15 % dearer than the
    hand-written record it replaced; the generated function is that record, with the registry
    still its only source (as namedtuple and dataclasses generate their methods).
    """
    global _build_record
    if _build_record is None:
        _build_record = compile_fields(
            [f.key for f in SAMPLE_FIELDS],
            lambda exprs: (
                "    return {\n        'type': 'sample',\n"
                + "".join(f"        {f.key!r}: {e},\n" for f, e in zip(SAMPLE_FIELDS, exprs))
                + "    }\n"
            ),
            "sample record",
        )
    return _build_record


_iso_cache: dict[float, str | None] = {}


def _iso_peak(wall: float | None) -> str | None:
    # A peak's time changes rarely; formatting it anew every tick is measurable at 1 Hz.
    if wall is None:
        return None
    text = _iso_cache.get(wall)
    if text is None:
        if len(_iso_cache) > 64:
            _iso_cache.clear()
        text = _iso_cache[wall] = iso_utc(wall)
    return text


def max_record(tracker: Tracker) -> dict[str, object]:
    return {
        "swap_in_per_s": tracker.peak_in.rate,
        "swap_in_at": _iso_peak(tracker.peak_in.at),
        "swap_out_per_s": tracker.peak_out.rate,
        "swap_out_at": _iso_peak(tracker.peak_out.at),
        "swap_in_all_per_s": tracker.peak_in_all.rate,
        "swap_in_all_at": _iso_peak(tracker.peak_in_all.at),
        "swap_out_all_per_s": tracker.peak_out_all.rate,
        "swap_out_all_at": _iso_peak(tracker.peak_out_all.at),
    }


def sample_record(iv: Interval, tracker: Tracker, page_size: int) -> dict[str, object]:
    """The JSON-lines ``sample`` object of the interface for one interval (after tracker.add)."""
    rec = (_build_record or _record_builder())(iv, tracker, page_size)
    for key, (rin, rout, ain, aout), covered in tracker.averages():
        rec[key] = {
            "swap_in_per_s": rin,
            "swap_out_per_s": rout,
            "covered_s": covered,
            "swap_in_all_per_s": ain,
            "swap_out_all_per_s": aout,
        }
    rec["max"] = max_record(tracker)
    if iv.notes:
        rec["note"] = "; ".join(iv.notes)
    return rec


def summary_record(tracker: Tracker, page_size: int) -> dict[str, object]:
    from checkswap.model.rates import SWAP_IN_ALL, SWAP_OUT_ALL

    t = tracker.totals
    all_in, all_out = t.get(SWAP_IN_ALL), t.get(SWAP_OUT_ALL)
    return {
        "type": "summary",
        "samples": tracker.samples,
        "duration_s": tracker.duration_s,
        "start": iso_utc(tracker.first_wall),
        "end": iso_utc(tracker.last_wall),
        "swap_in_pages": t.get("pswpin", 0),
        "swap_out_pages": t.get("pswpout", 0),
        "swap_in_bytes": t.get("pswpin", 0) * page_size,
        "swap_out_bytes": t.get("pswpout", 0) * page_size,
        "majflt": t.get("pgmajfault"),
        "swap_in_zero_pages": t.get("swpin_zero"),
        "swap_out_zero_pages": t.get("swpout_zero"),
        "zswap_in_pages": t.get("zswpin"),
        "zswap_out_pages": t.get("zswpout"),
        "zswap_writeback_pages": t.get("zswpwb"),
        "swap_in_all_pages": all_in,
        "swap_out_all_pages": all_out,
        "intervals_without_rate": tracker.null_intervals,
        "max": max_record(tracker),
        "avg": {
            "swap_in_per_s": tracker.run_average("pswpin"),
            "swap_out_per_s": tracker.run_average("pswpout"),
            "swap_in_all_per_s": tracker.all_tier_average(SWAP_IN_ALL),
            "swap_out_all_per_s": tracker.all_tier_average(SWAP_OUT_ALL),
        },
        "swap_in_all_bytes": None if all_in is None else all_in * page_size,
        "swap_out_all_bytes": None if all_out is None else all_out * page_size,
    }


def flatten(record: dict[str, object], prefix: str = "") -> dict[str, object]:
    """Nested keys joined with dots, as the CSV output wants (``avg_5m.swap_in_per_s``)."""
    out: dict[str, object] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


CSV_COLUMNS: tuple[str, ...] = (
    "time",
    *(f.key for f in SAMPLE_FIELDS if f.key != "time"),
    *(f"{w}.{k}" for w in WINDOW_KEYS for k in AVG_KEYS),
    *(f"max.{k}" for k in MAX_KEYS),
    "note",
)


# --- Prometheus ------------------------------------------------------------------------------


def metric_families() -> list[Metric]:
    """The families ``serve`` exports from one sample, in the order it emits them (unlabelled:
    a labelled family appears once, for all its fields)."""
    seen: dict[str, Metric] = {}
    for f in sorted((f for f in _FIELDS if f.metric is not None), key=_rank):
        assert f.metric is not None
        seen.setdefault(f.metric.name, f.metric._replace(label=None))
    return list(seen.values())


def _rank(f: Field) -> int:
    assert f.metric is not None
    return f.metric.rank


def metric_values(sample: Sample, page_size: int) -> list[tuple[Metric, float]]:
    """(family with this field's label, value) for every exported figure the sample has, in
    emitting order; a figure the kernel lacks is left out, never exported as 0."""
    out: list[tuple[Metric, float]] = []
    for f in sorted((f for f in _FIELDS if f.metric is not None), key=_rank):
        assert f.metric is not None
        kind, _, arg = f.source.partition(":")
        value: float | None
        if kind in ("delta", "rate", "bytes_rate"):
            value = sample.vmstat.get(arg)
        elif kind == "meminfo":
            value = sample.meminfo.get(arg)
        elif kind == "swap_used":
            value = swap_used(sample.meminfo)
        elif kind == "page_size":
            value = page_size
        elif kind == "psi_pct":
            line = line_of(sample.psi, arg)
            value = None if line is None else line.total_us / 1e6
        else:  # pragma: no cover - a field given a metric its source cannot feed
            raise ValueError(f"{f.key}: no exported value for source {f.source!r}")
        if value is not None:
            out.append((f.metric, value))
    return out


# --- doctor's report and check's perfdata ----------------------------------------------------
#
# doctor's JSON object and check's plugin line name their figures here as well, so that
# ``doctor``, ``check`` and ``watch`` say the same figure with one key. A figure the sample
# record already has keeps its Field (same key, same figure); doctor's and check's own figures
# get a Field of their own, with ``record`` naming the output that carries them and ``source``
# saying where that output takes the value (these sources are not the sample record's: the
# generated record builder never sees these fields). Check's perfdata label and UOM are a table
# keyed by field key, because a Nagios label and UOM are not the JSON key and unit (``swap_in``
# for ``swap_in_per_s``, no UOM for pages/s) and Field itself is shared by every output.


def _doctor(key: str, title: str, help: str, source: str, unit: str = "") -> Field:
    return Field(key, title, unit, help, source, record="doctor")


_DOCTOR_OWN = (
    _doctor("type", "type", "always doctor", "constant"),
    _doctor("findings", "findings", "findings, worst first", "rules"),
    _doctor("devices", "devices", "one object per file or partition swap area", "topology"),
    _doctor("swappiness", "swappiness", "vm.swappiness", "sysctl"),
    _doctor("verdict", "verdict", "quiet, swapping, thrashing, no-swap or unknown", "verdict"),
    _doctor(
        "verdict_evidence", "evidence", "the figures, thresholds, rule of the verdict", "verdict"
    ),
    _doctor("role", "role", "the --role", "argument"),
    _doctor("sample", "sample", "the watch sample record of the measured interval", "record"),
    _doctor("disk_cost", "disk cost", "I/O on the swap disks, and swap's share", "diskstats"),
    _doctor("since_boot", "since boot", "totals since boot and what they amount to", "vmstat"),
    _doctor("zswap", "zswap", "zswap's parameters and pool; null without zswap", "zswap"),
    _doctor("tiers", "tiers", "zram devices, mTHP swap counters, I/O per swap area", "tiers"),
    _doctor("kernel_release", "kernel", "the kernel release of the root", "root"),
    _doctor("hostname", "host", "the host name of the root", "root"),
    _doctor("start_wall", "start", "start of the sample, epoch seconds", "first_wall", "s"),
    _doctor("end_wall", "end", "end of the sample, epoch seconds", "last_wall", "s"),
    _doctor("notes", "notes", "notes as text", "notes"),
)
_DOCTOR = {f.key: f for f in _DOCTOR_OWN}

# The keys of ``doctor --format json``, in the order it writes them. ``mem_total_bytes`` is
# MemTotal as the recording header's, read at the first sample; ``page_size_bytes`` and
# ``time`` (the end of the sample) are the sample record's own figures. Inside the open
# sub-objects, the evidence and verdict figures named as sample fields are those fields' values.
# The keys of disk_cost, since_boot and zswap are DOCTOR_OBJECTS' below; two of them mean
# something else than the sample field of the same key: ``since_boot.swap_in_pages`` and
# ``swap_out_pages`` are the counters since boot (the sample's are the interval's delta, the
# summary's the run's total).
DOCTOR_FIELDS: tuple[Field, ...] = (
    *(_DOCTOR[k] for k in ("type", "findings", "devices", "swappiness", "verdict")),
    *(_DOCTOR[k] for k in ("verdict_evidence", "role", "sample", "disk_cost", "since_boot")),
    _DOCTOR["zswap"],
    _DOCTOR["tiers"],
    FIELDS["mem_total_bytes"],
    FIELDS["page_size_bytes"],
    _DOCTOR["kernel_release"],
    _DOCTOR["hostname"],
    FIELDS["time"],
    _DOCTOR["start_wall"],
    _DOCTOR["end_wall"],
    _DOCTOR["notes"],
)
DOCTOR_KEYS: tuple[str, ...] = tuple(f.key for f in DOCTOR_FIELDS)

# --- doctor's sub-objects: disk_cost, disk_cost.disks[], since_boot, zswap
# Each tuple is in the order doctor writes the object's keys; doctor_object() builds the object
# from it, so a figure the doctor computes under a key these do not list is refused, and so is
# a key listed here that the doctor left out (unless DOCTOR_OPTIONAL_KEYS says it may be
# absent). A figure that is a sample-record field's keeps that Field; where doctor says the same
# figure under its own shorter key (zswap's pool), the Field is the sample's, renamed.


def _renamed(key: str, sample_key: str) -> Field:
    """A sample field under another key of doctor's: same title, unit, help and source."""
    return FIELDS[sample_key]._replace(key=key, record="doctor", metric=None)


DOCTOR_DISK_COST_FIELDS: tuple[Field, ...] = (
    FIELDS["interval_s"],  # the sample's interval: the disks were read at its two ends
    _doctor(
        "swap_bytes_per_s",
        "swap",
        "swap traffic over the sample: (pswpin + pswpout) * page size, per second",
        "vmstat",
        "bytes/s",
    ),
    _doctor(
        "disk_bytes_per_s",
        "disk",
        "bytes read and written per second on the swap disks; null when a disk was unread",
        "diskstats",
        "bytes/s",
    ),
    _doctor(
        "swap_share_pct",
        "swap share",
        "swap_bytes_per_s / disk_bytes_per_s: how much of the disks' I/O is swap",
        "diskstats",
        "%",
    ),
    _doctor("disks", "disks", "one object per disk under swap (DOCTOR_DISK_FIELDS)", "diskstats"),
    _doctor("files", "files", "the kernel files the figures came from", "constant"),
)
DOCTOR_DISK_FIELDS: tuple[Field, ...] = (
    _doctor("name", "disk", "the disk's kernel name", "topology"),
    _doctor("read_bytes_per_s", "read", "bytes read per second", "diskstats", "bytes/s"),
    _doctor("write_bytes_per_s", "write", "bytes written per second", "diskstats", "bytes/s"),
    _doctor("reads_per_s", "reads/s", "reads completed per second", "diskstats", "reads/s"),
    _doctor("writes_per_s", "writes/s", "writes completed per second", "diskstats", "writes/s"),
    _doctor("util_pct", "busy", "share of the sample the disk was busy (io_ms)", "diskstats", "%"),
)
# since_boot.swap_in_pages/swap_out_pages are the counters since boot, not the sample's
# interval delta of the same key: doctor's own fields, as the watch header's since_boot has it.
DOCTOR_SINCE_BOOT_FIELDS: tuple[Field, ...] = (
    _doctor("uptime_s", "uptime", "time since boot (/proc/uptime); null without it", "uptime", "s"),
    _doctor("swap_in_pages", "in", "pages swapped in since boot (pswpin)", "vmstat", "pages"),
    _doctor("swap_out_pages", "out", "pages swapped out since boot (pswpout)", "vmstat", "pages"),
    _doctor("swap_in_bytes", "in", "swap_in_pages * page size", "vmstat", "bytes"),
    _doctor("swap_out_bytes", "out", "swap_out_pages * page size", "vmstat", "bytes"),
    _doctor("swap_in_gib", "in GiB", "swap_in_bytes in GiB", "vmstat", "GiB"),
    _doctor("swap_out_gib", "out GiB", "swap_out_bytes in GiB", "vmstat", "GiB"),
    _doctor("files", "files", "the kernel files the figures came from", "constant"),
    _doctor(
        "swap_in_gib_per_day",
        "in GiB/day",
        "swap_in_gib / days of uptime; null below a day of uptime (with uptime and counters)",
        "vmstat",
        "GiB/day",
    ),
    _doctor(
        "swap_out_gib_per_day",
        "out GiB/day",
        "swap_out_gib / days of uptime; null below a day of uptime (with uptime and counters)",
        "vmstat",
        "GiB/day",
    ),
    _doctor("meaning", "meaning", "what the totals amount to, in words (with counters)", "vmstat"),
)
DOCTOR_ZSWAP_FIELDS: tuple[Field, ...] = (
    _doctor("enabled", "enabled", "zswap's enabled parameter", "zswap"),
    _doctor("compressor", "compressor", "zswap's compressor parameter", "zswap"),
    _renamed("pool_bytes", "zswap_pool_bytes"),  # at the end of the sample, as the sample's
    _renamed("stored_bytes", "zswapped_bytes"),
    _doctor("ratio", "ratio", "stored_bytes / pool_bytes", "zswap"),
    _doctor("max_pool_percent", "max pool", "the pool's limit, percent of MemTotal", "zswap", "%"),
    _doctor(
        "pool_limit_bytes",
        "limit",
        "the kernel's zswap_max_pages in bytes",
        "zswap",
        "bytes",
    ),
    _doctor("pool_full_pct", "full", "pool_bytes / pool_limit_bytes", "zswap", "%"),
    _doctor(
        "accept_threshold_percent",
        "accept",
        "once full, new pages are taken again at or below this share of the limit (5.6+)",
        "zswap",
        "%",
    ),
    _doctor(
        "pool_accept_bytes",
        "accept",
        "the kernel's zswap_accept_thr_pages in bytes",
        "zswap",
        "bytes",
    ),
    _doctor("shrinker_enabled", "shrinker", "cold pages written back under pressure", "zswap"),
    _doctor("debug", "debug", "debugfs zswap counters by file name; null unless root", "zswap"),
)
# Each sub-object by its dotted path in ``doctor --format json`` (docs/interface.md's rows).
DOCTOR_OBJECTS: dict[str, tuple[Field, ...]] = {
    "disk_cost": DOCTOR_DISK_COST_FIELDS,
    "disk_cost.disks[]": DOCTOR_DISK_FIELDS,
    "since_boot": DOCTOR_SINCE_BOOT_FIELDS,
    "zswap": DOCTOR_ZSWAP_FIELDS,
}
# The sub-objects' keys that may be absent, by dotted path: since_boot's per-day averages need
# uptime and the counters, its meaning the counters (doctor/facts.since_boot).
DOCTOR_OPTIONAL_KEYS = frozenset(
    {
        "since_boot.swap_in_gib_per_day",
        "since_boot.swap_out_gib_per_day",
        "since_boot.meaning",
    }
)


def doctor_object(path: str, values: dict[str, Any]) -> dict[str, Any]:
    """The doctor sub-object at ``path`` (a key of DOCTOR_OBJECTS): ``values`` under the
    registry's keys, in its order. A key the registry does not list, or one it lists that
    ``values`` lacks (and may not), is a bug in the doctor, not a silent change of output."""
    own = DOCTOR_OBJECTS[path]
    keys = [f.key for f in own]
    extra = values.keys() - set(keys)
    if extra:
        raise AssertionError(f"doctor {path} keys not in fields.DOCTOR_OBJECTS: {sorted(extra)}")
    missing = [k for k in keys if k not in values and f"{path}.{k}" not in DOCTOR_OPTIONAL_KEYS]
    if missing:
        raise AssertionError(f"doctor {path} lacks the registry's keys: {missing}")
    return {k: values[k] for k in keys if k in values}


# doctor's ``sample`` when there was only one sample (no interval, so no rates): the sample
# record cut down to what the verdict and the size rules read; its values are sample_record's.
DOCTOR_STATIC_SAMPLE_KEYS: tuple[str, ...] = (
    "type",  # "sample", as every sample record's
    "time",
    "interval_s",
    "swap_in_per_s",
    "swap_out_per_s",
    "page_size_bytes",
    "swap_used_bytes",
    "swap_total_bytes",
    "swap_cached_bytes",
    "psi_full_avg10",
    "psi_full_pct",
    "refault_anon_per_s",
)

# check's own figure: the share of swap in use (doctor's swap-nearly-full says it in words).
CHECK_FIELDS: dict[str, Field] = {
    f.key: f
    for f in (
        Field(
            "swap_used_pct",
            "used%",
            "%",
            "swap used as a share of SwapTotal: (SwapTotal - SwapFree) / SwapTotal",
            "swap_used_pct",
            record="check",
        ),
    )
}

if TYPE_CHECKING:

    class Perf(NamedTuple):
        """A perfdata item's label and UOM; ``counter``: the value is the kernel counter behind
        the field (its source's C since boot, as serve exports it), not the interval's delta."""

        label: str
        uom: str
        counter: bool = False

else:
    Perf = namedtuple("Perf", "label uom counter", defaults=(False,))

# check's perfdata, keyed by field key, in the order the plugin line writes the items.
PERFDATA: dict[str, Perf] = {
    "swap_in_per_s": Perf("swap_in", ""),  # pages/s: Nagios has no UOM for it
    "swap_out_per_s": Perf("swap_out", ""),
    "swap_used_pct": Perf("swap_used_pct", "%"),
    "swap_used_bytes": Perf("swap_used", "B"),
    "psi_some_avg10": Perf("psi_some_avg10", "%"),
    "psi_full_avg10": Perf("psi_full_avg10", "%"),
    "swap_in_pages": Perf("swap_in_pages", "c", counter=True),  # "c": a continuous counter
    "swap_out_pages": Perf("swap_out_pages", "c", counter=True),
    "interval_s": Perf("interval", "s"),
    # Each tier's rate, and the all-tier totals (check --tier all puts the rate thresholds on
    # these): after the original items, so a parser reading by position keeps working.
    "zswap_in_per_s": Perf("zswap_in", ""),
    "zswap_out_per_s": Perf("zswap_out", ""),
    "zswap_writeback_per_s": Perf("zswap_writeback", ""),
    "swap_in_zero_per_s": Perf("swap_in_zero", ""),
    "swap_out_zero_per_s": Perf("swap_out_zero", ""),
    "swap_in_all_per_s": Perf("swap_in_all", ""),
    "swap_out_all_per_s": Perf("swap_out_all", ""),
}
# The tier items above, by field key: each only where the kernel has the counter.
PERFDATA_TIERS = (
    "zswap_in_per_s",
    "zswap_out_per_s",
    "zswap_writeback_per_s",
    "swap_in_zero_per_s",
    "swap_out_zero_per_s",
    "swap_in_all_per_s",
    "swap_out_all_per_s",
)
# check --tier: which swap-in/swap-out rates the thresholds judge. "device" (the default, what
# the thresholds always meant): pswpin/pswpout; "all": every tier.
CHECK_TIERS = {
    "device": ("swap_in_per_s", "swap_out_per_s"),
    "all": ("swap_in_all_per_s", "swap_out_all_per_s"),
}


def field(key: str) -> Field:
    """The Field of any key of the registry: the sample record's, doctor's or check's."""
    return FIELDS.get(key) or _DOCTOR.get(key) or CHECK_FIELDS[key]


def counter_of(key: str) -> str:
    """The kernel counter behind a ``delta:C``/``rate:C`` field: C (perfdata's raw counters)."""
    kind, _, arg = FIELDS[key].source.partition(":")
    if kind not in ("delta", "rate", "bytes_rate"):
        raise ValueError(f"{key}: source {FIELDS[key].source!r} has no kernel counter")
    return arg
