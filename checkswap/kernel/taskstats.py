"""Delay accounting per thread group: the kernel's taskstats over generic netlink.

Not a file, so not read through a root: a query goes to the running kernel, and only a root
that is this host (``Root.is_host``) may ask it. One request, TASKSTATS_CMD_GET with the
attribute TASKSTATS_CMD_ATTR_TGID, answers with a nested TASKSTATS_TYPE_AGGR_TGID holding
TASKSTATS_TYPE_STATS: a ``struct taskstats`` (include/uapi/linux/taskstats.h) summed over the
group's live threads plus the ones that have exited. Its delays are nanoseconds::

    version 16 ... swapin_count swapin_delay_total ... thrashing_count thrashing_delay_total

Who may ask, and from where:

- TASKSTATS_CMD_GET needs CAP_NET_ADMIN (the operation is GENL_ADMIN_PERM): as another user the
  kernel answers EPERM. ``TaskstatsDenied`` says so once; callers show null figures and a note.
- The family answers in any network namespace (6.18, tried with ``unshare -n``), but a
  container's root is not enough: CAP_NET_ADMIN must be held in the initial user namespace
  (``unshare -U -r`` gets EPERM).
- The pid asked for is looked up in the asker's PID namespace: a container needs the host's PID
  namespace too (``--pid=host``, and privileged or ``--cap-add=NET_ADMIN`` without a user
  namespace) for the pids of /proc to mean the same processes.

The layout is keyed on the version the kernel returns, not on a header we were built with:

- versions up to 14 and 16 share the offsets of every field read here; version 9 (4.20) added
  thrashing, so older answers have it None.
- version 15 (6.15-rc) inserted ``*_delay_max``/``*_delay_min`` after each delay total, moving
  everything behind ``cpu_delay_total``; 16 (commit "taskstats: fix struct taskstats breaks
  backward compatibility since version 15", 6.15) moved them to the end. 15 has its own table.
- a field beyond the bytes the kernel sent is None, never 0.

Values are only meaningful with delay accounting switched on (``kernel.task_delayacct``, off by
default since 5.14). A task forked while it was off has no delay record and reads 0 delays for
ever, though its CPU figures (cpu_count, cpu_run_real_total) are filled: nothing in the answer
tells "not accounted" from "never waited" (lab/delayacct.py keeps when checkswap switched it on).
"""

from __future__ import annotations

import errno
import os
import struct
from collections import namedtuple

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
TASKSTATS_CMD_GET = 1
TASKSTATS_CMD_ATTR_TGID = 2
TASKSTATS_TYPE_STATS = 3
TASKSTATS_TYPE_AGGR_TGID = 5
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF

TIMEOUT_S = 1.0
_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_GENLHDR = struct.Struct("=BBH")  # cmd, version, reserved
_NLATTR = struct.Struct("=HH")  # len, type


if TYPE_CHECKING:
    from typing import NamedTuple

    class Delays(NamedTuple):
        """One thread group's cumulative delays, nanoseconds; None where the version lacks them."""

        version: int
        pid: int | None
        cpu_count: int | None
        cpu_run_real_ns: int | None
        swapin_count: int | None
        swapin_delay_ns: int | None
        blkio_count: int | None
        blkio_delay_ns: int | None
        thrashing_count: int | None
        thrashing_delay_ns: int | None

else:
    Delays = namedtuple(
        "Delays",
        "version pid cpu_count cpu_run_real_ns swapin_count swapin_delay_ns blkio_count"
        " blkio_delay_ns thrashing_count thrashing_delay_ns",
    )


class TaskstatsUnavailable(Exception):
    """The kernel offers no taskstats here (not built in, or not this network namespace)."""


class TaskstatsDenied(TaskstatsUnavailable):
    """The kernel refused: TASKSTATS_CMD_GET needs CAP_NET_ADMIN."""


# Byte offsets of the u64 (and ac_pid u32) fields read, by layout; the version each field
# appeared in. Up to 14 and from 16 on, the fields read here sit where they always were.
_COMMON = {
    "cpu_count": 16,
    "cpu_run_real_ns": 64,
    "blkio_count": 32,
    "blkio_delay_ns": 40,
    "swapin_count": 48,
    "swapin_delay_ns": 56,
    "pid": 128,
    "thrashing_count": 328,
    "thrashing_delay_ns": 336,
}
# Version 15: cpu, blkio and swapin each gained max and min (16 bytes) after their total, and
# freepages the same before thrashing: 48 bytes ahead of ac_pid, 64 ahead of thrashing.
_V15 = {
    "cpu_count": 16,
    "cpu_run_real_ns": 112,
    "blkio_count": 48,
    "blkio_delay_ns": 56,
    "swapin_count": 80,
    "swapin_delay_ns": 88,
    "pid": 176,
    "thrashing_count": 392,
    "thrashing_delay_ns": 400,
}
_SINCE = {"thrashing_count": 9, "thrashing_delay_ns": 9}


