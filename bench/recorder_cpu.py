"""CPU per sample at 1 Hz: `checkswap record` vs `checkswap watch` vs sar's collector `sadc 1`.

    python bench/recorder_cpu.py [--seconds 60]

The three run side by side for the same seconds. Each one's on-CPU time is read from
/proc/PID/schedstat (first field: nanoseconds on a CPU) after a warm-up (start-up cost is not
per sample) and again at the end; the difference divided by the samples taken in between is
the cost of one sample. sadc collects far more than swap (its default activity set: CPU,
memory, paging, I/O, network...) into a binary file; it is the standing peer for "a recorder
left running", not a like-for-like collector. Writes bench/results/recorder_cpu.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SADC = "/usr/lib/sysstat/sadc"
WARMUP_S = 3.0


def on_cpu_ns(pid: int) -> int:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="checkswap-bench-")
    env = dict(os.environ, PYTHONPATH=REPO)
    py = [sys.executable, "-m", "checkswap"]
    total = int(WARMUP_S) + args.seconds + 5
    procs = {
        "record": subprocess.Popen(
            [*py, "record", "-o", os.path.join(tmp, "r.jsonl"), "-i", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
        ),
        "watch": subprocess.Popen([*py, "watch", "-i", "1"], env=env, stdout=subprocess.DEVNULL),
        "sadc": subprocess.Popen(
            [SADC, "1", str(total), os.path.join(tmp, "sa")], stdout=subprocess.DEVNULL
        ),
    }
    try:
        time.sleep(WARMUP_S)
        start = {k: on_cpu_ns(p.pid) for k, p in procs.items()}
        time.sleep(args.seconds)
        end = {k: on_cpu_ns(p.pid) for k, p in procs.items()}
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            p.wait()
    # 1 Hz each: the window holds `seconds` samples of each (within one either way).
    per = {k: (end[k] - start[k]) / args.seconds / 1e3 for k in procs}
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"{args.seconds} s at 1 Hz side by side (load average {load} on {os.cpu_count()} CPUs)")
    print(f"{'':8} {'CPU/sample':>12} {'CPU share':>10}")
    for k, us in per.items():
        print(f"{k:8} {us:9.0f} µs {us / 1e6 * 100:9.3f} %")
    print(f"record / watch = {per['record'] / per['watch']:.2f}")
    print(f"record / sadc  = {per['record'] / per['sadc']:.2f}")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "recorder_cpu.json"), "w") as f:
        json.dump({"seconds": args.seconds, "us_per_sample": per, "load": load}, f, indent=1)
    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
