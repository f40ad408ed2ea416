"""stress without changing the machine: arguments, refusals on fixture trees, the hog's data."""

from __future__ import annotations

import os
import signal
import time

import pytest
from clihelp import run_cli

from checkswap.errors import BadInput, Refused
from checkswap.lab import hog, stress
from checkswap.model.cgroups import Hierarchy
from checkswap.model.procs import Scanner
from checkswap.record.snapshot import Capture
from checkswap.source.root import Root

MiB = 2**20


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--size", "32M", "--limit", "64M"], "must be larger than --limit 64.0 MiB"),
        (["--limit", "1M"], "--limit 1.0 MiB: at least 32 MiB"),
        (["--duration", "-1"], "it must be greater than 0"),
        (["--size", "lots"], "invalid --size 'lots'"),
        (["--swapfile", "512"], "did you mean 512G?"),
    ],
)
def test_bad_input_exits_2(argv: list[str], message: str) -> None:
    code, out, err = run_cli("stress", *argv, "--dry-run")
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1


def test_needs_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    code, out, err = run_cli("stress")
    assert (code, out) == (1, "")
    assert err == (
        "checkswap: stress needs root: run it with sudo (or try --dry-run to see the plan)\n"
    )


def test_help_shows_every_default() -> None:
    from checkswap.cli import build_parser

    parser, _ = build_parser("stress")
    sub = parser._subparsers._group_actions[0].choices["stress"]  # type: ignore[union-attr]
    text = " ".join(sub.format_help().split())
    for default in ("256M)", "64M)", "30s)", "(default: 1)", "(default: none"):
        assert default in text, default


def test_refuses_when_excess_does_not_fit_in_free_swap(fixture_root: object) -> None:
    # Captured on 6.18: 256 MiB of swap, 136 MiB free.
    root = Root(fixture_root("linux-6.18-swapping"))  # type: ignore[operator]
    with pytest.raises(Refused) as e:
        stress.plan_stress(root, 256 * MiB, 64 * MiB, 30, None)
    assert str(e.value).startswith(
        "the excess over the limit (192.0 MiB) must fit in free swap (136.0 MiB"
    )


def test_refuses_without_swap(fixture_root: object) -> None:
    root = Root(fixture_root("_captured"))  # type: ignore[operator]
    with pytest.raises(Refused, match=r"no swap is configured.*--swapfile 512M"):
        stress.plan_stress(root, 256 * MiB, 64 * MiB, 30, None)


def test_refuses_size_beyond_memory_and_swap(fixture_root: object) -> None:
    root = Root(fixture_root("swapfile-unsafe-remove"))  # 1 GiB available, 9.5 GiB swap free
    with pytest.raises(Refused, match="is more than MemAvailable"):
        stress.plan_stress(root, 11 * 2**30, 4 * 2**30, 30, None)
    with pytest.raises(Refused, match="is not below MemAvailable"):
        stress.plan_stress(root, 3 * 2**30, 2 * 2**30, 30, None)


def test_no_cgroup_controller_in_fixture_is_refused(fixture_root: object) -> None:
    root = Root(fixture_root("linux-6.18-swapping"))  # type: ignore[operator]
    with pytest.raises(Refused, match="no memory cgroup controller is mounted"):
        stress.plan_stress(root, 96 * MiB, 64 * MiB, 30, None)


def test_cgroup_v2_hierarchy(tmp_path: os.PathLike[str]) -> None:
    # Synthesised: the two files of a cgroup v2 root that say whether memory is usable.
    cg = os.path.join(tmp_path, "sys/fs/cgroup")
    os.makedirs(cg)
    with open(os.path.join(cg, "cgroup.controllers"), "w") as f:
        f.write("cpuset cpu io memory pids\n")
    with open(os.path.join(cg, "cgroup.subtree_control"), "w") as f:
        f.write("cpu io pids\n")
    root = Root(str(tmp_path))
    with pytest.raises(Refused, match=r"echo \+memory > .*cgroup.subtree_control"):
        stress.memory_hierarchy(root)
    with open(os.path.join(cg, "cgroup.subtree_control"), "w") as f:
        f.write("cpu io memory pids\n")
    assert stress.memory_hierarchy(root) == Hierarchy(2, "sys/fs/cgroup")


# Three layouts as mountinfo gives them (synthesised; the mount lines as a 6.18 host prints
# them). Each puts a cgroup holding swap ("held") only in the memory controller's hierarchy.
_TMPFS = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
LAYOUTS = {
    # cgroup_no_v1=memory on a systemd hybrid host: memory moves to the unified hierarchy.
    # Before one discovery, stress looked at sys/fs/cgroup only and refused.
    "memory-on-unified": (
        _TMPFS
        + "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        + "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
        "sys/fs/cgroup/unified",
        {"cpu/cgroup.procs": "", "unified/cgroup.controllers": "cpu memory pids\n"},
    ),
    # This machine's layout: v1 memory, an empty unified v2. snapshot captured the unified
    # hierarchy too, which nothing reads back.
    "hybrid-v1-memory": (
        _TMPFS
        + "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        + "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
        "sys/fs/cgroup/memory",
        {"unified/cgroup.controllers": "", "unified/cgroup.procs": "1\n"},
    ),
    # cgroup v2 mounted where mountinfo says, not at one of the usual paths: top looked at
    # sys/fs/cgroup and sys/fs/cgroup/unified only and found no controller.
    "v2-own-mount-point": (
        "25 22 0:23 / /sys/fs/cgroup2 rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n",
        "sys/fs/cgroup2",
        {},
    ),
}


