"""Every file checkswap writes, attacked for real: planted symlinks (at the name and at the
temporary names older code used), device nodes made with mknod, FIFOs, directories, files that
are not recordings, missing directories, and two recorders on one file.

Each attack runs the real command (in a child process where the old code would hang) and then
checks the thing attacked: the victim's bytes, the device node's inode and numbers.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import lab
import pytest
from clihelp import FIXTURES, REPO, run_cli, run_sub
from rechelp import header_line, raw_line

from checkswap.errors import BadInput
from checkswap.lab import change, fstab
from checkswap.record.writer import Writer

SWAPPING = os.path.join(FIXTURES, "check-swapping-6.18")
RECORDING_HOST = os.path.join(FIXTURES, "recording-host")
PRECIOUS = b"precious, not checkswap's\n"


def needs_root() -> None:
    """mknod needs root but changes nothing outside the test's temp dir: skip, not kernel."""
    if os.geteuid() != 0:
        if lab.kernel_tests_enabled():
            pytest.fail(f"{lab.ENV_FLAG}=1 but not root: cannot mknod")
        pytest.skip("mknod needs root")


def cli(*argv: str, timeout: float = 30) -> tuple[int, str, str]:
    """The real program in a child: the old code hung on some of these (a FIFO, serve)."""
    proc = run_sub(*argv, timeout=timeout, stdin=None)
    return proc.returncode, proc.stdout, proc.stderr


def recording(tmp_path) -> str:
    path = str(tmp_path / "in.jsonl")
    with open(path, "w") as f:
        f.write(header_line())
        for i in range(5):
            f.write(raw_line(float(i), 1795737600.0 + i, 100 * i, 50 * i))
    return path


# The five commands that write a file: argv for an output at PATH, and the status for bad input.
def check_argv(path: str, tmp_path) -> list[str]:
    return ["check", "--root", SWAPPING, "--state-file", path, "--sample", "0.01"]


def snapshot_argv(path: str, tmp_path) -> list[str]:
    return ["snapshot", "--root", SWAPPING, "-o", path]


def report_argv(path: str, tmp_path) -> list[str]:
    return ["report", recording(tmp_path), "--html", path]


def serve_argv(path: str, tmp_path) -> list[str]:
    return ["serve", "--root", SWAPPING, "--textfile", path, "--textfile-interval", "0.2s"]


def record_argv(path: str, tmp_path) -> list[str]:
    return ["record", "--root", RECORDING_HOST, "-o", path, "-n", "1", "-i", "0.01"]


WRITERS = [
    pytest.param(check_argv, "state", 3, id="check--state-file"),
    pytest.param(snapshot_argv, "s.tar.gz", 2, id="snapshot-o"),
    pytest.param(report_argv, "r.html", 2, id="report--html"),
    pytest.param(serve_argv, "m.prom", 2, id="serve--textfile"),
    pytest.param(record_argv, "r.jsonl", 2, id="record-o"),
]


def one_line(argv: list[str], out: str, err: str) -> str:
    """The one line a refusal prints (a plugin prints it on stdout)."""
    text = out if argv[0] == "check" else err
    assert "Traceback" not in out + err
    assert text.count("\n") == 1, (out, err)
    return text


def identity(path: str) -> tuple[int, int, int, int]:
    st = os.lstat(path)
    return st.st_ino, st.st_mode, st.st_rdev, st.st_size


@pytest.mark.parametrize(("argv", "name", "bad"), WRITERS)
@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_device_or_fifo_at_the_output_stays_as_it_was(tmp_path, argv, name, bad, kind):
    target = str(tmp_path / name)
    if kind == "device":
        needs_root()
        null = os.stat("/dev/null").st_rdev
        os.mknod(target, 0o666 | stat.S_IFCHR, null)  # a copy of /dev/null
    else:
        os.mkfifo(target, 0o600)
    before = identity(target)
    try:
        full = argv(target, tmp_path)
        status, out, err = cli(*full)
        text = one_line(full, out, err)
        assert status == bad, text
        assert ("a character device" if kind == "device" else "a FIFO") in text
        assert identity(target) == before  # still there, the same node
        assert sorted(os.listdir(tmp_path)) == sorted(
            n for n in os.listdir(tmp_path) if not n.endswith(".tmp")
        )  # no temp file left
    finally:
        os.unlink(target)


@pytest.mark.parametrize(("argv", "name", "bad"), WRITERS)
def test_symlink_at_the_output_is_refused_and_its_target_untouched(tmp_path, argv, name, bad):
    victim = tmp_path / "victim"
    victim.write_bytes(PRECIOUS)
    target = str(tmp_path / name)
    os.symlink(str(victim), target)
    full = argv(target, tmp_path)
    status, out, err = cli(*full)
    text = one_line(full, out, err)
    assert status == bad and "a symbolic link" in text
    assert victim.read_bytes() == PRECIOUS
    assert os.readlink(target) == str(victim)


