"""A full-screen terminal session: keys without Enter, resize events, and a guaranteed restore.

rich draws but reads no keys, so this uses the standard library: ``termios``/``tty`` for cbreak
mode (keys arrive one at a time, unechoed; Ctrl-C still raises SIGINT), ``select`` to wait for a
key, a resize or a deadline, and a self-pipe written from the SIGWINCH handler (PEP 475 retries
an interrupted ``select`` with the remaining timeout, so a flag alone would wait out the tick).

Leaving the ``with`` block restores the terminal's modes, the cursor and the main screen whatever
ended it: ``q``, Ctrl-C, SIGTERM (raised as KeyboardInterrupt here) or an exception. Ctrl-Z
restores the terminal before stopping and takes it back on ``fg``.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import termios
import threading
import tty
from types import FrameType, TracebackType

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import IO, Any


ENTER = "\x1b[?1049h\x1b[?25l\x1b[2J"  # alternate screen, hide cursor, clear
LEAVE = "\x1b[0m\x1b[?25h\x1b[?1049l"  # reset attributes, show cursor, main screen
RESIZE = "resize"


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class Terminal:
    def __init__(self, in_fd: int, out: IO[str]) -> None:
        self.in_fd = in_fd
        self.out = out
        self._saved: list[Any] | None = None
        self._old_handlers: dict[int, Any] = {}
        self._wake_r = self._wake_w = -1
        self.resized = True  # the first frame is drawn in full

    # --- entering and leaving -------------------------------------------------------------

    def __enter__(self) -> Terminal:
        self._saved = termios.tcgetattr(self.in_fd)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        if threading.current_thread() is threading.main_thread():
            self._handle(signal.SIGWINCH, self._on_winch)
            self._handle(signal.SIGTERM, _raise_interrupt)
            self._handle(signal.SIGTSTP, self._on_stop)
            self._handle(signal.SIGCONT, self._on_cont)
        self._take()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()
        for signum, old in self._old_handlers.items():
            signal.signal(signum, old)
        self._old_handlers.clear()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1

    def _handle(self, signum: int, handler: Any) -> None:
        self._old_handlers[signum] = signal.signal(signum, handler)

    def _take(self) -> None:
        tty.setcbreak(self.in_fd, termios.TCSANOW)
        self.write(ENTER)
        self.resized = True

    def restore(self) -> None:
        """Put the terminal back as it was; safe to call more than once."""
        with contextlib.suppress(OSError, ValueError):
            self.write(LEAVE)
        if self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.in_fd, termios.TCSADRAIN, self._saved)

    # --- signals --------------------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"w")

    def _on_winch(self, signum: int, frame: FrameType | None) -> None:
        self.resized = True
        self._wake()

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        # Ctrl-Z: give the shell a sane terminal, then really stop (default action).
        self.restore()
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)

    def _on_cont(self, signum: int, frame: FrameType | None) -> None:
        # Back from fg: take the terminal again and redraw everything.
        signal.signal(signal.SIGTSTP, self._on_stop)
        with contextlib.suppress(termios.error, OSError):
            self._take()
        self._wake()

    # --- drawing and input ----------------------------------------------------------------

    def size(self) -> tuple[int, int]:
        try:
            cols, rows = os.get_terminal_size(self.out.fileno())
        except (OSError, ValueError):
            cols, rows = 80, 24
        return cols, rows

    def write(self, text: str) -> None:
        if text:
            self.out.write(text)
            self.out.flush()

    def wait(self, timeout: float) -> list[str]:
        """Keys typed (one string each) and RESIZE, or [] when ``timeout`` passes first."""
        ready, _, _ = select.select([self.in_fd, self._wake_r], [], [], max(timeout, 0.0))
        events: list[str] = []
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 64)
            if self.resized:
                self.resized = False
                events.append(RESIZE)
        if self.in_fd in ready:
            data = os.read(self.in_fd, 64)
            if not data:
                raise EOFError("the terminal closed")
            text = data.decode("utf-8", "replace")
            if text.startswith("\x1b"):
                return events  # arrow and function keys: not ours
            events.extend(text)
        return events
