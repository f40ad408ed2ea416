"""Exit statuses and the exceptions that map onto them.

Commands raise these; only ``cli.main`` turns them into a line on stderr and an exit status, so
no code deep inside calls ``sys.exit``.
"""

from __future__ import annotations

import errno


# Plain ints in named classes, not IntEnums: building an enum class is ~0.2 ms, and this module
# is on every command's start-up.
class ExitStatus:
    OK = 0
    FAILED = 1  # an action refused or failed: not root, unsafe target, already a swap area
    BAD_INPUT = 2


class PluginStatus:
    """monitoring-plugins convention, used by ``doctor`` and ``check``; NAMES[s] is s's word."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3
    NAMES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")


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


# --- errno triage: the one place that decides what an OSError from a kernel file means ---------
# (as psutil's wrap_exceptions). Callers name the case they forgive; anything else becomes
# one line for the user through kernel_file_error().

# A process that exits mid-scan: its directory or files are gone (ENOENT), or it is being reaped
# (ESRCH on some files of a dying task).
VANISHED = frozenset({errno.ENOENT, errno.ESRCH})
# hidepid=1/noaccess and ptrace checks (smaps_rollup of another user's process).
DENIED = frozenset({errno.EACCES, errno.EPERM})
# A cgroup file that is not there on this kernel or configuration: older kernel (ENOENT), no
# swap accounting or a controller not enabled (ENODEV, EOPNOTSUPP), or a cgroup removed while
# it is walked (ENOENT).
ABSENT_CGROUP_FILE = frozenset({errno.ENOENT, errno.ENODEV, errno.EOPNOTSUPP, *DENIED})


def vanished(e: OSError) -> bool:
    """The process (or its file) is gone: skip it, it is no error."""
    return e.errno in VANISHED


def denied(e: OSError) -> bool:
    """Not ours to read: count it ("unknown"), never report it as 0 or as a failure."""
    return e.errno in DENIED


def kernel_file_error(path: str, e: OSError) -> KernelFileError:
    """The error the user sees for a kernel file that could not be read: path and reason.

    ``raise kernel_file_error(path, e) from None``: the traceback of the OSError says nothing
    the path and reason do not.
    """
    return KernelFileError(path, e.strerror or str(e))