@pytest.mark.parametrize(("argv", "name", "bad"), WRITERS)
def test_directory_as_output_is_refused(tmp_path, argv, name, bad):
    target = tmp_path / name
    target.mkdir()
    full = argv(str(target), tmp_path)
    status, out, err = cli(*full)
    text = one_line(full, out, err)
    assert status == bad and "directory" in text
    assert target.is_dir() and not list(target.iterdir())


@pytest.mark.parametrize(("argv", "name", "bad"), WRITERS)
def test_output_in_a_missing_directory_is_bad_input(tmp_path, argv, name, bad):
    target = str(tmp_path / "missing" / name)
    full = argv(target, tmp_path)
    status, out, err = cli(*full)
    text = one_line(full, out, err)
    assert status == bad and "does not exist" in text
    assert not (tmp_path / "missing").exists()  # not made either


# --- the temporary names older code used, planted as links --------------------------------


def test_html_temp_name_link_is_not_written_through(tmp_path):
    rec, html = recording(tmp_path), str(tmp_path / "r.html")
    victim = tmp_path / "victim"
    victim.write_bytes(PRECIOUS)
    os.symlink(str(victim), f"{html}.tmp{os.getpid()}")  # report runs in this process
    status, _, err = run_cli("report", rec, "--html", html)
    assert status == 0, err
    assert victim.read_bytes() == PRECIOUS
    assert stat.S_IMODE(os.stat(html).st_mode) == 0o640


def test_snapshot_part_name_link_is_not_written_through(tmp_path):
    out = str(tmp_path / "s.tar.gz")
    victim = tmp_path / "victim"
    victim.write_bytes(PRECIOUS)
    os.symlink(str(victim), out + ".part")
    status, _, err = run_cli("snapshot", "--root", SWAPPING, "-o", out)
    assert status == 0, err
    assert victim.read_bytes() == PRECIOUS
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_textfile_temp_name_link_is_not_written_through(tmp_path):
    from prometheus_client import CollectorRegistry, Gauge

    from checkswap.fleet import http as web

    path = str(tmp_path / "m.prom")
    victim = tmp_path / "victim"
    victim.write_bytes(PRECIOUS)
    # prometheus_client's write_to_textfile used PATH.<pid>.<thread id>
    os.symlink(str(victim), f"{path}.{os.getpid()}.{threading.current_thread().ident}")
    registry = CollectorRegistry()
    Gauge("checkswap_test", "a test gauge", registry=registry).set(1)
    web.write_textfile(path, registry)
    assert victim.read_bytes() == PRECIOUS
    with open(path) as f:
        assert "checkswap_test 1.0" in f.read()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # node_exporter runs as its own user


def _writer(**kw) -> Writer:
    args = {
        "path": None,
        "directory": None,
        "rotate_size": 4096,
        "keep": 3,
        "compress": False,
        "header": lambda: {"type": "header", "format": "checkswap-recording"},
        "warn": lambda _: None,
    }
    args.update(kw)
    return Writer(**args)  # type: ignore[arg-type]


def _raw(i: int) -> dict[str, object]:
    return {"type": "raw", "mono": float(i), "wall": 1795737600.0 + i, "vmstat": {"pswpin": i}}


