"""Real swapping: ``watch`` must report exactly what the kernel counted.

A hog in a memory-limited cgroup swaps against a real swapfile while ``checkswap watch`` runs as
a subprocess. The test reads /proc/vmstat itself before ``watch`` starts and after it ends, and
the sum of the per-interval deltas ``watch`` printed must equal the kernel's delta: exactly when
nothing else swapped while watch started or after the hog was gone (the normal case), and
otherwise within what the kernel counted around watch's first and last samples.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime

import lab
import pytest

pytestmark = pytest.mark.kernel


def read_json_lines(proc: subprocess.Popen[str], until: int) -> list[dict[str, object]]:
    assert proc.stdout is not None
    out = []
    while len([r for r in out if r["type"] == "sample"]) < until:
        line = proc.stdout.readline()
        assert line, "watch ended early"
        out.append(json.loads(line))
    return out


def test_watch_deltas_equal_kernel_counters() -> None:
    with lab.swapfile(512) as path, lab.memory_cgroup(64) as cg:
        assert path in lab.active_swaps()
        before = lab.vmstat()
        watch = subprocess.Popen(
            [sys.executable, "-m", "checkswap", "watch", "-i", "0.5", "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            recs = read_json_lines(watch, 1)  # watch has taken its first samples
            started = lab.vmstat()  # ...so its first one lies between `before` and this
            with lab.Hog(cg, 200, 4) as hog:
                hog.wait_ready()
                hog.wait_done()
                vmswap_kb = lab.status_kb(hog.pid, "VmSwap")
            gone = lab.vmstat()  # the hog is killed: from here on nothing of it swaps
            gone_wall = time.time()
            time.sleep(1.6)  # at least two whole intervals after the hog is gone
            watch.send_signal(signal.SIGTERM)
            assert watch.stdout is not None and watch.stderr is not None
            # Read through the same buffered stream as readline() did: communicate() would
            # skip what that buffer already holds.
            rest = watch.stdout.read()
            err = watch.stderr.read()
            watch.wait(timeout=30)
            assert watch.returncode == 0, err
            after = lab.vmstat()
        finally:
            if watch.poll() is None:
                watch.kill()
                watch.wait()
    recs += [json.loads(line) for line in rest.splitlines()]
    samples = [r for r in recs if r["type"] == "sample"]
    summary = recs[-1]
    assert summary["type"] == "summary"

    kernel_in = after["pswpin"] - before["pswpin"]
    kernel_out = after["pswpout"] - before["pswpout"]
    assert kernel_out > 100 * 256  # the hog really swapped (more than 100 MiB out)
    assert kernel_in > 0
    assert vmswap_kb is not None and vmswap_kb > 0
    times = [datetime.fromisoformat(str(s["time"])).timestamp() for s in samples]
    assert times[-1] > gone_wall, "watch's last sample was taken before the hog was gone"

    def within(counter: str, got: int) -> None:
        # watch's first sample was taken between `before` and `started`, its last between
        # `gone` and `after` (in CI something else swapped there, a few pages at a time).
        lab.assert_sum_between(counter, got, (before, started), (gone, after))

    sum_in = sum(int(s["swap_in_pages"]) for s in samples)  # type: ignore[call-overload]
    sum_out = sum(int(s["swap_out_pages"]) for s in samples)  # type: ignore[call-overload]
    within("pswpin", sum_in)
    within("pswpout", sum_out)
    assert (summary["swap_in_pages"], summary["swap_out_pages"]) == (sum_in, sum_out)

    # Zero-filled pages are the kernel's separate counters, not part of pswpin/pswpout.
    zero_out = sum(
        float(s["swap_out_zero_per_s"]) * float(s["interval_s"])  # type: ignore[arg-type]
        for s in samples
    )
    within("swpout_zero", round(zero_out))

    for s in samples:
        assert s["swap_in_per_s"] == int(s["swap_in_pages"]) / float(s["interval_s"])  # type: ignore[call-overload,arg-type]
        assert s["swap_out_per_s"] == int(s["swap_out_pages"]) / float(s["interval_s"])  # type: ignore[call-overload,arg-type]
        assert s["page_size_bytes"] == 4096
    peak_in = max(float(s["swap_in_per_s"]) for s in samples)  # type: ignore[arg-type]
    peak_out = max(float(s["swap_out_per_s"]) for s in samples)  # type: ignore[arg-type]
    assert summary["max"]["swap_in_per_s"] == peak_in  # type: ignore[index]
    assert summary["max"]["swap_out_per_s"] == peak_out  # type: ignore[index]
    assert samples[-1]["max"] == summary["max"]
    at = summary["max"]["swap_out_at"]  # type: ignore[index]
    assert at == next(s["time"] for s in samples if s["swap_out_per_s"] == peak_out)
    # The intervals that began after the hog was gone saw only what the kernel counted since:
    # none of the hog's pages (nothing at all on a quiet machine).
    quiet = [s for s, start in zip(samples[1:], times) if start > gone_wall]
    assert quiet, "no whole interval after the hog was gone"
    for counter, key in (("pswpin", "swap_in_pages"), ("pswpout", "swap_out_pages")):
        seen = sum(int(s[key]) for s in quiet)  # type: ignore[call-overload]
        assert seen <= after[counter] - gone[counter], (key, seen, after[counter] - gone[counter])
