"""``--delayacct``: switch the kernel's delay accounting on for a run, and back off after it.

kernel.task_delayacct is one global switch (off by default since 5.14, commit "delayacct:
Default disabled"), and checkswap runs overlap: a ``serve`` for days, a ``top`` for a minute.
So the switch is shared through a state file, ``/run/checkswap-delayacct.state``, changed only
under the flock of ``/run/checkswap-delayacct.lock``::

    restore 0
    holder 4242 123456      <- pid and start time (stat field 22) of each run that needs it

- the first run to find it off writes ``restore 0``, registers itself and switches it on;
- a run that finds it on and a ``restore`` line registers itself and changes nothing;
- a run that finds it on and no state was not the one that turned it on (the admin did): it
  registers nothing and never turns it off;
- a run that exits removes its holder line; the last one writes the ``restore`` value back and
  deletes the state.
- a holder whose pid is gone or now belongs to another process (its start time differs) was
  killed (SIGKILL, OOM): every run drops such lines first, so the next run repairs the switch a
  killed run left on (``repair()``, called by commands even without --delayacct).

This lives in lab/ with the other changes checkswap makes to the machine.

Switching it on does NOT reach tasks that already exist (measured on 6.18,
tests/test_taskstats_live.py): a task gets its delay record at fork only while the switch is
on, and one without it reads 0 swap-in delay for ever, though it swaps in. Threads forked
later are accounted. The state keeps ``since`` (clock ticks since boot, the unit of stat's
start time), so that the scan can show such processes as unknown, not as 0; when the switch
was turned on by someone else, checkswap cannot know when, and says so (docs/top.md).
"""

from __future__ import annotations

import contextlib
import os
from collections import namedtuple
from collections.abc import Iterator

from checkswap import outfile
from checkswap.errors import BadInput, CheckswapError, Refused
from checkswap.kernel.pid import parse_stat
from checkswap.kernel.sysctl import parse_int, sysctl_path
from checkswap.kernel.uptime import read_uptime
from checkswap.lab.change import LOCK_DIR, locked
from checkswap.source.root import Root

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import IO, Callable, NamedTuple

SYSCTL = "kernel.task_delayacct"
STATE_NAME = "checkswap-delayacct.state"
WHAT = "delay accounting state"
_HOST = Root("/")  # the switch is this machine's, whatever --root a command reads


if TYPE_CHECKING:

    class State(NamedTuple):
        restore: int | None  # the value to write back when the last holder exits; None: not ours
        holders: tuple[tuple[int, int], ...]  # (pid, start time)
        since: int | None = None  # when we switched it on: clock ticks since boot, as starttime

else:
    State = namedtuple("State", "restore holders since", defaults=(None,))


def _state_path() -> str:
    return os.path.join(LOCK_DIR, STATE_NAME)


def _sysctl_file() -> str:
    return _HOST.join(sysctl_path(SYSCTL))


def read_switch() -> int | None:
    """kernel.task_delayacct on this host: 0, 1, or None where the kernel has no such file."""
    try:
        return parse_int(_HOST.read_text(sysctl_path(SYSCTL)))
    except OSError:
        return None


