"""snapshot bundles: what is captured (and never), replay as a root, and unsafe archives."""

from __future__ import annotations

import functools
import io
import json
import os
import tarfile
from typing import Any

import clihelp
import pytest
from clihelp import FIXTURES, no_sleep

from checkswap.cli import main
from checkswap.doctor.report import diagnose
from checkswap.errors import BadInput
from checkswap.record import snapshot
from checkswap.source import open_root
from checkswap.source.bundle import BundleRoot
from checkswap.source.root import Root


def snap(root_dir: str, out: str, count: int = 2) -> dict[str, Any]:
    return snapshot.take(Root(root_dir), out, count, 0.01, sleep=no_sleep)


def members(path: str) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {m.name: m for m in tar.getmembers()}


def member_text(path: str, name: str) -> str:
    with tarfile.open(path) as tar:
        f = tar.extractfile(name)
        assert f is not None
        return f.read().decode()


# Fixture trees and bundles do not move: no command here needs the real clock.
run_cli = functools.partial(clihelp.run_cli, sleep=no_sleep)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """What must not change between a tree and its bundle: findings, devices, verdict."""
    return {
        "findings": [(f["id"], f["severity"], f["title"]) for f in report["findings"]],
        "devices": report["devices"],
        "verdict": report["verdict"],
        "swappiness": report["swappiness"],
        "page_size_bytes": report["page_size_bytes"],
        "since_boot": report["since_boot"],
    }


@pytest.mark.parametrize(
    "case", ["topo-old-kernel", "topo-multipath", "topo-nfs", "topo-64k-pages", "topo-lxcfs"]
)
def test_bundle_of_a_tree_gives_the_same_diagnosis(case: str, tmp_path: Any) -> None:
    tree = os.path.join(FIXTURES, case)
    out = str(tmp_path / "b.tar.gz")
    snap(tree, out)
    direct = diagnose(Root(tree), sample_s=0.01, sleep=no_sleep)
    replayed = diagnose(open_root(out), sample_s=0.01, sleep=no_sleep)
    assert comparable(replayed) == comparable(direct)


def test_cgroup_v2_and_process_files_captured_secrets_never(tmp_path: Any) -> None:
    out = str(tmp_path / "b.tar.gz")
    snap(os.path.join(FIXTURES, "cgroup-v2"), out, count=1)
    names = members(out)
    svc = "samples/000/sys/fs/cgroup/system.slice/db.service"
    for f in ("memory.swap.current", "memory.stat", "memory.pressure", "cgroup.procs"):
        assert f"{svc}/{f}" in names
    assert member_text(out, f"{svc}/memory.swap.current") == "104857600\n"
    assert "samples/000/proc/812/status" in names
    assert "samples/000/proc/812/cgroup" in names
    assert not [n for n in names if os.path.basename(n) in ("cmdline", "environ")]
    with tarfile.open(out) as tar:
        for m in tar.getmembers():
            if m.isfile():
                f = tar.extractfile(m)
                assert f is not None
                assert b"fixture-secret" not in f.read(), m.name


def test_live_snapshot_is_complete_and_has_no_secrets(tmp_path: Any) -> None:
    out = str(tmp_path / "live.tar.gz")
    manifest = snapshot.take(Root("/"), out, 1, 1.0)
    names = members(out)
    pid = os.getpid()
    for rel in (
        "proc/vmstat",
        "proc/meminfo",
        "proc/swaps",
        "proc/diskstats",
        f"proc/{pid}/status",
        f"proc/{pid}/stat",
        f"proc/{pid}/cgroup",
        "proc/sys/vm/swappiness",
        "proc/self/mountinfo",
    ):
        assert f"samples/000/{rel}" in names, rel
    assert not [n for n in names if os.path.basename(n) in snapshot.NEVER]
    # User names for top: name and uid, no home, shell or GECOS.
    passwd = member_text(out, "samples/000/etc/passwd").splitlines()
    assert "root:x:0:" in passwd
    assert all(line.count(":") == 3 and line.endswith(":") for line in passwd)
    # The block tree resolves inside the bundle: sys/block/<disk> leads to its queue/rotational.
    root = open_root(out)
    for disk in os.listdir("/sys/block"):
        with open(f"/sys/block/{disk}/queue/rotational") as f:
            assert root.read_text(f"sys/block/{disk}/queue/rotational") == f.read()
    assert manifest["page_size_bytes"] == os.sysconf("SC_PAGE_SIZE")
    assert manifest["kernel_release"] == os.uname().release


