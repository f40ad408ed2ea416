"""One tick scheduler (sample.Ticker) paces every command that takes samples more than once.

A snapshot bundle's samples are taken already, so replaying one never waits: every command on a
bundle returns at once whatever its interval. Live, ticks fall at start + k * interval.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from clihelp import FIXTURES

from checkswap.cli import main
from checkswap.env import Env
from checkswap.model.sample import Ticker


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class FakeRoot:
    """A root with ``left`` more samples after the current one (None: live, endless)."""

    def __init__(self, replays: bool, left: int | None = None) -> None:
        self.replays = replays
        self.left = left
        self.advanced = 0

    def advance(self) -> bool:
        if self.left is not None:
            if self.left == 0:
                return False
            self.left -= 1
        self.advanced += 1
        return True


def test_live_ticks_are_drift_free() -> None:
    clock = FakeClock()
    root = FakeRoot(replays=False)
    ticker = Ticker(root, 2.0, clock.monotonic, clock.sleep)  # type: ignore[arg-type]
    ticks = []
    for work in (0.3, 0.5, 0.1):
        clock.now += work  # sampling and printing take time; the schedule absorbs it
        assert ticker.wait()
        ticks.append(clock.now)
    assert ticks == [102.0, 104.0, 106.0]
    assert root.advanced == 3


def test_a_stall_restarts_the_schedule_instead_of_bursting() -> None:
    clock = FakeClock()
    root = FakeRoot(replays=False)
    ticker = Ticker(root, 1.0, clock.monotonic, clock.sleep)  # type: ignore[arg-type]
    assert ticker.wait()
    assert clock.now == 101.0
    clock.now += 10.0  # suspended: five ticks missed
    assert ticker.wait()  # no sleep, and the missed ticks are not made up
    assert clock.now == 111.0
    assert ticker.wait()
    assert clock.now == 112.0  # a tick after the restart, not after the old start
    assert clock.slept == [1.0, 1.0]


def test_a_late_tick_within_an_interval_keeps_the_schedule() -> None:
    clock = FakeClock()
    ticker = Ticker(FakeRoot(False), 1.0, clock.monotonic, clock.sleep)  # type: ignore[arg-type]
    clock.now += 1.5  # half an interval late: no sleep, the next tick stays on the grid
    assert ticker.wait()
    assert ticker.wait()
    assert clock.now == 102.0


def test_a_replaying_root_never_sleeps_and_ends_when_it_runs_out() -> None:
    clock = FakeClock()
    root = FakeRoot(replays=True, left=2)
    ticker = Ticker(root, 60.0, clock.monotonic, clock.sleep)  # type: ignore[arg-type]
    assert ticker.wait()
    assert ticker.wait()
    assert not ticker.wait()
    assert clock.slept == []
    assert clock.now == 100.0
    assert root.advanced == 2


# --- every command on a 3-sample bundle, with the real clock ----------------------------------

# A sleep of even one interval (2 s) fails this; reading a small bundle takes far less.
QUICK_S = 1.0


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = str(tmp_path_factory.mktemp("ticker") / "three.tar.gz")
    clock = FakeClock()  # capturing live waits for real: a fake clock keeps the fixture quick
    env = Env(
        stdout=io.StringIO(), stderr=io.StringIO(), monotonic=clock.monotonic, sleep=clock.sleep
    )
    root = os.path.join(FIXTURES, "linux-6.18-swapping")
    with pytest.MonkeyPatch.context() as mp:
        # A live root stamps its samples with the time module's clock: the same fake one.
        mp.setattr(time, "monotonic", clock.monotonic)
        assert main(["snapshot", "-n", "3", "-i", "1", "-o", out, "--root", root], env) == 0
    assert clock.slept == [1.0, 1.0]
    return out


def _timed(argv: list[str]) -> tuple[float, int, str]:
    out = io.StringIO()
    env = Env(stdout=out, stderr=io.StringIO())  # the real monotonic clock and time.sleep
    t0 = time.monotonic()
    status = main(argv, env)
    return time.monotonic() - t0, status, out.getvalue()


@pytest.mark.parametrize(
    "argv",
    [
        ["watch", "-n", "3", "-i", "2"],
        ["top", "-n", "3", "-i", "2"],
        ["doctor", "--sample", "2"],
        ["snapshot", "-n", "3", "-i", "2", "-o", "{tmp}/again.tar.gz"],
        ["record", "-n", "3", "-i", "2", "-o", "{tmp}/rec.jsonl"],
    ],
    ids=lambda a: a[0],
)
def test_a_bundle_replays_without_waiting(bundle: str, tmp_path: Path, argv: list[str]) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv] + ["--root", bundle]
    took, status, _ = _timed(argv)
    assert status == 0
    assert took < QUICK_S, f"{argv[0]} on a bundle took {took:.2f} s"


def test_check_on_a_bundle_measures_its_samples_without_waiting(
    bundle: str, tmp_path: Path
) -> None:
    state = str(tmp_path / "state")
    took, _, out = _timed(["check", "--sample", "2", "--state-file", state, "--root", bundle])
    assert took < QUICK_S, f"check on a bundle took {took:.2f} s"
    # Its first two captured samples, 1 s apart: not one sample read twice.
    assert "clock did not advance" not in out
    assert "over 1.0 s" in out
