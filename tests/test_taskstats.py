"""Delay accounting without the kernel: the taskstats struct by version, the netlink attribute
walk, the --delayacct state file, and the scanner's wait figures fed by a stand-in for the
netlink socket (the real one is tests/test_taskstats_live.py)."""

from __future__ import annotations

import os
import shutil
import struct
from typing import Any

import pytest
from clihelp import FIXTURES

from checkswap.kernel.taskstats import (
    Delays,
    TaskstatsDenied,
    _attrs,
    parse_taskstats,
)
from checkswap.lab.delayacct import State, format_state, parse_state
from checkswap.model.procs import DELAY_KEYS, DELAYACCT_OFF_NOTE, MAX_DELAY_QUERIES, Scanner
from checkswap.render.top import text_lines
from checkswap.source.root import Root


def _struct(version: int, size: int, at: dict[int, int], pid_at: int, pid: int) -> bytes:
    buf = bytearray(size)
    struct.pack_into("=H", buf, 0, version)
    for off, value in at.items():
        struct.pack_into("=Q", buf, off, value)
    struct.pack_into("=I", buf, pid_at, pid)
    return bytes(buf)


# Offsets of include/uapi/linux/taskstats.h, counted by hand from the header of each version.
V16 = {32: 7, 40: 70, 48: 5, 56: 50, 328: 3, 336: 30}
V15 = {48: 7, 56: 70, 80: 5, 88: 50, 392: 3, 400: 30}


def test_version_16_the_layout_of_this_kernel() -> None:
    d = parse_taskstats(_struct(16, 560, V16, 128, 4242))
    assert d == Delays(16, 4242, 0, 0, 5, 50, 7, 70, 3, 30)


def test_version_15_moved_fields_read_at_their_own_offsets() -> None:
    # 15 put max/min after each total; read with 16's offsets it would give blkio max as
    # swapin_count and so on.
    d = parse_taskstats(_struct(15, 624, V15, 176, 4242))
    assert d == Delays(15, 4242, 0, 0, 5, 50, 7, 70, 3, 30)
    wrong = parse_taskstats(_struct(16, 624, V15, 176, 4242))
    assert wrong.swapin_delay_ns != 50


def test_older_versions_lack_thrashing_and_short_structs_give_none() -> None:
    d = parse_taskstats(_struct(8, 328, {48: 5, 56: 50}, 128, 1))
    assert (d.swapin_count, d.swapin_delay_ns) == (5, 50)
    assert (d.thrashing_count, d.thrashing_delay_ns) == (None, None)
    short = parse_taskstats(_struct(16, 60, {48: 5}, 4, 0))
    assert (short.swapin_count, short.swapin_delay_ns, short.pid) == (5, None, None)
    with pytest.raises(ValueError):
        parse_taskstats(b"\x10")


def test_attribute_walk_stops_at_a_truncated_attribute() -> None:
    good = struct.pack("=HH", 8, 1) + b"abcd"
    bad = struct.pack("=HH", 64, 2) + b"xy"
    assert _attrs(good + bad) == {1: b"abcd"}
    nested = struct.pack("=HH", 8, 0x8005) + b"efgh"
    assert _attrs(nested) == {5: b"efgh"}  # NLA_F_NESTED masked off


def test_state_file_round_trip_and_unknown_lines() -> None:
    state = State(0, ((4242, 123456), (99, 7)))
    assert parse_state(format_state(state)) == state
    assert parse_state("restore 0\nholder x 1\nfuture line\nholder 5 6\n") == State(0, ((5, 6),))
    assert parse_state("") == State(None, ())
    assert format_state(State(None, ())) == ""


# --- the scanner's wait figures ------------------------------------------------------------


