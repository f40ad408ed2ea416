"""The doctor's report: ``diagnose(root)`` is the ``doctor --format json`` object; its exit status.

Here the gathered facts (facts.py) become the figures the rules judge: the sample record the
verdict reads (the same ``fields.sample_record`` watch prints, or its one-sample subset), the
verdict itself (model/verdict.py), the disk cost and the totals since boot; then the findings
(rules.py) and the report object, whose keys and their order are the registry's
(``fields.DOCTOR_KEYS``). This is a module of its own, not doctor/__init__.py, so that
importing ``checkswap.doctor.roles`` for ``--role`` loads nothing of this.
"""

from __future__ import annotations

import time

from checkswap.doctor import rules
from checkswap.doctor.facts import Facts, disk_cost, gather, since_boot
from checkswap.doctor.roles import ROLES
from checkswap.errors import BadInput
from checkswap.fields import (
    DOCTOR_KEYS,
    DOCTOR_STATIC_SAMPLE_KEYS,
    DOCTOR_ZSWAP_FIELDS,
    doctor_object,
    sample_record,
)
from checkswap.model import totals
from checkswap.model.rates import Interval, Tracker
from checkswap.model.sample import Sample
from checkswap.model.verdict import verdict
from checkswap.source.root import Root

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Any, Callable


def diagnose(
    root: Root,
    role: str = "general",
    sample_s: float = 3.0,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The ``doctor --format json`` object: findings worst first, devices, swappiness, verdict."""
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    f = gather(root, ROLES[role], sample_s, sleep, monotonic)
    judge(f)
    return report(f)


def judge(f: Facts) -> None:
    """The derived facts: the sample record, its verdict, the disk cost and since-boot totals."""
    first, last = f.first, f.last
    assert first is not None  # gather always takes one sample
    if last is not None:
        iv = Interval(first, last)
        tracker = Tracker()
        tracker.add(iv)
        f.record = sample_record(iv, tracker, f.page_size)
        f.disk_cost = disk_cost(
            first, last, f.disk_before, f.disk_after, f.swap_disks(), f.page_size
        )
    else:
        f.notes.append("one sample only: no rates, so no verdict on activity")
        f.record = static_record(first, f.page_size)
    f.verdict, f.verdict_evidence = verdict(f.record)
    if f.waiters:
        f.verdict_evidence["waiters"] = f.waiters
    if f.swaps_read and f.areas:
        total = f.record.get("swap_total_bytes")
        f.swap_accounting = totals.accounting(total if isinstance(total, int) else None, f.areas)
    f.since_boot = since_boot(first, f.uptime_s, f.page_size)


def report(f: Facts) -> dict[str, Any]:
    """The report object of a judged Facts (DESIGN.md's ``doctor --format json``)."""
    first = f.first
    assert first is not None
    end = f.last or first
    values = {
        "type": "doctor",
        "findings": rules.findings(f),
        "devices": f.devices,
        "swappiness": f.swappiness,
        "verdict": f.verdict,
        "verdict_evidence": f.verdict_evidence,
        "role": f.role.name,
        "sample": f.record,
        "disk_cost": f.disk_cost,
        "since_boot": f.since_boot,
        "zswap": zswap_object(f),
        "tiers": {k: f.tiers.get(k) for k in ("zram", "mthp", "areas")},
        "mem_total_bytes": f.mem_total,
        "page_size_bytes": f.page_size,
        "kernel_release": f.kernel_release,
        "hostname": f.hostname,
        "time": f.record.get("time"),
        "start_wall": first.wall,
        "end_wall": end.wall,
        "notes": f.notes,
    }
    # The registry says which keys the object has and in what order; a figure computed here
    # without a Field there is a bug, not a silent extra key.
    extra = values.keys() - set(DOCTOR_KEYS)
    if extra:
        raise AssertionError(f"doctor keys missing from fields.DOCTOR_FIELDS: {sorted(extra)}")
    return {key: values[key] for key in DOCTOR_KEYS}


def zswap_object(f: Facts) -> dict[str, Any] | None:
    """doctor's ``zswap``: model/tiers' zswap state, its parameters and pool from Facts."""
    z = f.zswap
    if z is None:
        return None
    # Read again for the tiers (gather_tiers): were zswap gone by then, its figures are null.
    state = f.tiers.get("zswap") or dict.fromkeys(x.key for x in DOCTOR_ZSWAP_FIELDS)
    # As they were: the parameters as gather read them, the pool at the end of the sample.
    own = {"enabled": z.enabled, "compressor": z.compressor, "pool_bytes": f.zswap_pool}
    return doctor_object("zswap", {**state, **own})


def static_record(s: Sample, page_size: int) -> dict[str, Any]:
    """The sample record of one sample: no interval, so no rates; sizes and PSI avg10 only."""
    # An interval from the sample to itself has no length: fields.sample_record gives None for
    # every rate and the sizes as watch would; it is cut down to the keys a lone sample has.
    full = sample_record(Interval(s, s), Tracker(), page_size)
    out = {key: full[key] for key in DOCTOR_STATIC_SAMPLE_KEYS}
    out["interval_s"] = None  # not 0 s: there was no interval at all
    return out


def exit_status(report: dict[str, Any]) -> int:
    """monitoring-plugins convention: 0 OK, 1 a warning, 2 a critical finding."""
    severities = {x["severity"] for x in report["findings"]}
    if "critical" in severities:
        return 2
    if "warning" in severities:
        return 1
    return 0
