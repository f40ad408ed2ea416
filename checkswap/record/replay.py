"""Replaying a recording: the root it renders against, and the pace its samples come at."""

from __future__ import annotations

import errno
from collections.abc import Iterable, Iterator

from checkswap.model.sample import Sample
from checkswap.source.root import PreadFile, Root

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Callable


def paced(
    samples: Iterable[Sample],
    speed: float,
    monotonic: Callable[[], float],
    sleep: Callable[[float], None],
) -> Iterator[Sample]:
    """Recorded samples released at their recorded pace, ``speed`` times faster (0: at once).

    The pace follows the recorded monotonic clock; across a reboot (the clock went back) the
    next sample comes at once.
    """
    it = iter(samples)
    first = next(it, None)
    if first is None:
        return
    yield first
    if speed <= 0:
        yield from it
        return
    base_rec, base_now = first.mono, monotonic()
    for s in it:
        if s.mono < base_rec:
            base_rec, base_now = s.mono, monotonic()
        delay = (s.mono - base_rec) / speed - (monotonic() - base_now)
        if delay > 0:
            sleep(delay)
        yield s


class RecordingRoot(Root):
    """The root a replay renders against: host, kernel, page size and swap areas as recorded.

    Only the kernel files the header carries can be read; the samples come from the recording.
    """

    def __init__(self, path: str, header: dict[str, object] | None, page_size: int) -> None:
        # Not Root.__init__: there is no directory to look at, only what the header says.
        self._start(path, is_host=False)
        header = header or {}
        self.manifest = {k: header[k] for k in ("hostname", "kernel_release") if k in header}
        self.page_size = page_size
        files = header.get("files")
        self._files = files if isinstance(files, dict) else {}
        if not header:
            self.notes.append(f"{path} has no header: host and swap areas unknown")

    def join(self, rel: str) -> str:
        return f"{self.path}:{rel}"

    def exists(self, rel: str) -> bool:
        return rel in self._files

    def read_text(self, rel: str) -> str:
        text = self._files.get(rel)
        if not isinstance(text, str):
            raise FileNotFoundError(errno.ENOENT, "not in the recording", self.join(rel))
        return text

    def open_pread(self, rel: str) -> PreadFile:
        raise FileNotFoundError(errno.ENOENT, "not in the recording", self.join(rel))

    def listdir(self, rel: str) -> list[str]:
        raise FileNotFoundError(errno.ENOENT, "not in the recording", self.join(rel))


def recorded_tiers(last: dict[str, object] | None) -> dict[str, object] | None:
    """The tiers' state as a live view has it (model/tiers.py TierWatch.update), from the last
    ``tiers`` line a recording held so far (format.Reading.tiers): zswap, zram and mTHP as
    recorded. No ``areas``: a recording keeps no per-area I/O, so a replay shows none."""
    if last is None:
        return None
    return {k: last.get(k) for k in ("zswap", "zram", "mthp")}


def recorded_zswap_enabled(last: dict[str, object] | None) -> bool:
    """zswap's ``enabled`` as the last ``tiers`` line recorded it (False without one): the
    replay's stand-in for model/sample.zswap_enabled, which reads the live parameter."""
    state = recorded_tiers(last)
    zswap = state.get("zswap") if state else None
    return isinstance(zswap, dict) and zswap.get("enabled") is True
