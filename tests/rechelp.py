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

from checkswap.kernel.pressure import Pressure, PressureLine
from checkswap.model.sample import Sample
from checkswap.record.format import sample_to_record

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


# A recording of zswap traffic with the tiers lines record writes (dash and watch replays).
ZSWAP_T0 = 1795000000.0
MIB = 1 << 20


def tiers_line(t: float, enabled: bool, pool_mib: int) -> str:
    """A ``tiers`` line as ``record`` writes it (format.tiers_record of model/tiers.read_state)."""
    return json.dumps(
        {
            "type": "tiers",
            "time": "",
            "wall": ZSWAP_T0 + t,
            "zswap": {
                "enabled": enabled,
                "compressor": "lzo",
                "pool_bytes": pool_mib * MIB,
                "stored_bytes": 2 * pool_mib * MIB,
                "ratio": 2.0,
                "max_pool_percent": 20,
                "pool_limit_bytes": 200 * MIB,
                "pool_full_pct": pool_mib / 2,
                "accept_threshold_percent": 90,
                "shrinker_enabled": False,
                "debug": None,
            },
            "zram": [],
            "mthp": [],
        }
    )


def write_zswap_recording(path: str, enabled: bool) -> tuple[list[int], list[int]]:
    """30 s of zswap in front of an idle swapfile (no zero-filled pages since boot, so only
    zswap's recorded ``enabled`` can call for every tier's rows), with a ``tiers`` line after
    the first sample and again at t=20, as ``record`` writes them. Returns each interval's
    every-tier pages in and out, from the counters written here."""
    header = {
        "type": "header",
        "format": "checkswap-recording",
        "format_version": 1,
        "wall": ZSWAP_T0,
        "hostname": "vm",
        "kernel_release": "6.18.44",
        "page_size_bytes": 4096,
        "interval_s": 1.0,
        "files": {
            "proc/swaps": "Filename\tType\tSize\tUsed\tPriority\n"
            "/var/tmp/swapfile\tfile\t1048572\t0\t-2\n"
        },
    }
    lines = [json.dumps(header)]
    c = {"pswpin": 0, "pswpout": 0, "zswpin": 0, "zswpout": 0, "zswpwb": 0}
    c |= {"swpin_zero": 0, "swpout_zero": 0, "pgmajfault": 0}
    ins, outs = [], []
    for t in range(31):
        if t:
            step = {"zswpin": 3000, "zswpout": 7000 if t == 17 else 4000, "pswpout": 100}
            step |= {"zswpwb": 100, "swpin_zero": 50, "swpout_zero": 60}
            for k, v in step.items():
                c[k] += v
            ins.append(step["zswpin"] + step["swpin_zero"])
            outs.append(step["zswpout"] + step["pswpout"] - step["zswpwb"] + step["swpout_zero"])
        psi = PressureLine(1.0, 1.0, 1.0, t * 50_000)
        mem = {"SwapTotal": 1 << 30, "SwapFree": 1 << 30}
        s = Sample(5000.0 + t, ZSWAP_T0 + t, dict(c), mem, Pressure(psi, psi))
        lines.append(json.dumps(sample_to_record(s, 4096)))
        if t == 0:
            lines.append(tiers_line(t, enabled, 50))
        if t == 20:
            lines.append(tiers_line(t, enabled, 120))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return ins, outs
