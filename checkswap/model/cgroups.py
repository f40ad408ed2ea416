"""The memory cgroups: where the memory controller is mounted, what a cgroup is called, and one
walk of the hierarchy with the rates of each cgroup against the previous walk.

The one discovery (``top``, ``dash``, ``serve``, ``record``, ``snapshot`` and ``stress`` all use
it): the root's /proc/self/mountinfo names the mounts, a ``cgroup`` mount with ``memory`` among
its super options (v1) or a ``cgroup2`` mount whose cgroup.controllers lists ``memory`` (v2). The
kernel binds a controller to one hierarchy at a time, so on a hybrid host (systemd's v1 memory
plus an empty unified v2) only the v1 mount qualifies. Only mounts under /sys count: that is
where every init system puts them, and a root that is a captured tree holds nothing else. A
tree captured without mountinfo (or whose mountinfo names no cgroup mount) is looked at in the
usual places instead: sys/fs/cgroup/memory (v1), sys/fs/cgroup and sys/fs/cgroup/unified (v2).

The one naming: ``unit_name`` turns a cgroup path into the systemd unit, container or pod a
person recognises.

This module reads the several files that together say where the hierarchy is and walks it;
kernel/cgroup.py parses each cgroup file on its own (read and parse apart).
"""

from __future__ import annotations

import os
from collections import namedtuple

from checkswap.errors import ABSENT_CGROUP_FILE, kernel_file_error
from checkswap.kernel.cgroup import parse_flat_keyed, parse_v1_value, parse_v2_limit
from checkswap.kernel.mountinfo import PATH as MOUNTINFO
from checkswap.kernel.mountinfo import parse_mountinfo
from checkswap.kernel.pid import read_file
from checkswap.kernel.pressure import parse_pressure
from checkswap.model.rates import counter_delta, counter_rate, gauge_rate

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import NamedTuple

    from checkswap.source.root import Root

Record = dict[str, object]

# Where the hierarchies are when mountinfo does not say (a hand-made or older captured tree).
V1_MOUNT = "sys/fs/cgroup/memory"
V2_MOUNTS = ("sys/fs/cgroup", "sys/fs/cgroup/unified")

V1_NOTE = (
    "cgroup v1 has no per-cgroup swap-in/swap-out counters: swap_delta_bytes_per_s (growth of "
    "swap held) and majflt_per_s (memory.stat pgmajfault) stand in"
)


# The per-process wait shares (taskstats, model/procs.py) a cgroup record carries summed over
# its own listed processes: percent of the interval, summed over threads and processes.
WAIT_SUM_KEYS = ("swapin_wait_pct", "blkio_wait_pct", "thrashing_wait_pct")


if TYPE_CHECKING:

    class Hierarchy(NamedTuple):
        version: int  # 1 or 2
        mount: str  # relative to the root, e.g. "sys/fs/cgroup/memory"

else:
    Hierarchy = namedtuple("Hierarchy", "version mount")


# --- where the memory controller is ----------------------------------------------------------


def _has_memory(root: Root, mount: str) -> bool:
    try:
        return "memory" in root.read_text(f"{mount}/cgroup.controllers").split()
    except OSError:
        return False


def _under_sys(root: Root, mount_point: str) -> str | None:
    """A mount point as a path relative to the root, if it is under the root's sys/.

    A captured tree's mountinfo names that machine's /sys; a live root other than / reads the
    reader's own mountinfo, where the root's cgroups appear as ROOT/sys/... (as hidepid's
    /proc does, see kernel/mountinfo.py).
    """
    top = root.path.rstrip("/")
    if top and mount_point.startswith(top + "/sys/"):
        return mount_point[len(top) :].strip("/")
    if mount_point.startswith("/sys/"):
        return mount_point.strip("/")
    return None


def memory_hierarchies(root: Root) -> list[Hierarchy]:
    """Every mount of the memory controller's hierarchy under the root's sys/ that the tree
    holds (v1: its memory.stat; v2: cgroup.controllers listing memory), v1 first.

    Usually one; the same hierarchy may be mounted twice (a later mount at the same point hides
    the earlier, so each mount point counts once).
    """
    try:
        mounts = parse_mountinfo(root.read_text(MOUNTINFO))
    except OSError:
        mounts = []
    found: dict[str, Hierarchy] = {}
    cgroup_mounts = False
    for m in mounts:
        if m.fstype not in ("cgroup", "cgroup2"):
            continue
        cgroup_mounts = True
        rel = _under_sys(root, m.mount_point)
        if rel is None:
            continue
        if m.fstype == "cgroup":
            if "memory" in m.super_options and root.exists(f"{rel}/memory.stat"):
                found[rel] = Hierarchy(1, rel)
            else:
                found.pop(rel, None)
        elif _has_memory(root, rel):
            found[rel] = Hierarchy(2, rel)
        else:
            found.pop(rel, None)
    if not cgroup_mounts:
        if root.exists(f"{V1_MOUNT}/memory.stat"):
            found[V1_MOUNT] = Hierarchy(1, V1_MOUNT)
        for mount in V2_MOUNTS:
            if _has_memory(root, mount):
                found[mount] = Hierarchy(2, mount)
    return sorted(found.values(), key=lambda h: h.version)


