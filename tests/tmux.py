"""Run a command in a tmux pane of a given size, type into it and read the screen back.

Each pane gets its own tmux server (``-L checkswap-test-...``), started with this process's
environment, so nothing leaks from or into a tmux the user or another test runs; the server is
killed on exit, also when the test fails.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Callable

import pytest

PREFIX = "checkswap-test-"


class Pane:
    def __init__(self, socket: str, session: str, workdir: str) -> None:
        self.socket = socket
        self.session = session
        self.workdir = workdir

    def tmux(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True
        )
        return out.stdout

    def capture(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def capture_ansi(self) -> str:
        return self.tmux("capture-pane", "-p", "-e", "-t", self.session)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

    def resize(self, width: int, height: int) -> None:
        self.tmux("resize-window", "-t", self.session, "-x", str(width), "-y", str(height))

    def info(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", self.session, fmt).strip()

    def wait_for(self, predicate: Callable[[str], bool], timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if predicate(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; screen:\n{screen}")

    def exit_status(self, timeout: float = 10) -> int:
        screen = self.wait_for(lambda s: "EXIT=" in s, timeout, "the command to exit")
        return int(screen.split("EXIT=", 1)[1].split()[0])

    def stty(self, which: str) -> str:
        with open(os.path.join(self.workdir, which)) as f:
            return f.read().strip()


@contextlib.contextmanager
def pane(
    argv: list[str], width: int, height: int, name: str, env: dict[str, str] | None = None
) -> Iterator[Pane]:
    """``argv`` in a fresh pane; afterwards the pane prints EXIT=status and stays open.

    The terminal modes are saved with ``stty -g`` before and after the command (files
    ``before`` and ``after`` in ``Pane.workdir``), so a test can see they were restored.
    """
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (tools/test installs it)")
    tag = f"{PREFIX}{name}-{os.getpid()}"
    workdir = tempfile.mkdtemp(prefix=PREFIX)
    cmd = " ".join(shlex.quote(a) for a in argv)
    script = (
        # A trapped (not ignored) SIGINT: Ctrl-C reaches the command with its default action
        # and the wrapper shell survives it to print the exit status.
        f"trap : INT; cd {shlex.quote(os.getcwd())}; stty -g > {workdir}/before; {cmd}; "
        f"echo EXIT=$?; stty -g > {workdir}/after; sleep 600"
    )
    full_env = dict(os.environ, TERM="xterm-256color", **(env or {}))
    full_env.pop("TMUX", None)
    try:
        _new_session(tag, width, height, script, full_env)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)  # also when tmux itself fails to start
        raise
    p = Pane(tag, tag, workdir)
    try:
        p.tmux("set-option", "-t", tag, "window-size", "manual")
        yield p
    finally:
        subprocess.run(["tmux", "-L", tag, "kill-server"], check=False, capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


def _new_session(tag: str, width: int, height: int, script: str, env: dict[str, str]) -> None:
    subprocess.run(
        [
            "tmux",
            "-L",
            tag,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            tag,
            "-x",
            str(width),
            "-y",
            str(height),
            "sh",
            "-c",
            script,
        ],
        check=True,
        env=env,
    )
