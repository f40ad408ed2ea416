#!/usr/bin/env python3
"""How hard checkswap stress's hog swaps, next to the hog PEERS.md used (a per-page Python loop).

    sudo .venv/bin/python bench/stress_hog.py [--size-mib 256] [--limit-mib 64] [--seconds 10]

Both run in turn in the same memory-limited cgroup (v1) with the same temporary swapfile, from
the tests' swap lab: ``checkswap.lab.hog`` (non-zero fill built by repetition, then one
extended-slice write per pass touching every page) and ``lab.Hog`` (the peers' style: a Python
loop writing one byte per page). Reported from /proc/vmstat deltas over each run: pages swapped
out and in per second, zero-filled swap-outs (pages that never reach the device), and the
ratio. Takes the kernel-test lock; everything is named checkswap-test-* and removed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import lab  # noqa: E402

from checkswap.lab import hog  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
KEYS = ("pswpout", "pswpin", "swpout_zero")


def measure(run: object) -> dict[str, float]:
    before, t0 = lab.vmstat(), time.monotonic()
    run()  # type: ignore[operator]
    after, elapsed = lab.vmstat(), time.monotonic() - t0
    out = {k: (after.get(k, 0) - before.get(k, 0)) / elapsed for k in KEYS}
    out["seconds"] = elapsed
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--limit-mib", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    results = {}
    with lab.kernel_lock(), lab.swapfile(1024, name="bench-hog"):
        with lab.memory_cgroup(a.limit_mib, name="bench-checkswap") as cg:

            def ours() -> None:
                pid = hog.start(
                    a.size_mib * 2**20, a.seconds, PAGE, os.path.join(cg.path, "cgroup.procs")
                )
                _, status = os.waitpid(pid, 0)
                assert status == 0, status

            results["checkswap hog"] = measure(ours)
        with lab.memory_cgroup(a.limit_mib, name="bench-peer") as cg:

            def peer() -> None:
                with lab.Hog(cg, a.size_mib, a.seconds) as h:
                    h.wait_ready()
                    h.wait_done()

            results["peers' hog"] = measure(peer)
    print(
        f"{a.size_mib} MiB hog in a {a.limit_mib} MiB cgroup (v{lab.cgroup_version()}), "
        f"~{a.seconds:g} s each, 1 GiB swapfile, page {PAGE} bytes"
    )
    for name, r in results.items():
        print(
            f"{name:>14}: {r['seconds']:5.1f} s  out {r['pswpout']:8.0f} pages/s "
            f"({r['pswpout'] * PAGE / 2**20:6.1f} MiB/s)  in {r['pswpin']:8.0f} pages/s "
            f"({r['pswpin'] * PAGE / 2**20:6.1f} MiB/s)  zero-filled out {r['swpout_zero']:7.0f}/s"
        )
    a_, b_ = results["checkswap hog"], results["peers' hog"]
    print(
        f"ratio checkswap/peers: swap-out {a_['pswpout'] / b_['pswpout']:.2f}, "
        f"swap-in {a_['pswpin'] / b_['pswpin']:.2f}"
    )


if __name__ == "__main__":
    main()
