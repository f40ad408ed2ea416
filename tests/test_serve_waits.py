"""serve's wait families without the kernel: checkswap_process_swapin_wait_seconds_total from a
scanner fed by a scripted stand-in for taskstats on a fixture tree (processes waiting, exiting,
leaving the top N, a pid reused), and checkswap_cgroup_memory_pressure_seconds_total from the
tree's cgroup v2 memory.pressure. The real kernel's is tests/test_serve_waits_live.py."""

from __future__ import annotations

import io
import shutil
from typing import Any

import pytest
from test_procs import _set_stat_field
from test_taskstats import _tree

pytest.importorskip("prometheus_client")

from checkswap.fleet.metrics import cgroup_pressure_metrics
from checkswap.fleet.serve import background_jobs
from checkswap.fleet.waits import WAIT_SERIES_TTL_S, Reading, WaitTotals
from checkswap.kernel.taskstats import Delays
from checkswap.model.cgroups import CgroupScan, Hierarchy
from checkswap.source.root import Root

WAIT = "checkswap_process_swapin_wait_seconds_total"
PRESSURE = "checkswap_cgroup_memory_pressure_seconds_total"
DOCKER = "4f1b5e3c9a7d2b8e6f0a1c3d5e7f9b2a4c6e8d0f1a3b5c7d9e2f4a6b8c0d1e3f"


class ScriptedTaskstats:
    """Answers each pid's swap-in total (seconds) as the test last set it."""

    def __init__(self) -> None:
        self.swapin_s: dict[int, float] = {}

    def tgid(self, pid: int) -> Delays | None:
        if pid not in self.swapin_s:
            return None  # exited, as the kernel answers ESRCH
        ns = int(self.swapin_s[pid] * 1e9)
        return Delays(16, pid, 1, 1, 1, ns, 0, 0, 0, 0)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _job(root: Root, monkeypatch: Any, top: int) -> tuple[Any, ScriptedTaskstats, Clock]:
    fake = ScriptedTaskstats()
    monkeypatch.setattr("checkswap.model.procs.Taskstats", lambda: fake)
    clock = Clock()
    jobs = background_jobs(root, top, 15, 300, "general", io.StringIO(), monotonic=clock)
    return jobs[0], fake, clock


def _scrape(job: Any, name: str) -> dict[tuple[str, ...], float]:
    job.run_once()
    assert job.errors == 0
    out: dict[tuple[str, ...], float] = {}
    for fam in job.result:
        for s in fam.samples:
            if s.name == name:
                out[tuple(s.labels.values())] = s.value
    return out


def test_no_exported_wait_counter_ever_decreases(tmp_path: Any, monkeypatch: Any) -> None:
    root = _tree(tmp_path, "1")
    job, fake, clock = _job(root, monkeypatch, top=2)
    seen: dict[tuple[str, ...], float] = {}

    def scrape() -> dict[tuple[str, ...], float]:
        clock.t += 15
        now = _scrape(job, WAIT)
        assert len(now) <= 2  # --top bounds the series
        for labels, value in now.items():
            assert value >= seen.get(labels, 0.0), (labels, value, seen.get(labels))
            seen[labels] = value
        return now

    mysqld = ("mysqld", "mysql.service")
    nginx = ("nginx", "nginx.service")
    java = ("java", "docker:4f1b5e3c9a7d")
    fake.swapin_s = {812: 100.0, 900: 50.0, 1500: 10.0, 2100: 0.0, 3000: 0.0}
    assert scrape() == {}  # baselines: what they waited before serve saw them is not counted
    fake.swapin_s.update({812: 103.0, 900: 51.0, 1500: 10.5})
    assert scrape() == {mysqld: 3.0, nginx: 1.0}
    # java waits most now: nginx leaves the top 2, and comes back higher, never lower
    fake.swapin_s.update({1500: 20.5})
    assert scrape() == {java: 10.5, mysqld: 3.0}
    fake.swapin_s.update({900: 60.0})
    assert scrape() == {java: 10.5, nginx: 10.0}
    # mysqld exits (its total vanishes with it): its series keeps what it added
    shutil.rmtree(f"{root.path}/proc/812")
    del fake.swapin_s[812]
    fake.swapin_s.update({900: 61.0})
    assert scrape() == {java: 10.5, nginx: 11.0}
    # nginx's pid is reused by a new nginx with a small total: a new baseline, no drop
    _set_stat_field(f"{root.path}/proc/900/stat", 19, 999_999)  # its start time
    fake.swapin_s[900] = 0.5
    assert scrape()[nginx] == 11.0
    fake.swapin_s[900] = 2.5
    assert scrape()[nginx] == 13.0


