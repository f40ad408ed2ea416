"""record: what it writes, rotation and retention, and surviving what long runs meet."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from clihelp import REPO, run_cli
from rechelp import MovingTree

from checkswap.model.rates import Interval
from checkswap.model.sample import Sample
from checkswap.record.format import Reading
from checkswap.record.trigger import Trigger
from checkswap.record.writer import Writer

DELTAS = [(0, 0), (120, 0), (4000, 2500), (7, 3), (0, 9)]


def records(path: str) -> list[dict]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return [json.loads(line) for line in f]


def record_tree(tmp_path, *extra: str) -> tuple[int, str, str, MovingTree]:
    """record -n over a fixture tree whose counters move by DELTAS at each tick."""
    tree = MovingTree(str(tmp_path))
    pin, pout = 1000, 2000
    tree.set(pin, pout)
    steps = iter(DELTAS)

    def sleep(_: float) -> None:
        nonlocal pin, pout
        din, dout = next(steps)
        pin, pout = pin + din, pout + dout
        tree.set(pin, pout)

    status, out, err = run_cli(
        "record",
        "--root",
        tree.path,
        "-n",
        str(len(DELTAS)),
        *extra,
        sleep=sleep,
    )
    return status, out, err, tree


def test_record_writes_a_header_then_raw_counters_that_report_reads_back(tmp_path):
    out_file = str(tmp_path / "rec.jsonl")
    status, out, err, _tree = record_tree(tmp_path, "-o", out_file)
    assert status == 0, err
    recs = records(out_file)
    assert recs[0]["type"] == "header"
    assert recs[0]["hostname"] == "fixture-host"
    assert recs[0]["page_size_bytes"] == 4096
    assert recs[0]["files"]["proc/swaps"].startswith("Filename")
    raws = [r for r in recs if r["type"] == "raw"]
    assert len(raws) == len(DELTAS) + 1
    assert [r["vmstat"]["pswpin"] for r in raws] == [1000, 1000, 1120, 5120, 5127, 5127]
    assert recs[-1]["type"] == "event" and recs[-1]["event"] == "stopped"
    status, out, err = run_cli("report", out_file, "--format", "json")
    rep = json.loads(out)
    assert rep["swap_in_pages"] == sum(d for d, _ in DELTAS)
    assert rep["swap_out_pages"] == sum(d for _, d in DELTAS)


def test_dir_gets_dated_names(tmp_path):
    d = str(tmp_path / "logs")
    status, _out, err, _ = record_tree(tmp_path, "--dir", d)
    assert status == 0, err
    (name,) = os.listdir(d)
    assert len(name) == len("2026-11-27-2107-checkswap.jsonl")
    assert name.endswith("-checkswap.jsonl") and name[:4].isdigit()


def _writer(tmp_path, **kw) -> tuple[Writer, list[str]]:
    warnings: list[str] = []
    args = {
        "path": None,
        "directory": None,
        "rotate_size": 1 << 20,
        "keep": 3,
        "compress": False,
        "header": lambda: {"type": "header", "format": "checkswap-recording", "n": 1},
        "warn": warnings.append,
    }
    args.update(kw)
    return Writer(**args), warnings


def _raw(i: int) -> dict:
    return {
        "type": "raw",
        "mono": float(i),
        "wall": 1795737600.0 + i,
        "page_size_bytes": 4096,
        "vmstat": {"pswpin": i, "pswpout": 0},
        "meminfo": {},
        "psi": None,
    }


def test_rotation_of_o_file_keeps_n_files_each_opened_by_a_header(tmp_path):
    path = str(tmp_path / "r.jsonl")
    w, _ = _writer(tmp_path, path=path, rotate_size=4096, keep=3)
    w.start()
    for i in range(200):
        assert w.write(_raw(i))
    w.close()
    names = sorted(os.listdir(tmp_path))
    assert names == ["r.jsonl", "r.jsonl.1", "r.jsonl.2"]
    for name in names:
        recs = records(str(tmp_path / name))
        assert recs[0]["type"] == "header"
        assert os.path.getsize(tmp_path / name) <= 4096
    reading = Reading()
    samples = list(reading.files([str(tmp_path / n) for n in names]))
    values = [s.vmstat["pswpin"] for s in samples]
    assert values == list(range(values[0], 200))  # newest kept, in order, none lost
    assert reading.bad_lines == 0


def test_rotation_in_dir_with_gzip_prunes_to_keep(tmp_path):
    d = tmp_path / "logs"
    w, _ = _writer(tmp_path, directory=str(d), rotate_size=4096, keep=4, compress=True)
    w.start()
    for i in range(400):
        w.write(_raw(i))
    w.close()
    names = sorted(os.listdir(d))
    assert len(names) == 4, names
    assert sum(n.endswith(".gz") for n in names) == 3
    reading = Reading()
    values = [s.vmstat["pswpin"] for s in reading.files([str(d / n) for n in names])]
    assert values == list(range(values[0], 400))


def test_restart_after_kill_ends_the_half_line_so_only_it_is_lost(tmp_path):
    path = str(tmp_path / "r.jsonl")
    w, _ = _writer(tmp_path, path=path)
    w.start()
    w.write(_raw(1))
    w._close_fd()  # as after kill -9: no "stopped" event
    with open(path, "a") as f:
        f.write('{"type": "raw", "mono": 2.0, "wa')
    w2, _ = _writer(tmp_path, path=path)
    w2.start()
    w2.write(_raw(3))
    w2.close()
    reading = Reading()
    assert [s.vmstat["pswpin"] for s in reading.files([path])] == [1, 3]
    assert reading.bad_lines == 1


def test_full_device_keeps_running_and_warns_once(tmp_path):
    # /dev/full behind the recording's descriptor: the kernel's own ENOSPC on every write
    # (record -o /dev/full itself is refused: a device is never an output).
    path = str(tmp_path / "r.jsonl")
    w, warnings = _writer(tmp_path, path=path)
    w.start()
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        os.dup2(full, w._fd)
    finally:
        os.close(full)
    assert not w.write(_raw(1))
    assert len(warnings) == 1, warnings
    assert f"cannot write {path}: No space left on device" in warnings[0]
    assert "not repeated within an hour" in warnings[0]
    assert w.write(_raw(2))  # the file opened again: writing resumes, the loss is recorded
    w.close()
    resumed = [r for r in records(path) if r.get("event") == "resumed"]
    assert [r["lost_samples"] for r in resumed] == [1]


def test_unwritable_target_is_refused_at_start(tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    status, _out, err = run_cli("record", "-o", str(target / "sub" / "r.jsonl"), "-n", "1")
    assert status == 2 and "cannot write there" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["record", "-i", "0"], "invalid interval '0'"),
        (["record", "--rotate-size", "1x"], "invalid --rotate-size '1x'"),
        (["record", "--keep", "0"], "invalid --keep '0'"),
        (["record", "--trigger", "-5"], "invalid --trigger '-5'"),
        (["record", "-o", "a", "--dir", "b"], "not allowed with argument"),
    ],
)
def test_bad_arguments_are_one_line_and_status_2(argv, message):
    status, _out, err = run_cli(*argv)
    assert status == 2
    assert message in err and err.count("\n") == 1


# --- real processes: kill -9 and a removed directory --------------------------------------


def _start(*argv: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.Popen(
        [sys.executable, "-m", "checkswap", "record", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for(pred, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _raw_count(path: str) -> int:
    try:
        with open(path) as f:
            return sum('"type":"raw"' in line for line in f)
    except FileNotFoundError:
        return 0


def test_kill_9_mid_run_leaves_a_readable_recording(tmp_path):
    path = str(tmp_path / "r.jsonl")
    proc = _start("-o", path, "-i", "0.02")
    try:
        _wait_for(lambda: _raw_count(path) >= 20)
    finally:
        proc.kill()
        proc.wait()
    status, out, err = run_cli("report", path, "--format", "json")
    assert status == 0, err
    rep = json.loads(out)
    assert rep["samples"] >= 20
    assert rep["bad_lines"] <= 1
    # Started again, it appends after what the killed run left.
    proc = _start("-o", path, "-i", "0.02", "-n", "3")
    assert proc.wait(timeout=30) == 0
    rep2 = json.loads(run_cli("report", path, "--format", "json")[1])
    assert rep2["samples"] == rep["samples"] + 4
    assert rep2["bad_lines"] == rep["bad_lines"]


def test_sigterm_stops_with_status_0_and_a_final_event(tmp_path):
    path = str(tmp_path / "r.jsonl")
    proc = _start("-o", path, "-i", "0.05")
    try:
        _wait_for(lambda: _raw_count(path) >= 3)
    finally:
        proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert records(path)[-1]["event"] == "stopped"


def test_removed_log_directory_is_made_again_with_one_warning(tmp_path):
    d = str(tmp_path / "logs")
    proc = _start("--dir", d, "-i", "0.05")
    try:
        _wait_for(lambda: os.path.isdir(d) and len(os.listdir(d)) == 1)
        (first,) = os.listdir(d)
        _wait_for(lambda: _raw_count(os.path.join(d, first)) >= 3)
        for name in os.listdir(d):
            os.unlink(os.path.join(d, name))
        os.rmdir(d)
        _wait_for(
            lambda: (
                os.path.isdir(d)
                and os.listdir(d)
                and _raw_count(os.path.join(d, os.listdir(d)[0])) >= 3
            )
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert err.count("was removed; starting a new file") == 1, err
    (name,) = os.listdir(d)
    assert records(os.path.join(d, name))[0]["type"] == "header"


# --- trigger -------------------------------------------------------------------------------


def _sample(t: float, pin: int, pout: int) -> Sample:
    return Sample(t, 1795737600.0 + t, {"pswpin": pin, "pswpout": pout}, {}, None)


def test_trigger_captures_on_the_tick_after_the_crossing_and_rests_a_minute():
    scans: list[float] = []

    def scan() -> dict[str, object]:
        scans.append(len(scans))
        return {"type": "processes", "n": len(scans)}

    trig = Trigger(1000.0, scan)
    pins = [0, 10, 2000, 4000, 6000, 6000, 9000]
    samples = [_sample(float(i), p, 0) for i, p in enumerate(pins)]
    got = [trig.check(Interval(a, b)) for a, b in zip(samples, samples[1:])]
    # Crossing at the 2nd interval: first scan then; the capture is the next tick's scan.
    assert got[0] is None and got[1] is None
    assert got[2] is not None and got[2]["capture"] == {"type": "processes", "n": 2}
    assert got[2]["swap_in_per_s"] == 1990.0
    assert got[2]["wall"] == samples[2].wall
    # Still above (and above again later) within 60 s: no new capture.
    assert got[3:] == [None, None, None]
    assert len(scans) == 2


def test_trigger_writes_a_capture_after_the_crossing(tmp_path):
    out_file = str(tmp_path / "rec.jsonl")
    status, _out, err, _ = record_tree(tmp_path, "-o", out_file, "--trigger", "1000")
    assert status == 0, err
    recs = records(out_file)
    (trig,) = [r for r in recs if r["type"] == "trigger"]
    # The fake sleep makes intervals of milliseconds, so the 120 pages of the 2nd interval
    # already cross 1000 pages/s; the capture is the scan after the next sample.
    kinds = [r["type"] for r in recs]
    # (the tiers' state follows the first sample, then comes once a minute)
    assert kinds[:7] == ["header", "raw", "tiers", "raw", "raw", "raw", "trigger"]
    assert trig["capture"]["type"] == "processes"
    assert trig["swap_in_per_s"] > 0


def test_a_disk_flapping_at_full_warns_once_an_hour_and_records_every_outage(tmp_path):
    import errno as errno_

    now = [1000.0]

    class Flaky(Writer):
        fail = False

        def _write_line(self, data: bytes) -> None:
            if self.fail:
                raise OSError(errno_.ENOSPC, "No space left on device")
            super()._write_line(data)

    path = str(tmp_path / "r.jsonl")
    w, warnings = _writer(tmp_path, path=path, wall=lambda: now[0])
    w.__class__ = Flaky
    w.start()
    for step, fail in enumerate([True, False, True, False, True, True, False]):
        if step == 4:
            now[0] += 3601  # an hour later: worth telling again
        w.fail = fail
        w.write(_raw(step))
        now[0] += 10
    w.close()
    assert [x.split(":")[0] for x in warnings] == [
        f"cannot write {path}",
        f"writing again to {path} (1 samples lost)",
        f"cannot write {path}",
        f"writing again to {path} (2 samples lost)",
    ]
    resumed = [r for r in records(path) if r.get("event") == "resumed"]
    assert [r["lost_samples"] for r in resumed] == [1, 1, 2]


def test_dir_that_is_a_file_is_bad_input_with_a_hint(tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    status, _, err = run_cli("record", "--dir", str(target), "-n", "1")
    assert status == 2
    assert f"--dir {target}: not a directory (for one file: -o FILE)" in err
