"""``checkswap check`` on fixture trees: statuses, output, and the state file across runs."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import time

import pytest
from clihelp import FIXTURES, no_sleep, run_cli

from checkswap.cli import main
from checkswap.env import Env

SWAPPING = os.path.join(FIXTURES, "check-swapping-6.18")
NO_SWAP = os.path.join(FIXTURES, "check-no-swap-6.18")
LINE = re.compile(r"^CHECKSWAP (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+( \| [^\n]+)?\n$")


def run_check(*args: str) -> tuple[int, str]:
    status, text, err = run_cli("check", *args, sleep=no_sleep)
    assert err == ""  # a plugin's output is its one line on stdout
    assert LINE.match(text), text
    return status, text


def perf(text: str) -> dict[str, list[str]]:
    return {
        k: v.split(";") for k, v in (item.split("=", 1) for item in text.split(" | ", 1)[1].split())
    }


def counter(root: str, name: str) -> int:
    with open(os.path.join(root, "proc/vmstat")) as f:
        return next(int(v) for k, v in (line.split() for line in f) if k == name)


def write_state(
    path: str, root: str, pswpin: int, pswpout: int, age_s: float, boot_id: str | None = None
) -> None:
    """A state as a previous run would leave it, ``age_s`` seconds ago."""
    if boot_id is None:
        with open(os.path.join(root, "proc/sys/kernel/random/boot_id")) as f:
            boot_id = f.read().strip()
    with open(os.path.join(root, "proc/vmstat")) as f:
        vm = {k: int(v) for k, v in (line.split() for line in f)}
    vm.update(pswpin=pswpin, pswpout=pswpout)
    rec = {
        "type": "checkswap-check-state",
        "version": 1,
        "root": os.path.abspath(root),
        "boot_id": boot_id,
        "sample": {
            "type": "raw",
            "mono": time.monotonic() - age_s,
            "wall": time.time() - age_s,
            "page_size_bytes": 4096,
            "vmstat": vm,
            "meminfo": {},
            "psi": None,
        },
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(rec, f)


@pytest.fixture
def state(tmp_path: object) -> str:
    return os.path.join(str(tmp_path), "state")


def test_first_run_samples_then_uses_the_state(state: str) -> None:
    status, text = run_check("--root", SWAPPING, "--state-file", state)
    assert status == 0 and "sampled" in text and "first run" in text
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    status, text = run_check("--root", SWAPPING, "--state-file", state)
    assert status == 0 and "sampled" not in text
    # A static tree read twice: honestly zero.
    assert perf(text)["swap_in"][0] == "0"


def test_rate_since_the_last_run_is_the_counter_delta(state: str) -> None:
    pin, pout = counter(SWAPPING, "pswpin"), counter(SWAPPING, "pswpout")
    write_state(state, SWAPPING, pin - 60000, pout - 30000, age_s=60)
    status, text = run_check("--root", SWAPPING, "--state-file", state, "-w", "500", "-c", "2000")
    p = perf(text)
    interval = float(p["interval"][0].rstrip("s"))
    assert float(p["swap_in"][0]) == pytest.approx(60000 / interval, rel=1e-5)
    assert float(p["swap_out"][0]) == pytest.approx(30000 / interval, rel=1e-5)
    assert p["swap_in_pages"][0] == f"{pin}c" and p["swap_out_pages"][0] == f"{pout}c"
    assert p["swap_in"][1:] == ["500", "2000", "0"]
    assert status == 1 and "CHECKSWAP WARNING" in text and "(WARNING: > 500)" in text
    assert 59 < interval < 70


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["-w", "2000", "-c", "5000"], 0),
        (["-w", "500", "-c", "5000"], 1),
        (["-w", "500", "-c", "900"], 2),
        (["-w", "~:5000", "-c", "@900:1100"], 2),
        (["--out-warning", "100", "-w", "1e9", "-c", "1e9"], 1),
        (["--out-critical", "400", "-w", "1e9", "-c", "1e9"], 2),
        (["--used-warning", "50", "-w", "1e9", "-c", "1e9"], 1),
        (["--used-critical", "58", "-w", "1e9", "-c", "1e9"], 2),
        (["--used-critical", "59", "-w", "1e9", "-c", "1e9"], 0),
        (["--psi-warning", "5", "-w", "1e9", "-c", "1e9"], 1),
        (["--psi-critical", "5.5", "-w", "1e9", "-c", "1e9"], 2),
        (["--psi-critical", "6", "-w", "1e9", "-c", "1e9"], 0),
    ],
)
def test_each_status_from_thresholds(state: str, args: list[str], status: int) -> None:
    # 1000 pages/s in, 500 out over 60 s; the fixture has swap 58.1 % used, PSI some 5.79.
    pin, pout = counter(SWAPPING, "pswpin"), counter(SWAPPING, "pswpout")
    write_state(state, SWAPPING, pin - 60000, pout - 30000, age_s=60)
    got, text = run_check("--root", SWAPPING, "--state-file", state, *args)
    assert got == status, text
    assert text.startswith(f"CHECKSWAP {['OK', 'WARNING', 'CRITICAL'][status]} - ")


def test_output_reads_plainly(state: str) -> None:
    _, text = run_check("--root", SWAPPING, "--state-file", state)
    body = text.split(" | ")[0]
    assert "swap used 58.1% (148.9 MiB of 256.0 MiB)" in body
    assert "PSI memory some 5.8%" in body
    p = perf(text)
    assert p["swap_used_pct"][3:] == ["0", "100"]
    assert p["swap_used"] == ["156082176B", "", "", "0", "268431360"]
    assert p["psi_some_avg10"][0] == "5.79%"


def test_no_swap_is_ok_and_says_so(state: str) -> None:
    status, text = run_check(
        "--root", NO_SWAP, "--state-file", state, "--used-warning", "0:", "--used-critical", "@0"
    )
    assert status == 0
    assert "no swap configured: nothing can swap" in text
    assert "swap_used_pct" not in text


@pytest.mark.parametrize("age", [3601, 86400])
def test_stale_state_samples_instead(state: str, age: float) -> None:
    pin, pout = counter(SWAPPING, "pswpin"), counter(SWAPPING, "pswpout")
    write_state(state, SWAPPING, pin - 60000, pout - 30000, age_s=age)
    _, text = run_check("--root", SWAPPING, "--state-file", state)
    assert "sampled" in text and "min old" in text
    assert perf(text)["swap_in"][0] == "0"


def test_state_from_another_boot_or_root_samples_instead(state: str) -> None:
    pin, pout = counter(SWAPPING, "pswpin"), counter(SWAPPING, "pswpout")
    write_state(state, SWAPPING, pin - 60000, pout - 30000, 60, boot_id="another-boot")
    _, text = run_check("--root", SWAPPING, "--state-file", state)
    assert "before a reboot" in text and perf(text)["swap_in"][0] == "0"
    write_state(state, SWAPPING, pin - 60000, pout - 30000, 60)
    _, text = run_check("--root", NO_SWAP, "--state-file", state)
    assert "is for --root" in text


def test_counter_reset_samples_instead(state: str) -> None:
    pin, pout = counter(SWAPPING, "pswpin"), counter(SWAPPING, "pswpout")
    write_state(state, SWAPPING, pin + 1, pout + 1, 60)
    _, text = run_check("--root", SWAPPING, "--state-file", state)
    assert "counters went backwards" in text and perf(text)["swap_in"][0] == "0"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"[]",
        b'{"type": "other"}',
        b'{"type": "checkswap-check-state"}',
        b'{"type": "checkswap-check-state", "sample": {"mono": "x"}}',
        b"\xff\xfe" * 10,
    ],
)
def test_corrupt_state_is_replaced(state: str, content: bytes) -> None:
    fd = os.open(state, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    status, text = run_check("--root", SWAPPING, "--state-file", state)
    assert status == 0 and "is corrupt, not used" in text
    with open(state) as f:
        assert json.load(f)["type"] == "checkswap-check-state"


def test_symlinked_state_is_not_followed(state: str, tmp_path: object) -> None:
    victim = os.path.join(str(tmp_path), "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.symlink(victim, state)
    status, text = run_check("--root", SWAPPING, "--state-file", state)
    assert status == 3 and "is a symbolic link" in text
    with open(victim) as f:
        assert f.read() == "precious\n"  # never written through the link
    assert os.readlink(state) == victim  # nor the link replaced: it is not ours


def test_world_writable_state_is_not_trusted(state: str) -> None:
    pin, pout = counter(SWAPPING, "pswpin"), counter(SWAPPING, "pswpout")
    write_state(state, SWAPPING, pin - 60000, pout - 30000, 60)
    os.chmod(state, 0o666)
    _, text = run_check("--root", SWAPPING, "--state-file", state)
    assert "writable by others" in text and perf(text)["swap_in"][0] == "0"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the state file away")
def test_foreign_state_is_not_used(state: str) -> None:
    pin, pout = counter(SWAPPING, "pswpin"), counter(SWAPPING, "pswpout")
    write_state(state, SWAPPING, pin - 60000, pout - 30000, 60)
    os.chown(state, 65534, 65534)
    status, text = run_check("--root", SWAPPING, "--state-file", state)
    assert status == 3 and "belongs to uid 65534" in text  # neither used nor replaced
    assert os.stat(state).st_uid == 65534


def test_state_in_a_directory_that_is_gone_is_unknown(tmp_path: object) -> None:
    state = os.path.join(str(tmp_path), "nodir", "state")
    status, text = run_check("--root", SWAPPING, "--state-file", state)
    assert status == 3 and "nodir does not exist" in text


def test_fifo_state_does_not_hang(state: str) -> None:
    os.mkfifo(state, 0o600)
    status, text = run_check("--root", SWAPPING, "--state-file", state)
    assert status == 3 and "is a FIFO" in text
    assert stat.S_ISFIFO(os.lstat(state).st_mode)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-w", "ten"], "--warning 'ten': not a threshold range"),
        (["-c", "20:10"], "--critical '20:10': the start 20 is above the end 10"),
        (["--used-warning", "80%"], "--used-warning '80%'"),
        (["--sample", "-1"], "--sample"),
        (["--warnign", "5"], "unrecognized arguments"),
        (["--root", "/nonexistent-root"], "no such file or directory"),
    ],
)
def test_bad_input_is_unknown_never_critical(state: str, args: list[str], message: str) -> None:
    status, text = run_check("--state-file", state, *args)
    assert status == 3 and text.startswith("CHECKSWAP UNKNOWN - ") and message in text


def test_unreadable_kernel_file_is_unknown(state: str, tmp_path: object) -> None:
    root = os.path.join(str(tmp_path), "root")
    shutil.copytree(SWAPPING, root)
    os.unlink(os.path.join(root, "proc/meminfo"))
    status, text = run_check("--root", root, "--state-file", state)
    assert status == 3 and "proc/meminfo" in text


def test_psi_threshold_without_psi_is_unknown(state: str, tmp_path: object) -> None:
    root = os.path.join(str(tmp_path), "root")
    shutil.copytree(SWAPPING, root)
    os.unlink(os.path.join(root, "proc/pressure/memory"))
    status, text = run_check("--root", root, "--state-file", state)
    assert status == 0 and "no PSI on this kernel" in text
    status, text = run_check("--root", root, "--state-file", state, "--psi-warning", "10")
    assert status == 3 and "CHECKSWAP UNKNOWN" in text


def test_a_run_right_after_the_last_measures_at_least_sample_seconds(state: str) -> None:
    pin, pout = counter(SWAPPING, "pswpin"), counter(SWAPPING, "pswpout")
    write_state(state, SWAPPING, pin - 30, pout, age_s=0.01)
    out = io.StringIO()
    status = main(
        ["check", "--root", SWAPPING, "--state-file", state, "--sample", "0.3"],
        Env(stdout=out, stderr=io.StringIO()),
    )
    p = perf(out.getvalue())
    interval = float(p["interval"][0].rstrip("s"))
    assert status == 0 and interval >= 0.3 and "sampled" not in out.getvalue()
    assert float(p["swap_in"][0]) == pytest.approx(30 / interval, rel=1e-5)


def test_tier_all_judges_every_tier_and_device_stays_the_default(
    state: str, tmp_path: object
) -> None:
    root = os.path.join(str(tmp_path), "tree")
    shutil.copytree(SWAPPING, root)
    vmstat = os.path.join(root, "proc/vmstat")
    with open(vmstat) as f:
        text = f.read()
    with open(vmstat, "w") as f:
        f.write(re.sub(r"^zswpin 0$", "zswpin 70000", text, flags=re.M))
    # 60 s ago: 100 pages from the device, 60,000 from zswap, 3,000 zero-filled since then.
    write_state(state, root, counter(root, "pswpin") - 100, counter(root, "pswpout"), age_s=60)
    with open(state) as f:
        rec = json.load(f)
    vm = rec["sample"]["vmstat"]
    vm["zswpin"] = counter(root, "zswpin") - 60000
    vm["swpin_zero"] = counter(root, "swpin_zero") - 3000
    with open(state, "w") as f:
        json.dump(rec, f)
    with open(state) as f:
        saved = f.read()
    status, text = run_check("--root", root, "--state-file", state, "-w", "500")
    p = perf(text)
    interval = float(p["interval"][0].rstrip("s"))
    assert status == 0, text
    assert float(p["swap_in"][0]) == pytest.approx(100 / interval, rel=1e-5), text
    assert p["swap_in"][1] == "500" and p["swap_in_all"][1] == ""  # ranges on what they judged
    assert float(p["zswap_in"][0]) == pytest.approx(60000 / interval, rel=1e-5)
    assert float(p["swap_in_zero"][0]) == pytest.approx(3000 / interval, rel=1e-5)
    assert float(p["swap_in_all"][0]) == pytest.approx(63100 / interval, rel=1e-5)
    with open(state, "w") as f:
        f.write(saved)
    status, text = run_check(
        "--root", root, "--state-file", state, "-w", "500", "-c", "5000", "--tier", "all"
    )
    p = perf(text)
    assert status == 1 and "swap-in (all tiers)" in text and "(WARNING: > 500)" in text
    assert p["swap_in_all"][1] == "500" and p["swap_in"][1] == ""


def test_tier_all_without_zswpwb_is_unknown_only_where_a_range_needs_it(state: str) -> None:
    old = os.path.join(FIXTURES, "linux-6.1-zswap")
    status, text = run_check("--root", old, "--state-file", state, "--tier", "all")
    assert status == 0 and "swap-out (all tiers) unknown" in text
    assert perf(text)["swap_out_all"][0] == "U"
    status, text = run_check(
        "--root", old, "--state-file", state, "--tier", "all", "--out-warning", "10"
    )
    assert status == 3 and "zswpwb" in text
