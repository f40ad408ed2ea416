"""The systemd unit's command line is one checkswap accepts, and the zipapp carries uPlot."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

from clihelp import REPO
from rechelp import write_recording

from checkswap.cli import build_parser

UNIT = os.path.join(REPO, "contrib", "systemd", "checkswap-record.service")


def test_systemd_unit_runs_a_valid_record_command():
    with open(UNIT) as f:
        (exec_start,) = [x for x in f if x.startswith("ExecStart=")]
    argv = shlex.split(exec_start.split("=", 1)[1])
    assert argv[0].endswith("/checkswap") and argv[1] == "record"
    parser, _ = build_parser("record")
    args = parser.parse_args(argv[1:])
    assert args.dir == "/var/log/checkswap" and args.keep == 10 and args.gzip


def test_zipapp_writes_the_html_report_in_isolated_mode(tmp_path):
    # The zipapp as the project builds it (tools/build-pyz), not a copy made by the test.
    pyz = str(tmp_path / "checkswap.pyz")
    subprocess.run(
        [sys.executable, os.path.join(REPO, "tools", "build-pyz"), pyz],
        check=True,
        capture_output=True,
    )
    rec, html = str(tmp_path / "r.jsonl"), str(tmp_path / "r.html")
    write_recording(rec, [(0.0, 0, 0), (1.0, 5000, 10), (2.0, 5000, 10)])
    proc = subprocess.run(
        [sys.executable, "-I", pyz, "report", rec, "--html", html],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    with open(html, encoding="utf-8") as f:
        text = f.read()
    assert "Copyright (c) 2022 Leon Sorokin" in text and "uPlot" in text
