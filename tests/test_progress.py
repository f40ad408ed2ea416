"""The one progress display on every long job: report, snapshot -n, unpacking a bundle.

Each job runs in-process with a clock of the test's own, so a few seconds of work can be made
to "last" a minute. Off a terminal the job's stdout must be exactly what it is without progress,
and stderr at most a plain line every few seconds; on a terminal, a bar redrawn in place.
"""

from __future__ import annotations

import io
import os
import re
from typing import Any

from clihelp import FIXTURES, run_cli
from rechelp import write_recording

from checkswap.render.progress import PIPE_EVERY_S

LINE = re.compile(r"^(report|snapshot|unpacking): \[[#.]{28}\] +\d+%  .+  (-|.+/s)  ETA .+$")


class Clock:
    """Advances ``step`` seconds each time it is read, and by what sleep() is asked."""

    def __init__(self, step: float) -> None:
        self.t = 1000.0
        self.step = step
        self.reads = 0

    def __call__(self) -> float:
        self.t += self.step
        self.reads += 1
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def recordings(tmp: str, n: int) -> list[str]:
    paths = []
    for i in range(n):
        p = os.path.join(tmp, f"rec-{i:02d}.jsonl")
        base = i * 100
        write_recording(p, [(base + t, 10 * (base + t), 5 * (base + t)) for t in range(100)])
        paths.append(p)
    return paths


def pipe_lines(err: str, label: str) -> list[str]:
    assert "\r" not in err and "\033" not in err
    lines = err.splitlines()
    for line in lines:
        assert LINE.match(line) and line.startswith(label + ":"), line
    return lines


def test_report_progress_stays_off_stdout_and_is_rate_limited(tmp_path: Any) -> None:
    paths = recordings(str(tmp_path), 30)  # 30 chunks: 30 readings of progress
    code, plain, err = run_cli("report", *paths)
    assert (code, err) == (0, "")  # a short job on a pipe: nothing at all
    clock = Clock(1.0)
    code, out, err = run_cli("report", *paths, monotonic=clock)
    assert code == 0
    assert out == plain  # stdout untouched
    lines = pipe_lines(err, "report")
    assert 2 <= len(lines) <= clock.reads / PIPE_EVERY_S + 1, (len(lines), clock.reads)
    assert lines[-1].startswith("report: [############################] 100%")


def test_report_bar_on_a_terminal(tmp_path: Any) -> None:
    paths = recordings(str(tmp_path), 10)
    from checkswap.cli import main
    from checkswap.env import Env

    out, err = io.StringIO(), Tty()
    assert main(["report", *paths], Env(stdout=out, stderr=err, monotonic=Clock(1.0))) == 0
    text = err.getvalue()
    assert text.count("\r") >= 5 and text.endswith("\n") and text.count("\n") == 1
    assert "report:" not in text  # the label is for logs; the bar is on its own line
    assert re.search(r"\r\[#{28}\] 100%  [0-9.]+ KiB / [0-9.]+ KiB  .+/s  ETA 0:00", text)
    assert "[#" not in out.getvalue()


def test_snapshot_n_progress_counts_samples(tmp_path: Any) -> None:
    clock = Clock(0.0)
    out_path = os.path.join(str(tmp_path), "snap.tar.gz")
    code, out, err = run_cli(
        "snapshot",
        "-n",
        "12",
        "-i",
        "1",
        "-o",
        out_path,
        "--root",
        os.path.join(FIXTURES, "linux-6.18-swapping"),
        monotonic=clock,
        sleep=clock.sleep,
    )
    assert code == 0, err
    assert out.startswith(f"wrote {out_path}: 12 samples") and "[" not in out
    lines = pipe_lines(err, "snapshot")
    # 11 s of samples at one a second: a line at 3, 6, 9 s (at most), and the end.
    assert 2 <= len(lines) <= 4, lines
    assert re.search(r"100%  12 / 12  1\.0 samples/s  ETA 0:00$", lines[-1]), lines[-1]


def test_unpacking_a_bundle_shows_progress_on_stderr_only(tmp_path: Any) -> None:
    bundle = os.path.join(str(tmp_path), "b.tar.gz")
    tree = os.path.join(FIXTURES, "linux-6.18-swapping")
    code, _, err = run_cli("snapshot", "-o", bundle, "--root", tree)
    assert code == 0, err
    code, plain, err = run_cli("doctor", "--root", bundle)
    assert err == ""
    code2, out, err = run_cli("doctor", "--root", bundle, monotonic=Clock(1.0))
    # (The doctor's note names the private directory each unpacking makes.)
    private = re.compile(r"checkswap-bundle-[^/]+/")
    assert (code2, private.sub("", out)) == (code, private.sub("", plain))
    lines = pipe_lines(err, "unpacking")
    assert lines and lines[-1].startswith("unpacking: [############################] 100%")
    # A member per clock read, hundreds of them: a line per three "seconds" at most.
    assert len(lines) < 120 / PIPE_EVERY_S, len(lines)