def find_memory_hierarchy(root: Root) -> Hierarchy | None:
    """The memory controller's hierarchy (the first mount of it), or None when there is none."""
    found = memory_hierarchies(root)
    return found[0] if found else None


def process_cgroup(
    hierarchy: Hierarchy | None, v1_memory: str | None, v2: str | None
) -> str | None:
    """A process's cgroup in the memory hierarchy, from its /proc/PID/cgroup lines."""
    if hierarchy is None:
        return v1_memory or v2
    return v1_memory if hierarchy.version == 1 else v2


# --- cgroup path -> what a person recognises ------------------------------------------------

# Container runtimes' scope names: <runtime>-<64 hex>.scope (systemd cgroup driver).
_RUNTIME = {
    "docker": "docker",
    "cri-containerd": "containerd",
    "crio": "cri-o",
    "crio-conmon": "cri-o-conmon",
    "libpod": "podman",
    "libpod-conmon": "podman-conmon",
}
_HEX = "0123456789abcdef"
# Where a pod uid has its separators: the systemd driver writes kubepods-burstable-
# pod0f1e..._..._.slice (underscores), the cgroupfs driver pod0f1e...-... (dashes).
_UUID_SEPARATORS = (8, 13, 18, 23)

# String tests rather than regular expressions: compiling three patterns was a millisecond of
# every command's start-up, and these run only on the paths of processes holding swap.


def _hex(text: str, n: int) -> bool:
    return len(text) == n and not text.strip(_HEX)


def _container(part: str) -> str | None:
    """``docker-<64 hex>.scope`` and the like as ``docker:<12 hex>``."""
    if not part.endswith(".scope"):
        return None
    runtime, sep, cid = part[:-6].rpartition("-")
    if sep and runtime in _RUNTIME and _hex(cid, 64):
        return f"{_RUNTIME[runtime]}:{cid[:12]}"
    return None


def _pod_uid(part: str) -> str | None:
    """The first ``pod<uid>`` in a path element, the uid with dashes."""
    i = part.find("pod")
    while i >= 0:
        uid = part[i + 3 : i + 39]
        if (
            len(uid) == 36
            and all(uid[k] in "-_" for k in _UUID_SEPARATORS)
            and _hex(uid[:8] + uid[9:13] + uid[14:18] + uid[19:23] + uid[24:], 32)
        ):
            return uid.replace("_", "-")
        i = part.find("pod", i + 1)
    return None


def unit_name(path: str | None) -> str | None:
    """The systemd unit, shortened container id or Kubernetes pod of a cgroup path, or None.

    /system.slice/mysql.service                  -> mysql.service
    /system.slice/docker-<64 hex>.scope           -> docker:<12 hex>
    /docker/<64 hex>                              -> docker:<12 hex> (cgroupfs driver)
    /kubepods.slice/.../kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope
                                                  -> pod:<uid> containerd:<12 hex>
    /machine.slice/libpod-<64 hex>.scope          -> podman:<12 hex>
    /user.slice/user-1000.slice/session-3.scope   -> session-3.scope
    /user.slice/user-1000.slice                   -> user-1000.slice
    """
    if not path or path == "/":
        return None
    parts = [p for p in path.split("/") if p]
    container = None
    for i in range(len(parts) - 1, -1, -1):
        container = _container(parts[i])
        if container:
            break
        if _hex(parts[i], 64):
            runtime = "docker" if i > 0 and parts[i - 1] == "docker" else "container"
            container = f"{runtime}:{parts[i][:12]}"
            break
    if parts[0].startswith("kubepods"):
        for part in parts:
            uid = _pod_uid(part)
            if uid:
                pod = "pod:" + uid
                return f"{pod} {container}" if container else pod
    if container:
        return container
    for suffixes in ((".service", ".scope"), (".slice",)):
        for part in reversed(parts):
            if part.endswith(suffixes):
                return part
    return None


