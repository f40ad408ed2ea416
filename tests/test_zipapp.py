"""The one-file build: checkswap.pyz runs with a bare python3 in isolated mode, outside the venv."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest
from clihelp import FIXTURES as FIX
from clihelp import REPO as ROOT


def interpreters() -> list[str]:
    """The system python3 (not the venv's), and any Python 3.9 around: the oldest we support."""
    found = []
    for path in ["/usr/bin/python3", *sorted(glob.glob("/root/.pyenv/versions/3.9*/bin/python3"))]:
        if os.access(path, os.X_OK):
            found.append(path)
    return found or [getattr(sys, "_base_executable", sys.executable)]


@pytest.fixture(scope="module")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = str(tmp_path_factory.mktemp("pyz") / "checkswap.pyz")
    subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "build-pyz"), out],
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.parametrize("python", interpreters())
def test_pyz_runs_isolated(pyz: str, python: str, tmp_path: os.PathLike[str]) -> None:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}  # no venv, no PYTHONPATH
    proc = subprocess.run(
        [
            python,
            "-I",
            pyz,
            "watch",
            "-n",
            "2",
            "-i",
            "0.01",
            "--format",
            "json",
            "--root",
            os.path.join(FIX, "linux-4.19-no-psi"),
        ],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    recs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["type"] for r in recs] == ["header", "sample", "sample", "summary"]
    assert recs[0]["since_boot"]["swap_in_pages"] == 508992338

    bad = subprocess.run(
        [python, "-I", pyz, "-i", "0"],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env=env,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_pyz_reads_the_live_kernel(pyz: str) -> None:
    proc = subprocess.run(
        [interpreters()[0], "-I", pyz, "-n", "1", "-i", "0.01"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "# summary: 1 sample over" in proc.stdout
