"""One story across commands: on every fixture tree, and on a bundle snapshotted from it, the
commands that show a swap total, the swap used and the kind of each swap area show the same
figures; on two-sample bundles of the swapping trees (counters climbing, so the rates are not
zero) they agree on the rates and on the verdict.

Each command is run as a user runs it (the whole CLI, in-process, on the golden cases' fake
clock) and its output is read the way a user's script would read it: JSON lines for watch, top
and doctor, the perfdata of check, the exposition that serve --textfile writes. A command that
refuses a tree says nothing here (that is the business of the tests of what each command
needs); a figure that two commands both show must be the same.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import threading
import time
from typing import Any, Callable

import pytest
from golden_cases import FakeClock, MovingTree, run, trees

from checkswap.model.verdict import verdict

Figures = dict[str, Any]


def _json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def watch_figures(root: str, tmp: str, moving: MovingTree | None = None) -> Figures | None:
    status, out, _ = run(
        ["watch", "-n", "2", "-i", "1", "--format", "json", "--root", root], moving
    )
    if status != 0:
        return None
    records = _json_lines(out)
    header = next(r for r in records if r["type"] == "header")
    samples = [r for r in records if r["type"] == "sample"]
    figures: Figures = {
        "swap_total_bytes": header["swap_total_bytes"],
        "swap_used_bytes": header["swap_used_bytes"],
    }
    if header.get("swap_areas") is not None:
        figures["areas"] = {a["name"]: a["kind"] for a in header["swap_areas"]}
    if samples:
        last = samples[-1]
        # The header and the rows of one run are one story as well.
        figures["sample swap_total_bytes"] = last["swap_total_bytes"]
        figures["swap_in_per_s"] = last["swap_in_per_s"]
        figures["swap_out_per_s"] = last["swap_out_per_s"]
        figures["verdict"] = verdict(last)[0]
    return figures


def top_figures(root: str, tmp: str, moving: MovingTree | None = None) -> Figures | None:
    status, out, _ = run(["top", "-n", "1", "--format", "json", "--root", root], moving)
    if status != 0:
        return None
    record = _json_lines(out)[-1]
    return {
        "swap_total_bytes": record["swap_total_bytes"],
        "swap_used_bytes": record["swap_used_bytes"],
    }


def doctor_figures(root: str, tmp: str, moving: MovingTree | None = None) -> Figures | None:
    _, out, _ = run(["doctor", "--sample", "1", "--format", "json", "--root", root], moving)
    records = _json_lines(out)
    if not records or records[-1].get("verdict") in (None, "UNKNOWN") or "error" in records[-1]:
        return None
    report = records[-1]
    figures: Figures = {"verdict": report["verdict"]}
    sample = report.get("sample") or {}
    for key in ("swap_total_bytes", "swap_used_bytes", "swap_in_per_s", "swap_out_per_s"):
        if sample.get(key) is not None:
            figures[key] = sample[key]
    if report.get("devices") is not None:
        figures["areas"] = {d["name"]: d["kind"] for d in report["devices"]}
    return figures


_PERF = re.compile(r"(\w+)=([-0-9.e+]+)[^;\s]*((?:;[^;\s]*)*)")


def check_figures(root: str, tmp: str, moving: MovingTree | None = None) -> Figures | None:
    # A state file of its own each time: a previous run's would give check its rates.
    state = os.path.join(tmp, f"state-{len(os.listdir(tmp))}")
    status, out, _ = run(["check", "--sample", "1", "--state-file", state, "--root", root], moving)
    if status == 3 or "|" not in out:
        return None
    perf = {m.group(1): (m.group(2), m.group(3).split(";")) for m in _PERF.finditer(out)}
    figures: Figures = {}
    if "swap_used" in perf:
        value, rest = perf["swap_used"]
        figures["swap_used_bytes"] = int(float(value))
        if len(rest) > 4 and rest[4]:
            figures["swap_total_bytes"] = int(float(rest[4]))
    for name in ("swap_in", "swap_out"):
        if name in perf:
            figures[f"{name}_per_s"] = float(perf[name][0])
    return figures


def _unescape(label: str) -> str:
    """A label value of the text exposition format back to the string it stands for."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), label)


