"""Capture the kernel files checkswap reads into a bundle, so the diagnosis runs elsewhere.

Each sample is a complete tree (``samples/NNN/proc``, ``samples/NNN/sys``) of the files below,
read at one moment; the manifest records when (monotonic and wall clock), the page size, the
kernel release and the stat() facts the topology needs (a swapfile's mode and filesystem). Never
captured: /proc/PID/environ, cmdline, mem, maps and the like, and nothing outside /proc and /sys
but the user names and uids of /etc/passwd (for top's user column).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time

from checkswap import __version__, outfile
from checkswap.errors import BadInput, Refused
from checkswap.kernel import block
from checkswap.kernel.swaps import parse_swaps
from checkswap.model.cgroups import memory_hierarchies, walk
from checkswap.model.sample import Ticker
from checkswap.model.topology import stat_facts
from checkswap.source.bundle import FORMAT
from checkswap.source.root import MANIFEST, Root
from checkswap.units import iso_utc

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Any, Callable


PROC_FILES = (
    "proc/vmstat",
    "proc/meminfo",
    "proc/swaps",
    "proc/diskstats",
    "proc/uptime",
    "proc/loadavg",
    "proc/pressure/memory",
    "proc/pressure/io",
    "proc/pressure/cpu",
    "proc/self/mountinfo",
    "proc/self/cgroup",
    "proc/cgroups",
    "proc/sys/vm/swappiness",
    "proc/sys/vm/page-cluster",
    "proc/sys/vm/overcommit_memory",
    "proc/sys/vm/overcommit_ratio",
    "proc/sys/vm/min_free_kbytes",
    "proc/sys/vm/watermark_scale_factor",
    "proc/sys/vm/vfs_cache_pressure",
    "proc/sys/kernel/osrelease",
    "proc/sys/kernel/hostname",
    "proc/sys/kernel/task_delayacct",
)
PID_FILES = ("status", "stat", "cgroup")
# Files that hold secrets or whole memory: never read, whatever the lists above say.
NEVER = frozenset({"environ", "cmdline", "mem", "maps", "smaps", "pagemap", "auxv", "fd", "stack"})
BLOCK_FILES = (
    "dev",
    "size",
    "partition",
    "start",
    "ro",
    "removable",
    "stat",
    "queue/rotational",
    "queue/logical_block_size",
    "loop/backing_file",
    "loop/offset",
    "dm/name",
    "dm/uuid",
    "md/level",
    "md/raid_disks",
    "comp_algorithm",
    "disksize",
    "mm_stat",
    "io_stat",
)
BLOCK_LINK_DIRS = ("slaves", "holders")
CGROUP_V1_FILES = (
    "memory.stat",
    "memory.usage_in_bytes",
    "memory.limit_in_bytes",
    "memory.max_usage_in_bytes",
    "memory.memsw.usage_in_bytes",
    "memory.memsw.limit_in_bytes",
    "memory.memsw.failcnt",
    "memory.swappiness",
    "cgroup.procs",
)
CGROUP_V2_FILES = (
    "memory.stat",
    "memory.current",
    "memory.max",
    "memory.high",
    "memory.swap.current",
    "memory.swap.max",
    "memory.zswap.current",
    "memory.pressure",
    "memory.events",
    "memory.swap.events",
    "cgroup.procs",
    "cgroup.controllers",
    "cgroup.subtree_control",
)
MAX_CGROUPS = 4096


class Capture:
    """Reads one sample's files from a root into (arcname -> bytes | symlink target)."""

    def __init__(self, root: Root) -> None:
        self.root = root
        self.files: dict[str, bytes] = {}
        self.links: dict[str, str] = {}
        self.skipped: dict[str, str] = {}

    def file(self, rel: str) -> bool:
        if os.path.basename(rel) in NEVER:
            raise AssertionError(f"refusing to capture {rel}")
        try:
            with open(self.root.join(rel), "rb") as f:
                self.files[rel] = f.read()
            return True
        except OSError as e:
            # Absent (old kernel, no PSI), EACCES (hidepid), EOPNOTSUPP (psi=0), or a process
            # that exited: the bundle simply lacks the file, as the kernel lacked it.
            self.skipped[rel] = e.strerror or str(e)
            return False

    def link(self, rel: str) -> str | None:
        """Record a symlink (as its relative target) and return the resolved path rel to root."""
        try:
            target = self.root.readlink(rel)
        except OSError:
            return None
        if os.path.isabs(target):
            return None  # a tree's links are relative; an absolute one would escape the bundle
        self.links[rel] = target
        # Through the root: from a bundle, the link exists only in the bundle's namespace.
        resolved = self.root.realpath(rel)
        if resolved is None:
            return None
        return os.path.relpath(resolved, os.path.realpath(self.root.path))

    def listdir(self, rel: str) -> list[str]:
        try:
            return sorted(self.root.listdir(rel))
        except OSError:
            return []

    def run(self) -> None:
        for rel in PROC_FILES:
            self.file(rel)
        self.processes()
        self.block_devices()
        for name in self.listdir("sys/module/zswap/parameters"):
            self.file(f"sys/module/zswap/parameters/{name}")
        self.cgroups()
        self.users()

    def users(self) -> None:
        """User names for top's user column: name and uid only from etc/passwd, nothing else."""
        try:
            text = self.root.read_text("etc/passwd")
        except OSError:
            return
        rows = []
        for line in text.splitlines():
            f = line.split(":")
            if len(f) > 2 and f[2].isdigit():
                rows.append(f"{f[0]}:x:{f[2]}:\n")
        self.files["etc/passwd"] = "".join(rows).encode()

    def processes(self) -> None:
        for pid in self.listdir("proc"):
            if pid.isdigit():
                for name in PID_FILES:
                    self.file(f"proc/{pid}/{name}")

    def block_devices(self) -> None:
        for top in ("sys/block", "sys/dev/block"):
            for name in self.listdir(top):
                self.link(f"{top}/{name}")
        for name in self.listdir(block.CLASS):
            dev = self.link(f"{block.CLASS}/{name}")
            if dev is None or dev.startswith(".."):
                continue
            for attr in BLOCK_FILES:
                if self.root.exists(f"{dev}/{attr}"):
                    self.file(f"{dev}/{attr}")
            for sub in BLOCK_LINK_DIRS:
                self.files.setdefault(f"{dev}/{sub}/", b"")
                for s in self.listdir(f"{dev}/{sub}"):
                    self.link(f"{dev}/{sub}/{s}")

    def cgroups(self) -> None:
        seen = 0
        # The memory hierarchies top and stress use: the same discovery, so the bundle holds
        # what they read back from it.
        for h in memory_hierarchies(self.root):
            names = CGROUP_V2_FILES if h.version == 2 else CGROUP_V1_FILES
            base = h.mount
            for rel in walk(self.root, base):
                seen += 1
                if seen > MAX_CGROUPS:
                    self.skipped[base] = f"more than {MAX_CGROUPS} cgroups: the rest left out"
                    return
                for name in names:
                    if self.root.exists(f"{rel}/{name}"):
                        self.file(f"{rel}/{name}")