class HostTree(Root):
    """A fixture tree the scanner takes for this host (so it asks taskstats), with a clock
    advancing 2 s a sample."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.is_host = True
        self.t = 1000.0

    def clock(self) -> tuple[float, float]:
        self.t += 2.0
        return self.t, 1_795_000_000.0 + self.t


class FakeTaskstats:
    """Stands in for the netlink socket: each pid's swap-in total grows by ``grow`` ns a query."""

    def __init__(self, grow: dict[int, int], denied: bool = False) -> None:
        self.grow = grow
        self.totals: dict[int, int] = {}
        self.asked: list[int] = []
        self.denied = denied

    def tgid(self, pid: int) -> Delays | None:
        if self.denied:
            raise TaskstatsDenied("delay accounting (taskstats) needs root (CAP_NET_ADMIN)")
        self.asked.append(pid)
        self.totals[pid] = self.totals.get(pid, 0) + self.grow.get(pid, 0)
        t = self.totals[pid]
        return Delays(16, None, 1, 1, t // 1000, t, 0, 2 * t, 0, 0)


def _tree(tmp_path: Any, switch: str | None) -> HostTree:
    dst = str(tmp_path / "tree")
    shutil.copytree(os.path.join(FIXTURES, "top-cgroup-v2-server"), dst, symlinks=True)
    if switch is not None:
        os.makedirs(os.path.join(dst, "proc/sys/kernel"))
        with open(os.path.join(dst, "proc/sys/kernel/task_delayacct"), "w") as f:
            f.write(switch + "\n")
    return HostTree(dst)


def test_wait_share_is_the_delay_over_the_interval(tmp_path: Any) -> None:
    scanner = Scanner(_tree(tmp_path, "1"), cgroups=False)
    fake = FakeTaskstats({812: 1_000_000_000})  # mysqld waits 1 s of every 2 s
    scanner._taskstats = fake  # type: ignore[assignment]
    first = {p["pid"]: p for p in scanner.sample()["processes"]}
    assert first[812]["swapin_delay_s"] == 1.0
    assert first[812]["swapin_wait_pct"] is None  # rates need two samples
    rec = scanner.sample()
    procs = {p["pid"]: p for p in rec["processes"]}
    assert procs[812]["swapin_delay_s"] == 2.0
    assert procs[812]["swapin_wait_pct"] == pytest.approx(50.0)
    assert procs[812]["blkio_wait_pct"] == pytest.approx(100.0)
    assert procs[1500]["swapin_wait_pct"] == 0.0  # holds swap, waits for none
    assert rec["notes"] == []
    # The one that waited is asked first next time.
    fake.asked.clear()
    scanner.sample()
    assert fake.asked[0] == 812


def test_delayacct_off_gives_null_figures_and_the_note(tmp_path: Any) -> None:
    scanner = Scanner(_tree(tmp_path, "0"), cgroups=False)
    fake = FakeTaskstats({812: 5})
    scanner._taskstats = fake  # type: ignore[assignment]
    rec = scanner.sample()
    assert all(p[k] is None for p in rec["processes"] for k in DELAY_KEYS)
    assert DELAYACCT_OFF_NOTE in rec["notes"]
    assert fake.asked == []  # its answers would be frozen totals: not asked at all


def test_another_user_gets_one_note_and_null_figures(tmp_path: Any) -> None:
    scanner = Scanner(_tree(tmp_path, "1"), cgroups=False)
    scanner._taskstats = FakeTaskstats({}, denied=True)  # type: ignore[assignment]
    for _ in range(2):
        rec = scanner.sample()
        assert all(p[k] is None for p in rec["processes"] for k in DELAY_KEYS)
        assert [n for n in rec["notes"] if "root" in n] == [
            "wait figures are null: delay accounting (taskstats) needs root (CAP_NET_ADMIN)"
        ]


def test_a_tree_from_elsewhere_is_never_asked(tmp_path: Any) -> None:
    tree = _tree(tmp_path, "1")
    tree.is_host = False
    scanner = Scanner(tree, cgroups=False)
    assert not scanner.delays
    rec = scanner.sample()
    assert all(p[k] is None for p in rec["processes"] for k in DELAY_KEYS)
    assert rec["notes"] == []


def test_queries_are_capped_per_refresh(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("checkswap.model.procs.MAX_DELAY_QUERIES", 2)
    scanner = Scanner(_tree(tmp_path, "1"), cgroups=False)
    fake = FakeTaskstats({})
    scanner._taskstats = fake  # type: ignore[assignment]
    rec = scanner.sample()
    assert len(fake.asked) == 2
    assert fake.asked == [1500, 812]  # the largest holders when nobody waited yet
    assert any("of 3 processes not read" in n for n in rec["notes"]), rec["notes"]
    assert MAX_DELAY_QUERIES == 256  # the documented cap (docs/top.md) is untouched


def test_text_table_shows_wait_columns_only_with_figures(tmp_path: Any) -> None:
    scanner = Scanner(_tree(tmp_path, "1"), cgroups=False)
    scanner._taskstats = FakeTaskstats({812: 1_000_000_000})  # type: ignore[assignment]
    scanner.sample()
    lines = text_lines(scanner.sample(), 5, "wait")
    head = next(line for line in lines if line.lstrip().startswith("PID"))
    assert "SWAPIN%" in head and "BLKIO%" in head and "THRASH%" in head
    row = next(line for line in lines if "mysqld" in line)
    assert " 50.0 " in row
    plain = text_lines(Scanner(_tree(tmp_path / "b", "0"), cgroups=False).sample(), 5, "swap")
    assert not any("SWAPIN%" in line for line in plain)


def test_processes_started_before_the_switch_are_unknown_not_zero(tmp_path: Any) -> None:
    # The fixture's stat start times: java 1500 and mysqld 812 started earlier than the rest.
    tree = _tree(tmp_path, "1")
    starts = {}
    for pid in (1500, 812, 2100, 900, 3000):
        with open(os.path.join(tree.path, f"proc/{pid}/stat")) as f:
            starts[pid] = int(f.read().rsplit(")", 1)[1].split()[19])
    since = sorted(starts.values())[1]
    scanner = Scanner(tree, cgroups=False, delays_since=since)
    scanner._taskstats = FakeTaskstats({})  # type: ignore[assignment]
    rec = scanner.sample()
    for p in rec["processes"]:
        if starts[p["pid"]] <= since:
            assert p["swapin_delay_s"] is None, p
        else:
            assert p["swapin_delay_s"] == 0.0, p
    n = sum(1 for s in starts.values() if s <= since)
    assert any(
        f"wait figures of {n} processes are null: they started before" in x for x in rec["notes"]
    )


# --- doctor's evidence ---------------------------------------------------------------------


def test_doctor_names_who_waited_and_how_long() -> None:
    from checkswap.doctor.facts import Facts, waiters
    from checkswap.doctor.rules import check_verdict

    rec = {
        "interval_s": 5.0,
        "processes": [
            {"pid": 900, "comm": "nginx", "swapin_wait_pct": 0.0, "blkio_wait_pct": 0.0},
            {"pid": 812, "comm": "mysqld", "swapin_wait_pct": 64.0, "blkio_wait_pct": 22.0},
            {"pid": 1500, "comm": "java", "swapin_wait_pct": None, "blkio_wait_pct": None},
            {"pid": 2100, "comm": "app", "swapin_wait_pct": 2.0, "blkio_wait_pct": None},
        ],
    }
    who = waiters(rec)
    assert [w["comm"] for w in who] == ["mysqld", "app"]  # waited, longest first; 0 and null out
    assert who[0]["swapin_wait_s"] == pytest.approx(3.2)
    f = Facts()
    f.verdict = "swapping"
    f.verdict_evidence = {"swap_in_per_s": 812.0, "swap_out_per_s": 40.0, "waiters": who}
    (finding,) = check_verdict(f)
    assert "mysqld (pid 812) waited 3.2 s of the last 5.0 s for swap-in" in finding["detail"]
    assert "(and 1.1 s on block I/O" in finding["detail"]
    assert "app (pid 2100) waited 0.1 s" in finding["detail"]
    f.verdict = "thrashing"
    f.verdict_evidence = {"swap_in_per_s": 9000.0, "psi_full_pct": 40.0, "waiters": who[:1]}
    (finding,) = check_verdict(f)
    assert finding["detail"].endswith(
        "of the time. Who waited: mysqld (pid 812) waited 3.2 s of the last 5.0 s for "
        "swap-in (and 1.1 s on block I/O, where disk reads wait)."
    )
    f.verdict_evidence = {"swap_in_per_s": 9000.0, "psi_full_pct": 40.0}
    (finding,) = check_verdict(f)
    assert "waited" not in finding["detail"]  # no figures, no sentence
