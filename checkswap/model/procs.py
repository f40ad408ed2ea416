"""Who is in swap and who is moving it: one scan of every process, and of the memory cgroups.

The contract (``top``, ``record``, ``serve`` and ``dash`` all use it)::

    scanner = Scanner(root, cgroups=True, pss=False)
    rec = scanner.sample()      # the object `top --format json` prints for one refresh
    rec = scanner.sample(taken) # the same, swap totals from a Sample the caller just took

``rec`` is the ``top --format json`` object of docs/interface.md ("top: processes"). Its keys,
each process's and each cgroup's, with their titles, units and help, are fields.py's
TOP_FIELDS, PROCESS_FIELDS and CGROUP_FIELDS, in the order built here; the registry sits above
the model, so the records are written out below and tests/test_fields.py holds them to it.

- ``processes``: every process whose VmSwap is > 0, or was at the previous sample (it then shows
  0 and its rates), sorted by ``swap_bytes`` descending then pid. Callers sort and limit.
  ``swap_pss_bytes`` is read only with ``pss=True`` and within the time budget.
- ``cgroups``: None when ``cgroups=False`` or no memory controller is found; else one record per
  memory cgroup holding swap now or at the previous sample, or holding a listed process, sorted
  by ``swap_bytes`` descending (model/cgroups.py builds them).
- ``unattributed_swap_bytes`` (swap used minus the VmSwap sum: shmem/tmpfs in swap, swap slots
  whose page is back in RAM as SwapCached, the swap of processes we could not read) can be
  negative: a page swapped out from memory shared after fork() counts in each process's VmSwap.

Swap activity, the one ranking ``top --sort activity``, dash and ``record --trigger`` use, is
``process_activity`` / ``cgroup_activity`` below (sort keys: ``*_activity_key``).

Rates are against the previous ``sample()`` of the same Scanner, None on the first, through
rates.py (a counter that went backwards gives None). A pid is the same process only if its start
time (stat field 22) matches; a pid reused in between starts again with null rates.

The memory cgroups (discovery, naming, the walk) are model/cgroups.py's; this module is the
process scan and the one definition of swap activity.

Cost: /proc/PID/status is read for every process (VmSwap is there). stat and cgroup are read
only for processes holding swap now or at the previous sample; reading them for every process
costs 2.5 times the status-only floor. User names are cached by uid.
"""

from __future__ import annotations

import os
import time
from collections import namedtuple

from checkswap.errors import DENIED, VANISHED, denied, kernel_file_error, vanished
from checkswap.kernel.meminfo import parse_meminfo, swap_used
from checkswap.kernel.mountinfo import read_proc_hidepid
from checkswap.kernel.pid import (
    Stat,
    parse_cgroup,
    parse_smaps_rollup_swap_pss,
    parse_stat,
    parse_status,
    read_file,
    read_raw,
    status_swap_bytes_raw,
)
from checkswap.kernel.sysctl import read_sysctl_int
from checkswap.kernel.taskstats import Delays, Taskstats, TaskstatsDenied, TaskstatsUnavailable
from checkswap.kernel.uptime import read_uptime
from checkswap.model.cgroups import (
    WAIT_SUM_KEYS,
    CgroupScan,
    find_memory_hierarchy,
    process_cgroup,
    unit_name,
)
from checkswap.model.rates import counter_rate, gauge_rate
from checkswap.units import iso_utc

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Callable, NamedTuple

    from checkswap.model.sample import Sample
    from checkswap.source.root import Root

Record = dict[str, object]

_NO_SWAP = b"\nVmSwap:\t       0 kB\n"

HIDDEN_NOTE = "some processes are not visible: run as root"

# Delay accounting (kernel/taskstats.py): one netlink query per process, so at most this many
# a refresh (docs/top.md): those that waited at their last query first, then those moving
# swap or faulting, then the largest holders.
MAX_DELAY_QUERIES = 256
DELAYACCT_SYSCTL = "kernel.task_delayacct"
DELAYACCT_OFF_NOTE = (
    "delay accounting is off (kernel.task_delayacct = 0): wait figures are null; switch it on "
    "with --delayacct (as root, for the run) or sysctl kernel.task_delayacct=1"
)
DELAY_KEYS = (
    "swapin_delay_s",
    "swapin_wait_pct",
    "blkio_delay_s",
    "blkio_wait_pct",
    "thrashing_delay_s",
    "thrashing_wait_pct",
)


