"""``checkswap dash`` live, while a hog swaps in a memory-limited cgroup (root, opt-in): the
screen agrees with the kernel's counters, and what ``record`` captured meanwhile replays.

Moved from test_dash.py: tests that change the machine live in ``*_live.py`` files.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import lab
import pytest
import tmux
from clihelp import CHECKSWAP

pytest.importorskip("rich")

DASH = [*CHECKSWAP, "dash"]


# --- live, while a hog swaps in a memory-limited cgroup ---------------------------------------


@pytest.mark.kernel
def test_live_dash_shows_a_swapping_hog_and_its_recording_replays(tmp_path: object) -> None:
    recording = os.path.join(str(tmp_path), "hog.jsonl")
    with contextlib.ExitStack() as stack:
        swap = stack.enter_context(lab.swapfile(512))
        cg = stack.enter_context(lab.memory_cgroup(64))
        p = stack.enter_context(tmux.pane(DASH, 80, 24, "hog"))
        recorder = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "checkswap",
                "record",
                "-o",
                recording,
                "-i",
                "0.5",
                "--trigger",
                "100",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        stack.callback(_stop, recorder)
        before = lab.vmstat()["pswpout"]
        hog = stack.enter_context(lab.Hog(cg, 160, seconds=25))
        hog.wait_ready()

        def swapping(s: str) -> bool:
            row = next((r for r in s.splitlines() if r.startswith("swap-out ")), "")
            now = row.split()[1] if len(row.split()) > 1 else "0"
            return now not in ("0", "-") and cg.name in s

        screen = p.wait_for(swapping, 30, "a non-zero swap-out and the hog's cgroup")
        after = lab.vmstat()["pswpout"]
        out_row = next(r for r in screen.splitlines() if r.startswith("swap-out "))
        now = float(out_row.split()[1].replace(",", ""))
        # What the screen says moved in one second, the kernel counted in the window.
        assert 0 < now <= after - before
        assert os.path.basename(swap)[-12:] in screen  # the swap area, with its kind
        assert "file on " in screen
        p.keys("q")
        assert p.exit_status() == 0
        assert p.stty("after") == p.stty("before")
        time.sleep(1.5)  # a trigger capture follows the sample that fired it
        _stop(recorder)
        assert recorder.returncode == 0, recorder.stderr.read() if recorder.stderr else ""

    # The recording `record` made, played back: the spike and, from the trigger's capture,
    # the hog's cgroup.
    with tmux.pane([*DASH, "--replay", recording, "--speed", "0"], 80, 24, "hogreplay") as p:
        screen = p.wait_for(lambda s: "end of recording" in s, 20, "the end of the replay")
        out_row = next(r for r in screen.splitlines() if r.startswith("swap-out "))
        peak = out_row.split()[6]
        assert peak not in ("0", "-"), out_row
        assert cg.name in screen and "captured by record --trigger" in screen
        p.keys("q")
        assert p.exit_status() == 0


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
