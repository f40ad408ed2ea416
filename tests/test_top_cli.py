"""`checkswap top` run in-process on fixture trees: formats, sorting, limits, bad input."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
from typing import Any, Callable

from clihelp import FIXTURES, no_sleep, run_cli

from checkswap.commands import top
from checkswap.render.top import CLEAR


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(argv: list[str], stdout: io.StringIO | None = None) -> tuple[int, str, str]:
    return run_cli(argv, stdout=stdout, sleep=no_sleep)  # fixture trees do not move


def test_json_one_object_per_refresh(fixture_root: Callable[[str], str]) -> None:
    root = fixture_root("top-cgroup-v2-server")
    status, out, err = run(["top", "--root", root, "--format", "json", "-n", "3", "-i", "0.01"])
    assert (status, err) == (0, "")
    recs = [json.loads(line) for line in out.splitlines()]
    assert len(recs) == 3
    assert [r["type"] for r in recs] == ["processes"] * 3
    assert recs[0]["processes"][0]["majflt_per_s"] is None
    assert recs[1]["processes"][0]["majflt_per_s"] == 0.0
    assert recs[0]["cgroups"] is None  # not asked for
    assert len(recs[0]["processes"]) == 5  # JSON lists every process in swap by default
    for key in ("unattributed_swap_bytes", "hidden_processes"):
        assert key in recs[0]


def test_limit_and_cgroups(fixture_root: Callable[[str], str]) -> None:
    root = fixture_root("top-cgroup-v2-server")
    status, out, _ = run(["top", "--root", root, "--format", "json", "--limit", "2", "--cgroups"])
    rec = json.loads(out)
    assert status == 0
    assert [p["pid"] for p in rec["processes"]] == [1500, 812]
    assert rec["cgroups"][0]["path"] == "/system.slice"


def _edit(path: str, old: str, new: str) -> None:
    with open(path) as f:
        text = f.read()
    assert old in text
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def test_sort_by_activity(fixture_root: Callable[[str], str], tmp_path: Any) -> None:
    """A process swapping out and in at the same rate (flat VmSwap) still sorts first."""
    tree = str(tmp_path / "tree")
    shutil.copytree(fixture_root("top-cgroup-v2-server"), tree)

    class Bump(io.StringIO):
        def write(self, s: str) -> int:
            if not self.getvalue():
                # between the two refreshes: bash (1 MiB in swap) takes 5,000 major faults
                _edit(f"{tree}/proc/3000/stat", " 2 0 0 0 ", " 5002 0 0 0 ")
            return super().write(s)

    out = Bump()
    status, _, _ = run(
        ["top", "--root", tree, "--format", "json", "--sort", "activity", "-n", "2", "-i", "1"],
        out,
    )
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert status == 0
    assert first["processes"][0]["pid"] == 1500  # no rates yet: by swap held
    assert second["processes"][0]["pid"] == 3000
    assert second["processes"][0]["swap_delta_bytes_per_s"] == 0.0
    assert second["processes"][0]["majflt_per_s"] > 0


def test_text_on_a_pipe_and_on_a_tty(fixture_root: Callable[[str], str]) -> None:
    root = fixture_root("top-cgroup-v2-server")
    status, out, _ = run(["top", "--root", root, "-n", "2", "-i", "0.01", "--cgroups"])
    assert status == 0
    assert CLEAR not in out
    assert out.count("# first sample") == 1
    assert out.count("mysql.service") == 4  # process and cgroup rows, twice
    lines = out.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("PID"))
    assert "SWAP/s" in header and "MAJFLT/s" in header
    assert "IN/s = swap-in (pages read back into RAM)" in out
    status, out, _ = run(["top", "--root", root, "-n", "2", "-i", "0.01", "--cgroups"], Tty())
    assert out.count(CLEAR) == 2
    # a StringIO has no terminal size: 80x24 is assumed, and the redraw fits it
    screens = out.split(CLEAR)[1:]
    for screen in screens:
        lines = screen.splitlines()
        assert len(lines) <= 23
        assert max(len(line) for line in lines) <= 80
        assert lines[-1] == "# (more: a bigger terminal, or --limit)"


def test_hidepid_is_said(fixture_root: Callable[[str], str]) -> None:
    status, out, _ = run(["top", "--root", fixture_root("top-hidepid2")])
    assert status == 0
    assert "some processes are not visible: run as root" in out


def test_bad_input_is_one_line(fixture_root: Callable[[str], str]) -> None:
    root = fixture_root("top-cgroup-v2-server")
    for argv, words in (
        (["top", "--root", root, "--limit", "0"], "--limit"),
        (["top", "--root", root, "-i", "soon"], "interval"),
        (["top", "--root", root, "--sort", "swp"], "did you mean 'swap'"),
        (["top", "--root", root + "/proc"], "did you mean --root"),
    ):
        status, out, err = run(argv)
        assert status == 2, argv
        assert out == ""
        assert err.count("\n") == 1 and words in err, err


def test_help_says_how_activity_is_computed() -> None:
    parser = argparse.ArgumentParser()
    out = top.add_parser(parser.add_subparsers()).format_help()
    assert "|SWAP/s| / page size + MAJFLT/s" in out
    assert "swap-in: pages read back from swap into RAM" in out


def test_vmswap_above_swap_used_is_said_not_printed_as_a_negative_size() -> None:
    # procfs's fixtures: meminfo says no swap while a process's VmSwap is 660 KiB; the header
    # read "unattributed -660.0 KiB".
    status, out, _ = run_cli("top", "--root", os.path.join(FIXTURES, "procfs-fixtures"), "-n", "1")
    assert status == 0
    head = out.splitlines()[0]
    assert "unattributed none: VmSwap exceeds swap used by 660.0 KiB" in head, head
    assert "-660" not in head
    status, out, _ = run_cli(
        "top", "--root", os.path.join(FIXTURES, "procfs-fixtures"), "-n", "1", "--format", "json"
    )
    assert status == 0
    assert json.loads(out)["unattributed_swap_bytes"] == -660 * 1024  # the figure itself stays
