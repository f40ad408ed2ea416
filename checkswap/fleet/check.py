"""What ``checkswap check`` measures and decides: the figures, their states, the plugin line.

``measure`` gives the interval since the last run (the state file, check_state.py) or over a
brief sample; ``judge`` turns that interval and the thresholds into the monitoring-plugins
status and its one line of text and perfdata (plugin.py's conventions; each item's label and
UOM, and their order, are the field registry's ``fields.PERFDATA``). Both live here, not in
the command, so the command is only parse -> measure -> judge -> print -> exit status.
"""

from __future__ import annotations

from dataclasses import dataclass

from checkswap.errors import PluginStatus
from checkswap.fields import CHECK_TIERS, FIELDS, PERFDATA, PERFDATA_TIERS, counter_of
from checkswap.fleet.check_state import load_state, read_boot_id, save_state, usable
from checkswap.fleet.plugin import Range, perfdata
from checkswap.kernel.pressure import avg10
from checkswap.model import totals
from checkswap.model.rates import Interval
from checkswap.model.sample import Sampler, Ticker
from checkswap.units import format_bytes

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from checkswap.env import Env
    from checkswap.source.root import Root


def measure(root: Root, env: Env, state_path: str, sample_s: float) -> tuple[Interval, list[str]]:
    """The interval since the last run (or a brief sample), and notes; saves the new state."""
    if root.replays:
        return measure_bundle(root)
    notes: list[str] = []
    boot_id = read_boot_id(root)
    sampler = Sampler(root)
    try:
        prev, why = load_state(state_path, root, boot_id)
        now = sampler.take()
        iv, why2 = usable(prev, now)
        if iv is not None and prev is not None and iv.interval_s < sample_s:
            # Run again right away (a retry, two services on one host): a rate over a few
            # milliseconds is exact but says little, so extend it to --sample seconds.
            Ticker(root, sample_s - iv.interval_s, env.monotonic, env.sleep).wait()
            now = sampler.take()
            iv = Interval(prev.sample, now)
        if iv is None:
            why = why or why2
            Ticker(root, sample_s, env.monotonic, env.sleep).wait()
            first, now = now, sampler.take()
            iv = Interval(first, now)
            notes.append(f"sampled {iv.interval_s:.1f} s: {why}")
        notes += iv.notes
    finally:
        sampler.close()
    problem = save_state(state_path, root, boot_id, now, iv.interval_s)
    if problem:
        notes.append(problem)
    return iv, notes


def measure_bundle(root: Root) -> tuple[Interval, list[str]]:
    """A snapshot bundle: the interval between its first two captured samples, no state.

    A bundle is a closed capture, so "since the last run" means nothing for it; and its root
    is a private unpack directory made afresh each run, so a state keyed by it would never be
    reused, while one at the default path would clobber the live check's. None is kept.
    """
    sampler = Sampler(root)
    try:
        first = sampler.take()
        if not root.advance():
            # The same sample twice: every rate unknown, and the line says why.
            iv = Interval(first, first)
            return iv, ["the bundle holds one sample: no rates (take it with snapshot -n 2)"]
        iv = Interval(first, sampler.take())
    finally:
        sampler.close()
    return iv, [
        f"over the bundle's first two samples, {iv.interval_s:.1f} s apart; no state kept",
        *iv.notes,
    ]


@dataclass(frozen=True)
class Thresholds:
    """The ranges given on the command line; None: that figure never alerts."""

    warn_in: Range
    crit_in: Range
    warn_out: Range | None = None
    crit_out: Range | None = None
    warn_used: Range | None = None
    crit_used: Range | None = None
    warn_psi: Range | None = None
    crit_psi: Range | None = None
    tier: str = "device"  # a key of fields.CHECK_TIERS: the rates the swap-in/out ranges judge


class Check:
    """One figure with its thresholds: the state it raises and how it reads."""

    def __init__(
        self,
        name: str,
        value: float | None,
        warn: Range | None,
        crit: Range | None,
        missing: str = "not available on this kernel",
    ):
        self.missing = missing  # why the value can be None, for the UNKNOWN flag
        self.name = name
        self.value = value
        self.warn = warn
        self.crit = crit

    def state(self) -> int:
        if self.value is None:
            return PluginStatus.UNKNOWN if (self.warn or self.crit) else PluginStatus.OK
        if self.crit is not None and self.crit.alerts(self.value):
            return PluginStatus.CRITICAL
        if self.warn is not None and self.warn.alerts(self.value):
            return PluginStatus.WARNING
        return PluginStatus.OK

    def flag(self) -> str:
        s = self.state()
        if s == PluginStatus.CRITICAL and self.crit is not None:
            return f" (CRITICAL: {self.crit.describe()})"
        if s == PluginStatus.WARNING and self.warn is not None:
            return f" (WARNING: {self.warn.describe()})"
        if s == PluginStatus.UNKNOWN:
            return f" (UNKNOWN: {self.missing})"
        return ""