def parse_taskstats(data: bytes) -> Delays:
    """A ``struct taskstats`` as the kernel sent it; raises ValueError if it is too short to
    hold even the version."""
    if len(data) < 2:
        raise ValueError(f"taskstats of {len(data)} bytes")
    (version,) = struct.unpack_from("=H", data, 0)
    offsets = _V15 if version == 15 else _COMMON
    values: dict[str, int | None] = {}
    for name, off in offsets.items():
        size = 4 if name == "pid" else 8
        if version < _SINCE.get(name, 1) or off + size > len(data):
            values[name] = None
        else:
            (values[name],) = struct.unpack_from("=I" if size == 4 else "=Q", data, off)
    return Delays(
        version,
        values["pid"],
        values["cpu_count"],
        values["cpu_run_real_ns"],
        values["swapin_count"],
        values["swapin_delay_ns"],
        values["blkio_count"],
        values["blkio_delay_ns"],
        values["thrashing_count"],
        values["thrashing_delay_ns"],
    )


def _attr(kind: int, payload: bytes) -> bytes:
    raw = _NLATTR.pack(_NLATTR.size + len(payload), kind) + payload
    return raw + b"\0" * (-len(raw) % 4)


def _attrs(data: bytes) -> dict[int, bytes]:
    """Netlink attributes, by type (the nested flag masked off); a truncated one ends the list."""
    out: dict[int, bytes] = {}
    off = 0
    while off + _NLATTR.size <= len(data):
        length, kind = _NLATTR.unpack_from(data, off)
        if length < _NLATTR.size or off + length > len(data):
            break
        out[kind & NLA_TYPE_MASK] = data[off + _NLATTR.size : off + length]
        off += (length + 3) & ~3
    return out


class Taskstats:
    """One netlink socket, kept open across queries (a query is then one send and one recv)."""

    def __init__(self) -> None:
        try:
            import socket  # ~2 ms of start-up (selectors): only when waits are asked for

            self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        except (OSError, AttributeError) as e:
            raise TaskstatsUnavailable(f"no generic netlink socket: {e}") from None
        self._seq = 0
        try:
            # The kernel answers at once; a bound, so a scan can never hang on it (a late
            # answer is recognised by its sequence number and skipped).
            self._sock.settimeout(TIMEOUT_S)
            self._sock.bind((0, 0))
            self._family = self._lookup_family()
        except BaseException:
            self._sock.close()
            raise

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Taskstats:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, kind: int, cmd: int, attrs: bytes) -> bytes:
        """Send one request and return the payload (after the genl header) of its answer."""
        self._seq += 1
        body = _GENLHDR.pack(cmd, 1, 0) + attrs
        msg = _NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, NLM_F_REQUEST, self._seq, 0)
        self._sock.send(msg + body)
        while True:
            data = self._sock.recv(65536)
            off = 0
            while off + _NLMSGHDR.size <= len(data):
                length, mtype, _flags, seq, _pid = _NLMSGHDR.unpack_from(data, off)
                if length < _NLMSGHDR.size or off + length > len(data):
                    break
                payload = data[off + _NLMSGHDR.size : off + length]
                off += (length + 3) & ~3
                if seq != self._seq:
                    continue  # an answer to an earlier request that timed out: skip it
                if mtype == NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", payload, 0)
                    if code == 0:
                        continue  # an acknowledgement
                    raise OSError(-code, os.strerror(-code))
                if mtype == NLMSG_DONE:
                    raise OSError(errno.ENODATA, "no answer")
                return payload[_GENLHDR.size :]

    def _lookup_family(self) -> int:
        name = _attr(CTRL_ATTR_FAMILY_NAME, b"TASKSTATS\0")
        try:
            payload = self._request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, name)
        except OSError as e:
            # ENOENT: no such family here (CONFIG_TASKSTATS off, or a network namespace other
            # than the initial one, where the family is not registered).
            raise TaskstatsUnavailable(
                f"the kernel's TASKSTATS netlink family is not reachable ({e.strerror}): it "
                "needs CONFIG_TASKSTATS and the host's network namespace"
            ) from None
        family = _attrs(payload).get(CTRL_ATTR_FAMILY_ID)
        if family is None or len(family) < 2:
            raise TaskstatsUnavailable("the TASKSTATS family lookup gave no id")
        return int(struct.unpack_from("=H", family, 0)[0])

    def tgid(self, pid: int) -> Delays | None:
        """The thread group's delays; None if the process has gone. Raises TaskstatsDenied
        without CAP_NET_ADMIN."""
        attr = _attr(TASKSTATS_CMD_ATTR_TGID, struct.pack("=I", pid))
        try:
            payload = self._request(self._family, TASKSTATS_CMD_GET, attr)
        except OSError as e:
            if e.errno == errno.ESRCH:
                return None
            if e.errno in (errno.EPERM, errno.EACCES):
                raise TaskstatsDenied(
                    "delay accounting (taskstats) needs root (CAP_NET_ADMIN)"
                ) from None
            raise
        aggr = _attrs(payload).get(TASKSTATS_TYPE_AGGR_TGID)
        stats = _attrs(aggr).get(TASKSTATS_TYPE_STATS) if aggr is not None else None
        if stats is None:
            raise OSError(errno.EPROTO, "taskstats answer without TASKSTATS_TYPE_STATS")
        return parse_taskstats(stats)
