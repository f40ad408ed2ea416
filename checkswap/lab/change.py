"""What the commands that change the system (``swapfile``, ``stress``) share.

They must be safe to trigger twice (DESIGN.md): a second concurrent run takes the same lock,
then re-checks the state the first one left. Each action is a ``Step`` that knows the shell
command it runs (or is equivalent to), so ``--dry-run`` prints exactly what a real run does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
from collections.abc import Iterator

from checkswap import outfile
from checkswap.errors import CheckswapError, Refused

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import IO, Callable


LOCK_DIR = "/run"


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise Refused(f"{what} needs root: run it with sudo (or try --dry-run to see the plan)")


def shell(argv: list[str]) -> str:
    return shlex.join(argv)


class Step:
    """One action: a shell command to run, or Python code with the command it is equivalent to."""

    def __init__(
        self, argv: list[str], action: Callable[[], None] | None = None, note: str = ""
    ) -> None:
        self.argv = argv
        self.action = action
        self.note = note

    def __str__(self) -> str:
        text = shell(self.argv)
        return f"{text}    # {self.note}" if self.note else text

    def run(self) -> None:
        if self.action is not None:
            self.action()
            return
        run_command(self.argv)


class CommandFailed(CheckswapError):
    def __init__(self, argv: list[str], output: str) -> None:
        super().__init__(f"{shell(argv)} failed: {output or 'no message'}")
        self.argv = argv
        self.output = output


def run_command(argv: list[str]) -> str:
    """Run a system command; its stderr becomes the message of ``CommandFailed``."""
    import subprocess  # ~4 ms of start-up (threading, selectors): only when a command runs

    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise Refused(
            f"{argv[0]} not found: install util-linux (and e2fsprogs for chattr)"
        ) from None
    if proc.returncode != 0:
        raise CommandFailed(argv, (proc.stderr or proc.stdout).strip().replace("\n", "; "))
    return proc.stdout


@contextlib.contextmanager
def locked(
    name: str,
    wait: bool,
    notify: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold ``LOCK_DIR/checkswap-NAME.lock`` (flock, released by the kernel if we die).

    With ``wait`` a second run waits its turn (and then finds what the first one did); without,
    it is refused at once, naming the pid that holds the lock.
    """
    path = os.path.join(LOCK_DIR, f"checkswap-{name}.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "r+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(f)
            if not wait:
                raise Refused(
                    f"another checkswap {name} run{holder} is in progress; wait for it to end"
                ) from None
            if notify is not None:
                notify(f"waiting for another checkswap {name} run{holder} to finish...")
            fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                f.seek(0)
                f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


def _holder(f: IO[str]) -> str:
    f.seek(0)
    pid = f.read().strip()
    return f" (pid {pid})" if pid.isdigit() else ""


def replace_file(path: str, text: str, backup: str | None = None, what: str = "--fstab") -> None:
    """Write ``text`` to ``path`` atomically: temp file beside it, fsync, rename, fsync the dir.

    A reader (or a crash) sees the old file or the new one, never half of it. The old content
    goes to ``backup`` first; the new file keeps the old one's mode and owner. Both go through
    outfile: a symlink, device or foreign file at ``path`` or at ``backup`` is refused, never
    written through or replaced.
    """
    old, st = outfile.read_own(path, what)
    if backup is not None:
        outfile.write(backup, old, f"{what} backup", like=st, sync=True)
    outfile.write(path, text.encode("utf-8", "surrogateescape"), what, like=st, sync=True)