def kube_ids(path: str | None) -> tuple[str, str] | None:
    """(pod uid, container id) of a Kubernetes cgroup path, or None outside a pod.

    The kubelet names a pod's cgroup after its uid and each container's after the runtime's
    full container id; the path has no pod name (join with kube-state-metrics' kube_pod_info on
    the uid for that). Both drivers, cgroup v1 and v2 alike (v1 paths are relative to the
    memory hierarchy, so they look the same):

    /kubepods/burstable/pod<uid>/<64 hex>                      (cgroupfs driver)
    /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid_with_underscores>
        .slice/cri-containerd-<64 hex>.scope                   (systemd driver)

    The container id is "" for the pod's own cgroup, which holds its containers' cgroups.
    """
    if not path:
        return None
    parts = [p for p in path.split("/") if p]
    start = next((i for i, p in enumerate(parts) if p.startswith("kubepods")), None)
    if start is None:
        return None
    for i in range(start, len(parts)):
        uid = _pod_uid(parts[i])
        if uid is None:
            continue
        container = ""
        if i + 1 < len(parts):
            child = parts[i + 1]
            cid = child[:-6].rpartition("-")[2] if child.endswith(".scope") else child
            container = cid if _hex(cid, 64) else ""
        return uid, container
    return None


# --- one walk of the hierarchy ---------------------------------------------------------------


if TYPE_CHECKING:

    class _CgroupRaw(NamedTuple):
        swap_bytes: int | None
        majflt: int | None
        pswpin: int | None
        pswpout: int | None
        zswpin: int | None
        zswpout: int | None
        events: dict[str, int] | None
        psi_some_us: int | None
        psi_full_us: int | None

else:
    _CgroupRaw = namedtuple(
        "_CgroupRaw",
        "swap_bytes majflt pswpin pswpout zswpin zswpout events psi_some_us psi_full_us",
    )


def walk(root: Root, mount: str) -> Iterator[str]:
    """Every cgroup below ``mount`` (itself first, then depth first by name) as a path relative
    to the root; a generator, so a caller that caps the count stops the walk there.

    Each directory is named through the root (a snapshot bundle resolves its paths itself);
    scandir's d_type tells directories from files without a stat() of each cgroup file.
    """
    stack = [mount]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(root.join(rel)) as it:
                children = [e.name for e in it if e.is_dir(follow_symlinks=False)]
        except OSError:
            continue  # removed while walking (or never there)
        yield rel
        stack.extend(f"{rel}/{n}" for n in sorted(children, reverse=True))


class CgroupScan:
    """Walks the memory hierarchy; each ``sample()`` is rated against the previous one."""

    def __init__(self, root: Root, hierarchy: Hierarchy) -> None:
        self.root = root
        self.hierarchy = hierarchy
        self._prev: dict[str, _CgroupRaw] = {}

    def sample(self, counts: dict[str, int], seconds: float) -> list[Record]:
        """One record per cgroup holding swap now or at the previous sample, or holding one of
        the listed processes (``counts``: cgroup path -> processes listed in it); biggest swap
        first. docs/interface.md (``top --format json``, ``cgroups``) has the keys."""
        h = self.hierarchy
        out: list[Record] = []
        raws: dict[str, _CgroupRaw] = {}
        for d in walk(self.root, h.mount):
            rel = "/" + d[len(h.mount) :].lstrip("/")
            rec = self._v1(d, rel, counts) if h.version == 1 else self._v2(d, rel, counts)
            if rec is None:
                continue
            raw, record = rec
            raws[rel] = raw
            _rate(record, raw, self._prev.get(rel), seconds, h.version)
            out.append(record)
        self._prev = raws
        out.sort(key=lambda c: (-_int(c["swap_bytes"]), str(c["path"])))
        return out

    def pressure_totals(self) -> dict[str, tuple[int | None, int | None]]:
        """The last sample's memory.pressure some/full totals (µs) by cgroup path; v2 only."""
        if self.hierarchy.version != 2:
            return {}
        return {rel: (r.psi_some_us, r.psi_full_us) for rel, r in self._prev.items()}

    def _wanted(self, rel: str, swap: int | None, counts: dict[str, int]) -> bool:
        return bool(swap) or rel in self._prev or rel in counts

    def _read(self, rel: str) -> str | None:
        """A cgroup file, or None when it does not exist here (older kernel, no swap accounting,
        a cgroup removed while we walk)."""
        try:
            return read_file(self.root, rel)
        except OSError as e:
            if e.errno in ABSENT_CGROUP_FILE:
                return None
            raise kernel_file_error(self.root.join(rel), e) from None

    def _keyed(self, rel: str) -> dict[str, int] | None:
        text = self._read(rel)
        return None if text is None else parse_flat_keyed(text)

    def _v1_value(self, rel: str) -> int | None:
        text = self._read(rel)
        return None if text is None else parse_v1_value(text)

    def _v1(self, d: str, rel: str, counts: dict[str, int]) -> tuple[_CgroupRaw, Record] | None:
        stat = self._keyed(f"{d}/memory.stat")
        if stat is None:
            return None  # removed while walking
        swap = stat.get("swap")
        if not self._wanted(rel, swap, counts):
            return None
        raw = _CgroupRaw(swap, stat.get("pgmajfault"), None, None, None, None, None, None, None)
        record = _record(rel, 1, swap, counts)
        record["memsw_usage_bytes"] = self._v1_value(f"{d}/memory.memsw.usage_in_bytes")
        record["memsw_limit_bytes"] = self._v1_value(f"{d}/memory.memsw.limit_in_bytes")
        record["memsw_failcnt"] = self._v1_value(f"{d}/memory.memsw.failcnt")
        record["note"] = V1_NOTE
        return raw, record

    def _v2(self, d: str, rel: str, counts: dict[str, int]) -> tuple[_CgroupRaw, Record] | None:
        text = self._read(f"{d}/memory.swap.current")
        swap = None if text is None else parse_v2_limit(text)
        if not self._wanted(rel, swap, counts):
            return None
        stat = self._keyed(f"{d}/memory.stat") or {}
        events = self._keyed(f"{d}/memory.swap.events")
        psi_text = self._read(f"{d}/memory.pressure")
        psi = parse_pressure(psi_text) if psi_text is not None else None
        some = psi.some if psi is not None else None
        full = psi.full if psi is not None else None
        raw = _CgroupRaw(
            swap,
            stat.get("pgmajfault"),
            stat.get("pswpin"),
            stat.get("pswpout"),
            stat.get("zswpin"),
            stat.get("zswpout"),
            events,
            some.total_us if some is not None else None,
            full.total_us if full is not None else None,
        )
        record = _record(rel, 2, swap, counts)
        max_text = self._read(f"{d}/memory.swap.max")
        record["swap_max_bytes"] = None if max_text is None else parse_v2_limit(max_text)
        record["swap_events"] = (
            None if events is None else {k: events.get(k) for k in ("high", "max", "fail")}
        )
        record["psi_some_avg10"] = some.avg10 if some is not None else None
        record["psi_full_avg10"] = full.avg10 if full is not None else None
        return raw, record