def _doctor_ran(text: str) -> bool:
    """Whether serve's background doctor finished once (or failed) before this write."""
    return (
        'checkswap_scan_timestamp_seconds{scan="doctor"}' in text
        or re.search(r'^checkswap_scan_errors_total\{scan="doctor"\} [1-9]', text, re.M) is not None
    )


class _Stop(BaseException):
    """Ends serve's endless textfile loop from inside its sleep, once the file was written."""


def serve_figures(root: str, tmp: str, moving: MovingTree | None = None) -> Figures | None:
    from checkswap.cli import main
    from checkswap.env import Env

    path = os.path.join(tmp, "agreement.prom")
    written: list[str] = []
    clock = FakeClock(moving)
    main_thread = threading.current_thread()

    deadline = time.monotonic() + 60  # real seconds: a loaded machine is slow

    def sleep(seconds: float) -> None:
        if threading.current_thread() is not main_thread:
            clock.sleep(seconds)
            return
        # Each of serve's sleeps is followed by a rewrite: wait (really) until the file has
        # the background doctor's findings too, which carry each area's kind.
        with open(path) as f:
            text = f.read()
        if _doctor_ran(text) or time.monotonic() > deadline:
            written.append(text)
            raise _Stop
        clock.sleep(seconds)
        time.sleep(0.01)

    env = Env(
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        monotonic=clock.monotonic,
        sleep=sleep,
        wall=clock.time,
    )
    try:
        status = main(["serve", "--textfile", path, "--root", root], env)
    except _Stop:
        status = 0
    if status != 0 or not written:
        return None
    text = written[0]
    figures: Figures = {}
    for key, metric in (
        ("swap_total_bytes", "checkswap_swap_total_bytes"),
        ("swap_used_bytes", "checkswap_swap_used_bytes"),
    ):
        m = re.search(rf"^{metric} (\S+)$", text, re.M)
        if m:
            figures[key] = int(float(m.group(1)))
    # Every area serve knows has one info sample; none at all is also a statement.
    if not _doctor_ran(text):
        return figures
    figures["areas"] = {
        _unescape(m.group(1)): m.group(2)
        for m in re.finditer(
            r'^checkswap_swap_device_info\{device="((?:[^"\\]|\\.)*)",kind="([^"]*)"', text, re.M
        )
    }
    return figures


COMMANDS: dict[str, Callable[..., Figures | None]] = {
    "watch": watch_figures,
    "top": top_figures,
    "doctor": doctor_figures,
    "check": check_figures,
    "serve --textfile": serve_figures,
}


def snapshot(root: str, tmp: str, samples: int, moving: MovingTree | None = None) -> str | None:
    bundle = os.path.join(tmp, f"bundle-{len(os.listdir(tmp))}.tar.gz")
    status, _, _ = run(
        ["snapshot", "-n", str(samples), "-i", "1", "-o", bundle, "--root", root], moving
    )
    return bundle if status == 0 else None


def disagreements(told: dict[str, Figures]) -> list[str]:
    """Each figure shown by more than one command, where they differ: 'figure: cmd=v, ...'."""
    found = []
    keys = sorted({k for figures in told.values() for k in figures})
    for key in keys:
        said = {cmd: figures[key] for cmd, figures in told.items() if key in figures}
        # watch's header and rows are compared with each other under the row's own name.
        if key == "sample swap_total_bytes":
            said["watch header"] = told["watch"]["swap_total_bytes"]
        if len({json.dumps(v, sort_keys=True) for v in said.values()}) > 1:
            found.append(f"{key}: " + ", ".join(f"{c}={v!r}" for c, v in sorted(said.items())))
    return found


