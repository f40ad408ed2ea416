"""The process/cgroup scanner on fixture trees: held figures, rates, naming, hidepid."""

from __future__ import annotations

import os
import shutil
from typing import Any, Callable

import pytest

from checkswap.model.cgroups import V1_NOTE, unit_name
from checkswap.model.procs import HIDDEN_NOTE, Scanner
from checkswap.source.root import Root

DOCKER = "4f1b5e3c9a7d2b8e6f0a1c3d5e7f9b2a4c6e8d0f1a3b5c7d9e2f4a6b8c0d1e3f"
CTR = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"
POD = "0fb5b7c4-1e2d-4c3b-9a8f-7e6d5c4b3a21"
MiB = 1024 * 1024


class StepRoot(Root):
    """A fixture root whose monotonic clock advances by exactly ``step`` per sample."""

    def __init__(self, path: str, step: float = 2.0) -> None:
        super().__init__(path)
        self.t = 1000.0
        self.step = step

    def clock(self) -> tuple[float, float]:
        self.t += self.step
        return self.t, 1_795_000_000.0 + self.t


@pytest.mark.parametrize(
    ("path", "unit"),
    [
        ("/", None),
        (None, None),
        ("/system.slice/mysql.service", "mysql.service"),
        (f"/system.slice/docker-{DOCKER}.scope", "docker:4f1b5e3c9a7d"),
        (f"/docker/{DOCKER}", "docker:4f1b5e3c9a7d"),
        (f"/machine.slice/libpod-{DOCKER}.scope", "podman:4f1b5e3c9a7d"),
        (f"/machine.slice/libpod-{DOCKER}.scope/container", "podman:4f1b5e3c9a7d"),
        (f"/system.slice/crio-{DOCKER}.scope", "cri-o:4f1b5e3c9a7d"),
        (
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
            f"{POD.replace('-', '_')}.slice/cri-containerd-{CTR}.scope",
            f"pod:{POD} containerd:9a8b7c6d5e4f",
        ),
        (f"/kubepods/besteffort/pod{POD}/{CTR}", f"pod:{POD} container:9a8b7c6d5e4f"),
        (f"/kubepods/besteffort/pod{POD}", f"pod:{POD}"),
        ("/user.slice/user-1000.slice/session-3.scope", "session-3.scope"),
        (
            "/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox.scope",
            "app-firefox.scope",
        ),
        ("/user.slice/user-1000.slice", "user-1000.slice"),
        ("/checkswap-test-hog-123", None),
    ],
)
def test_unit_name(path: str | None, unit: str | None) -> None:
    assert unit_name(path) == unit