def swapfile_facts(root: Root) -> dict[str, dict[str, int]]:
    """stat() facts for every swap area and loop backing file (what topology needs offline)."""
    try:
        areas = parse_swaps(root.read_text("proc/swaps"))
    except OSError:
        return {}
    paths = [a.name for a in areas if a.type in ("file", "partition")]
    for name in block.block_names(root):
        if name.startswith("loop"):
            backing = block.loop_backing_file(root, name)
            if backing:
                paths.append(backing)
    out = {}
    for p in paths:
        facts = stat_facts(root, p)
        if facts is not None:
            out[p] = facts
    return out


def _page_size_known(root: Root) -> bool:
    """This host's own page size, or one a manifest recorded: not the guess for a bare tree."""
    return root.is_host or (root.manifest is not None and "page_size_bytes" in root.manifest)


def take(
    root: Root,
    output: str,
    count: int,
    interval: float,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int, Capture], None] | None = None,
) -> dict[str, Any]:
    """Capture ``count`` samples ``interval`` apart into the tar.gz ``output``; the manifest."""
    if os.path.isdir(output) and not os.path.islink(output):
        raise BadInput(f"-o {output}: is a directory; give a file name such as snap.tar.gz")
    outfile.check_output(output, "-o")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": 1,
        "checkswap_version": __version__,
        "hostname": root.hostname,
        "kernel_release": root.kernel_release,
        "page_size_bytes": root.page_size,
        "interval_s": interval if count > 1 else None,
        "samples": [],
        "stat": swapfile_facts(root),
        "skipped": {},
        "never_captured": sorted(NEVER),
    }
    if not _page_size_known(root):
        # A tree without a manifest only had this host's page size assumed for it: recorded
        # as a fact, the replay would drop the "assuming" note and the guess would pass for a
        # measurement. Left out, the replay assumes again and says so.
        del manifest["page_size_bytes"]
    try:
        # 0600: a bundle names every process and cgroup on the machine.
        with (
            outfile.replacing(output, "-o", 0o600) as f,
            tarfile.open(fileobj=f, mode="w:gz") as tar,
        ):
            ticker = Ticker(root, interval, monotonic, sleep)
            for k in range(count):
                try:
                    if k and not ticker.wait():
                        break
                    mono, wall = root.clock()
                    cap = Capture(root)
                    cap.run()
                except KeyboardInterrupt:
                    # Ctrl-C or SIGTERM between samples: keep the samples taken so far.
                    if not manifest["samples"]:
                        raise
                    manifest["interrupted"] = True
                    break
                d = f"samples/{k:03d}"
                _add(tar, d, cap)
                manifest["samples"].append(
                    {"dir": d, "mono": mono, "wall": wall, "time": iso_utc(wall)}
                )
                manifest["skipped"].update(cap.skipped)
                if progress is not None:
                    progress(k, cap)
            manifest["skipped"] = _summarise(manifest["skipped"])
            data = (json.dumps(manifest, indent=1) + "\n").encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    except OSError as e:
        raise Refused(f"-o {output}: {e.strerror or e}") from None
    return manifest


def _summarise(skipped: dict[str, str]) -> dict[str, str]:
    """Skipped files, but per-process ones folded: processes come and go between reads."""
    out = {k: v for k, v in skipped.items() if not k.split("/")[1].isdigit()}
    pids = [k for k in skipped if k.split("/")[1].isdigit()]
    if pids:
        out["proc/PID/*"] = f"{len(pids)} per-process files unreadable or gone (exited, hidepid)"
    return out


def _add(tar: tarfile.TarFile, prefix: str, cap: Capture) -> None:
    now = int(time.time())
    dirs: set[str] = set()

    def ensure_dir(path: str) -> None:
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in dirs:
                dirs.add(d)
                info = tarfile.TarInfo(d)
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                info.mtime = now
                tar.addfile(info)

    for rel, data in sorted(cap.files.items()):
        name = f"{prefix}/{rel}"
        if rel.endswith("/"):
            ensure_dir(name.rstrip("/"))
            continue
        ensure_dir(os.path.dirname(name))
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        info.mtime = now
        tar.addfile(info, io.BytesIO(data))
    for rel, target in sorted(cap.links.items()):
        name = f"{prefix}/{rel}"
        ensure_dir(os.path.dirname(name))
        info = tarfile.TarInfo(name)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        info.mtime = now
        tar.addfile(info)