def tell(root: str, tmp: str, moving_source: str | None = None) -> dict[str, Figures]:
    told = {}
    for name, figures_of in COMMANDS.items():
        moving = MovingTree(tmp, moving_source) if moving_source else None
        try:
            figures = figures_of(moving.path if moving else root, tmp, moving)
        finally:
            if moving is not None:
                shutil.rmtree(moving.path)
        if figures:
            told[name] = figures
    return told


@pytest.fixture
def tmp(tmp_path: object) -> str:
    return str(tmp_path)


def _fixture(tree: str) -> str:
    from clihelp import FIXTURES

    return os.path.join(FIXTURES, tree)


def _swapping(tree: str) -> bool:
    """A tree with swap in use and the counters a climbing copy raises."""
    root = _fixture(tree)
    try:
        with open(os.path.join(root, "proc", "vmstat")) as f:
            vmstat = f.read()
        with open(os.path.join(root, "proc", "swaps")) as f:
            areas = f.read().splitlines()[1:]
    except OSError:
        return False
    used = any(len(a.split()) >= 4 and a.split()[-2] not in ("0",) for a in areas)
    return used and re.search(r"^pswpin \d+$", vmstat, re.M) is not None


@pytest.mark.parametrize("tree", trees())
def test_every_command_tells_the_same_swap_totals_and_area_kinds(tree: str, tmp: str) -> None:
    told = tell(_fixture(tree), tmp)
    assert not disagreements(told), f"{tree}: {disagreements(told)}"


@pytest.mark.parametrize("tree", trees())
def test_a_snapshot_tells_the_same_as_the_tree_it_was_taken_from(tree: str, tmp: str) -> None:
    live = tell(_fixture(tree), tmp)
    bundle = snapshot(_fixture(tree), tmp, 2)
    if bundle is None:
        assert not live, f"{tree}: snapshot refused a tree that {sorted(live)} read"
        return
    replayed = tell(bundle, tmp)
    assert not disagreements(replayed), f"{tree} bundle: {disagreements(replayed)}"
    found = []
    for cmd in sorted(set(live) & set(replayed)):
        for key in ("swap_total_bytes", "swap_used_bytes", "areas"):
            if key in live[cmd] and key in replayed[cmd] and live[cmd][key] != replayed[cmd][key]:
                found.append(f"{cmd} {key}: tree={live[cmd][key]!r} bundle={replayed[cmd][key]!r}")
    assert not found, f"{tree}: {found}"
    assert set(replayed) >= set(live), (
        f"{tree}: only the tree, not its bundle, read by {sorted(set(live) - set(replayed))}"
    )


SWAPPING = [t for t in trees() if _swapping(t)]


def test_there_are_swapping_trees_to_judge() -> None:
    assert len(SWAPPING) >= 3, SWAPPING


@pytest.mark.parametrize("tree", SWAPPING)
def test_two_sample_bundles_of_swapping_trees_get_one_verdict(tree: str, tmp: str) -> None:
    moving = MovingTree(tmp, tree)
    try:
        bundle = snapshot(moving.path, tmp, 2, moving)
    finally:
        shutil.rmtree(moving.path)
    assert bundle is not None, f"{tree}: snapshot of the climbing copy failed"
    told = tell(bundle, tmp)
    assert "watch" in told and "doctor" in told, f"{tree}: {sorted(told)}"
    assert told["watch"]["swap_in_per_s"] > 0, f"{tree}: rates are zero, nothing judged"
    assert told["watch"]["verdict"] in ("swapping", "thrashing"), told["watch"]
    for cmd in ("check", "doctor"):
        assert told.get(cmd, {}).get("swap_in_per_s") is not None, (
            f"{tree} bundle: {cmd} gives no swap-in rate where watch gives "
            f"{told['watch']['swap_in_per_s']}"
        )
    assert not disagreements(told), f"{tree} bundle: {disagreements(told)}"
