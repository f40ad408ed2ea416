"""doctor's own story on trees nobody here tuned: since-boot averages, missing files, totals."""

from __future__ import annotations

from checkswap.doctor import facts as doctor_facts
from checkswap.model.sample import Sample

GIB_PAGES = (1 << 30) // 4096


def boot_sample(pin: int, pout: int) -> Sample:
    return Sample(0.0, 0.0, {"pswpin": pin, "pswpout": pout}, {}, None)


def test_since_boot_extrapolates_per_day_only_from_a_day_of_uptime() -> None:
    # 6 minutes of uptime with 8 GiB read back: not "1949.96 GiB/day".
    sb = doctor_facts.since_boot(boot_sample(8 * GIB_PAGES, GIB_PAGES), 360.0, 4096)
    assert sb["swap_in_gib_per_day"] is None
    assert sb["swap_out_gib_per_day"] is None
    assert "since boot, 6 minutes ago" in sb["meaning"]
    assert "/day" not in sb["meaning"]
    # Hours are said in hours.
    sb = doctor_facts.since_boot(boot_sample(GIB_PAGES, GIB_PAGES), 5 * 3600.0, 4096)
    assert "since boot, 5.0 hours ago" in sb["meaning"]
    # Two days: a per-day average is a fair summary.
    sb = doctor_facts.since_boot(boot_sample(4 * GIB_PAGES, GIB_PAGES), 2 * 86400.0, 4096)
    assert sb["swap_in_gib_per_day"] == 2.0
    assert "over 2.0 days (2.00 GiB/day on average)" in sb["meaning"]
