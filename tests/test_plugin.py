"""monitoring-plugins range syntax and perfdata, table-driven from the guidelines' examples."""

from __future__ import annotations

import math

import pytest

from checkswap.errors import BadInput
from checkswap.fleet.plugin import parse_range, perfdata

# (range, values that alert, values that do not) — the guidelines' table of examples.
CASES = [
    ("10", [-1, 10.001, 11, 1e9], [0, 5, 10]),
    ("10:", [-1, 0, 9.99], [10, 11, 1e9]),
    ("~:10", [10.5, 11, 1e9], [-1e9, -1, 0, 10]),
    ("10:20", [9.99, 20.01, 0], [10, 15, 20]),
    ("@10:20", [10, 15, 20], [9.99, 20.01, 0]),
    ("0", [0.001, 1], [0]),
    ("1.5:2.5e1", [1.4, 25.1], [1.5, 25]),
    ("@~:0", [-5, 0], [0.1]),
    (" 5 ", [6], [5]),
]


@pytest.mark.parametrize(("text", "alerts", "quiet"), CASES)
def test_range_semantics(text: str, alerts: list[float], quiet: list[float]) -> None:
    r = parse_range(text)
    for v in alerts:
        assert r.alerts(v), (text, v)
    for v in quiet:
        assert not r.alerts(v), (text, v)


def test_range_bounds() -> None:
    r = parse_range("~:10")
    assert r.start == -math.inf and r.end == 10 and not r.inside
    r = parse_range("10:")
    assert r.start == 10 and r.end == math.inf
    assert parse_range("@10:20").inside


@pytest.mark.parametrize(
    "text", ["", "abc", "10:5", "@", ":", "~", "1:2:3", "10%", "--5", "10 20", "1,5"]
)
def test_bad_ranges_are_bad_input(text: str) -> None:
    with pytest.raises(BadInput) as e:
        parse_range(text, "--warning")
    assert "--warning" in str(e.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("10", "> 10"),
        ("10:", "< 10"),
        ("~:10", "> 10"),
        ("5:10", "outside 5..10"),
        ("@5:10", "inside 5..10"),
    ],
)
def test_describe(text: str, words: str) -> None:
    assert parse_range(text).describe() == words


def test_perfdata() -> None:
    assert perfdata("swap_in", 12.5, "", parse_range("10"), parse_range("20"), 0) == (
        "swap_in=12.5;10;20;0"
    )
    assert perfdata("swap_used_pct", 50.0, "%", None, None, 0, 100) == "swap_used_pct=50%;;;0;100"
    assert perfdata("swap_in_pages", 123456789, "c") == "swap_in_pages=123456789c"
    assert perfdata("psi", None, "%", parse_range("5")) == "psi=U;5"
    assert perfdata("two words", 1, "") == "'two words'=1"
