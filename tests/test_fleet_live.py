"""``checkswap fleet`` over a real Prometheus scraping three ``checkswap serve``: one on this
host while a hog swaps in a memory-limited cgroup with a swapfile of its own, two on fixture
trees (still: quiet). fleet must rank the live host first, swapping or thrashing, with totals
close to the kernel's own pswpin/pswpout deltas (read by this test from /proc/vmstat) over the
window; the fixture hosts quiet with nothing swapped. Opt-in: CHECKSWAP_KERNEL_TESTS=1.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import lab
import pytest
from clihelp import FIXTURES, REPO, run_cli
from fleetlab import free_port, prometheus

from checkswap.fleet.queries import QUERIES

WINDOW_S = 120.0


SCAN_S = 2.0


@contextlib.contextmanager
def serve(port: int, root: str | None = None, *extra: str) -> Iterator[str]:
    argv = [sys.executable, "-m", "checkswap", "serve", "--listen", f"127.0.0.1:{port}"]
    argv += ["--scan-interval", f"{SCAN_S:g}s", "--doctor-interval", "5s", *extra]
    if root is not None:
        argv += ["--root", root]
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"serve on {port} did not start")
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_scraped_after(url: str, instance: str, t: float, timeout: float = 15) -> None:
    """Until Prometheus holds a scrape of ``instance`` taken after epoch second ``t``."""
    query = urllib.parse.urlencode({"query": f'timestamp(up{{instance="{instance}"}})'})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=5) as r:
            result = json.load(r)["data"]["result"]
        if result and float(result[0]["value"][1]) > t:
            return
        time.sleep(0.1)
    pytest.fail(f"Prometheus did not scrape {instance} in {timeout} s")


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


@pytest.mark.kernel
def test_fleet_ranks_the_swapping_host_first(tmp_path: Any, monkeypatch: Any) -> None:
    lab.require_kernel_tests()
    from test_taskstats_live import set_switch, switch_restored, taskstats

    ports = [free_port(), free_port(), free_port()]
    # The hog runs python under a name of its own (comm: the exec'd file's name, 15
    # characters), so its swap-in wait series is its alone.
    link = tmp_path / "checkswap-test-fleethog"
    os.symlink(os.path.realpath(sys.executable), link)
    comm = link.name[:15]
    with switch_restored(), contextlib.ExitStack() as stack:
        set_switch(0)  # serve --delayacct switches it on, and back when it ends
        stack.enter_context(lab.swapfile(256, name="fleet"))
        cg = stack.enter_context(lab.memory_cgroup(64, name="fleet"))
        live = stack.enter_context(serve(ports[0], None, "--delayacct"))
        a = stack.enter_context(serve(ports[1], os.path.join(FIXTURES, "linux-6.18-swapping")))
        b = stack.enter_context(serve(ports[2], os.path.join(FIXTURES, "check-no-swap-6.18")))
        url = stack.enter_context(prometheus(scrape=[live, a, b], interval="1s"))
        time.sleep(5)  # a few scrapes of every target before the window opens
        start = time.time()
        v0 = lab.vmstat()
        # The hog's first fill swaps out ~90 MiB in well under a second: it starts once the
        # window holds a scrape of the still counters, or increase() misses that burst (CI
        # once counted 2.1 % fewer pages out than the kernel).
        _wait_scraped_after(url, live, start)
        monkeypatch.setattr(sys, "executable", str(link))
        hog = stack.enter_context(lab.Hog(cg, 160, 60))  # forked after the switch: accounted
        monkeypatch.undo()
        hog.wait_ready()
        # The kernel's own swap-in delay of the hog (taskstats, the test's own netlink lines):
        # early, once serve has surely read it twice; late, a scan and a margin before it
        # stops; and last, just before.
        time.sleep(2 * SCAN_S + 1)
        early = taskstats(hog.pid)["swapin"] / 1e9
        time.sleep(max(0.0, start + WINDOW_S - 20 - SCAN_S - 1 - time.time()))
        late = taskstats(hog.pid)["swapin"] / 1e9
        time.sleep(max(0.0, start + WINDOW_S - 20 - time.time()))
        final = taskstats(hog.pid)["swapin"] / 1e9
        hog.stop()  # swap stops moving 20 s before the window closes: both edges still
        time.sleep(max(0.0, start + WINDOW_S - time.time()))
        end = time.time()
        v1 = lab.vmstat()
        time.sleep(3)  # the scrapes up to the window's end are stored
        window = ["fleet", "--prometheus", url, "--from", _iso(start), "--to", _iso(end)]
        code, out, err = run_cli(window, ["--format", "json"])
        # The text table too, for the record of the run (pytest -s shows it).
        text_code, text, _ = run_cli(window)
        assert text_code == code
        print(f"\n$ checkswap {' '.join(window)}\n{text}")
    rows = [json.loads(x) for x in out.splitlines()]
    hosts, summary = rows[:-1], rows[-1]
    assert summary["hosts"] == 3 and summary["queries"] == len(QUERIES), (out, err)
    top = hosts[0]
    assert top["instance"] == live, hosts
    assert top["verdict"] in ("swapping", "thrashing"), top
    assert code == (2 if top["verdict"] == "thrashing" else 1), err
    kin, kout = v1["pswpin"] - v0["pswpin"], v1["pswpout"] - v0["pswpout"]
    print(f"kernel deltas over the window: pswpin {kin}, pswpout {kout}; fleet: {top}")
    assert kout > 10_000, "the hog did not swap out"
    # increase() extrapolates each edge by up to half a scrape interval (1 s) of the counter's
    # average slope; the counters are still at both edges, so the totals are within 2 %.
    for got, want in ((top["swap_out_pages"], kout), (top["swap_in_pages"], kin)):
        assert abs(got - want) <= 0.02 * want + 50, (got, want)
    assert top["peak_swap_in_per_s"] is not None
    for other in hosts[1:]:
        assert other["verdict"] == "quiet" and other["swap_in_pages"] == 0, other
        assert other["swap_out_pages"] == 0, other
        assert other["top_waiters"] is None, other  # serve without --delayacct: not measured
    # The hog's swap-in wait over the window, as fleet asked it of Prometheus, against the
    # kernel's. serve counts a process from its second reading (the first is its baseline),
    # increase() drops the series' first value (it appears when it first grows) and may add
    # half a scrape of slope at that edge, and the hog waited a little after serve's last
    # reading: so between the kernel's late figure less its early one and its final figure.
    waited = {w["comm"]: w["swapin_wait_s"] for w in top["top_waiters"]}
    print(
        f"hog's swap-in delay (taskstats): early {early:.3f} s, late {late:.3f} s, "
        f"final {final:.3f} s; fleet: {waited}"
    )
    assert final > 0.05, "the hog never waited for swap-in"
    assert comm in waited, top["top_waiters"]
    assert late - early - 0.01 <= waited[comm] <= final * 1.05 + 0.01, (waited, early, late, final)
