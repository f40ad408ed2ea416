"""How the tests run checkswap, and where they find its fixture trees: one home for both.

``run_cli`` runs the whole CLI in-process (the httpie way: streams and clocks passed in through
``Env``), ``run_sub`` runs it as a user does, in a child process. Test files used to carry their
own copies of these (nine of each, with small differences in the clock they passed); the
differences are now keyword arguments, so a file says what it needs in one line.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import IO, Any

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
FIXTURES = os.path.join(TESTS, "fixtures")
# The program as a user starts it; Popen users add their own pipes and signals to this.
CHECKSWAP = [sys.executable, "-m", "checkswap"]


def no_sleep(seconds: float) -> None:
    """For ``Env(sleep=...)`` and the library calls that take one: fixture trees do not move."""


def run_cli(
    *argv: str | Sequence[str], stdout: IO[str] | None = None, **env: Any
) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of checkswap run in-process.

    ``argv`` as separate strings or as one list (both spellings were in use). ``stdout``
    replaces the captured stream (a fake terminal, say); its text is still returned when it is a
    StringIO. ``env`` goes to ``Env`` as given (``sleep=no_sleep``, ``monotonic=``, ``wall=``):
    nothing is defaulted here, so a test gets the real clock unless it asks otherwise.
    """
    # Imported here, not at the top: golden_cases.py (also a script) puts the checkout on
    # sys.path before anything of checkswap is imported, and it takes FIXTURES from here.
    from checkswap.cli import main
    from checkswap.env import Env

    args: list[str] = []
    for a in argv:
        if not isinstance(a, (str, list, tuple)):  # a stream passed where argv goes
            raise TypeError(f"run_cli: argv must be strings or one list, not {a!r}")
        args.extend([a] if isinstance(a, str) else a)
    out = stdout if stdout is not None else io.StringIO()
    err = io.StringIO()
    status = main(args, Env(stdout=out, stderr=err, **env))
    return status, out.getvalue() if isinstance(out, io.StringIO) else "", err.getvalue()


def run_sub(
    *argv: str, timeout: float = 30, env: dict[str, str] | None = None, **kw: Any
) -> subprocess.CompletedProcess[str]:
    """checkswap in a child process from the repository (this checkout's code, not an installed
    one), stdin not a terminal; a child still running after ``timeout`` fails the test rather
    than hanging it. ``kw`` goes to subprocess.run (cwd=, stdin=, ...)."""
    kw.setdefault("cwd", REPO)
    kw.setdefault("stdin", subprocess.DEVNULL)
    try:
        return subprocess.run(
            [*CHECKSWAP, *argv],
            env={**os.environ, "PYTHONPATH": REPO, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            **kw,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"checkswap {' '.join(argv)} still running after {timeout} s")