# --- swap activity: the one definition (docs/interface.md, "activity") -----------------------
# top --sort activity, dash's "s" key and record --trigger's captures all rank by these, so
# the same processes come out in the same order everywhere. Records may come from a recording
# (untrusted JSON): anything that is not a finite number counts as 0, never an error.


def _rate(v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return 0.0
    f = float(v)
    return f if f == f and abs(f) != float("inf") else 0.0


def process_activity(p: Record, page_size: int) -> float:
    """Pages per second moved: |swap_delta_bytes_per_s| / page size + majflt_per_s.

    Pages, not bytes: a major fault brings in one page, so both terms count pages; adding bytes
    to faults would make a fault weigh as one byte. Null rates (a first scan) count as 0.
    """
    if page_size <= 0:
        raise ValueError(f"page size must be positive, not {page_size}")
    return abs(_rate(p.get("swap_delta_bytes_per_s"))) / page_size + _rate(p.get("majflt_per_s"))


def cgroup_activity(c: Record, page_size: int) -> float:
    """Pages per second moved: swap_in_per_s + swap_out_per_s where the kernel counts them
    (cgroup v2, 6.13+); else the process proxy on the cgroup's own figures: |change of its swap|
    / page size + its major faults (memory.stat pgmajfault)."""
    if c.get("swap_in_per_s") is not None or c.get("swap_out_per_s") is not None:
        return _rate(c.get("swap_in_per_s")) + _rate(c.get("swap_out_per_s"))
    return process_activity(c, page_size)


def _held(r: Record) -> float:
    return _rate(r.get("swap_bytes"))


def process_activity_key(page_size: int) -> Callable[[Record], tuple[float, float, int]]:
    """Sort key, ascending: most active first, ties by swap held (most first), then pid."""

    def key(p: Record) -> tuple[float, float, int]:
        pid = p.get("pid")
        pid_n = pid if isinstance(pid, int) and not isinstance(pid, bool) else 0
        return (-process_activity(p, page_size), -_held(p), pid_n)

    return key


def cgroup_activity_key(page_size: int) -> Callable[[Record], tuple[float, float, str]]:
    """Sort key, ascending: most active first, ties by swap held (most first), then path."""

    def key(c: Record) -> tuple[float, float, str]:
        return (-cgroup_activity(c, page_size), -_held(c), str(c.get("path")))

    return key


def process_wait_key(p: Record) -> tuple[float, float, int]:
    """Sort key, ascending: longest swap-in wait first, ties by swap held, then pid. Null
    (not measured) counts as 0."""
    pid = p.get("pid")
    pid_n = pid if isinstance(pid, int) and not isinstance(pid, bool) else 0
    return (-_rate(p.get("swapin_wait_pct")), -_held(p), pid_n)


if TYPE_CHECKING:

    class _Seen(NamedTuple):
        """What the previous sample knew about a process holding swap."""

        starttime: int
        majflt: int
        swap_bytes: int

else:
    _Seen = namedtuple("_Seen", "starttime majflt swap_bytes")


# --- the scanner -----------------------------------------------------------------------------


class Scanner:
    """Scans processes (and memory cgroups); each ``sample()`` is rated against the previous."""

    def __init__(
        self,
        root: Root,
        cgroups: bool = True,
        pss: bool = False,
        pss_budget_s: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
        delays: bool = True,
        delays_since: int | None = None,
    ) -> None:
        self.root = root
        self.cgroups = cgroups
        self.pss = pss
        self.pss_budget_s = pss_budget_s
        self._monotonic = monotonic  # only for the --pss time budget, never for rates
        self._hidepid = read_proc_hidepid(root)
        self._hierarchy = find_memory_hierarchy(root)
        self._cgroup_scan = (
            CgroupScan(root, self._hierarchy) if cgroups and self._hierarchy is not None else None
        )
        self._clk_tck = os.sysconf("SC_CLK_TCK")
        self._users: dict[int, str] = {}
        self._passwd: dict[int, str] | None = None
        self._prev_mono: float | None = None
        self._prev_uptime: float | None = None
        self._prev: dict[str, _Seen] = {}  # pid -> last sample, for processes holding swap
        self._prev_zero: set[str] = set()  # pids read at the last sample with VmSwap 0
        # Delay accounting: only for processes of this kernel and pid namespace (taskstats
        # answers by pid); a tree from elsewhere has no taskstats.
        self.delays = delays and root.shares_pids
        # When checkswap switched delay accounting on (stat start-time ticks): processes
        # started earlier have no delay record in the kernel and read 0 for ever.
        self.delays_since = delays_since
        self._taskstats: Taskstats | None = None
        self._taskstats_error: str | None = None
        # pid -> (start time, monotonic time of the query, the delays then)
        self._prev_delays: dict[int, tuple[int, float, Delays]] = {}
        self._waited: set[int] = set()  # pids whose swap-in or thrashing delay grew last time

    # -- one refresh --

    def _sees_everything(self) -> bool:
        """Whether hidepid hides nothing from us: root, or a member of the mount's gid=."""
        if not self.root.is_host:
            return False  # a captured tree was read by whoever captured it: trust its counts
        if os.geteuid() == 0:
            return True
        gid = self._hidepid.gid
        return gid is not None and (gid == os.getegid() or gid in os.getgroups())

    def sample(self, taken: Sample | None = None) -> Record:
        """One refresh. ``taken``: a Sample of this root the caller has just taken (dash's
        tick): its meminfo gives the swap totals instead of reading the file again."""
        mono, wall = self.root.clock()
        dt = None if self._prev_mono is None else mono - self._prev_mono
        uptime = read_uptime(self.root)
        if taken is not None:
            meminfo = taken.meminfo
        else:
            meminfo = parse_meminfo(self._read_required("proc/meminfo"))
        root = self.root
        try:
            # Listed on every sample: a snapshot bundle's root moves to the next captured tree.
            names = root.listdir("proc")
        except OSError as e:
            raise kernel_file_error(root.join("proc"), e) from None
        # The directory through the root (a snapshot bundle resolves it in its own tree); the
        # per-process paths under it are composed here: root.join for each of 2,000 processes
        # cost 5 % of the scan. A PID directory is never a link in /proc, and in a bundle a
        # link is not on disk at all: such an entry reads as vanished.
        proc = root.join("proc")

        scanned = unreadable = 0
        total = 0
        zero: set[str] = set()
        holders: list[tuple[str, bytes, int]] = []
        prev = self._prev
        flags = os.O_RDONLY | os.O_CLOEXEC
        # The hot loop: one open/read/close per process, VmSwap found in the raw bytes.
        for name in names:
            if not name.isdigit():
                continue
            path = f"{proc}/{name}/status"
            try:
                fd = os.open(path, flags)
                try:
                    data = os.read(fd, 16384)
                finally:
                    os.close(fd)
            except OSError as e:
                if e.errno in VANISHED:
                    continue
                if e.errno in DENIED:
                    unreadable += 1
                    continue
                raise kernel_file_error(path, e) from None
            scanned += 1
            # Most processes hold no swap, and the kernel prints that line always alike
            # (seq_put_decimal_ull_width, 8 wide): one find settles them.
            swap: int | None = 0
            if _NO_SWAP in data:
                if name not in prev:
                    zero.add(name)
                    continue
            else:
                swap = status_swap_bytes_raw(data)
            if swap is None:
                if len(data) == 16384:  # a status longer than one read: read it whole
                    data = self._reread(path)
                    swap = status_swap_bytes_raw(data)
                if swap is None:
                    continue  # kernel thread or zombie: no address space, nothing in swap
            total += swap
            if swap == 0 and name not in prev:
                zero.add(name)
                continue
            holders.append((name, data, swap))

        seconds = dt if dt is not None else 0.0
        processes: list[Record] = []
        seen: dict[str, _Seen] = {}
        no_cgroup = 0  # listed processes whose /proc/PID/cgroup is absent or unreadable
        starts: dict[int, int] = {}  # pid -> start time, of the processes listed
        for name, text, swap in holders:
            try:
                stat = parse_stat(read_file(root, f"proc/{name}/stat"))
            except OSError as e:
                if vanished(e) or denied(e):
                    total -= swap  # gone between two reads: its swap is freed
                    continue
                raise kernel_file_error(root.join(f"proc/{name}/stat"), e) from None
            if stat is None or stat.state == "Z":
                total -= swap
                continue
            cgroup_text = self._cgroup_text(name)
            if cgroup_text is None:
                if not root.exists(f"proc/{name}/stat"):
                    total -= swap  # the process went away after its stat was read
                    continue
                no_cgroup += 1  # still there: which cgroup it is in is unknown, not "gone"
            st = parse_status(text.decode("utf-8", "surrogateescape"))
            before = prev.get(name)
            delta: float | None = None
            majflt: float | None = None
            if before is not None and before.starttime == stat.starttime:
                delta = gauge_rate(before.swap_bytes, swap, seconds)
                majflt = counter_rate(before.majflt, stat.majflt, seconds)
            elif before is None and name in self._prev_zero and self._existed(stat, uptime):
                delta = gauge_rate(0, swap, seconds)
            if swap > 0:
                seen[name] = _Seen(stat.starttime, stat.majflt, swap)
            else:
                zero.add(name)
                if before is None or before.starttime != stat.starttime:
                    continue  # pid reused by a process without swap
            cg = (
                None
                if cgroup_text is None
                else process_cgroup(self._hierarchy, *parse_cgroup(cgroup_text))
            )
            processes.append(
                {
                    "pid": int(name),
                    "comm": st.name,
                    "user": self._user(st.uid),
                    "uid": st.uid,
                    "state": stat.state,
                    "swap_bytes": swap,
                    "swap_delta_bytes_per_s": delta,
                    "majflt_per_s": majflt,
                    "cgroup": cg,
                    "unit": unit_name(cg),
                    "swap_pss_bytes": None,
                    **dict.fromkeys(DELAY_KEYS),
                }
            )
            starts[int(name)] = stat.starttime
        processes.sort(key=lambda p: (-_int(p["swap_bytes"]), _int(p["pid"])))

        notes: list[str] = []
        if self.pss:
            self._add_pss(processes, notes)
        if self.delays:
            self._add_delays(processes, starts, mono, notes)
        cgroups = self._scan_cgroups(processes, seconds)

        hidden = unreadable > 0 or (self._hidepid.invisible and not self._sees_everything())
        if hidden:
            why = []
            if self._hidepid.value is not None:
                why.append(f"/proc is mounted with hidepid={self._hidepid.value}")
            if unreadable:
                why.append(f"{unreadable} could not be read")
            notes.insert(0, f"{HIDDEN_NOTE} ({'; '.join(why)})")
        if no_cgroup:
            notes.append(
                f"the cgroup of {no_cgroup} process{'es' if no_cgroup != 1 else ''} in swap is "
                "unknown: /proc/PID/cgroup is missing (a kernel without cgroups) or unreadable"
            )
        if cgroups is None and self.cgroups:
            notes.append("no memory cgroup controller found under sys/fs/cgroup")
        used = swap_used(meminfo)
        held: int | None = total
        if scanned == 0:
            # A tree captured without /proc/PID (or nothing readable): the processes' swap is
            # unknown, not 0, and so is what they leave unattributed.
            held = None
            notes.append("no process could be read: swap held by processes unknown")

        self._prev_mono = mono
        self._prev_uptime = uptime
        self._prev = seen
        self._prev_zero = zero
        return {
            "type": "processes",
            "time": iso_utc(wall),
            "interval_s": dt,
            "processes": processes,
            "cgroups": cgroups,
            "swap_used_bytes": used,
            "swap_total_bytes": meminfo.get("SwapTotal"),
            "swap_cached_bytes": meminfo.get("SwapCached"),
            "process_swap_bytes": held,
            "unattributed_swap_bytes": None if used is None or held is None else used - held,
            "hidden_processes": hidden,
            "hidepid": self._hidepid.value,
            "unreadable_processes": unreadable,
            "scanned_processes": scanned,
            "notes": notes,
        }

    # -- helpers --

    @staticmethod
    def _reread(path: str) -> bytes:
        try:
            return read_raw(path)
        except OSError:
            return b""  # vanished meanwhile

    def _cgroup_text(self, name: str) -> str | None:
        """/proc/PID/cgroup, or None when it cannot be had: absent on a kernel built without
        cgroups (and in trees captured without it), or refused (EACCES). The caller tells a
        vanished process from a missing file by its stat."""
        rel = f"proc/{name}/cgroup"
        try:
            return read_file(self.root, rel)
        except OSError as e:
            if vanished(e) or denied(e):
                return None
            raise kernel_file_error(self.root.join(rel), e) from None

    def _read_required(self, rel: str) -> str:
        try:
            return self.root.read_text(rel)
        except OSError as e:
            raise kernel_file_error(self.root.join(rel), e) from None

    def _existed(self, stat: Stat, uptime: float | None) -> bool:
        """Did this process exist at the previous sample (and is not a reused pid)?"""
        if self._prev_uptime is None or uptime is None:
            return True  # no clock to tell by: a reused pid within one refresh is rare
        return stat.starttime / self._clk_tck <= self._prev_uptime

    def _user(self, uid: int | None) -> str | None:
        if uid is None:
            return None
        name = self._users.get(uid)
        if name is None:
            name = self._lookup_user(uid)
            self._users[uid] = name
        return name

    def _lookup_user(self, uid: int) -> str:
        if self.root.is_host:
            import pwd

            try:
                return pwd.getpwuid(uid).pw_name
            except KeyError:
                return str(uid)
        # A tree from another machine: its own etc/passwd if captured, else the number.
        if self._passwd is None:
            self._passwd = {}
            try:
                for line in self.root.read_text("etc/passwd").splitlines():
                    f = line.split(":")
                    if len(f) > 2 and f[2].isdigit():
                        self._passwd.setdefault(int(f[2]), f[0])
            except OSError:
                pass
        return self._passwd.get(uid, str(uid))

    def _add_pss(self, processes: list[Record], notes: list[str]) -> None:
        """SwapPss for processes in swap, biggest first, until the time budget is used up.

        smaps_rollup walks the whole page table under the mm lock: on a process of hundreds of
        GiB one read can take a second and stall its page faults meanwhile.
        """
        deadline = self._monotonic() + self.pss_budget_s
        unreadable = skipped = 0
        for p in processes:
            if not _int(p["swap_bytes"]):
                continue
            if self._monotonic() >= deadline:
                skipped += 1
                continue
            rel = f"proc/{p['pid']}/smaps_rollup"
            try:
                p["swap_pss_bytes"] = parse_smaps_rollup_swap_pss(read_file(self.root, rel))
            except OSError as e:
                if denied(e):
                    unreadable += 1
                elif not vanished(e):
                    raise kernel_file_error(self.root.join(rel), e) from None
        if skipped:
            notes.append(
                f"--pss time budget ({self.pss_budget_s:g} s) used up: SwapPss not read for "
                f"{skipped} processes"
            )
        if unreadable:
            # smaps_rollup needs ptrace access: other users' processes are listed, not hidden.
            notes.append(f"--pss: SwapPss of {unreadable} processes could not be read: run as root")

    # -- delay accounting --

    def _open_taskstats(self, notes: list[str]) -> Taskstats | None:
        if self._taskstats is None and self._taskstats_error is None:
            try:
                self._taskstats = Taskstats()
            except TaskstatsUnavailable as e:
                self._taskstats_error = f"wait figures unavailable: {e}"
        if self._taskstats_error is not None:
            notes.append(self._taskstats_error)  # once a refresh; never asked again
            return None
        return self._taskstats

    def _add_delays(
        self, processes: list[Record], starts: dict[int, int], mono: float, notes: list[str]
    ) -> None:
        """Each listed process's delays (cumulative seconds, and the share of the time since
        its previous query), for at most MAX_DELAY_QUERIES of them."""
        if not processes:
            return
        if read_sysctl_int(self.root, DELAYACCT_SYSCTL) == 0:
            # Queries would answer, with delays frozen at whatever they were when it was on.
            notes.append(DELAYACCT_OFF_NOTE)
            self._prev_delays = {}
            return
        ts = self._open_taskstats(notes)
        if ts is None:
            return
        waited = self._waited

        def rank(p: Record) -> int:
            pid = _int(p["pid"])
            if pid in waited:
                return 0
            if _rate(p.get("majflt_per_s")) or _rate(p.get("swap_delta_bytes_per_s")):
                return 1
            return 2

        # Stable: within a rank, the order of the list (most swap first).
        order = sorted(processes, key=rank)
        prev = self._prev_delays
        seen: dict[int, tuple[int, float, Delays]] = {}
        now_waited: set[int] = set()
        skipped = unaccounted = 0
        since = self.delays_since
        for n, p in enumerate(order):
            pid = _int(p["pid"])
            if since is not None and starts[pid] <= since:
                unaccounted += 1
                continue
            if n >= MAX_DELAY_QUERIES:
                skipped += 1
                if pid in prev:
                    seen[pid] = prev[pid]  # kept: the next query rates against it
                continue
            try:
                d = ts.tgid(pid)
            except TaskstatsDenied as e:
                self._taskstats_error = f"wait figures are null: {e}"
                notes.append(self._taskstats_error)
                for q in processes:
                    q.update(dict.fromkeys(DELAY_KEYS))
                return
            except OSError as e:
                notes.append(f"taskstats query failed ({e.strerror or e}): wait figures are null")
                for q in processes:
                    q.update(dict.fromkeys(DELAY_KEYS))
                return
            if d is None:
                continue  # exited since its status was read
            start = starts[pid]
            p["swapin_delay_s"] = _seconds(d.swapin_delay_ns)
            p["blkio_delay_s"] = _seconds(d.blkio_delay_ns)
            p["thrashing_delay_s"] = _seconds(d.thrashing_delay_ns)
            before = prev.get(pid)
            if before is not None and before[0] == start:
                _, then, old = before
                span = mono - then
                p["swapin_wait_pct"] = _share(old.swapin_delay_ns, d.swapin_delay_ns, span)
                p["blkio_wait_pct"] = _share(old.blkio_delay_ns, d.blkio_delay_ns, span)
                p["thrashing_wait_pct"] = _share(old.thrashing_delay_ns, d.thrashing_delay_ns, span)
                if _rate(p["swapin_wait_pct"]) or _rate(p["thrashing_wait_pct"]):
                    now_waited.add(pid)
            seen[pid] = (start, mono, d)
        if unaccounted:
            notes.append(
                f"wait figures of {unaccounted} processes are null: they started before delay "
                "accounting was switched on, and the kernel accounts only tasks forked after"
            )
        if skipped:
            notes.append(
                f"wait figures of {skipped} processes not read this refresh (at most "
                f"{MAX_DELAY_QUERIES} taskstats queries a refresh)"
            )
        self._prev_delays = seen
        self._waited = now_waited

    def delay_readings(self) -> dict[int, tuple[int, Delays]]:
        """The last sample's taskstats answers: pid -> (start time in ticks, its delays).
        A pid and its start time name one process (serve's counters key on both)."""
        return {pid: (start, d) for pid, (start, _, d) in self._prev_delays.items()}

    def cgroup_pressure_totals(self) -> dict[str, tuple[int | None, int | None]]:
        """The last sample's cgroups' memory.pressure totals (µs): path -> (some, full); empty
        without a v2 memory hierarchy (v1 has no per-cgroup pressure)."""
        scan = self._cgroup_scan
        return {} if scan is None else scan.pressure_totals()

    # -- cgroups --

    def _scan_cgroups(self, processes: list[Record], seconds: float) -> list[Record] | None:
        if self._cgroup_scan is None:
            return None
        counts: dict[str, int] = {}
        waits: dict[str, dict[str, float]] = {}
        for p in processes:
            cg = p["cgroup"]
            if isinstance(cg, str):
                counts[cg] = counts.get(cg, 0) + 1
                for key in WAIT_SUM_KEYS:
                    v = p.get(key)
                    if isinstance(v, float):
                        sums = waits.setdefault(cg, {})
                        sums[key] = sums.get(key, 0.0) + v
        cgroups = self._cgroup_scan.sample(counts, seconds)
        # Its own processes only, not its children's (a v2 parent's swap_bytes is
        # hierarchical, its wait is not): null where none of them has the figure.
        for c in cgroups:
            own = waits.get(str(c["path"]))
            if own:
                for key, total in own.items():
                    c[key] = total
        return cgroups


def _int(v: object) -> int:
    return v if isinstance(v, int) else 0


def _seconds(ns: int | None) -> float | None:
    return None if ns is None else ns / 1e9


def _share(before: int | None, after: int | None, span: float) -> float | None:
    """Percent of ``span`` seconds spent waiting, summed over threads (so above 100 when
    several waited at once); None without both readings or when the total went backwards."""
    rate = None if before is None or after is None else counter_rate(before, after, span)
    return None if rate is None else rate / 1e9 * 100


def arrange(
    rec: dict[str, object], sort: str, limit: int | None, page_size: int
) -> tuple[dict[str, object], int]:
    """The record with its processes (and cgroups) sorted and cut to ``limit``; and how many
    processes there were. Activity is the one above, as dash and record --trigger rank."""
    procs = rec["processes"]
    assert isinstance(procs, list)
    out = dict(rec)
    if sort == "wait":
        procs = sorted(procs, key=process_wait_key)
    elif sort == "activity":
        procs = sorted(procs, key=process_activity_key(page_size))
        cgroups = rec.get("cgroups")
        if isinstance(cgroups, list):
            out["cgroups"] = sorted(cgroups, key=cgroup_activity_key(page_size))
    out["processes"] = procs if limit is None else procs[:limit]
    return out, len(procs)