def test_one_sample_gives_null_rates_two_give_one_interval(tmp_path: Any) -> None:
    one, two = str(tmp_path / "one.tar.gz"), str(tmp_path / "two.tar.gz")
    snapshot.take(Root("/"), one, 1, 0.2)
    snapshot.take(Root("/"), two, 2, 0.2)
    status, out, _ = run_cli(["watch", "--root", one, "--format", "json"])
    lines = [json.loads(x) for x in out.splitlines()]
    assert status == 0
    assert [x["type"] for x in lines] == ["header", "summary"]
    assert lines[1]["samples"] == 0
    report = diagnose(open_root(one), sleep=no_sleep)
    assert report["verdict"] in ("unknown", "no-swap")
    assert report["sample"]["swap_in_per_s"] is None

    status, out, _ = run_cli(["watch", "--root", two, "--format", "json"])
    recs = [json.loads(x) for x in out.splitlines()]
    (sample,) = [r for r in recs if r["type"] == "sample"]
    manifest = json.loads(member_text(two, "checkswap-manifest.json"))
    t0, t1 = (s["mono"] for s in manifest["samples"])
    v0, v1 = (
        dict(line.split() for line in member_text(two, f"samples/00{i}/proc/vmstat").splitlines())
        for i in (0, 1)
    )
    assert sample["interval_s"] == t1 - t0
    assert sample["swap_in_pages"] == int(v1["pswpin"]) - int(v0["pswpin"])
    assert sample["swap_out_per_s"] == (int(v1["pswpout"]) - int(v0["pswpout"])) / (t1 - t0)


def test_bundle_clock_and_advance(tmp_path: Any) -> None:
    out = str(tmp_path / "b.tar.gz")
    manifest = snap(os.path.join(FIXTURES, "topo-md-raid"), out, count=3)
    root = open_root(out)
    assert isinstance(root, BundleRoot)
    times = []
    while True:
        times.append(root.clock())
        if not root.advance():
            break
    assert times == [(s["mono"], s["wall"]) for s in manifest["samples"]]
    assert root.page_size == 4096


def _tar(path: str, add: Any) -> None:
    with tarfile.open(path, "w:gz") as tar:
        add(tar)


def _file(tar: tarfile.TarFile, name: str, data: bytes = b"x") -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    ("what", "add", "message"),
    [
        ("absolute path", lambda t: _file(t, "/etc/evil"), "unsafe path"),
        ("dot-dot", lambda t: _file(t, "samples/../../evil"), "unsafe path"),
        ("no manifest", lambda t: _file(t, "samples/000/proc/vmstat"), "not a checkswap"),
    ],
)
def test_unsafe_or_foreign_archives_are_bad_input(
    what: str, add: Any, message: str, tmp_path: Any
) -> None:
    path = str(tmp_path / "bad.tar.gz")
    _tar(path, add)
    with pytest.raises(BadInput, match=message):
        open_root(path)
    status, out, err = run_cli(["watch", "--root", path])
    assert status == 2 and message in err and "Traceback" not in err
    status, out, err = run_cli(["doctor", "--root", path])
    assert status == 3 and message in out + err


def test_a_file_that_is_not_a_bundle(tmp_path: Any) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    status, _, err = run_cli(["watch", "--root", str(path)])
    assert status == 2
    assert "snapshot bundle" in err


def test_snapshot_help_says_what_is_captured(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["snapshot", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Never captured: /proc/PID/environ, cmdline" in text
    assert "/proc/PID/status, stat and cgroup" in text


def test_snapshot_cli(tmp_path: Any) -> None:
    out = str(tmp_path / "s.tar.gz")
    status, text, err = run_cli(["snapshot", "-o", out, "-n", "2", "-i", "0.1"])
    assert status == 0, err
    assert "2 samples" in text
    assert len(json.loads(member_text(out, "checkswap-manifest.json"))["samples"]) == 2
    status, _, err = run_cli(["snapshot", "-o", str(tmp_path), "-n", "1"])
    assert status == 2 and "is a directory" in err
    status, _, err = run_cli(["snapshot", "-o", out, "-n", "0"])
    assert status == 2


def test_top_replays_a_bundle(tmp_path: Any) -> None:
    out = str(tmp_path / "t.tar.gz")
    snapshot.take(Root("/"), out, 2, 0.2)
    status, text, err = run_cli(["top", "--root", out, "--format", "json", "-n", "2"])
    assert status == 0, err
    first, second = (json.loads(line) for line in text.splitlines())
    names = members(out)
    pids = {
        n.split("/")[3]
        for n in names
        if n.startswith("samples/000/proc/") and n.endswith("/status") and n.split("/")[3].isdigit()
    }
    assert first["scanned_processes"] == len(pids)
    manifest = json.loads(member_text(out, "checkswap-manifest.json"))
    t0, t1 = (s["mono"] for s in manifest["samples"])
    assert first["interval_s"] is None
    assert second["interval_s"] == pytest.approx(t1 - t0)


def test_interrupted_snapshot_keeps_the_samples_taken(tmp_path: Any) -> None:
    out = str(tmp_path / "i.tar.gz")
    calls = []

    def sleep(s: float) -> None:
        calls.append(s)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as cli turns SIGTERM into

    tree = Root(os.path.join(FIXTURES, "topo-md-raid"))
    manifest = snapshot.take(tree, out, 5, 0.01, monotonic=lambda: 0.0, sleep=sleep)
    assert manifest["interrupted"] is True
    assert len(manifest["samples"]) == 2
    root = open_root(out)
    assert root.advance() and not root.advance()
    assert not os.path.exists(out + ".part")
