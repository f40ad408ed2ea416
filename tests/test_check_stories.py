"""check tells one story: rates on a bundle like watch and doctor, no state across a swapoff."""

from __future__ import annotations

import json
import os
import re
import shutil
import tarfile
from typing import Any

from clihelp import FIXTURES, no_sleep, run_cli

from checkswap.fleet import check_state
from checkswap.model.sample import Sample

TREE = os.path.join(FIXTURES, "check-swapping-6.18")


def _bump(path: str, **add: int) -> None:
    with open(path) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        key, _, value = line.partition(" ")
        out.append(f"{key} {int(value) + add[key]}" if key in add else line)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def moving_bundle(tmp_path: Any) -> str:
    """A two-sample bundle 2 s apart whose second sample swapped 2000 pages in, 4000 out."""
    snap = str(tmp_path / "static.tar.gz")
    status, _, err = run_cli(
        "snapshot", "--root", TREE, "-n", "2", "-i", "2", "-o", snap, sleep=no_sleep
    )
    assert status == 0, err
    unpacked = tmp_path / "unpacked"
    with tarfile.open(snap) as t:
        t.extractall(unpacked)  # our own bundle, just written
    _bump(str(unpacked / "samples/001/proc/vmstat"), pswpin=2000, pswpout=4000)
    manifest_path = unpacked / "checkswap-manifest.json"
    manifest = json.loads(manifest_path.read_text())
    first = manifest["samples"][0]
    manifest["samples"][1].update(mono=first["mono"] + 2.0, wall=first["wall"] + 2.0)
    manifest_path.write_text(json.dumps(manifest))
    out = str(tmp_path / "moving.tar.gz")
    with tarfile.open(out, "w:gz") as t:
        for name in sorted(os.listdir(unpacked)):
            t.add(str(unpacked / name), arcname=name)
    os.chmod(out, 0o600)
    return out


def swap_in(line: str) -> float:
    m = re.search(r"swap-in ([0-9.]+) pages/s", line)
    assert m, line
    return float(m.group(1))


def test_check_on_a_bundle_gives_the_rates_watch_and_doctor_give(tmp_path: Any) -> None:
    bundle = moving_bundle(tmp_path)
    state = str(tmp_path / "state")
    status, line, err = run_cli("check", "--root", bundle, "--state-file", state, sleep=no_sleep)
    assert status == 1, err  # 1000 pages/s: above -w 100, not above -c 1000
    _, watch, _ = run_cli("watch", "--root", bundle, "--format", "json", sleep=no_sleep)
    rec = next(json.loads(x) for x in watch.splitlines() if '"type": "sample"' in x)
    _, doctor, _ = run_cli("doctor", "--root", bundle, "--format", "json", sleep=no_sleep)
    sample = json.loads(doctor)["sample"]
    rate = swap_in(line)
    assert rate == 1000.0
    assert round(rec["swap_in_per_s"], 1) == rate == round(sample["swap_in_per_s"], 1)
    assert "over the bundle's first two samples" in line
    # No state for a bundle: neither at --state-file nor anywhere under the unpack path.
    assert not os.path.exists(state)


def test_check_on_a_one_sample_bundle_says_why_there_is_no_rate(tmp_path: Any) -> None:
    one = str(tmp_path / "one.tar.gz")
    run_cli("snapshot", "--root", TREE, "-n", "1", "-o", one, sleep=no_sleep)
    status, line, _ = run_cli(
        "check", "--root", one, "--state-file", str(tmp_path / "s"), sleep=no_sleep
    )
    assert status == 3
    assert "not available on this kernel" not in line
    assert "the bundle holds one sample" in line


def sample(mono: float, pswpin: int, swap_total: int) -> Sample:
    return Sample(
        mono, 1.8e9 + mono, {"pswpin": pswpin, "pswpout": 0}, {"SwapTotal": swap_total}, None
    )


def test_a_state_from_before_a_swapoff_is_not_used() -> None:
    prev = check_state.State(sample(100.0, 0, 1 << 30), 60.0)
    iv, why = check_state.usable(prev, sample(182.0 + 100, 600_000, 0))
    assert iv is None
    assert why == "swap areas changed since the last run (swap total 1.0 GiB -> 0 B)"


def test_a_state_far_older_than_the_runs_pace_is_not_used() -> None:
    prev = check_state.State(sample(100.0, 0, 1 << 30), 15.0)
    iv, why = check_state.usable(prev, sample(100.0 + 182, 10, 1 << 30))
    assert iv is None
    assert "182 s old, far more than the 15 s between earlier runs" in why
    # At its own pace the state is used.
    iv, _ = check_state.usable(prev, sample(100.0 + 16, 10, 1 << 30))
    assert iv is not None


def test_check_across_a_swapoff_does_not_tell_two_stories(tmp_path: Any) -> None:
    tree = str(tmp_path / "tree")
    shutil.copytree(TREE, tree)
    state = str(tmp_path / "state")
    status, line, err = run_cli("check", "--root", tree, "--state-file", state, sleep=no_sleep)
    assert status == 0, err
    # swapoff of every area, and 1.3 M pages read back meanwhile (the swapoff itself).
    with open(os.path.join(tree, "proc/swaps")) as f:
        head = f.readline()
    with open(os.path.join(tree, "proc/swaps"), "w") as f:
        f.write(head)
    meminfo = os.path.join(tree, "proc/meminfo")
    with open(meminfo) as f:
        text = re.sub(r"^(SwapTotal|SwapFree):\s+\d+", r"\1:  0", f.read(), flags=re.M)
    with open(meminfo, "w") as f:
        f.write(text)
    _bump(os.path.join(tree, "proc/vmstat"), pswpin=1_329_000)
    status, line, err = run_cli("check", "--root", tree, "--state-file", state, sleep=no_sleep)
    assert "no swap configured" in line
    assert swap_in(line) == 0.0, line
    assert "swap areas changed since the last run" in line
