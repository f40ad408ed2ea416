"""Helpers for the record/report/replay tests: fixture trees with moving counters, and
recordings with known counters written line by line (the expected figures are computed by the
tests from the same numbers, never by checkswap)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Sequence

from clihelp import FIXTURES

PAGE = 4096
WALL0 = 1795737600.0  # 2026-11-27T00:00:00Z


class MovingTree:
    """A copy of tests/fixtures/recording-host whose pswpin/pswpout the test sets."""

    def __init__(self, tmp: str) -> None:
        self.path = os.path.join(tmp, "root")
        shutil.copytree(os.path.join(FIXTURES, "recording-host"), self.path)
        self._vmstat = os.path.join(self.path, "proc", "vmstat")
        with open(self._vmstat) as f:
            self.text = f.read()

    def set(self, pswpin: int, pswpout: int) -> None:
        text = re.sub(r"^pswpin \d+$", f"pswpin {pswpin}", self.text, flags=re.M)
        text = re.sub(r"^pswpout \d+$", f"pswpout {pswpout}", text, flags=re.M)
        with open(self._vmstat, "w") as f:
            f.write(text)


def raw_line(
    mono: float, wall: float, pswpin: int, pswpout: int, psi_us: int = 0, swap_free: int = 1 << 30
) -> str:
    rec = {
        "type": "raw",
        "mono": mono,
        "wall": wall,
        "page_size_bytes": PAGE,
        "vmstat": {"pswpin": pswpin, "pswpout": pswpout, "pgmajfault": 0},
        "meminfo": {"SwapTotal": 1 << 30, "SwapFree": swap_free, "SwapCached": 0},
        "psi": {"some": [0.0, 0.0, 0.0, psi_us], "full": [0.0, 0.0, 0.0, psi_us]},
    }
    return json.dumps(rec) + "\n"


def header_line(interval: float = 1.0) -> str:
    return (
        json.dumps(
            {
                "type": "header",
                "format": "checkswap-recording",
                "format_version": 1,
                "wall": WALL0,
                "hostname": "test-host",
                "kernel_release": "6.18.44",
                "page_size_bytes": PAGE,
                "interval_s": interval,
                "files": {},
            }
        )
        + "\n"
    )


def write_recording(
    path: str,
    counters: Sequence[tuple[float, int, int]],
    interval: float = 1.0,
    extra: Sequence[str] = (),
) -> None:
    """counters: (seconds from start, pswpin, pswpout) per sample."""
    with open(path, "w") as f:
        f.write(header_line(interval))
        for t, pin, pout in counters:
            f.write(raw_line(1000.0 + t, WALL0 + t, pin, pout))
        for line in extra:
            f.write(line)