def _layout_tree(tmp_path: str, fixture: str, name: str) -> tuple[Root, str]:
    import shutil

    mountinfo, mount, others = LAYOUTS[name]
    top = os.path.join(tmp_path, "tree")
    shutil.copytree(fixture, top)

    def write(rel: str, text: str) -> None:
        os.makedirs(os.path.dirname(os.path.join(top, rel)), exist_ok=True)
        with open(os.path.join(top, rel), "w") as f:
            f.write(text)

    write("proc/self/mountinfo", mountinfo)
    for rel, text in others.items():
        write(f"sys/fs/cgroup/{rel}", text)
    if mount.endswith("/memory"):
        write(f"{mount}/memory.stat", "swap 0\npgmajfault 0\n")
        write(f"{mount}/memory.limit_in_bytes", "9223372036854771712\n")
        write(f"{mount}/held/memory.stat", "swap 4096\npgmajfault 3\n")
    else:
        write(f"{mount}/cgroup.controllers", "memory pids\n")
        write(f"{mount}/cgroup.subtree_control", "memory pids\n")
        write(f"{mount}/held/memory.swap.current", "4096\n")
    write(f"{mount}/held/cgroup.procs", "")
    return Root(top), mount


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_stress_top_and_snapshot_find_the_same_memory_hierarchy(
    tmp_path: os.PathLike[str], fixture_root: object, layout: str
) -> None:
    """Regression: three discoveries (stress's, top's, snapshot's) disagreed on these trees."""
    fixture = fixture_root("linux-6.18-swapping")  # type: ignore[operator]
    root, mount = _layout_tree(str(tmp_path), fixture, layout)
    plan = stress.plan_stress(root, 96 * MiB, 64 * MiB, 30, None)
    assert os.path.dirname(plan.cgroup) == root.join(mount)
    cgroups = Scanner(root, cgroups=True).sample()["cgroups"]
    assert isinstance(cgroups, list)
    assert [c["path"] for c in cgroups] == ["/held"]
    capture = Capture(root)
    capture.cgroups()
    captured = {os.path.dirname(rel) for rel in capture.files}
    assert captured == {mount, f"{mount}/held"}


def test_hog_data_is_non_zero_in_every_page() -> None:
    page = 4096
    buf = hog.fill(3 * MiB + 100, page)
    zero = bytes(page)
    assert len(buf) == 3 * MiB + 100
    assert all(
        buf[i : i + page] != zero[: len(buf[i : i + page])] for i in range(0, len(buf), page)
    )
    assert 0 not in buf
    passes = hog.touch(buf, time.monotonic() + 0.05, page)
    assert passes >= 1
    assert 0 not in buf  # touching never writes a zero either
    assert buf[0] == 1 + (passes - 1) % 255


@pytest.mark.parametrize("data", hog.DATA_KINDS)
def test_hog_zero_share_stays_zero_through_touching(data: str) -> None:
    page = 4096
    buf = hog.fill(2 * MiB, page, zero_share=0.3, data=data)
    pages = [bytes(buf[i : i + page]) for i in range(0, len(buf), page)]
    zero = bytes(page)

    def zeros() -> int:
        return sum(p == zero for p in (bytes(buf[i : i + page]) for i in range(0, len(buf), page)))

    assert zeros() == pytest.approx(0.3 * len(pages), abs=2)
    passes = hog.touch(buf, time.monotonic() + 0.05, page, zero_share=0.3)
    assert passes >= 1
    assert zeros() == pytest.approx(0.3 * len(pages), abs=2)  # dirtied, still all zeros
    assert all(
        p == zero or bytes(buf[i * page : (i + 1) * page]) != zero for i, p in enumerate(pages)
    )


def test_hog_data_kinds_compress_as_described() -> None:
    import zlib

    page = 4096

    def ratio(data: str) -> float:
        one = bytes(hog.pattern(page, 0.0, data)[page : 2 * page])  # one page, as zswap sees it
        return len(zlib.compress(one)) / page

    assert ratio("pattern") < 0.2
    assert 0.4 < ratio("half-random") < 0.7
    assert ratio("random") > 0.95


def test_stress_refuses_a_bad_zero_share() -> None:
    code, _, err = run_cli("stress", "--dry-run", "--zero-share", "1.5")
    assert code == 2 and "fraction" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (0, None),
        (hog.CANNOT_JOIN << 8, "could not join its cgroup"),
        (signal.SIGKILL, "killed (SIGKILL): out of memory in its cgroup"),
        (signal.SIGSEGV, f"killed by signal {int(signal.SIGSEGV)}"),
        (1 << 8, "failed (exit status 1)"),
    ],
)
def test_hog_failure_messages(status: int, message: str | None) -> None:
    w = stress.HogWatch(-1)
    w.status = status
    failure = w.failure()
    assert failure is None if message is None else message in (failure or "")


def test_bad_input_class_for_small_limit() -> None:
    with pytest.raises(BadInput):
        stress.plan_stress(Root("/"), 64 * MiB, 16 * MiB, 1, None)