def _write_switch(value: int) -> None:
    # A kernel file, not an output file: written in place, never through a link.
    fd = os.open(_sysctl_file(), os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.write(fd, f"{value}\n".encode())
    finally:
        os.close(fd)


def parse_state(text: str) -> State:
    """The state file; lines it does not know are skipped (a later version may add some)."""
    restore: int | None = None
    since: int | None = None
    holders: list[tuple[int, int]] = []
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == "restore" and f[1] in ("0", "1"):
            restore = int(f[1])
        elif len(f) == 2 and f[0] == "since" and f[1].isdigit():
            since = int(f[1])
        elif len(f) == 3 and f[0] == "holder" and f[1].isdigit() and f[2].isdigit():
            holders.append((int(f[1]), int(f[2])))
    return State(restore, tuple(holders), since)


def format_state(state: State) -> str:
    lines = [] if state.restore is None else [f"restore {state.restore}"]
    lines += [] if state.since is None else [f"since {state.since}"]
    lines += [f"holder {pid} {start}" for pid, start in state.holders]
    return "".join(line + "\n" for line in lines)


def _read_state() -> State:
    # Read and written only under the lock: absent now means absent while we hold it.
    if outfile.check(_state_path(), WHAT) is None:
        return State(None, ())
    data, _ = outfile.read_own(_state_path(), WHAT)
    return parse_state(data.decode("ascii", "replace"))


def _write_state(state: State) -> None:
    if state.restore is None and not state.holders:
        outfile.remove(_state_path())
    else:
        outfile.write(_state_path(), format_state(state).encode(), WHAT, mode=0o644)


def start_time(pid: int) -> int | None:
    """The start time of ``pid`` (stat field 22), None if there is no such process now."""
    try:
        stat = parse_stat(_HOST.read_text(f"proc/{pid}/stat"))
    except OSError:
        return None
    return None if stat is None or stat.state == "Z" else stat.starttime


def _alive(holders: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    return tuple(h for h in holders if start_time(h[0]) == h[1])


def _settle(state: State, say: Callable[[str], None]) -> State:
    """Drop killed holders; with none left, put back what the first one changed."""
    alive = _alive(state.holders)
    if state.restore is not None and not alive:
        if read_switch() != state.restore:
            _write_switch(state.restore)
            if state.holders:
                gone = ", ".join(str(pid) for pid, _ in state.holders)
                say(
                    f"{SYSCTL} set back to {state.restore}: checkswap (pid {gone}) switched it on "
                    "and was killed before it could"
                )
        return State(None, ())
    return State(state.restore, alive, state.since)


def _ticks_now() -> int:
    """Now, in the unit of /proc/PID/stat starttime: clock ticks since boot."""
    up = read_uptime(_HOST)
    if up is None:
        raise Refused("--delayacct: cannot read /proc/uptime")
    return int(up * os.sysconf("SC_CLK_TCK"))


def accounted_since() -> int | None:
    """When checkswap switched delay accounting on (clock ticks since boot), if it did and it
    is still on: processes started before then are not accounted (see the docstring above)."""
    if outfile.check(_state_path(), WHAT) is None:
        return None
    try:
        state = _read_state()
    except (OSError, CheckswapError):
        return None  # a state file we may not read: the figures just go unmarked
    return state.since if state.restore is not None and read_switch() == 1 else None


def repair(say: Callable[[str], None]) -> None:
    """What a killed --delayacct run left: put the switch back if no run needs it any more.

    Costs one stat() when there is nothing to repair; does nothing unless root."""
    if os.geteuid() != 0 or outfile.check(_state_path(), WHAT) is None:
        return
    with locked("delayacct", wait=True):
        state = _read_state()
        settled = _settle(state, say)
        if settled != state:
            _write_state(settled)


def acquire(say: Callable[[str], None]) -> bool:
    """Switch delay accounting on for this process's run; True if it is registered as a
    holder (``release`` must then be called). Says what it did through ``say``."""
    if os.geteuid() != 0:
        raise Refused(f"--delayacct switches {SYSCTL} on and needs root: run it with sudo")
    me = start_time(os.getpid())
    if me is None:
        raise Refused("--delayacct: cannot read this process's own start time")
    with locked("delayacct", wait=True):
        state = _settle(_read_state(), say)
        now = read_switch()
        if now is None:
            raise Refused(f"--delayacct: this kernel has no {SYSCTL} (CONFIG_TASK_DELAY_ACCT off)")
        if now != 0 and state.restore is None:
            _write_state(state)
            say(f"{SYSCTL} is already on (not by checkswap): left as it is")
            return False
        holders = (*state.holders, (os.getpid(), me))
        if now == 0:
            _write_state(State(0, holders, _ticks_now()))
            _write_switch(1)
            say(
                f"switched {SYSCTL} on for this run; it goes back to 0 when the last checkswap "
                "that needs it exits"
            )
        else:
            _write_state(State(state.restore, holders, state.since))
            pids = ", ".join(str(pid) for pid, _ in state.holders)
            say(f"{SYSCTL} is on, switched on by checkswap (pid {pids}); kept on for this run too")
        return True


def release(say: Callable[[str], None]) -> None:
    """This run is done with delay accounting: the last holder switches it back."""
    me = os.getpid()
    with locked("delayacct", wait=True):
        state = _read_state()
        mine = State(state.restore, tuple(h for h in state.holders if h[0] != me), state.since)
        settled = _settle(mine, lambda _: None)
        if settled.restore is None and state.restore is not None:
            say(f"{SYSCTL} set back to {state.restore}")
        elif settled.holders:
            say(f"{SYSCTL} left on: another checkswap (pid {settled.holders[0][0]}) needs it")
        _write_state(settled)


@contextlib.contextmanager
def switched(wanted: bool, say: Callable[[str], None]) -> Iterator[None]:
    """Around a command's run: with --delayacct (``wanted``) on for it and back after, also on
    Ctrl-C and SIGTERM (cli.main raises KeyboardInterrupt); without, only the repair."""
    if not wanted:
        repair(say)
        yield
        return
    held = acquire(say)
    try:
        yield
    finally:
        if held:
            release(say)


@contextlib.contextmanager
def for_run(wanted: bool, root: Root, stderr: IO[str]) -> Iterator[int | None]:
    """A command's run with ``--delayacct`` (``wanted``) or without: yields when checkswap
    switched accounting on (for ``Scanner(delays_since=...)``), and says what it changed on
    ``stderr``. A tree from elsewhere has no taskstats: nothing to switch or repair for it,
    and --delayacct with it is a mistake."""

    def say(line: str) -> None:
        stderr.write(f"checkswap: {line}\n")
        stderr.flush()

    if not root.shares_pids:
        if wanted:
            raise BadInput(
                "--delayacct asks this kernel about the root's processes: not with a --root "
                "from elsewhere (a tree, a bundle, or a /proc of another pid namespace)"
            )
        yield None
        return
    with switched(wanted, say):
        yield accounted_since()
