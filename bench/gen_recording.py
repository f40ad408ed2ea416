"""Generate a synthetic recording: N samples at 1 Hz, in the format ``record`` writes.

    python bench/gen_recording.py OUT.jsonl [--samples 604800] [--seed 1]

Quiet background (a few pages/s now and then), plus a spike of heavy swapping every ~6 hours
(30-600 s at 5k-50k pages/s), PSI and swap used following it. Counters are written raw, as the
recorder writes them; everything else is computed by ``report``. Beside the samples, what
``record --trigger`` writes too: a tiers line a minute (zswap, two zram devices, four mTHP
sizes) and, during a spike, a trigger with a capture of 20 processes at most once a minute.
"""

from __future__ import annotations

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from checkswap.kernel.pressure import Pressure, PressureLine
from checkswap.model.sample import Sample
from checkswap.record.format import dumps, sample_to_record, tiers_record, trigger_record

START_WALL = 1795737600.0  # 2026-11-27 00:00 UTC
PAGE = 4096
MIB = 1 << 20
# As model/tiers.read_state gives it on a host with zswap and two zram devices.
TIERS: dict[str, object] = {
    "zswap": {
        "enabled": True,
        "compressor": "zstd",
        "pool_bytes": 120 * MIB,
        "stored_bytes": 400 * MIB,
        "ratio": 3.33,
        "max_pool_percent": 20,
        "pool_limit_bytes": 4915 * MIB,
        "pool_full_pct": 2.4,
        "accept_threshold_percent": 90,
        "shrinker_enabled": True,
        "debug": None,
    },
    "zram": [
        {
            "device": f"zram{n}",
            "disksize_bytes": 4096 * MIB,
            "orig_data_bytes": 300 * MIB,
            "compr_data_bytes": 90 * MIB,
            "mem_used_bytes": 95 * MIB,
            "mem_limit_bytes": 0,
            "same_pages": 1200,
            "huge_pages": 30,
            "comp_algorithm": "lzo-rle",
            "ratio": 3.33,
        }
        for n in (1, 2)
    ],
    "mthp": [
        {"size_bytes": kib * 1024, "enabled": "never", "swpout": 0, "swpout_fallback": 0}
        for kib in (16, 32, 64, 2048)
    ],
}
TRIGGER_EVERY = 60  # record's TRIGGER_EVERY_S, in samples


def capture(i: int) -> dict[str, object]:
    """A ``record --trigger`` capture: the top --format json object cut to 20 processes."""
    procs = [
        {
            "pid": 1000 + n,
            "comm": f"worker-{n}",
            "cmdline": f"/usr/bin/worker --shard {n}",
            "cgroup": f"/system.slice/worker@{n}.service",
            "swap_bytes": (n + 1) * 3 * MIB,
            "swap_per_s": float(i % 97) * 4096,
            "majflt_per_s": float(n),
            "activity_pages_per_s": float(i % 97 + n),
            "rss_bytes": 200 * MIB,
        }
        for n in range(20)
    ]
    return {"type": "processes", "processes": procs, "cgroups": [], "waiters": []}


def generate(path: str, samples: int, seed: int) -> list[tuple[int, int]]:
    """Write the recording; returns the spikes as (first sample, last sample) indices."""
    rnd = random.Random(seed)
    vm = {
        "pswpin": 1000,
        "pswpout": 2000,
        "pgmajfault": 500,
        "pgpgin": 10**6,
        "pgpgout": 10**6,
        "workingset_refault_anon": 100,
        "swpin_zero": 0,
        "swpout_zero": 0,
        "swap_ra": 0,
        "swap_ra_hit": 0,
        "zswpin": 0,
        "zswpout": 0,
        "zswpwb": 0,
    }
    mem = {
        "MemTotal": 24 << 30,
        "MemFree": 20 << 30,
        "MemAvailable": 22 << 30,
        "SwapCached": 0,
        "SwapTotal": 1 << 30,
        "SwapFree": 1 << 30,
        "Zswap": 0,
        "Zswapped": 0,
        "Shmem": 1 << 24,
    }
    some_us = full_us = 0
    spikes: list[tuple[int, int]] = []
    next_spike = rnd.randint(3600, 6 * 3600)
    spike_end = -1
    level = 0
    last_trigger: int | None = None
    header = {
        "type": "header",
        "format": "checkswap-recording",
        "format_version": 1,
        "time": None,
        "wall": START_WALL,
        "version": "bench",
        "hostname": "bench-host",
        "kernel_release": "6.18.44",
        "boot_id": "bench",
        "page_size_bytes": PAGE,
        "interval_s": 1.0,
        "files": {"proc/swaps": "Filename\tType\tSize\tUsed\tPriority\n"},
    }
    with open(path, "wb") as f:
        f.write(dumps(header))
        buf = []
        for i in range(samples):
            if i == next_spike:
                length = rnd.randint(30, 600)
                spike_end = i + length
                level = rnd.randint(5000, 50000)
                spikes.append((i, spike_end - 1))
                next_spike = spike_end + rnd.randint(3 * 3600, 9 * 3600)
            if i < spike_end:
                din = int(level * rnd.uniform(0.6, 1.2))
                dout = int(level * rnd.uniform(0.6, 1.2))
                stall = rnd.randint(100_000, 400_000)
            else:
                din = rnd.choice((0, 0, 0, 0, 0, 0, 0, 0, 1, 3))
                dout = rnd.choice((0, 0, 0, 0, 0, 0, 0, 0, 0, 2))
                stall = rnd.choice((0, 0, 0, 100, 2000))
            vm["pswpin"] += din
            vm["pswpout"] += dout
            vm["pgmajfault"] += din // 8
            free = mem["SwapFree"] - (dout - din) * PAGE
            mem["SwapFree"] = min(mem["SwapTotal"], max(0, free))
            some_us += stall
            full_us += stall * 9 // 10
            psi = Pressure(
                PressureLine(stall / 1e4, 0.0, 0.0, some_us),
                PressureLine(stall / 1e4 * 0.9, 0.0, 0.0, full_us),
            )
            s = Sample(1000.0 + i, START_WALL + i, dict(vm), dict(mem), psi)
            buf.append(dumps(sample_to_record(s, PAGE)))
            if i % 60 == 0:
                buf.append(dumps(tiers_record(s.wall, TIERS)))
            if i < spike_end and (last_trigger is None or i - last_trigger >= TRIGGER_EVERY):
                last_trigger = i
                buf.append(dumps(trigger_record(s.wall, din, dout, capture(i))))
            if len(buf) >= 10000:
                f.write(b"".join(buf))
                buf.clear()
        f.write(b"".join(buf))
    return spikes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--samples", type=int, default=604_800)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    spikes = generate(args.out, args.samples, args.seed)
    print(
        f"{args.out}: {args.samples} samples, {len(spikes)} spikes, "
        f"{os.path.getsize(args.out) / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