def _rate(
    record: Record, raw: _CgroupRaw, before: _CgroupRaw | None, seconds: float, version: int
) -> None:
    if before is None:
        return  # first sight: held figures only, rates stay None
    record["swap_delta_bytes_per_s"] = gauge_rate(before.swap_bytes, raw.swap_bytes, seconds)
    record["majflt_per_s"] = counter_rate(before.majflt, raw.majflt, seconds)
    if version == 1:
        return
    record["swap_in_per_s"] = counter_rate(before.pswpin, raw.pswpin, seconds)
    record["swap_out_per_s"] = counter_rate(before.pswpout, raw.pswpout, seconds)
    record["zswap_in_per_s"] = counter_rate(before.zswpin, raw.zswpin, seconds)
    record["zswap_out_per_s"] = counter_rate(before.zswpout, raw.zswpout, seconds)
    if raw.events is not None and before.events is not None:
        record["swap_events_delta"] = {
            k: counter_delta(before.events.get(k), raw.events.get(k))
            for k in ("high", "max", "fail")
        }
    for key, a, b in (
        ("psi_some_pct", before.psi_some_us, raw.psi_some_us),
        ("psi_full_pct", before.psi_full_us, raw.psi_full_us),
    ):
        r = counter_rate(a, b, seconds)
        record[key] = None if r is None else r / 1e4  # µs per s -> % of the interval


def _record(rel: str, version: int, swap: int | None, counts: dict[str, int]) -> Record:
    return {
        "path": rel,
        "unit": unit_name(rel),
        "version": version,
        "swap_bytes": swap,
        "swap_in_per_s": None,
        "swap_out_per_s": None,
        "zswap_in_per_s": None,
        "zswap_out_per_s": None,
        "swap_delta_bytes_per_s": None,
        "majflt_per_s": None,
        "swap_max_bytes": None,
        "swap_events": None,
        "swap_events_delta": None,
        "psi_some_avg10": None,
        "psi_full_avg10": None,
        "psi_some_pct": None,
        "psi_full_pct": None,
        # the sums of its listed processes' shares (model/procs.py adds them)
        **dict.fromkeys(WAIT_SUM_KEYS),
        "memsw_usage_bytes": None,
        "memsw_limit_bytes": None,
        "memsw_failcnt": None,
        "processes": counts.get(rel, 0),
    }


def _int(v: object) -> int:
    return v if isinstance(v, int) else 0
