"""doctor's own story on trees nobody here tuned: since-boot averages, missing files, totals."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from clihelp import FIXTURES, no_sleep, run_cli

from checkswap.doctor import facts as doctor_facts
from checkswap.model.sample import Sample

GIB_PAGES = (1 << 30) // 4096


def boot_sample(pin: int, pout: int) -> Sample:
    return Sample(0.0, 0.0, {"pswpin": pin, "pswpout": pout}, {}, None)


def test_since_boot_extrapolates_per_day_only_from_a_day_of_uptime() -> None:
    # 6 minutes of uptime with 8 GiB read back: not "1949.96 GiB/day".
    sb = doctor_facts.since_boot(boot_sample(8 * GIB_PAGES, GIB_PAGES), 360.0, 4096)
    assert sb["swap_in_gib_per_day"] is None
    assert sb["swap_out_gib_per_day"] is None
    assert "since boot, 6 minutes ago" in sb["meaning"]
    assert "/day" not in sb["meaning"]
    # Hours are said in hours.
    sb = doctor_facts.since_boot(boot_sample(GIB_PAGES, GIB_PAGES), 5 * 3600.0, 4096)
    assert "since boot, 5.0 hours ago" in sb["meaning"]
    # Two days: a per-day average is a fair summary.
    sb = doctor_facts.since_boot(boot_sample(4 * GIB_PAGES, GIB_PAGES), 2 * 86400.0, 4096)
    assert sb["swap_in_gib_per_day"] == 2.0
    assert "over 2.0 days (2.00 GiB/day on average)" in sb["meaning"]


# --- no /proc/swaps: judge what can be read, and the one JSON error rule --------------------

NO_SWAPS = os.path.join(FIXTURES, "no-proc-swaps")


def test_doctor_without_proc_swaps_judges_meminfo_vmstat_psi() -> None:
    status, out, err = run_cli(
        "doctor", "--sample", "1", "--format", "json", "--root", NO_SWAPS, sleep=no_sleep
    )
    assert status == 0, err
    report = json.loads(out)
    assert report["verdict"] == "quiet"
    assert report["sample"]["swap_total_bytes"] == 268431360  # meminfo still read
    assert "swap-used-but-quiet" in [f["id"] for f in report["findings"]]
    assert "no-swap" not in [f["id"] for f in report["findings"]]  # unknown is not "none"
    assert any("proc/swaps unreadable" in n and "swap areas unknown" in n for n in report["notes"])
    status, text, _ = run_cli("doctor", "--sample", "1", "--root", NO_SWAPS, sleep=no_sleep)
    assert status == 0 and "verdict: quiet" in text and "swap areas unknown" in text


# Plugin-style commands under --format json: one JSON object on stdout, UNKNOWN included, and
# the line on stderr. Streaming commands: errors on stderr only, nothing on stdout.
@pytest.mark.parametrize("root", [NO_SWAPS, os.path.join(FIXTURES, "no-such-tree")])
@pytest.mark.parametrize(
    "argv",
    [
        ["doctor", "--sample", "1", "--format", "json"],
        ["check", "--sample", "1"],
        ["watch", "-n", "1", "--format", "json"],
        ["top", "-n", "1", "--format", "json"],
        ["record", "-n", "1", "--dir", "{tmp}"],
    ],
)
def test_every_command_follows_the_json_error_rule(
    argv: list[str], root: str, tmp_path: Any
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path / "rec")) for a in argv]
    extra = ["--state-file", str(tmp_path / "state")] if argv[0] == "check" else []
    status, out, err = run_cli(*argv, *extra, "--root", root, sleep=no_sleep)
    if root == NO_SWAPS:
        assert status == 0, err  # every command carries on without /proc/swaps
        return
    command = argv[0]
    if command == "doctor":
        assert status == 3
        (line,) = out.splitlines()
        obj = json.loads(line)
        assert obj["type"] == "doctor" and obj["verdict"] == "unknown"
        assert obj["status"] == "UNKNOWN" and "no-such-tree" in obj["error"]
        assert err == f"checkswap: {obj['error']}\n"
    elif command == "check":
        assert status == 3 and out.startswith("CHECKSWAP UNKNOWN - ") and out.count("\n") == 1
    else:
        assert status == 2 and out == ""
        assert err.startswith("checkswap: ") and err.count("\n") == 1


def test_bad_arguments_under_json_are_a_json_object_too() -> None:
    status, out, err = run_cli("doctor", "--format", "json", "--sample", "x")
    assert status == 3
    assert json.loads(out)["error"].startswith("invalid sample")
    assert err.startswith("checkswap: invalid sample")
