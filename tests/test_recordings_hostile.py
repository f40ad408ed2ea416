"""Recordings and check's state file as an attacker or a careless user would hand them over.

Every case performs the attack for real: lines crafted to break the parser or the arithmetic
after it, devices made with mknod, FIFOs, sockets, gzip files that are not gzip or stop short,
a line of half a gigabyte, and a Ctrl-C or SIGTERM while the report's workers run. Each must
end in a counted bad line or one clear line of error, never a traceback, never a hang.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import zlib

import lab
import pytest
from clihelp import FIXTURES, REPO, run_cli, run_sub
from rechelp import WALL0, header_line, raw_line

from checkswap.record.format import Reading

ROWS = [(float(t), 1000 + 37 * t * t, 5000 + 11 * t) for t in range(12)]


def good_lines() -> list[str]:
    return [raw_line(1000.0 + t, WALL0 + t, a, b) for t, a, b in ROWS]


def raw_rec(**changes: object) -> dict[str, object]:
    rec = json.loads(raw_line(1005.5, WALL0 + 5.5, 1000 + 37 * 30, 5000 + 60))
    rec.update(changes)
    return rec


def dumps(rec: object) -> str:
    return json.dumps(rec) + "\n"  # allow_nan: json writes NaN and Infinity, as an attacker may


def with_counter(name: str, value: object) -> str:
    rec = raw_rec()
    rec["vmstat"] = dict(rec["vmstat"], **{name: value})  # type: ignore[arg-type]
    return dumps(rec)


DEEP = 100_000
BAD_LINES = {
    "deep nesting": '{"type": "raw", "vmstat": ' + "[" * DEEP + "]" * DEEP + "}\n",
    "deep nesting, bare": "[" * DEEP + "]" * DEEP + "\n",
    "1e300 wall": dumps(raw_rec(wall=1e300)),
    "wall a century before 1970": dumps(raw_rec(wall=-3.2e9)),
    "NaN mono": dumps(raw_rec(mono=float("nan"))),
    "Infinity wall": dumps(raw_rec(wall=float("inf"))),
    "1e999 mono": dumps(raw_rec()).replace('"mono": 1005.5', '"mono": 1e999'),
    "-1 counter": with_counter("pswpin", -1),
    "400-digit counter": with_counter("pswpout", 10**400),
    "400-digit mono": dumps(raw_rec(mono=10**400)),
    "counter beyond 2^64": with_counter("pgmajfault", 2**64),
    "string counter": with_counter("pswpin", "1110"),
    "string wall": dumps(raw_rec(wall="yesterday")),
    "2 MiB line": dumps(raw_rec(pad="x" * (2 << 20))),
    "page size 3": dumps(raw_rec(page_size_bytes=3)),
    "page size 400 digits": dumps(raw_rec(page_size_bytes=10**400)),
    "psi average 1e308": dumps(raw_rec(psi={"some": [1e308, 0.0, 0.0, 0], "full": None})),
    "psi average NaN": dumps(raw_rec(psi={"some": [float("nan"), 0.0, 0.0, 0], "full": None})),
    "psi total -5": dumps(raw_rec(psi={"some": [0.0, 0.0, 0.0, -5], "full": None})),
    "mono 1e-300": dumps(raw_rec(mono=1e-300)),
    "trigger 1e300 wall": dumps({"type": "trigger", "wall": 1e300, "capture": {}}),
    "trigger wall 400 digits": dumps({"type": "trigger", "wall": 10**400, "capture": {}}),
    "trigger capture 900 deep": dumps(
        {"type": "trigger", "wall": WALL0 + 5.5, "capture": json.loads("[" * 900 + "]" * 900)}
    ),
    "trigger capture not an object": dumps({"type": "trigger", "wall": WALL0 + 5, "capture": 7}),
    "event since 400 digits": dumps(
        {"type": "event", "event": "resumed", "wall": WALL0 + 5, "since": 10**400}
    ),
    "event time not a time": dumps({"type": "event", "event": "resumed", "time": "soon"}),
    "header interval 400 digits": dumps(
        dict(json.loads(header_line()), interval_s=10**400, hostname="x")
    ),
    "header page size 1e300": dumps(dict(json.loads(header_line()), page_size_bytes=1e300)),
    "invalid UTF-8": '{"type": "raw", "x": "\udcff"}\n',
}
# The kinds the brief names, for the one recording that holds all of them at once.
NAMED = [
    "deep nesting",
    "1e300 wall",
    "NaN mono",
    "Infinity wall",
    "-1 counter",
    "400-digit counter",
    "string counter",
    "2 MiB line",
]


def write(path: str, bad: list[str]) -> None:
    """The good recording with ``bad`` lines in the middle (between samples 5 and 6)."""
    good = good_lines()
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(header_line())
        f.writelines(good[:6])
        f.writelines(bad)
        f.writelines(good[6:])


def report(path: str, *extra: str) -> dict[str, object]:
    status, out, err = run_cli("report", path, "--format", "json", "--spike", "100", *extra)
    assert status == 0, err
    assert "Traceback" not in err
    rep = json.loads(out)
    assert isinstance(rep, dict)
    return rep


def same_figures(rep: dict[str, object], clean: dict[str, object]) -> None:
    keys = ("samples", "intervals", "swap_in_pages", "swap_out_pages", "avg", "p95", "max")
    assert {k: rep[k] for k in keys} == {k: clean[k] for k in keys}
    assert rep["max_psi_some_pct"] == clean["max_psi_some_pct"]
    assert len(rep["spikes"]) == len(clean["spikes"])  # type: ignore[arg-type]


@pytest.fixture
def clean(tmp_path) -> dict[str, object]:
    path = str(tmp_path / "clean.jsonl")
    write(path, [])
    rep = report(path)
    assert rep["bad_lines"] == 0 and rep["samples"] == len(ROWS)
    return rep


def replay_samples(path: str) -> tuple[list[dict[str, object]], str]:
    status, out, err = run_cli("watch", "--replay", path, "--speed", "0", "--format", "json")
    assert status == 0, err
    assert "Traceback" not in err
    return [r for r in map(json.loads, out.splitlines()) if r["type"] == "sample"], err


@pytest.mark.parametrize("kind", list(BAD_LINES))
def test_one_bad_line_is_counted_and_changes_no_figure(tmp_path, clean, kind):
    path = str(tmp_path / "r.jsonl")
    write(path, [BAD_LINES[kind]])
    rep = report(path)
    assert rep["bad_lines"] == 1
    same_figures(rep, clean)
    html = str(tmp_path / "r.html")
    text_status, text, err = run_cli("report", path, "--spike", "100", "--html", html)
    assert text_status == 0, err
    assert "1 bad lines skipped" in text and os.path.getsize(html) > 0
    clean_path = str(tmp_path / "clean.jsonl")
    assert replay_samples(path)[0] == replay_samples(clean_path)[0]
    assert "1 truncated or corrupt lines skipped" in replay_samples(path)[1]


def test_all_named_bad_lines_at_once_in_report_and_replay(tmp_path, clean):
    path = str(tmp_path / "r.jsonl")
    write(path, [BAD_LINES[k] for k in NAMED])
    rep = report(path)
    assert rep["bad_lines"] == len(NAMED)
    same_figures(rep, clean)
    samples, err = replay_samples(path)
    write(str(tmp_path / "clean.jsonl"), [])
    assert samples == replay_samples(str(tmp_path / "clean.jsonl"))[0]
    assert f"{len(NAMED)} truncated or corrupt lines skipped" in err


def test_bad_lines_across_parallel_chunks_give_the_one_pass_report(tmp_path):
    from checkswap.record.report import analyse_files, build

    path = str(tmp_path / "r.jsonl")
    write(path, list(BAD_LINES.values()))
    one = analyse_files([path], 100.0, workers=1, chunk_bytes=1 << 30)
    many = analyse_files([path], 100.0, workers=2, chunk_bytes=50_000)
    assert build(many[1], many[0], 100.0, [path]) == build(one[1], one[0], 100.0, [path])
    assert one[1].bad_lines == len(BAD_LINES)


# Far below the 512 MiB a reader that kept the line would need (measured: 36 MiB).
RSS_BOUND_MIB = 100


def test_a_512_mib_line_is_skipped_in_bounded_memory(tmp_path):
    # A sparse file: a line of 512 MiB of NUL bytes between good samples, costing no disk.
    path = str(tmp_path / "r.jsonl")
    write(path, [])
    good = good_lines()
    with open(path, "w") as f:
        f.write(header_line())
        f.writelines(good[:6])
        f.truncate(f.tell() + (512 << 20))
        f.seek(0, os.SEEK_END)
        f.write("\n")
        f.writelines(good[6:])
    rep, rss_mib = report_in_child(path)
    assert rep["bad_lines"] == 1 and rep["samples"] == len(ROWS)
    assert rss_mib < RSS_BOUND_MIB, rss_mib


def test_gzip_bomb_of_one_line_stays_in_bounded_memory(tmp_path):
    # 512 MiB of one line in ~2 MiB of gzip; the good lines around it still count.
    path = str(tmp_path / "bomb.jsonl.gz")
    good = good_lines()
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write((header_line() + "".join(good[:6])).encode())
        block = b"x" * (1 << 20)
        for _ in range(512):
            f.write(block)
        f.write(("\n" + "".join(good[6:])).encode())
    assert os.path.getsize(path) < 4 << 20
    rep, rss_mib = report_in_child(path)
    assert rep["bad_lines"] == 1 and rep["samples"] == len(ROWS)
    assert rss_mib < RSS_BOUND_MIB, rss_mib


def report_in_child(path: str) -> tuple[dict[str, object], float]:
    """``report --format json`` in a child process: (its output, its peak RSS in MiB)."""
    code = (
        "import json, sys\n"
        "from checkswap.record.report import analyse_files, build\n"
        "a, r = analyse_files([sys.argv[1]], 100.0, workers=1)\n"
        "rep = build(r, a, 100.0, [sys.argv[1]])\n"
        # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across fork and exec, so
        # the child would report the pytest parent's peak (over 100 MiB in a full run).
        "hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM:')]\n"
        "rep['rss_kib'] = int(hwm[0].split()[1])\n"
        "print(json.dumps(rep))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, path], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    return rep, rep["rss_kib"] / 1024


# --- files that are not regular files -------------------------------------------------------


def checkswap(*argv: str, timeout: float = 10.0) -> tuple[int, str, float]:
    """(status, stderr, seconds) of a real ``checkswap`` process; stdin is not a terminal."""
    t0 = time.monotonic()
    proc = run_sub(*argv, timeout=timeout)
    return proc.returncode, proc.stderr, time.monotonic() - t0


COMMANDS = [
    ["report"],
    ["report", "--format", "json"],
    ["watch", "--speed", "0", "--replay"],
    ["dash", "--replay"],
]


def refused_at_once(path: str, what: str) -> None:
    for argv in COMMANDS:
        status, err, secs = checkswap(*argv, path)
        assert status == 2, (argv, err)
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert f"{path}: is {what}, not a recording" in err, err
        assert secs < 1.5, (argv, secs)  # interpreter start-up included


def test_dev_zero_is_refused_before_it_is_read():
    refused_at_once("/dev/zero", "a character device")


def test_fifo_is_refused_without_blocking(tmp_path):
    path = str(tmp_path / "checkswap-test-fifo.jsonl")
    os.mkfifo(path)
    try:
        refused_at_once(path, "a FIFO")
    finally:
        os.unlink(path)


def test_socket_is_refused(tmp_path):
    path = str(tmp_path / "checkswap-test-sock.jsonl")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(path)
        s.listen(1)
        refused_at_once(path, "a socket")
    finally:
        s.close()
        os.unlink(path)


def test_directory_is_refused_with_a_pointer(tmp_path):
    status, err, _ = checkswap("report", str(tmp_path))
    assert status == 2 and err.count("\n") == 1
    assert "is a directory, not a recording (did you mean" in err


def need_root() -> None:
    """mknod needs root but changes nothing outside the temp dir: skip unless asked for."""
    if os.geteuid() != 0:
        if lab.kernel_tests_enabled():
            pytest.fail("CHECKSWAP_KERNEL_TESTS=1 but not root: cannot make device nodes")
        pytest.skip("needs root for mknod")


@pytest.mark.parametrize(
    ("kind", "what"),
    [(stat.S_IFCHR, "a character device"), (stat.S_IFBLK, "a block device")],
)
def test_device_nodes_made_with_mknod_are_refused(tmp_path, kind, what):
    need_root()
    path = str(tmp_path / "checkswap-test-dev.jsonl.gz")
    # /dev/zero's numbers as a char device; as a block device, the first loop device.
    dev = os.makedev(1, 5) if kind == stat.S_IFCHR else os.makedev(7, 0)
    os.mknod(path, kind | 0o600, dev)
    try:
        refused_at_once(path, what)
    finally:
        os.unlink(path)


def test_a_fifo_among_several_files_is_refused_before_workers_start(tmp_path):
    good = str(tmp_path / "a.jsonl")
    write(good, [])
    fifo = str(tmp_path / "checkswap-test-fifo.jsonl")
    os.mkfifo(fifo)
    try:
        status, err, secs = checkswap("report", good, fifo, good)
        assert status == 2 and "is a FIFO" in err and err.count("\n") == 1
        assert secs < 1.5
    finally:
        os.unlink(fifo)


# --- gzip that is not gzip, or stops short ---------------------------------------------------


def test_plain_text_named_gz_is_bad_input(tmp_path):
    path = str(tmp_path / "x.jsonl.gz")
    write(path, [])
    for argv in (["report"], ["watch", "--speed", "0", "--replay"]):
        status, _out, err = run_cli(*argv, path)
        assert status == 2, err
        assert err.count("\n") == 1 and "not a gzip file" in err, err


def test_gzip_cut_before_its_first_line_is_bad_input(tmp_path):
    path = str(tmp_path / "x.jsonl.gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(header_line().encode() * 50)[:12])
    status, _out, err = run_cli("report", path)
    assert status == 2 and err.count("\n") == 1 and "ends early" in err


def test_truncated_gzip_keeps_every_whole_line_and_says_so(tmp_path):
    plain = str(tmp_path / "r.jsonl")
    write(plain, [])
    with open(plain, "rb") as f:
        data = f.read()
    # Flush after each line so the cut falls at a known place: inside the 9th sample.
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    parts = [comp.compress(line) + comp.flush(zlib.Z_SYNC_FLUSH) for line in data.splitlines(True)]
    cut = b"".join(parts[:9]) + parts[9][: len(parts[9]) // 2]
    path = str(tmp_path / "cut.jsonl.gz")
    with open(path, "wb") as f:
        f.write(cut)
    rep = report(path)
    assert rep["samples"] == 8  # header + 8 whole samples in parts[:9]
    assert rep["bad_lines"] == 1
    assert any("ends early (truncated)" in n for n in rep["notes"])  # type: ignore[union-attr]
    status, _out, err = run_cli("watch", "--replay", path, "--speed", "0")
    assert status == 0 and "1 truncated or corrupt lines skipped" in err


def test_corrupt_gzip_keeps_what_was_read(tmp_path):
    plain = str(tmp_path / "r.jsonl")
    write(plain, [])
    with open(plain, "rb") as f:
        data = bytearray(gzip.compress(f.read()))
    data[-6] ^= 0xFF  # the CRC: every line decompresses, the check at the end fails
    path = str(tmp_path / "crc.jsonl.gz")
    with open(path, "wb") as f:
        f.write(data)
    rep = report(path)
    assert rep["samples"] == len(ROWS) and rep["bad_lines"] == 1
    assert any("corrupt" in n for n in rep["notes"])  # type: ignore[union-attr]


# --- the report's workers and signals ---------------------------------------------------------


def children(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(name))
    return out


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: report runs without workers")
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupting_a_multi_file_report_prints_no_worker_traceback(tmp_path, how):
    paths = []
    for name in ("a", "b"):
        path = str(tmp_path / f"{name}.jsonl")
        # Long enough that the workers outlive the poll below on a loaded machine: with the
        # dozen-sample recording the report sometimes finished before a worker was seen.
        with open(path, "w") as f:
            f.write(header_line())
            f.writelines(
                raw_line(1000.0 + t, WALL0 + t, 1000 + 3 * t, 5000 + 2 * t) for t in range(20_000)
            )
        paths.append(path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "checkswap", "report", *paths],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        start_new_session=True,  # its own process group, as a shell gives a job
    )
    try:
        deadline = time.monotonic() + 20
        while not children(proc.pid):
            assert proc.poll() is None and time.monotonic() < deadline, "no worker started"
            time.sleep(0.002)
        # Stopped, the report cannot finish and close its pool: the workers stay alive for
        # the signal, whatever the machine's speed. The signal waits for SIGCONT.
        os.kill(proc.pid, signal.SIGSTOP)
        workers = children(proc.pid)
        assert workers
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends to the whole job
        else:
            os.kill(proc.pid, signal.SIGTERM)
        time.sleep(0.2)  # the workers handle theirs meanwhile
        os.kill(proc.pid, signal.SIGCONT)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert proc.returncode == 0, err
    assert not [w for w in workers if os.path.exists(f"/proc/{w}")]


# --- check's state file --------------------------------------------------------------------


SWAPPING = os.path.join(FIXTURES, "check-swapping-6.18")


def state_text(sample: str) -> str:
    with open(os.path.join(SWAPPING, "proc/sys/kernel/random/boot_id")) as f:
        boot = f.read().strip()
    return (
        '{"type": "checkswap-check-state", "version": 1, "root": '
        + json.dumps(os.path.abspath(SWAPPING))
        + ', "boot_id": '
        + json.dumps(boot)
        + ', "sample": '
        + sample
        + "}"
    )


def a_sample(**changes: object) -> str:
    rec = {
        "type": "raw",
        "mono": time.monotonic() - 60,
        "wall": time.time() - 60,
        "page_size_bytes": 4096,
        "vmstat": {"pswpin": 1, "pswpout": 1},
        "meminfo": {},
        "psi": None,
    }
    rec.update(changes)
    return json.dumps(rec)


@pytest.mark.parametrize(
    "sample",
    [
        a_sample(mono=float("nan")),
        a_sample(wall=float("inf")),
        a_sample(wall=1e300),
        a_sample(vmstat={"pswpin": 10**400, "pswpout": 1}),
        a_sample(vmstat={"pswpin": -1, "pswpout": 1}),
        "[" * DEEP + "]" * DEEP,
        '{"a": ' * 5000 + "1" + "}" * 5000,
    ],
    ids=["NaN mono", "Infinity wall", "1e300 wall", "400 digits", "-1", "deep list", "deep obj"],
)
def test_hostile_state_file_is_corrupt_not_used(tmp_path, sample):
    import io

    from checkswap.cli import main
    from checkswap.env import Env

    state = str(tmp_path / "state")
    fd = os.open(state, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(state_text(sample))
    out, err = io.StringIO(), io.StringIO()
    argv = ["check", "--root", SWAPPING, "--state-file", state]
    status = main(argv, Env(stdout=out, stderr=err, sleep=lambda s: None))
    assert err.getvalue() == ""
    assert status == 0 and "is corrupt, not used" in out.getvalue(), out.getvalue()
    with open(state) as f:
        assert json.load(f)["sample"]["mono"] < 1e10  # replaced by a sane state


def test_reading_counts_bad_lines_in_memory_not_only_from_files():
    lines = [BAD_LINES[k] for k in NAMED] + good_lines()[:2]
    reading = Reading()
    assert len(list(reading.samples(lines))) == 2
    assert reading.bad_lines == len(NAMED)


# --- dash --replay, in a real terminal --------------------------------------------------------


def test_dash_replay_counts_bad_lines_and_shows_a_hostile_capture(tmp_path):
    import tmux

    hostile_capture = {
        "processes": [
            {"pid": [1, 2], "comm": {"x": 1}, "swap_bytes": 1e308, "majflt_per_s": "fast"},
            {"pid": 7, "comm": "x" * 5000, "swap_bytes": -(10**30), "swap_delta_bytes_per_s": 1},
        ],
        "cgroups": [{"path": None, "swap_bytes": 10**400 // 10**390, "swap_in_per_s": 1e308}],
        "unattributed_swap_bytes": "lots",
        "hidden_processes": [[]],
    }
    bad = [BAD_LINES[k] for k in NAMED] + [BAD_LINES["trigger 1e300 wall"]]
    path = str(tmp_path / "night.jsonl")
    write(path, [*bad, dumps({"type": "trigger", "wall": WALL0 + 5.7, "capture": hostile_capture})])
    argv = [sys.executable, "-m", "checkswap", "dash", "--replay", path, "--speed", "0"]
    with tmux.pane(argv, 100, 30, "hostile") as p:
        screen = p.wait_for(lambda s: "end of recording" in s or "EXIT=" in s, 20, "the end")
        assert f"end of recording: {len(ROWS) - 1} intervals, {len(bad)} bad lines" in screen
        assert "processes as captured by record --trigger" in screen
        p.keys("q")
        assert p.exit_status() == 0


# --- floods of the rarer lines, and a file swapped between the report's two readings --------


def _event(t: float) -> str:
    return json.dumps({"type": "event", "wall": WALL0 + t, "event": "resumed", "lost_samples": 1})


def test_a_flood_of_event_and_unknown_lines_is_counted_in_bounded_memory(tmp_path):
    import tracemalloc

    unknown = json.dumps({"type": "from-the-future", "payload": ["x" * 64] * 16})
    kept = []
    for n in (2_000, 8_000):
        lines = good_lines() + [_event(t / n) for t in range(n)] + [unknown] * n
        tracemalloc.start()
        reading = Reading()
        assert len(list(reading.samples(lines))) == len(ROWS)
        kept.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
        assert reading.events_seen == n and len(reading.events) == 1000
        assert reading.other_seen == n and reading.bad_lines == 0
        del reading, lines
    # 6,000 more of each: an unknown line kept parsed was ~2 KB, an event ~0.5 KB.
    assert kept[1] - kept[0] < 100_000, kept
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join([header_line().strip(), *good_lines(), *map(_event, range(1500))]))
    status, out, err = run_cli("report", str(path), "--format", "json")
    assert status == 0, err
    rep = json.loads(out)
    assert len(rep["events"]) == 1000
    assert "500 more event lines than the 1000 listed (a damaged recording?)" in rep["notes"]


@pytest.mark.parametrize("swap_in", ["fifo", "dev-zero-link", "gone"])
def test_a_recording_swapped_between_the_reports_two_readings_shows_no_capture(tmp_path, swap_in):
    # The report reads its shown captures again at the end: by then the file may be a FIFO
    # (which would block a reader), a link to a device, or gone. None may hang or crash it.
    from checkswap.record.report import analyse_files, build

    path = str(tmp_path / "r.jsonl")
    capture = {"type": "processes", "processes": [{"pid": 7, "comm": "hog"}], "cgroups": []}
    trig = {"type": "trigger", "wall": WALL0 + 5, "swap_in_per_s": 9e4, "capture": capture}
    rows = [(float(t), 1000 + (90_000 * t if t >= 4 else 0), 5000) for t in range(12)]
    with open(path, "w") as f:
        f.write(header_line())
        f.writelines(raw_line(1000.0 + t, WALL0 + t, a, b) for t, a, b in rows)
        f.write(json.dumps(trig) + "\n")
    a, reading = analyse_files([path], 1000.0, workers=1)
    assert reading.triggers_seen == 1
    assert reading.load_triggers([0])[0]["capture"] == capture  # found again, until swapped
    os.unlink(path)
    if swap_in == "fifo":
        os.mkfifo(path)
    elif swap_in == "dev-zero-link":
        os.symlink("/dev/zero", path)
    rec = build(reading, a, 1000.0, [path])
    (spike,) = rec["spikes"]
    assert spike["captured"] is None and spike["captures"] == 1