def _rate_text(per_s: float | None, page_size: int) -> str:
    if per_s is None:
        return "unknown"
    unit = FIELDS["swap_in_per_s"].unit  # watch's unit for the rate: one name for the figure
    return f"{per_s:.1f} {unit} ({format_bytes(per_s * page_size)}/s)"


def judge(iv: Interval, notes: list[str], page: int, t: Thresholds) -> tuple[int, str]:
    """The worst state of the four figures, and the plugin's line: text | perfdata."""
    end = iv.end
    mem = end.meminfo
    total, used = totals.swap_total(mem), totals.swap_used_bytes(mem)
    no_swap = total == 0
    used_pct = None if not total or used is None else used / total * 100.0
    psi_some, psi_full = avg10(end.psi, "some"), avg10(end.psi, "full")

    key_in, key_out = CHECK_TIERS[t.tier]
    word = "" if t.tier == "device" else " (all tiers)"
    no_rate = (
        "no interval to measure over" if iv.interval_s <= 0 else "not available on this kernel"
    )
    checks = [
        Check(f"swap-in{word}", iv.rate(counter_of(key_in)), t.warn_in, t.crit_in, no_rate),
        Check(f"swap-out{word}", iv.rate(counter_of(key_out)), t.warn_out, t.crit_out, no_rate),
        Check(
            "swap used",
            used_pct,
            None if no_swap else t.warn_used,
            None if no_swap else t.crit_used,
        ),
        Check("PSI memory some", psi_some, t.warn_psi, t.crit_psi),
    ]
    status = max(c.state() for c in checks)

    cin, cout, cused, cpsi = checks
    parts = [
        f"{cin.name} {_rate_text(cin.value, page)}{cin.flag()}",
        f"{cout.name} {_rate_text(cout.value, page)}{cout.flag()}",
    ]
    if no_swap:
        parts.insert(0, "no swap configured: nothing can swap")
    elif total is None or used is None:
        parts.append("swap used unknown")
    else:
        pct = f"{used_pct:.1f}%" if used_pct is not None else "?"
        parts.append(
            f"swap used {pct} ({format_bytes(used)} of {format_bytes(total)}){cused.flag()}"
        )
    if psi_some is None:
        parts.append(f"no PSI on this kernel{cpsi.flag()}")
    else:
        parts.append(f"PSI memory some {psi_some:.1f}%{cpsi.flag()}")
    text = ", ".join(parts) + f", over {iv.interval_s:.1f} s"
    if notes:
        text += f" ({'; '.join(notes)})"

    vm = end.vmstat
    # field key: (value, warn, crit, min, max); a key left out has no item on this kernel.
    items: dict[str, tuple[float | None, Range | None, Range | None, float | None, float | None]]
    # The ranges go on the items of the rates they judged (--tier).
    judged = {key_in: (t.warn_in, t.crit_in), key_out: (t.warn_out, t.crit_out)}
    items = {
        key: (iv.rate(counter_of(key)), *judged.get(key, (None, None)), 0, None)
        for key in ("swap_in_per_s", "swap_out_per_s")
    }
    if not no_swap and used_pct is not None:
        items["swap_used_pct"] = (used_pct, t.warn_used, t.crit_used, 0, 100)
    if used is not None and total is not None:
        items["swap_used_bytes"] = (used, None, None, 0, total)
    if psi_some is not None:
        items["psi_some_avg10"] = (psi_some, t.warn_psi, t.crit_psi, 0, 100)
    if psi_full is not None:
        items["psi_full_avg10"] = (psi_full, None, None, 0, 100)
    items["interval_s"] = (iv.interval_s, None, None, None, None)
    for key in PERFDATA_TIERS:
        rate = iv.rate(counter_of(key))
        if rate is not None or key in judged:  # a tier this kernel lacks has no item
            items[key] = (rate, *judged.get(key, (None, None)), 0, None)
    for key, p in PERFDATA.items():
        # The kernel's own counters, so graphs can recompute the rates.
        if p.counter and counter_of(key) in vm:
            items[key] = (vm[counter_of(key)], None, None, None, None)
    if not items.keys() <= PERFDATA.keys():  # a label made up here, not the registry's
        raise AssertionError(f"perfdata without a label in fields.PERFDATA: {items.keys()}")
    perf = [
        perfdata(p.label, items[key][0], p.uom, *items[key][1:])
        for key, p in PERFDATA.items()
        if key in items
    ]

    return status, f"CHECKSWAP {PluginStatus.NAMES[status]} - {text} | {' '.join(perf)}"
