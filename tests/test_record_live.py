"""record and report against the real kernel: a hog swapping in a memory-limited cgroup, and
a filesystem that fills up under the recorder.

The expected figures come from the kernel's own counters read by the test (lab.vmstat) and
from the recorded raw lines parsed here with a few lines of our own, never from checkswap.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import lab
import pytest
from clihelp import REPO, run_cli

INTERVAL = 0.5


def _record(*argv: str, stderr: object = subprocess.PIPE) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.Popen(
        [sys.executable, "-m", "checkswap", "record", *argv],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
        env=env,
    )


def _raws(path: str) -> list[dict]:
    out = []
    with open(path) as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("type") == "raw":
                out.append(rec)
    return out


def _wait(pred, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.kernel
def test_report_of_a_hog_swapping_matches_the_kernel(tmp_path):
    path = str(tmp_path / "hog.jsonl")
    with lab.swapfile(512, name="record"), lab.memory_cgroup(64, name="record") as cg:
        # The kernel read around the recorder's first and last samples: before it starts and
        # once its first line is on disk; and before its last tick (two intervals before
        # SIGTERM) and after it exits.
        before = lab.vmstat()
        rec = _record("-o", path, "-i", str(INTERVAL), "--trigger", "2000")
        hog = None
        try:
            _wait(lambda: os.path.exists(path) and len(_raws(path)) >= 1)
            at_first = lab.vmstat()
            _wait(lambda: len(_raws(path)) >= 3)
            hog_start = time.time()
            hog = lab.Hog(cg, 160, seconds=5)
            hog.wait_ready()
            hog_ready = time.time()
            hog.wait_done()
            hog_done = time.time()
            time.sleep(2 * INTERVAL)  # quiet samples after the run
            before_last = lab.vmstat()
            time.sleep(2 * INTERVAL)
        finally:
            rec.send_signal(signal.SIGTERM)
            _, err = rec.communicate(timeout=30)
            after = lab.vmstat()
            if hog is not None:
                hog.stop()
        assert rec.returncode == 0, err

    raws = _raws(path)
    first, last = raws[0]["vmstat"], raws[-1]["vmstat"]
    assert after["pswpout"] - before["pswpout"] > 10_000  # it did swap

    status, out, err = run_cli("report", path, "--format", "json")
    assert status == 0, err
    rep = json.loads(out)
    # What the recording holds and what the report sums: what the kernel counted from the
    # first sample to the last (one number when nothing else moved in the short windows
    # around them, as is usual while the kernel-test lock is held).
    for key, counter in (("swap_in_pages", "pswpin"), ("swap_out_pages", "pswpout")):
        bounds = ((before, at_first), (before_last, after))
        lab.assert_sum_between(counter, last[counter] - first[counter], *bounds)
        assert rep[key] == last[counter] - first[counter]
    assert rep["samples"] == len(raws) and rep["bad_lines"] == 0

    def rates(key: str) -> list[float]:
        return [
            (b["vmstat"][key] - a["vmstat"][key]) / (b["mono"] - a["mono"])
            for a, b in zip(raws, raws[1:])
        ]

    assert rep["max"]["swap_in_per_s"] == pytest.approx(max(rates("pswpin")), rel=1e-12)
    assert rep["max"]["swap_out_per_s"] == pytest.approx(max(rates("pswpout")), rel=1e-12)

    spike = max(rep["spikes"], key=lambda s: s["peak_swap_out_per_s"])
    start = _epoch(spike["start"])
    end = _epoch(spike["end"])
    # The spike brackets the hog's run: it starts once the hog exceeds its limit (while
    # filling, before "ready") and ends with the run, each within a sampling interval.
    assert hog_start - INTERVAL <= start <= hog_ready + INTERVAL
    assert hog_done - 2 * INTERVAL <= end <= hog_done + 2 * INTERVAL
    captured = spike["captured"]
    assert captured is not None, spike
    assert hog.pid in [p["pid"] for p in captured["processes"]]
    assert any(c["path"].endswith(cg.name) for c in captured["cgroups"])


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


@contextlib.contextmanager
def _small_fs(tmp: str, size_mib: int = 8):
    image = os.path.join(tmp, f"{lab.PREFIX}fs.img")
    mnt = os.path.join(tmp, f"{lab.PREFIX}mnt")
    os.mkdir(mnt)
    with open(image, "wb") as f:
        f.truncate(size_mib << 20)
    lab.run("mkfs.ext4", "-q", "-m", "0", "-F", image)
    loop = lab.run("losetup", "--find", "--show", image).stdout.strip()
    mounted = False
    try:
        lab.run("mount", loop, mnt)
        mounted = True
        yield mnt
    finally:
        if mounted:
            subprocess.run(["umount", mnt], check=False)
        subprocess.run(["losetup", "-d", loop], check=False)


def _fill(path: str) -> None:
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 16, 1 << 12, 1 << 8, 1):
            try:
                while True:
                    f.write(b"\xff" * chunk)
            except OSError:
                continue


@pytest.mark.kernel
def test_full_filesystem_warns_once_resumes_and_never_corrupts(tmp_path):
    errfile = str(tmp_path / "stderr.txt")

    def err_text() -> str:
        with open(errfile) as f:
            return f.read()

    with _small_fs(str(tmp_path)) as mnt:
        path = os.path.join(mnt, "r.jsonl")
        with open(errfile, "w") as errf:
            rec = _record("-o", path, "-i", "0.02", stderr=errf)
        try:
            _wait(lambda: os.path.exists(path) and len(_raws(path)) >= 10)
            filler = os.path.join(mnt, "filler")
            _fill(filler)
            _wait(lambda: "No space left on device" in err_text())
            time.sleep(0.5)  # samples are dropped meanwhile
            size_while_full = os.path.getsize(path)
            os.unlink(filler)
            _wait(lambda: "writing again" in err_text())
            time.sleep(0.3)
        finally:
            rec.send_signal(signal.SIGTERM)
            rec.wait(timeout=30)
        assert rec.returncode == 0
        err = err_text()
        assert err.count("cannot write") == 1, err
        assert err.count("writing again") == 1, err
        status, out, rerr = run_cli("report", path, "--format", "json")
        assert status == 0, rerr
        rep = json.loads(out)
        assert os.path.getsize(path) > size_while_full

    assert rep["bad_lines"] == 0  # no half line was ever left behind
    # Filling may flap (the filler's last small writes): one warning, one or more outages.
    resumed = [e for e in rep["events"] if e["event"] == "resumed"]
    assert resumed and all(e["lost_samples"] > 0 for e in resumed)
    assert {e["error"] for e in resumed} == {"No space left on device"}
    assert rep["gaps"] >= 1
