"""render/cells.py: the cells every text output shares, for values read back from recordings."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from checkswap.render import cells


@pytest.fixture()
def paris(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (59.6, "1m 0s"),
        (3600, "1h 0m 0s"),
        (90061, "1d 1h 1m 1s"),
        (None, "-"),
        (True, "-"),
        ("12", "-"),
    ],
)
def test_duration(seconds: object, text: str) -> None:
    assert cells.duration(seconds) == text


def test_times_are_local_with_the_zone_said(paris: None) -> None:
    winter = 1767225600.0  # 2026-01-01 00:00:00 UTC
    assert cells.local_time(winter) == "2026-01-01 01:00:00"
    assert cells.utc_offset(winter) == "UTC+01:00"
    assert cells.utc_offset(winter + 182 * 86400) == "UTC+02:00"  # summer time
    assert cells.local_iso("2026-01-01T00:00:00+00:00") == "2026-01-01 01:00:00"
    assert cells.wall_of("2026-01-01T00:00:00Z".replace("Z", "+00:00")) == winter


@pytest.mark.parametrize("bad", [None, 3, "", "yesterday", "2026-13-01T00:00:00"])
def test_a_time_that_is_not_one_shows_as_a_dash(bad: object) -> None:
    # Recordings come from other machines: a bad time is "-", never a traceback.
    assert cells.wall_of(bad) is None
    assert cells.local_iso(bad) == "-"


def test_no_zone_name_without_an_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "strftime", lambda fmt, t=None: "")
    assert cells.utc_offset(0.0) == "local time"