def _by_pid(rec: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {p["pid"]: p for p in rec["processes"]}


def _by_path(rec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["path"]: c for c in rec["cgroups"]}


def test_v2_server_first_sample(fixture_root: Callable[[str], str]) -> None:
    rec: dict[str, Any] = Scanner(StepRoot(fixture_root("top-cgroup-v2-server"))).sample()
    assert rec["type"] == "processes"
    assert rec["interval_s"] is None
    procs = _by_pid(rec)
    # kthreadd (2), the zombie (2200) and systemd with VmSwap 0 (1) are not listed
    assert [p["pid"] for p in rec["processes"]] == [1500, 812, 2100, 900, 3000]
    assert procs[812]["swap_bytes"] == 262144 * 1024
    assert procs[812]["user"] == "mysql"
    assert procs[812]["unit"] == "mysql.service"
    assert procs[900]["swap_bytes"] == 2048 * 1024  # status with spaces for tabs
    assert procs[900]["comm"] == "nginx"
    assert procs[2100]["comm"] == "app server"
    assert procs[2100]["unit"] == f"pod:{POD} containerd:9a8b7c6d5e4f"
    assert procs[1500]["unit"] == "docker:4f1b5e3c9a7d"
    for p in rec["processes"]:
        assert p["swap_delta_bytes_per_s"] is None
        assert p["majflt_per_s"] is None
        assert p["swap_pss_bytes"] is None
    total = (262144 + 2048 + 524288 + 65536 + 1024) * 1024
    assert rec["process_swap_bytes"] == total
    assert rec["swap_used_bytes"] == total + 64 * MiB
    assert rec["unattributed_swap_bytes"] == 64 * MiB
    assert rec["hidden_processes"] is False
    assert rec["scanned_processes"] == 8

    cgs = _by_path(rec)
    docker = cgs[f"/system.slice/docker-{DOCKER}.scope"]
    assert docker["swap_bytes"] == 524288 * 1024  # memory.swap.current
    assert docker["swap_max_bytes"] == 536870912
    assert docker["swap_events"] == {"high": 0, "max": 12, "fail": 3}
    assert docker["swap_in_per_s"] is None
    assert docker["psi_some_avg10"] == 1.5
    assert docker["processes"] == 1
    assert docker["version"] == 2
    assert cgs["/system.slice/mysql.service"]["swap_max_bytes"] is None  # "max"
    # shmem in swap: no process holds it, the cgroup walk still finds it
    assert cgs["/system.slice/postgresql.service"]["swap_bytes"] == 32 * MiB
    assert cgs["/system.slice/postgresql.service"]["processes"] == 0
    assert "/init.scope" not in cgs  # holds no swap, no listed process
    assert rec["cgroups"][0]["path"] == "/system.slice"  # sorted by swap held


def test_static_tree_gives_zero_rates(fixture_root: Callable[[str], str]) -> None:
    scanner = Scanner(StepRoot(fixture_root("top-cgroup-v2-server")))
    scanner.sample()
    rec: dict[str, Any] = scanner.sample()
    assert rec["interval_s"] == 2.0
    for p in rec["processes"]:
        assert p["swap_delta_bytes_per_s"] == 0.0
        assert p["majflt_per_s"] == 0.0
    docker = _by_path(rec)[f"/system.slice/docker-{DOCKER}.scope"]
    assert docker["swap_in_per_s"] == 0.0
    assert docker["zswap_out_per_s"] == 0.0
    assert docker["swap_events_delta"] == {"high": 0, "max": 0, "fail": 0}


def _edit(path: str, old: str, new: str) -> None:
    with open(path) as f:
        text = f.read()
    assert old in text, (path, old)
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def _set_stat_field(path: str, index: int, value: int) -> None:
    with open(path) as f:
        head, rest = f.read().rsplit(") ", 1)
    fields = rest.split()
    fields[index] = str(value)
    with open(path, "w") as f:
        f.write(head + ") " + " ".join(fields) + "\n")


def test_rates_between_samples(fixture_root: Callable[[str], str], tmp_path: Any) -> None:
    tree = str(tmp_path / "tree")
    shutil.copytree(fixture_root("top-cgroup-v2-server"), tree)
    scanner = Scanner(StepRoot(tree, step=2.0))
    scanner.sample()
    # mysqld: 8 MiB swapped back in, 100 major faults; its cgroup: 512 pages in, 256 out.
    _edit(f"{tree}/proc/812/status", "VmSwap:\t  262144 kB", "VmSwap:\t  253952 kB")
    _set_stat_field(f"{tree}/proc/812/stat", 9, 5223)
    cg = f"{tree}/sys/fs/cgroup/system.slice/mysql.service"
    _edit(f"{cg}/memory.stat", "pswpin 4087\npswpout 71234", "pswpin 4599\npswpout 71490")
    _edit(f"{cg}/memory.swap.current", "268435456", "260046848")
    _edit(f"{cg}/memory.pressure", "total=1234567", "total=1634567")
    docker = f"{tree}/sys/fs/cgroup/system.slice/docker-{DOCKER}.scope"
    _edit(f"{docker}/memory.swap.events", "max 12\nfail 3", "max 15\nfail 3")
    # the docker container's java was restarted under the same pid (new start time)
    _set_stat_field(f"{tree}/proc/1500/stat", 19, 99999)
    # a counter that went backwards gives no rate
    _edit(f"{docker}/memory.stat", "pswpin 120044", "pswpin 100")
    rec: dict[str, Any] = scanner.sample()
    mysqld = _by_pid(rec)[812]
    assert mysqld["swap_bytes"] == 253952 * 1024
    assert mysqld["swap_delta_bytes_per_s"] == -8 * MiB / 2.0
    assert mysqld["majflt_per_s"] == 50.0
    svc = _by_path(rec)["/system.slice/mysql.service"]
    assert svc["swap_in_per_s"] == 256.0
    assert svc["swap_out_per_s"] == 128.0
    assert svc["swap_delta_bytes_per_s"] == -8 * MiB / 2.0
    assert svc["psi_some_pct"] == pytest.approx(400000 / 2.0 / 1e4)
    java = _by_pid(rec)[1500]
    assert java["swap_delta_bytes_per_s"] is None
    assert java["majflt_per_s"] is None
    d = _by_path(rec)[f"/system.slice/docker-{DOCKER}.scope"]
    assert d["swap_events_delta"] == {"high": 0, "max": 3, "fail": 0}
    assert d["swap_in_per_s"] is None
    assert d["swap_out_per_s"] == 0.0


def test_process_leaving_swap_is_shown_once_with_zero(
    fixture_root: Callable[[str], str], tmp_path: Any
) -> None:
    tree = str(tmp_path / "tree")
    shutil.copytree(fixture_root("top-cgroup-v2-server"), tree)
    scanner = Scanner(StepRoot(tree, step=1.0))
    scanner.sample()
    _edit(f"{tree}/proc/3000/status", "VmSwap:\t    1024 kB", "VmSwap:\t       0 kB")
    rec: dict[str, Any] = scanner.sample()
    bash = _by_pid(rec)[3000]
    assert bash["swap_bytes"] == 0
    assert bash["swap_delta_bytes_per_s"] == -1024 * 1024.0
    assert 3000 not in _by_pid(scanner.sample())
    # and back into swap: the previous 0 is known, so it has a delta again
    _edit(f"{tree}/proc/3000/status", "VmSwap:\t       0 kB", "VmSwap:\t    4096 kB")
    again = _by_pid(scanner.sample())[3000]
    assert again["swap_delta_bytes_per_s"] == 4096 * 1024.0
    assert again["majflt_per_s"] is None  # stat was not read while it held no swap


def test_vanished_process_is_skipped(fixture_root: Callable[[str], str], tmp_path: Any) -> None:
    tree = str(tmp_path / "tree")
    shutil.copytree(fixture_root("top-cgroup-v2-server"), tree)
    os.unlink(f"{tree}/proc/812/stat")  # exited between reading status and stat
    shutil.rmtree(f"{tree}/proc/900")
    rec: dict[str, Any] = Scanner(StepRoot(tree)).sample()
    assert 812 not in _by_pid(rec)
    assert 900 not in _by_pid(rec)
    assert rec["unreadable_processes"] == 0
    assert rec["notes"] == []


def test_pss_and_budget(fixture_root: Callable[[str], str]) -> None:
    rec: dict[str, Any] = Scanner(StepRoot(fixture_root("top-cgroup-v2-server")), pss=True).sample()
    assert _by_pid(rec)[812]["swap_pss_bytes"] == 131072 * 1024
    ticks = iter(range(100))
    scanner = Scanner(
        StepRoot(fixture_root("top-cgroup-v2-server")),
        pss=True,
        pss_budget_s=2,
        monotonic=lambda: float(next(ticks)),
    )
    rec = scanner.sample()
    measured = [p["swap_pss_bytes"] is not None for p in rec["processes"]]
    # the clock reads 0 at the start (deadline 2), 1 before the first read, 2 before the second
    assert measured == [True, False, False, False, False]  # biggest first, then out of time
    assert any("SwapPss not read for 4 processes" in n for n in rec["notes"])


def test_no_cgroups(fixture_root: Callable[[str], str]) -> None:
    rec: dict[str, Any] = Scanner(
        StepRoot(fixture_root("top-cgroup-v2-server")), cgroups=False
    ).sample()
    assert rec["cgroups"] is None
    assert _by_pid(rec)[812]["cgroup"] == "/system.slice/mysql.service"


def test_hidepid_gid_members_see_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    # hidepid=invisible,gid=27: members of group 27 see every process, as root does, so an
    # unprivileged member must not be told that processes are hidden.
    from checkswap.kernel.mountinfo import Hidepid
    from checkswap.source.root import Root

    scanner = Scanner(Root("/"))
    scanner._hidepid = Hidepid("invisible", True, False, 27)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(os, "getegid", lambda: 1000)
    monkeypatch.setattr(os, "getgroups", lambda: [1000, 27])
    assert scanner._sees_everything()
    monkeypatch.setattr(os, "getgroups", lambda: [1000])
    assert not scanner._sees_everything()
    scanner._hidepid = Hidepid("invisible", True, False, None)
    assert not scanner._sees_everything()


def test_hidepid2_is_reported(fixture_root: Callable[[str], str]) -> None:
    rec: dict[str, Any] = Scanner(StepRoot(fixture_root("top-hidepid2"))).sample()
    assert rec["hidden_processes"] is True
    assert rec["hidepid"] == "invisible"
    assert rec["notes"][0].startswith(HIDDEN_NOTE)
    assert "hidepid=invisible" in rec["notes"][0]
    assert [p["pid"] for p in rec["processes"]] == [3100, 3000]
    assert rec["unattributed_swap_bytes"] == 512 * MiB - (204800 + 1024) * 1024
    assert rec["processes"][0]["unit"] == "app-firefox.scope"
    assert rec["cgroups"] is None
    assert any("no memory cgroup controller" in n for n in rec["notes"])


def test_v1_tree(tmp_path: Any, fixture_root: Callable[[str], str]) -> None:
    """A v1 memory hierarchy: swap from memory.stat, memsw.*, rates null with the note."""
    tree = str(tmp_path / "tree")
    shutil.copytree(fixture_root("top-hidepid2") + "/proc", f"{tree}/proc")
    _edit(f"{tree}/proc/self/mountinfo", "hidepid=invisible,", "")
    with open(f"{tree}/proc/3100/cgroup", "w") as f:
        f.write("4:memory:/hog\n0::/\n")
    v1 = f"{tree}/sys/fs/cgroup/memory"
    os.makedirs(f"{v1}/hog")
    with open(f"{v1}/memory.stat", "w") as f:
        f.write("swap 0\npgmajfault 0\ntotal_swap 1048576\n")
    for name, text in (
        ("memory.stat", "cache 0\nrss 1\nswap 1048576\npgmajfault 40\ntotal_swap 1048576\n"),
        ("memory.memsw.usage_in_bytes", "9000000\n"),
        ("memory.memsw.limit_in_bytes", "9223372036854771712\n"),
        ("memory.memsw.failcnt", "7\n"),
    ):
        with open(f"{v1}/hog/{name}", "w") as f:
            f.write(text)
    scanner = Scanner(StepRoot(tree, step=2.0))
    scanner.sample()
    _edit(f"{v1}/hog/memory.stat", "swap 1048576\npgmajfault 40", "swap 3145728\npgmajfault 60")
    rec: dict[str, Any] = scanner.sample()
    assert _by_pid(rec)[3100]["cgroup"] == "/hog"
    assert list(_by_path(rec)) == ["/hog"]
    hog = _by_path(rec)["/hog"]
    assert hog["version"] == 1
    assert hog["swap_bytes"] == 3145728
    assert hog["swap_in_per_s"] is None and hog["swap_out_per_s"] is None
    assert hog["swap_delta_bytes_per_s"] == 1048576.0
    assert hog["majflt_per_s"] == 10.0
    assert hog["memsw_usage_bytes"] == 9000000
    assert hog["memsw_limit_bytes"] is None
    assert hog["memsw_failcnt"] == 7
    assert hog["note"] == V1_NOTE


def test_tree_without_processes(fixture_root: Callable[[str], str]) -> None:
    """A capture of the system files only: processes' swap is unknown, not 0."""
    rec: dict[str, Any] = Scanner(StepRoot(fixture_root("linux-6.18-swapping"))).sample()
    assert rec["processes"] == []
    assert rec["scanned_processes"] == 0
    assert rec["process_swap_bytes"] is None
    assert rec["unattributed_swap_bytes"] is None
    assert rec["swap_used_bytes"] == 125833216
    assert any("no process could be read" in n for n in rec["notes"])


def test_new_process_under_a_pid_seen_without_swap(
    fixture_root: Callable[[str], str], tmp_path: Any
) -> None:
    """pid 1 held no swap; by the next sample a process started since has that pid and swap:
    its start time (after the previous sample, from /proc/uptime) says it is not the same."""
    tree = str(tmp_path / "tree")
    shutil.copytree(fixture_root("top-cgroup-v2-server"), tree)
    scanner = Scanner(StepRoot(tree, step=1.0))
    scanner.sample()
    _edit(f"{tree}/proc/1/status", "VmSwap:\t       0 kB", "VmSwap:\t    2048 kB")
    ticks = os.sysconf("SC_CLK_TCK")
    _set_stat_field(f"{tree}/proc/1/stat", 19, 86400 * ticks + 1)  # uptime is 86400.00 s
    _edit(f"{tree}/proc/uptime", "86400.00", "86401.00")
    reborn = _by_pid(scanner.sample())[1]
    assert reborn["swap_bytes"] == 2048 * 1024
    assert reborn["swap_delta_bytes_per_s"] is None


class TwoTrees(StepRoot):
    """A root that moves to a second tree on advance(), as a snapshot bundle does."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__(first)
        self.second = second

    def advance(self) -> bool:
        self.path = self.second
        return True


def test_root_that_moves_between_samples(fixture_root: Callable[[str], str], tmp_path: Any) -> None:
    first = str(tmp_path / "a")
    second = str(tmp_path / "b")
    shutil.copytree(fixture_root("top-cgroup-v2-server"), first)
    shutil.copytree(fixture_root("top-cgroup-v2-server"), second)
    _edit(f"{second}/proc/812/status", "VmSwap:\t  262144 kB", "VmSwap:\t  266240 kB")
    _set_stat_field(f"{second}/proc/812/stat", 9, 5133)
    _edit(f"{second}/proc/812/smaps_rollup", "SwapPss:          131072 kB", "SwapPss: 1 kB")
    cg = f"{second}/sys/fs/cgroup/system.slice/mysql.service"
    _edit(f"{cg}/memory.stat", "pswpout 71234", "pswpout 71334")
    root = TwoTrees(first, second)
    scanner = Scanner(root, pss=True)
    scanner.sample()
    assert root.advance()
    rec: dict[str, Any] = scanner.sample()
    mysqld = _by_pid(rec)[812]
    assert mysqld["swap_bytes"] == 266240 * 1024
    assert mysqld["swap_delta_bytes_per_s"] == 4 * MiB / 2.0
    assert mysqld["majflt_per_s"] == 5.0
    assert mysqld["swap_pss_bytes"] == 1024
    assert _by_path(rec)["/system.slice/mysql.service"]["swap_out_per_s"] == 50.0


class CountingRoot(Root):
    """A fixture root that counts every read of each file, and ends after ``ticks`` ticks."""

    def __init__(self, path: str, ticks: int) -> None:
        super().__init__(path)
        self.reads: dict[str, int] = {}
        self.ticks = ticks

    def count(self, rel: str) -> None:
        self.reads[rel] = self.reads.get(rel, 0) + 1

    def read_text(self, rel: str) -> str:
        self.count(rel)
        return super().read_text(rel)

    def open_pread(self, rel: str) -> Any:
        root, f = self, super().open_pread(rel)

        class Counted:
            path = f.path

            def read(self) -> str:
                root.count(rel)
                return f.read()

            def close(self) -> None:
                f.close()

        return Counted()

    def advance(self) -> bool:
        self.ticks -= 1
        return self.ticks >= 0


def test_dash_tick_reads_meminfo_once(fixture_root: Callable[[str], str]) -> None:
    """Regression: dash's live tick read /proc/meminfo twice, once for the sample and once
    again in the process scan; the scan now takes the tick's sample."""
    import time
    from types import SimpleNamespace

    from checkswap.commands import dash

    root = CountingRoot(fixture_root("top-cgroup-v2-server"), ticks=3)
    per_tick: list[dict[str, int]] = []

    class Screen:
        env = SimpleNamespace(monotonic=time.monotonic)
        state = SimpleNamespace()

        def wait(self, delay: float) -> None:
            pass

        def show(self, update: object = None) -> None:
            if update is not None:
                per_tick.append(dict(root.reads))
                root.reads.clear()

    dash._live(root, 0.001, Screen())  # type: ignore[arg-type]
    assert len(per_tick) == 3
    for reads in per_tick[1:]:  # the first also holds the start-up reads
        assert reads.get("proc/meminfo") == 1
        assert reads.get("proc/uptime", 0) <= 1
        assert reads.get("proc/vmstat") == 1
