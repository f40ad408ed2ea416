"""watch tells one story: a swapon/swapoff mid-run is said, early 5m values say their span."""

from __future__ import annotations

import json
import os
import re
import shutil
from typing import Any

from clihelp import FIXTURES, run_cli

TREE = os.path.join(FIXTURES, "check-no-swap-6.18")  # no swap at the start
SWAPPING = os.path.join(FIXTURES, "linux-6.18-swapping")


def swapon_after_first_tick(tmp_path: Any) -> tuple[str, Any]:
    """A copy of a tree with no swap, and a sleep that swaps on its 256 MiB area once."""
    tree = str(tmp_path / "tree")
    shutil.copytree(TREE, tree)
    ticks = [0]

    def sleep(seconds: float) -> None:
        ticks[0] += 1
        if ticks[0] == 2:  # between the second and third sample: a swapon
            for rel in ("proc/swaps", "proc/meminfo"):
                shutil.copy(os.path.join(SWAPPING, rel), os.path.join(tree, rel))

    return tree, sleep


def test_watch_json_has_a_swap_areas_record_when_the_areas_change(tmp_path: Any) -> None:
    tree, sleep = swapon_after_first_tick(tmp_path)
    status, out, err = run_cli(
        "watch", "-n", "3", "-i", "0.01", "--format", "json", "--root", tree, sleep=sleep
    )
    assert status == 0, err
    recs = [json.loads(x) for x in out.splitlines()]
    assert [r["type"] for r in recs] == [
        "header",
        "sample",
        "swap_areas",
        "sample",
        "sample",
        "summary",
    ]
    assert recs[0]["swap_total_bytes"] == 0 and recs[0]["swap_areas"] == []
    change = recs[2]
    assert change["previous_swap_total_bytes"] == 0
    assert change["swap_total_bytes"] == 268431360
    (area,) = change["swap_areas"]
    assert area["name"] == "/var/tmp/checkswap-test-my swap" and area["kind"] == "file"
    assert recs[3]["swap_total_bytes"] == 268431360  # the rows after it agree with it


def test_watch_text_says_when_the_areas_change(tmp_path: Any) -> None:
    tree, sleep = swapon_after_first_tick(tmp_path)
    status, out, err = run_cli("watch", "-n", "3", "-i", "0.01", "--root", tree, sleep=sleep)
    assert status == 0, err
    assert "# no swap is configured: nothing can be swapped out" in out  # the header, as it was
    (line,) = [x for x in out.splitlines() if x.startswith("# swap areas changed")]
    assert "was 0 B total" in line
    assert "swap now 256.0 MiB total, 120.0 MiB used" in line
    assert "/var/tmp/checkswap-test-my swap (file, 256.0 MiB)" in line


def test_watch_without_a_change_prints_no_change_line() -> None:
    _, out, _ = run_cli(
        "watch",
        "-n",
        "3",
        "-i",
        "0.01",
        "--format",
        "json",
        "--root",
        SWAPPING,
        sleep=lambda s: None,
    )
    assert '"swap_areas"' not in "".join(x for x in out.splitlines()[1:])


def watch_on_a_test_clock(*argv: str) -> tuple[int, str, str]:
    """watch on the swapping tree with a clock that moves only by the sleeps watch asks for."""
    clock = [1000.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    return run_cli(
        "watch",
        *argv,
        "--root",
        SWAPPING,
        sleep=sleep,
        monotonic=lambda: clock[0],
        wall=lambda: 1.8e9 + clock[0],
    )


def test_early_5m_values_say_how_much_they_cover() -> None:
    status, out, err = watch_on_a_test_clock("-n", "3", "-i", "100")
    assert status == 0, err
    assert "5m = average of the last 5 minutes (of the run so far until it has lasted 5" in out
    rows = [x for x in out.splitlines() if re.match(r"\d{4}-", x)]
    assert [re.search(r"# (.*)$", r).group(1) if "#" in r else None for r in rows] == [  # type: ignore[union-attr]
        "5m over 100 s so far",
        "5m over 200 s so far",
        None,  # 300 s: the window is whole, nothing to say
    ]


def test_a_sub_second_run_says_how_much_of_a_second_its_5m_values_cover() -> None:
    for fmt in ("text", "json"):
        status, out, err = watch_on_a_test_clock("-n", "6", "-i", "0.25", "--format", fmt)
        assert status == 0, err
        if fmt == "json":
            covered = [r["avg_5m"]["covered_s"] for r in map(json.loads, out.splitlines()[1:-1])]
            assert covered == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
            continue
        rows = [x for x in out.splitlines() if re.match(r"\d{4}-", x)]
        notes = [r.split("# ")[-1] for r in rows]
        # "5m over 0 s so far" for the first row, as it was, said nothing true.
        assert notes[:3] == [f"5m over {x} s so far" for x in ("0.25", "0.5", "0.75")]
        assert notes[3:] == [f"5m over {x} s so far" for x in ("1", "1", "2")]  # 1, 1.25, 1.5
