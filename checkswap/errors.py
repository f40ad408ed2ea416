"""Exit statuses and the exceptions that map onto them.

Commands raise these; only ``cli.main`` turns them into a line on stderr and an exit status, so
no code deep inside calls ``sys.exit``.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    OK = 0
    FAILED = 1  # an action refused or failed: not root, unsafe target, already a swap area
    BAD_INPUT = 2


class PluginStatus(enum.IntEnum):
    """monitoring-plugins convention, used by ``doctor`` and ``check``."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


class CheckswapError(Exception):
    """An error the user can act on; its message is the one line they see."""

    status = ExitStatus.FAILED


class BadInput(CheckswapError):
    """Bad arguments, a root that is not a kernel tree, an unreadable or malformed kernel file."""

    status = ExitStatus.BAD_INPUT


class Refused(CheckswapError):
    """An action checkswap will not take (not root, unsafe target...)."""

    status = ExitStatus.FAILED


class KernelFileError(BadInput):
    """A kernel file that could not be read or parsed; the message names the path and line."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