def test_quiet_series_expire_after_the_ttl() -> None:
    w = WaitTotals(ttl_s=100.0)
    a, b = ("a", ""), ("b", "")
    w.update([Reading(1, 7, a, 1.0), Reading(2, 7, b, 1.0)], now=0.0)
    w.update([Reading(1, 7, a, 3.0), Reading(2, 7, b, 2.0)], now=10.0)
    assert w.top(5) == [(a, 2.0), (b, 1.0)]
    w.update([Reading(1, 7, a, 4.0), Reading(2, 7, b, 2.0)], now=105.0)
    assert w.top(5) == [(a, 3.0), (b, 1.0)]  # b grew last at 10: 95 s ago, kept
    w.update([Reading(1, 7, a, 5.0)], now=111.0)
    assert w.top(5) == [(a, 4.0)]  # b: 101 s without growing, forgotten
    # a total that went backwards (the same pid and start) subtracts nothing
    w.update([Reading(1, 7, a, 1.0)], now=112.0)
    assert w.top(5) == [(a, 4.0)]
    assert WAIT_SERIES_TTL_S == 3600.0  # the documented TTL (docs/monitoring.md)


def test_series_are_bounded_by_top_n() -> None:
    w = WaitTotals()
    readings = [Reading(pid, 1, (f"p{pid}", ""), 0.0) for pid in range(500)]
    w.update(readings, now=0.0)
    w.update([r._replace(delay_s=float(r.pid)) for r in readings], now=1.0)
    top = w.top(10)
    assert [k[0] for k, _ in top] == [f"p{pid}" for pid in range(499, 489, -1)]


def test_cgroup_pressure_is_the_v2_kernel_counter(tmp_path: Any, monkeypatch: Any) -> None:
    root = _tree(tmp_path, "1")
    job, _, _ = _job(root, monkeypatch, top=3)
    docker = f"/system.slice/docker-{DOCKER}.scope"
    labelled = _scrape(job, PRESSURE)
    assert {k[1:3] for k in labelled} == {("", "")}  # no kubepods path in this tree
    got = {(k[0], k[3]): v for k, v in labelled.items()}
    assert len(got) == 6  # --top 3 cgroups, some and full: the most stalled first
    assert got[(docker, "some")] == 9.876543 and got[(docker, "full")] == 8.765432
    assert got[("/system.slice/mysql.service", "some")] == 1.234567
    assert got[("/system.slice/mysql.service", "full")] == 0.890123
    # it is the kernel's counter, read again at each scan
    svc = f"{root.path}/sys/fs/cgroup/system.slice/mysql.service/memory.pressure"
    _edit_total(svc, 1234567, 3734567)
    again = {(k[0], k[3]): v for k, v in _scrape(job, PRESSURE).items()}
    assert again[("/system.slice/mysql.service", "some")] == 3.734567


def test_cgroup_pressure_carries_the_pods_ids() -> None:
    # The same pod_uid/container_id as checkswap_cgroup_swap_bytes, so the two join.
    from checkswap.fleet.metrics import cgroup_pressure_metrics

    pod = "0fb5b7c4-1e2d-4c3b-9a8f-7e6d5c4b3a21"
    cid = "9a8b7c6d5e4f" + "0" * 52
    path = (
        f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{pod.replace('-', '_')}"
        f".slice/cri-containerd-{cid}.scope"
    )
    (fam,) = cgroup_pressure_metrics({path: (2_000_000, 1_000_000)}, limit=5)
    got = {s.labels["kind"]: (s.labels["pod_uid"], s.labels["container_id"]) for s in fam.samples}
    assert got == {"some": (pod, cid), "full": (pod, cid)}


def _edit_total(path: str, old: int, new: int) -> None:
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace(f"total={old}", f"total={new}", 1))


def test_cgroup_v1_has_no_pressure_series(tmp_path: Any) -> None:
    # v1's memory controller has no memory.pressure: a v1 walk gives no totals to export
    mount = tmp_path / "sys/fs/cgroup/memory"
    (mount / "hog").mkdir(parents=True)
    for d in (mount, mount / "hog"):
        (d / "memory.stat").write_text("swap 4096\npgmajfault 3\n")
    scan = CgroupScan(Root(str(tmp_path)), Hierarchy(1, "sys/fs/cgroup/memory"))
    assert [c["path"] for c in scan.sample({}, 1.0)] == ["/", "/hog"]
    assert scan.pressure_totals() == {}
    assert cgroup_pressure_metrics(scan.pressure_totals(), 10)[0].samples == []
