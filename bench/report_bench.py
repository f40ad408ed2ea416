"""report on a 7-day recording at 1 Hz (604,800 samples, generated): time, size, memory, draw.

    python bench/report_bench.py [--samples 604800] [--keep]

Budgets (issue 6): text report <= 10 s, HTML report <= 15 s and <= 15 MB, Chromium draws the
page in <= 3 s; (issue 12) peak RSS <= 100 MiB, text and --html, whatever the length (30 days:
--samples 2592000). Prints each figure with its ratio to the budget, and writes the figures as
JSON to bench/results/report_bench.json. CPU seconds (user + sys of the child) are printed
beside wall time: on a shared machine the wall time includes waiting for a CPU.
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
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, HERE)

import browser  # noqa: E402
from gen_recording import generate  # noqa: E402

# Run in a child of its own, so that its RUSAGE_CHILDREN peak is this report's alone (the
# largest of the report and its chunk workers), not the largest of every run so far.
_PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def timed(argv: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of the child, its peak RSS in MiB)."""
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, *argv],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, PYTHONPATH=REPO),
    )
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu, int(proc.stdout.split()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=604_800)
    ap.add_argument("--keep", action="store_true", help="keep the recording and the page")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="checkswap-bench-")
    rec = os.path.join(tmp, "week.jsonl")
    html = os.path.join(tmp, "week.html")
    spikes = generate(rec, args.samples, seed=1)
    size_mb = os.path.getsize(rec) / 1e6
    print(f"recording: {args.samples:,} samples, {len(spikes)} spikes, {size_mb:.0f} MB")
    with open("/proc/loadavg") as f:
        print(f"load average at start: {f.read().split()[0]} on {os.cpu_count()} CPUs")

    py = [sys.executable, "-m", "checkswap"]
    text_wall, text_cpu, text_rss = timed([*py, "report", rec])
    html_wall, html_cpu, html_rss = timed([*py, "report", rec, "--html", html])
    html_mb = os.path.getsize(html) / 1e6
    results = {
        "samples": args.samples,
        "text_s": text_wall,
        "text_cpu_s": text_cpu,
        "html_s": html_wall,
        "html_cpu_s": html_cpu,
        "html_mb": html_mb,
        "text_peak_rss_mib": text_rss,
        "html_peak_rss_mib": html_rss,
    }
    rows = [
        ("report text", text_wall, 10.0, "s", f"(CPU {text_cpu:.1f} s)"),
        ("report --html", html_wall, 15.0, "s", f"(CPU {html_cpu:.1f} s)"),
        ("HTML size", html_mb, 15.0, "MB", ""),
        (
            "text peak RSS",
            text_rss,
            100.0,
            "Mi",
            f"({text_cpu / args.samples * 1e6:.1f} us CPU/sample)",
        ),
        ("--html peak RSS", html_rss, 100.0, "Mi", ""),
    ]
    if browser.chromium():
        t0 = time.perf_counter()
        attrs, console = browser.load(html)
        load_s = time.perf_counter() - t0
        draw_s = int(attrs.get("draw-ms", "0")) / 1000
        results.update(draw_s=draw_s, chromium_total_s=load_s, console=console)
        rows.append(
            (
                "Chromium draw",
                draw_s,
                3.0,
                "s",
                f"(navigation start to the 3rd chart drawn; whole headless run "
                f"{load_s:.1f} s; {len(console)} console messages)",
            )
        )
    print(f"{'':15} {'measured':>10} {'budget':>8} {'ratio':>6}")
    for name, value, budget, unit, note in rows:
        print(
            f"{name:15} {value:8.2f} {unit:<2} {budget:5.0f} {unit:<2} {value / budget:6.2f}  "
            f"{note}"
        )
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "report_bench.json"), "w") as f:
        json.dump(results, f, indent=1)
    if args.keep:
        print(f"kept: {rec} {html}")
    else:
        os.unlink(rec)
        os.unlink(html)
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
