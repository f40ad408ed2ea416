"""Recordings: raw samples as JSON lines, written by ``record`` and read back for replay.

A recording keeps counters, not rates (STYLE.md rule 5): replay and report recompute rates
through rates.py, the same code as the live view. One object per line::

    {"type": "raw", "time": "2026-11-27T21:07:00.000+00:00", "mono": 1234.5, "wall": 1795...,
     "page_size_bytes": 4096, "vmstat": {"pswpin": 0, ...}, "meminfo": {"SwapTotal": ...},
     "psi": {"some": [avg10, avg60, avg300, total_us], "full": [...]}}

Other ``type`` values (a header, trigger captures) may appear; readers skip types they do not
know. A truncated or corrupt line is not fatal: it is counted and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from checkswap.fields import iso_utc
from checkswap.kernel.pressure import Pressure, PressureLine
from checkswap.sample import Sample


def _psi_out(line: PressureLine | None) -> list[float] | None:
    return None if line is None else [line.avg10, line.avg60, line.avg300, line.total_us]


def sample_to_record(sample: Sample, page_size: int) -> dict[str, object]:
    psi = sample.psi
    return {
        "type": "raw",
        "time": iso_utc(sample.wall),
        "mono": sample.mono,
        "wall": sample.wall,
        "page_size_bytes": page_size,
        "vmstat": sample.vmstat,
        "meminfo": sample.meminfo,
        "psi": None if psi is None else {"some": _psi_out(psi.some), "full": _psi_out(psi.full)},
    }


def _psi_in(value: object) -> PressureLine | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 4:
        raise ValueError("bad psi line")
    a10, a60, a300, total = value
    return PressureLine(float(a10), float(a60), float(a300), int(total))


def _counters(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError("counters must be an object")
    out = {}
    for k, v in value.items():
        if not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(f"counter {k} is not an integer")
        out[str(k)] = v
    return out


def sample_from_record(rec: dict[str, object]) -> tuple[Sample, int]:
    """(sample, page size) from a ``raw`` record; ValueError/KeyError/TypeError if malformed."""
    psi_obj = rec.get("psi")
    psi = None
    if psi_obj is not None:
        if not isinstance(psi_obj, dict):
            raise ValueError("psi must be an object")
        psi = Pressure(_psi_in(psi_obj.get("some")), _psi_in(psi_obj.get("full")))
    mono, wall, page = rec["mono"], rec["wall"], rec["page_size_bytes"]
    if not isinstance(mono, (int, float)) or not isinstance(wall, (int, float)):
        raise ValueError("mono and wall must be numbers")
    if not isinstance(page, int) or page <= 0:
        raise ValueError("bad page size")
    sample = Sample(
        float(mono), float(wall), _counters(rec["vmstat"]), _counters(rec["meminfo"]), psi
    )
    return sample, page


class Reading:
    """Raw samples from one or more recording files, in order, with the bad lines counted."""

    def __init__(self) -> None:
        self.bad_lines = 0
        self.page_size: int | None = None
        self.other: list[dict[str, object]] = []  # records of other types (trigger captures...)

    def samples(self, lines: Iterable[str]) -> Iterator[Sample]:
        for line in lines:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    raise ValueError("not an object")
                if rec.get("type") != "raw":
                    self.other.append(rec)
                    continue
                sample, page = sample_from_record(rec)
            except (ValueError, KeyError, TypeError):
                self.bad_lines += 1
                continue
            self.page_size = page
            yield sample
