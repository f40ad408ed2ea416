"""``checkswap dash`` end to end: bad input, the terminal's restore, tmux panes, replay, live.

The tmux tests run the real command in a real terminal (tmux) of a fixed size, read the screen
back with ``capture-pane`` and check the terminal modes with ``stty -g`` before and after.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import sys
import termios
import time

import pytest
import tmux
from clihelp import run_cli
from rechelp import ZSWAP_T0, write_zswap_recording

from checkswap.kernel.pressure import Pressure, PressureLine
from checkswap.model.sample import Sample
from checkswap.record.format import sample_to_record

pytest.importorskip("rich")

DASH = [sys.executable, "-m", "checkswap", "dash"]


# --- bad input: one line, exit 2 -------------------------------------------------------------


def test_not_a_terminal_points_to_watch() -> None:
    status, out, err = run_cli("dash")
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and "checkswap watch" in err and "terminal" in err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["dash", "--speed", "10"], "--speed applies to --replay"),
        (["dash", "--replay", "/nonexistent/rec.jsonl"], "no such recording"),
        (["dash", "--replay", "/dev/null", "--speed", "fast"], "invalid --speed 'fast'"),
        (["dash", "--replay", "/dev/null", "--speed", "-1"], "must be ≥ 0"),
        (["dash", "-i", "1x"], "invalid interval"),
        # -i was ignored with --replay (a recording keeps its interval); watch refuses it too.
        (["dash", "--replay", "/dev/null", "-i", "2"], "-i does not apply to --replay"),
        (["dash", "--replay", "/dev/null", "--speed", "10x", "-i", "2"], "-i does not apply"),
    ],
)
def test_bad_arguments_are_one_line_and_status_2(argv: list[str], says: str) -> None:
    status, _, err = run_cli(*argv)
    assert status == 2
    assert err.count("\n") == 1 and says in err, err


# --- the terminal is restored whatever ends the session --------------------------------------


def test_terminal_restored_after_an_exception() -> None:
    from checkswap.render.terminal import Terminal

    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        out = os.fdopen(os.dup(slave), "w")
        with pytest.raises(RuntimeError), Terminal(slave, out):
            during = termios.tcgetattr(slave)
            assert not during[3] & termios.ICANON and not during[3] & termios.ECHO
            raise RuntimeError("a bug in a renderer")
        assert termios.tcgetattr(slave) == before
        out.close()
        # One read may return only part of it: the pty hands over what has arrived so far.
        written = os.read(master, 65536).decode()
        deadline = time.monotonic() + 5
        while not written.endswith("\x1b[?1049l") and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                written += os.read(master, 65536).decode()
        assert written.startswith("\x1b[?1049h") and written.endswith("\x1b[?1049l")
        assert signal.getsignal(signal.SIGWINCH) in (signal.SIG_DFL, None)
    finally:
        os.close(master)
        os.close(slave)


# --- replay, in a tmux pane ------------------------------------------------------------------

T0 = 1795000000.0


def write_recording(path: str, seconds: int = 30) -> None:
    """Raw samples 1 s apart: quiet, then swap-out at 2,000 pages/s, a peak of 9,000 at t=20."""
    lines = []
    pout = pin = 0
    for t in range(seconds + 1):
        if t > 10:
            pout += 9000 if t == 20 else 2000
            pin += 500
        psi = PressureLine(1.0, 1.0, 1.0, t * 50_000)
        s = Sample(
            5000.0 + t,
            T0 + t,
            {"pswpin": pin, "pswpout": pout, "pgmajfault": pin},
            {"SwapTotal": 1 << 30, "SwapFree": (1 << 30) - pout * 4096, "SwapCached": 0},
            Pressure(psi, psi),
        )
        lines.append(json.dumps(sample_to_record(s, 4096)))
        if t == 5:
            lines.append('{"type": "raw", "mono": "trunc')  # a torn line: counted, skipped
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def test_replay_plays_a_recording_and_q_restores_the_terminal(tmp_path: object) -> None:
    rec = os.path.join(str(tmp_path), "night.jsonl")
    write_recording(rec)
    peak_at = time.strftime("%H:%M:%S", time.localtime(T0 + 20))
    with tmux.pane([*DASH, "--replay", rec, "--speed", "20x"], 80, 24, "replay") as p:
        screen = p.wait_for(lambda s: "end of recording" in s, 20, "the end of the replay")
        rows = screen.splitlines()
        assert len(rows) == 24
        assert "replay night.jsonl 20x" in rows[0]
        assert "end of recording: 30 intervals, 1 bad line skipped" in screen
        out_row = next(r for r in rows if r.startswith("swap-out "))
        assert re.search(r"swap-out\s+2,000\s+7\.8\s", out_row), out_row  # now, MiB/s
        assert f"9,000 {peak_at}" in out_row  # the peak and its (recorded) time
        assert "processes are not in a recording" in screen
        assert p.info("#{alternate_on}") == "1"
        p.keys("q")
        assert p.exit_status() == 0
        assert p.info("#{alternate_on} #{cursor_flag}") == "0 1"
        assert p.stty("after") == p.stty("before")


def test_replay_pause_stops_the_clock(tmp_path: object) -> None:
    rec = os.path.join(str(tmp_path), "night.jsonl")
    write_recording(rec, seconds=60)
    with tmux.pane([*DASH, "--replay", rec, "--speed", "10"], 80, 24, "pause") as p:
        p.wait_for(lambda s: "swap-out " in s and "waiting" not in s, 10, "the first interval")
        p.keys("p")
        first = p.wait_for(lambda s: "PAUSED" in s, 5, "the pause badge")
        time.sleep(1.5)  # 15 recorded seconds at 10x: nothing may move meanwhile
        assert p.capture() == first
        p.keys("p")
        p.wait_for(lambda s: "end of recording" in s, 20, "the replay to go on and end")
        p.keys("q")
        assert p.exit_status() == 0


# --- live, in a tmux pane: keys, resize, signals ---------------------------------------------


def _child_pid(p: tmux.Pane) -> int:
    shell = int(p.info("#{pane_pid}"))
    with open(f"/proc/{shell}/task/{shell}/children") as f:
        return int(f.read().split()[0])


def test_live_keys_resize_and_sigterm_restore_the_terminal() -> None:
    with tmux.pane(DASH, 80, 24, "live") as p:
        p.wait_for(lambda s: "swap-out " in s and "live" in s, 15, "the dashboard")
        p.keys("?")
        p.wait_for(lambda s: "keys and figures" in s, 5, "the help")
        p.keys("x")  # any key closes the help
        p.wait_for(lambda s: "keys and figures" not in s, 5, "the help to close")
        p.keys("s")
        p.wait_for(lambda s: "sort: activity" in s, 5, "the sort to change")
        p.keys("p")
        frozen = p.wait_for(lambda s: "PAUSED" in s, 5, "the pause badge")
        time.sleep(2.5)  # two samples taken meanwhile: the screen stays as it was
        assert p.capture() == frozen
        p.keys("p")
        p.wait_for(
            lambda s: "PAUSED" not in s and s.splitlines()[0] != frozen.splitlines()[0],
            5,
            "the screen to move on",
        )
        p.resize(120, 40)
        screen = p.wait_for(
            lambda s: len(s.splitlines()) == 40 and s.splitlines()[-1].startswith(" q "),
            5,
            "a redraw at 120×40",
        )
        assert screen.splitlines()[0].startswith(" checkswap · ")
        os.kill(_child_pid(p), signal.SIGTERM)
        assert p.exit_status() == 0
        assert p.info("#{alternate_on} #{cursor_flag}") == "0 1"
        assert p.stty("after") == p.stty("before")


def test_ctrl_c_exits_cleanly() -> None:
    with tmux.pane(DASH, 80, 24, "ctrlc") as p:
        p.wait_for(lambda s: "swap-out " in s, 15, "the dashboard")
        p.keys("C-c")
        assert p.exit_status() == 0
        screen = p.capture()
        assert "Traceback" not in screen
        assert p.stty("after") == p.stty("before")


def test_no_color_draws_without_colour() -> None:
    with tmux.pane(DASH, 80, 24, "nocolor", env={"NO_COLOR": "1"}) as p:
        p.wait_for(lambda s: "swap-out " in s, 15, "the dashboard")
        ansi = p.capture_ansi()
        params = [x for m in re.findall(r"\x1b\[([0-9;]*)m", ansi) for x in m.split(";")]
        assert "1" in params or "7" in params  # bold and reverse stay
        assert not [x for x in params if x[:1] in ("3", "4") and len(x) == 2 and x[1] != "9"]
        p.keys("q")
        assert p.exit_status() == 0


# --- replay of a recording with zswap traffic: every tier's rows and the recorded tiers --------


def test_replay_shows_every_tier_and_the_recorded_tiers(tmp_path: object) -> None:
    rec = os.path.join(str(tmp_path), "zswap.jsonl")
    ins, outs = write_zswap_recording(rec, enabled=True)
    peak_at = time.strftime("%H:%M:%S", time.localtime(ZSWAP_T0 + 17))
    with tmux.pane([*DASH, "--replay", rec, "--speed", "0"], 120, 40, "replay-tiers") as p:
        screen = p.wait_for(lambda s: "end of recording" in s, 20, "the end of the replay")
        rows = screen.splitlines()
        dev_in = next(r for r in rows if r.startswith("swap-in "))
        assert re.match(r"swap-in\s+0\s", dev_in), dev_in  # the devices read nothing in
        all_out = next(r for r in rows if r.startswith("all out "))
        all_in = next(r for r in rows if r.startswith("all in "))
        # now, 1m (the 30 s so far), 5m, 15m, peak and when: from the counters written above.
        mean_out = f"{sum(outs) / len(outs):,.0f}"
        assert all_out.split()[2:8] == [
            f"{outs[-1]:,}",
            mean_out,
            mean_out,
            mean_out,
            f"{max(outs):,}",
            peak_at,
        ], all_out
        assert all_in.split()[2:3] == [f"{ins[-1]:,}"], all_in
        # The tiers panel: the last recorded tiers line, as the live view shows TierWatch's.
        assert "zswap pool 120.0 MiB of its 200.0 MiB limit (60 %)" in screen, screen
        p.keys("q")
        assert p.exit_status() == 0


def test_replay_without_zswap_enabled_keeps_the_devices_rows_only(tmp_path: object) -> None:
    rec = os.path.join(str(tmp_path), "off.jsonl")
    write_zswap_recording(rec, enabled=False)
    with tmux.pane([*DASH, "--replay", rec, "--speed", "0"], 120, 40, "replay-off") as p:
        screen = p.wait_for(lambda s: "end of recording" in s, 20, "the end of the replay")
        assert not [r for r in screen.splitlines() if r.startswith("all ")], screen
        # The pool still holds pages, so the recorded tiers still show it, as disabled.
        assert "zswap pool 120.0 MiB of its 200.0 MiB limit (60 %), disabled" in screen, screen
        p.keys("q")
        assert p.exit_status() == 0
