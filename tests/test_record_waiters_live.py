"""``record --trigger --delayacct`` against the real kernel: the capture taken while a hog
swaps names the hog among the waiters, its swap-in wait within what the kernel's taskstats say
it waited (the test's own netlink read, tests/test_taskstats_live.py), and ``report`` prints
who waited under the spike."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from typing import Any

import lab
import pytest
from clihelp import run_cli
from test_taskstats_live import set_switch, switch, switch_restored, taskstats


@pytest.mark.kernel
def test_record_trigger_names_the_swapping_hog_and_report_prints_it(tmp_path: Any) -> None:
    out = str(tmp_path / "rec.jsonl")
    with switch_restored(), contextlib.ExitStack() as stack:
        set_switch(0)
        stack.enter_context(lab.swapfile(512))
        set_switch(1)  # before the hog forks: a task forked while it is off is never accounted
        cg = stack.enter_context(lab.memory_cgroup(32, "record-wait"))
        hog = stack.enter_context(lab.Hog(cg, 96, 30))
        hog.wait_ready()
        before = taskstats(hog.pid)["swapin"] / 1e9
        rec = subprocess.run(
            [
                sys.executable,
                "-m",
                "checkswap",
                "record",
                "--delayacct",
                "-o",
                out,
                "-i",
                "1",
                "-n",
                "6",
                "--trigger",
                "100",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        after = taskstats(hog.pid)["swapin"] / 1e9
        assert rec.returncode == 0, rec.stderr
        assert switch() == 1  # it was on before record: left on
    with open(out) as f:
        records = [json.loads(line) for line in f]
    (trig,) = [r for r in records if r["type"] == "trigger"]
    who = trig["capture"]["waiters"]
    assert who and who[0]["pid"] == hog.pid, who
    assert 0 < who[0]["swapin_wait_s"] <= after - before + 1e-6
    status, text, err = run_cli("report", out, "--spike", "100")
    assert status == 0, err
    assert f"(pid {hog.pid}) waited" in text
    if os.environ.get("CHECKSWAP_CAPTURE_DOCS"):  # the output docs/record.md shows
        print(text)
