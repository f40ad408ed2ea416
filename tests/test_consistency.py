"""Small inconsistencies a new user meets (issue 13, item 13), each held by a test: one
suggested swapfile size, a dry run that prints the fstab edit it really makes, error lines with
one prefix and one wording, a one-sample snapshot that says how to get rates, a recorder that
says where it writes, missing directories refused, and an old Python told what it needs.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import zipfile

import pytest
from clihelp import FIXTURES, REPO, no_sleep, run_cli, run_sub

from checkswap.lab import fstab

NO_SWAP = os.path.join(FIXTURES, "check-no-swap-6.18")
SWAPPING = os.path.join(FIXTURES, "linux-6.18-swapping")


# --- one suggested size ----------------------------------------------------------------------


def test_doctor_and_swapfile_list_suggest_the_same_swapfile_size() -> None:
    _, out, _ = run_cli(
        "doctor", "--sample", "1", "--role", "database", "--root", NO_SWAP, sleep=no_sleep
    )
    doctor = re.findall(r"checkswap swapfile add (\S+)", out)
    _, listed, _ = run_cli("swapfile", "list", "--root", NO_SWAP)
    hint = re.findall(r"checkswap swapfile add (\S+)", listed)
    assert doctor and hint, (out, listed)
    assert set(doctor) == set(hint), (doctor, hint)


# --- the fstab edit a dry run prints is the one checkswap makes ------------------------------

FSTAB_TEXT = "# /etc/fstab\nUUID=0a34 / ext4 errors=remount-ro 0 1\n/old\\040swap none swap sw 0 0"


def _printed_fstab_command(out: str) -> str:
    (line,) = [ln for ln in out.splitlines() if ln.startswith("sh -c ") and "fstab" in ln]
    return line.split("    # ")[0]


def test_persist_dry_run_prints_the_atomic_edit_it_really_does(tmp_path: object) -> None:
    d = str(tmp_path)
    fst = os.path.join(d, "fstab")
    with open(fst, "w") as f:
        f.write(FSTAB_TEXT)  # no newline at the end: the edit must add one before its line
    path = os.path.join(d, "my swap")
    code, out, err = run_cli(
        "swapfile", "add", "64M", "--path", path, "--persist", "--fstab", fst, "--dry-run"
    )
    assert (code, err) == (0, ""), err
    assert ">>" not in out  # not a plain append, which a crash can leave half-written
    command = _printed_fstab_command(out)
    assert fstab.read(fst) == FSTAB_TEXT  # a dry run changed nothing
    # Run what was printed, by hand as a user would: the same text checkswap's own edit writes,
    # the old file kept as the backup, no temporary file left behind.
    subprocess.run(command, shell=True, check=True)
    assert fstab.read(fst) == fstab.with_line(FSTAB_TEXT, fstab.swap_line(path, None))
    assert fstab.read(fstab.backup_path(fst)) == FSTAB_TEXT
    assert sorted(os.listdir(d)) == ["fstab", "fstab.checkswap-backup"]


def test_the_printed_fstab_removal_is_checkswaps_own(tmp_path: object) -> None:
    fst = os.path.join(str(tmp_path), "fstab")
    text = FSTAB_TEXT + "\n/swapfile none swap sw 0 0\n"
    with open(fst, "w") as f:
        f.write(text)
    numbers = fstab.line_numbers(text, "/swapfile")
    subprocess.run(fstab.shell_remove(fst, numbers), check=True)
    assert fstab.read(fst) == fstab.without_lines(text, numbers)
    assert fstab.read(fstab.backup_path(fst)) == text


# --- one prefix, one wording -----------------------------------------------------------------


@pytest.mark.parametrize("argv", [["swapfile", "add", "1G"], ["swapfile", "remove", "/swapfile"]])
def test_needs_root_is_said_with_one_prefix(argv: list[str], monkeypatch: object) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # type: ignore[attr-defined]
    code, _, err = run_cli(*argv)
    assert code == 1
    assert err.startswith(f"checkswap: {' '.join(argv[:2])} needs root: "), err
    assert err.count("checkswap") == 1, err


@pytest.mark.parametrize(
    "argv",
    [
        ["watch", "-n", "1"],
        ["top", "-n", "1"],
        ["record", "-n", "1", "-o", "/nonexistent/x.jsonl"],
        ["snapshot", "-o", "/nonexistent/x.tar.gz"],
    ],
)
def test_zero_and_negative_intervals_are_one_mistake(argv: list[str]) -> None:
    said = {}
    for bad in ("0", "-1", "-2s"):
        code, _, err = run_cli(*argv, "-i", bad, "--root", SWAPPING)
        assert code == 2
        said[bad] = err.replace(f"'{bad}'", "'X'")
    assert len(set(said.values())) == 1, said
    assert said["0"] == "checkswap: invalid interval 'X': it must be greater than 0\n"


@pytest.mark.parametrize("size", ["-1G", "-1", "-0.5GiB"])
def test_a_negative_swapfile_size_is_refused_as_a_size(size: str) -> None:
    code, out, err = run_cli("swapfile", "add", size, "--dry-run")
    assert (code, out) == (2, "")
    assert err == f"checkswap: invalid swapfile size '{size}': it must be greater than 0\n"


# --- a one-sample snapshot ---------------------------------------------------------------------


def test_a_one_sample_snapshot_says_to_take_two(tmp_path: object) -> None:
    bundle = os.path.join(str(tmp_path), "one.tar.gz")
    code, out, _ = run_cli("snapshot", "-n", "1", "-o", bundle, "--root", SWAPPING)
    assert code == 0
    assert "-n 2" in out
    for argv in (["watch"], ["doctor", "--sample", "1"]):
        _, replayed, err = run_cli(*argv, "--root", bundle, sleep=no_sleep)
        assert "holds one sample, so no rates" in replayed and "snapshot -n 2" in replayed, (
            argv,
            replayed,
            err,
        )
    # Two samples: no such note.
    two = os.path.join(str(tmp_path), "two.tar.gz")
    run_cli("snapshot", "-n", "2", "-i", "1", "-o", two, "--root", SWAPPING, sleep=no_sleep)
    _, replayed, _ = run_cli("watch", "--root", two, sleep=no_sleep)
    assert "holds one sample" not in replayed


# --- record says where it writes ---------------------------------------------------------------


def test_record_says_where_it_writes_and_how_to_stop_on_stderr(tmp_path: object) -> None:
    d = os.path.join(str(tmp_path), "recordings")
    code, out, err = run_cli(
        "record", "-n", "2", "-i", "1", "--dir", d, "--root", SWAPPING, sleep=no_sleep
    )
    assert (code, out) == (0, "")
    (name,) = os.listdir(d)
    assert err.startswith(f"checkswap record: writing {os.path.join(d, name)} every 1 s"), err
    assert "Ctrl-C" in err
    # Without -n it runs until stopped: run it in a child and stop it as a user would.
    proc = subprocess.Popen(
        [sys.executable, "-m", "checkswap", "record", "-i", "0.2", "-o", os.path.join(d, "y.jsonl"),
         "--root", SWAPPING],
        cwd=REPO, env={**os.environ, "PYTHONPATH": REPO}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=20)
    assert first.startswith(f"checkswap record: writing {os.path.join(d, 'y.jsonl')} every 0.2 s")
    assert "until Ctrl-C or SIGTERM" in first
    assert rest == ""


# --- missing directories -----------------------------------------------------------------------


def test_outputs_in_missing_directories_are_refused(tmp_path: object) -> None:
    missing = os.path.join(str(tmp_path), "missing")
    rec = os.path.join(FIXTURES, "_made-by-0.1", "rec.jsonl")
    cases = [
        (["record", "-n", "1", "-o", f"{missing}/x.jsonl", "--root", SWAPPING], "-o"),
        (["record", "-n", "1", "--dir", f"{missing}/a/b", "--root", SWAPPING], "--dir"),
        (["snapshot", "-o", f"{missing}/x.tar.gz", "--root", SWAPPING], "-o"),
        (["report", rec, "--html", f"{missing}/x.html"], "--html"),
        (["serve", "--textfile", f"{missing}/x.prom", "--root", SWAPPING], "--textfile"),
    ]
    for argv, option in cases:
        code, _, err = run_cli(*argv, sleep=no_sleep)
        assert code == 2, (argv, err)
        assert err.startswith(f"checkswap: {option} {missing}/"), err
        assert "does not exist" in err, err
    assert not os.path.exists(missing)
    # The one exception: record --dir makes its own directory when its parent is there.
    code, _, err = run_cli(
        "record", "-n", "1", "--dir", f"{missing}", "--root", SWAPPING, sleep=no_sleep
    )
    assert code == 0, err
    assert len(os.listdir(missing)) == 1


# --- an old Python is told what it needs -------------------------------------------------------

ENTRY_FILES = [os.path.join(REPO, "checkswap", f) for f in ("__init__.py", "__main__.py")]


@pytest.mark.parametrize("path", ENTRY_FILES)
def test_the_entry_modules_parse_on_python_3_6(path: str) -> None:
    with open(path) as f:
        source = f.read()
    tree = ast.parse(source, path, feature_version=(3, 6))
    # ast's feature_version does not catch everything newer: it parses 3.7's
    # `from __future__ import annotations` happily, which 3.6 refuses to compile.
    futures = [
        n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "__future__"
    ]
    assert not futures


def test_an_old_python_gets_one_line() -> None:
    # The interpreter here is new; the version check is what an old one runs first.
    proc = subprocess.run(
        [sys.executable, "-c",
         "import runpy, sys; sys.version_info = (3, 6, 15, 'final', 0); "
         "runpy.run_module('checkswap', run_name='__main__')"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": REPO}, capture_output=True, text=True,
        timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"checkswap: needs Python 3.9 or newer; this is Python 3.6 ({sys.executable})\n"
    )
    assert run_sub("--version").stdout == "checkswap 0.1.0\n"


def test_the_zipapp_starts_through_the_entry_that_checks_the_version(tmp_path: object) -> None:
    pyz = os.path.join(str(tmp_path), "checkswap.pyz")
    subprocess.run(
        [sys.executable, os.path.join(REPO, "tools", "build-pyz"), pyz],
        check=True,
        capture_output=True,
    )
    with zipfile.ZipFile(pyz) as z:
        main = z.read("__main__.py").decode()
    ast.parse(main, "__main__.py", feature_version=(3, 6))
    assert "import checkswap.__main__" in main and "checkswap.__main__.run()" in main
    proc = subprocess.run(
        [sys.executable, "-c",
         f"import runpy, sys; sys.version_info = (3, 8, 0, 'final', 0); "
         f"sys.argv = [{pyz!r}]; runpy.run_path({pyz!r}, run_name='__main__')"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("checkswap: needs Python 3.9 or newer; this is Python 3.8")