def test_gzip_temp_name_link_is_not_written_through(tmp_path):
    path = str(tmp_path / "r.jsonl")
    victim = tmp_path / "victim"
    victim.write_bytes(PRECIOUS)
    os.symlink(str(victim), path + ".1.gz.tmp")
    w = _writer(path=path, compress=True)
    w.start()
    for i in range(60):  # ~100 bytes each: one rotation at 4 KiB
        w.write(_raw(i))
    w.close()
    assert os.path.exists(path + ".1.gz")
    assert victim.read_bytes() == PRECIOUS
    for name in ("r.jsonl", "r.jsonl.1.gz"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o640


def test_rotation_never_renames_over_a_device(tmp_path):
    needs_root()
    path = str(tmp_path / "r.jsonl")
    w = _writer(path=path, keep=4)
    w.start()
    i = 0
    while not os.path.exists(path + ".1"):
        w.write(_raw(i))
        i += 1
    dev = path + ".2"  # where the next rotation moves FILE.1
    os.mknod(dev, 0o600 | stat.S_IFCHR, os.stat("/dev/null").st_rdev)
    before = identity(dev)
    try:
        with pytest.raises(BadInput, match=r"r\.jsonl\.2: is a character device"):
            for j in range(i, i + 100):
                w.write(_raw(j))
        w.close()
        assert identity(dev) == before
        with open(path) as f:
            assert json.loads(f.readline())["type"] == "header"
    finally:
        os.unlink(dev)


def test_retention_never_deletes_a_device_given_a_dated_name(tmp_path):
    needs_root()
    d = tmp_path / "logs"
    d.mkdir()
    dev = str(d / "2000-01-01-0000-checkswap.jsonl")  # the oldest name: first to be pruned
    os.mknod(dev, 0o600 | stat.S_IFCHR, os.stat("/dev/null").st_rdev)
    before = identity(dev)
    try:
        w = _writer(directory=str(d), keep=2, wall=iter(range(1795737600, 1795999999, 60)).__next__)
        w.start()
        for i in range(200):
            w.write(_raw(i))
        w.close()
        assert identity(dev) == before
        assert len(os.listdir(d)) == 3  # the device and the two files kept
    finally:
        os.unlink(dev)


# --- record -o appends only to a recording -------------------------------------------------


def test_record_does_not_append_to_a_file_that_is_not_a_recording(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(PRECIOUS)
    status, _, err = cli(*record_argv(str(notes), tmp_path))
    assert status == 2 and "not a checkswap recording" in err and err.count("\n") == 1
    assert "notes-checkswap.jsonl" in err  # a new name to use instead
    assert notes.read_bytes() == PRECIOUS


def test_record_to_proc_version_is_refused():
    with open("/proc/version", "rb") as f:
        before = f.read()
    status, _, err = cli("record", "-o", "/proc/version", "-n", "1", "-i", "0.01")
    assert status == 2 and "not a checkswap recording" in err, err
    with open("/proc/version", "rb") as f:
        assert f.read() == before


def test_record_appends_to_an_empty_file_and_to_its_own_recording(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"")
    for _ in range(2):
        status, _, err = cli(*record_argv(str(path), tmp_path))
        assert status == 0, err
    kinds = [json.loads(line)["type"] for line in path.read_text().splitlines()]
    assert kinds.count("header") == 2 and kinds.count("raw") == 4


def test_record_dir_is_made_but_not_its_parent(tmp_path):
    d = tmp_path / "logs"
    status, _, err = cli("record", "--root", RECORDING_HOST, "--dir", str(d), "-n", "1")
    assert status == 0, err
    assert stat.S_IMODE(d.stat().st_mode) == 0o750
    (name,) = os.listdir(d)
    assert stat.S_IMODE((d / name).stat().st_mode) == 0o640
    deep = tmp_path / "no" / "logs"
    status, _, err = cli("record", "--root", RECORDING_HOST, "--dir", str(deep), "-n", "1")
    assert status == 2 and "does not exist" in err
    assert not (tmp_path / "no").exists()


# --- two recorders, one file ---------------------------------------------------------------


def _start(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "checkswap", "record", "--root", RECORDING_HOST, *argv],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(pred, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_second_recorder_on_the_same_file_is_refused_also_across_rotations(tmp_path):
    path = str(tmp_path / "r.jsonl")
    first = _start("-o", path, "-i", "0.005", "--rotate-size", "8K", "--keep", "3")
    try:
        _wait_for(lambda: os.path.exists(path + ".1"))  # it has rotated at least once
        end = time.monotonic() + 3
        tries = 0
        while time.monotonic() < end:  # start seconds' worth of rivals while it rotates
            status, _, err = cli("record", "--root", RECORDING_HOST, "-o", path, "-n", "1")
            assert status == 1 and "another checkswap record is writing it" in err, err
            assert err.count("\n") == 1
            tries += 1
        assert first.poll() is None  # the first one goes on
    finally:
        first.kill()  # kill -9: the kernel drops the lock
        first.wait()
    assert tries >= 3
    status, _, err = cli(*record_argv(path, tmp_path))
    assert status == 0, err


def test_second_recorder_on_the_same_dir_is_refused(tmp_path):
    d = str(tmp_path / "logs")
    first = _start("--dir", d, "-i", "0.05")
    try:
        _wait_for(lambda: os.path.isdir(d) and bool(os.listdir(d)))
        status, _, err = cli("record", "--root", RECORDING_HOST, "--dir", d, "-n", "1")
        assert status == 1 and "another checkswap record is writing there" in err, err
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=10) == 0
    assert len(os.listdir(d)) == 1


# --- check's state, and fstab ---------------------------------------------------------------


def test_state_file_is_ours_alone(tmp_path):
    state = str(tmp_path / "state")
    status, out, _ = cli(*check_argv(state, tmp_path))
    assert status == 0, out
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["state"]


def test_fstab_is_never_written_through_a_planted_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(PRECIOUS)
    real = tmp_path / "fstab.real"
    real.write_text("/old none swap sw 0 0\n")
    link = str(tmp_path / "fstab")
    os.symlink(str(victim), link)
    with pytest.raises(BadInput, match="is a symbolic link"):
        fstab.write(link, "/new none swap sw 0 0\n")
    assert victim.read_bytes() == PRECIOUS and os.readlink(link) == str(victim)
    # A link planted at the backup's (predictable) name: refused before fstab is touched.
    os.symlink(str(victim), fstab.backup_path(str(real)))
    with pytest.raises(BadInput, match=r"backup .*is a symbolic link"):
        change.replace_file(str(real), "/new none swap sw 0 0\n", fstab.backup_path(str(real)))
    assert victim.read_bytes() == PRECIOUS
    assert real.read_text() == "/old none swap sw 0 0\n"
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
