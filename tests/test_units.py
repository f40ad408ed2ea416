"""checkswap/units.py against its contract (docs/interface.md): what SECONDS, SIZE, COUNT, a
replay speed and a rate threshold accept, how each refuses (one line naming the option and the
text, with a hint), where the bounds are, and that the formatters read back.

The expected values are worked out here from the numbers (K = 1024, m = 60 s), never by calling
checkswap: a table that asked the parser for its answers could not fail.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checkswap import units
from checkswap.errors import BadInput
from checkswap.units import (
    format_bytes,
    iso_utc,
    parse_count,
    parse_duration,
    parse_int,
    parse_rate,
    parse_size,
    parse_speed,
)

KiB, MiB, GiB, TiB, PiB = (1024**i for i in range(1, 6))
# The machine is shared and loaded: hypothesis' per-example deadline would measure the neighbours.
quick = settings(deadline=None, max_examples=200)


def refusal(parse: Callable[..., Any], *args: Any) -> str:
    """The message of the BadInput ``parse(*args)`` raises; one line, as the CLI prints it."""
    with pytest.raises(BadInput) as e:
        parse(*args)
    message = str(e.value)
    assert "\n" not in message and message == message.strip(), repr(message)
    return message


# --- SECONDS ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        # docs/interface.md: `2`, `0.5`, `2s`, `5m`, `1h`, `1d`, `250ms`
        ("2", 2.0),
        ("0.5", 0.5),
        ("2s", 2.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("250ms", 0.25),
        # and the spellings people type around them
        (".5", 0.5),
        ("5.", 5.0),
        ("2\n", 2.0),
        ("\t0.25 ", 0.25),
        (" 2s ", 2.0),
        ("2 s", 2.0),
        ("2S", 2.0),
        ("1.5H", 5400.0),
        ("30sec", 30.0),
        ("2 minutes", 120.0),
        ("2mins", 120.0),
        ("3 hours", 10800.0),
        ("2days", 172800.0),
    ],
)
def test_seconds_spellings(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0", "invalid interval '0': it must be greater than 0"),
        ("0s", "invalid interval '0s': it must be greater than 0"),
        ("-1", "invalid interval '-1': it must be greater than 0"),
        ("1w", "invalid interval '1w'; units are ms, s, m, h or d, e.g. 2s or 5m"),
        ("2x", "units are ms, s, m, h or d"),
        ("", "invalid interval ''; give seconds such as 2, 0.5, 2s or 5m"),
        ("s", "give seconds such as 2, 0.5, 2s or 5m"),
        # float() would take these; a command line means none of them
        ("1e3", "invalid interval '1e3'"),
        ("nan", "invalid interval 'nan'"),
        ("inf", "invalid interval 'inf'"),
        ("1_000", "invalid interval '1_000'"),
        ("٣", "invalid interval '٣'"),  # an Arabic-Indic 3: \d and float() take it
        ("2s5m", "invalid interval '2s5m'"),
        # the plain-number path (no pattern) refuses what the pattern refuses
        (".", "invalid interval '.'"),
        ("5..5", "invalid interval '5..5'"),
        ("1.5.", "invalid interval '1.5.'"),
        ("\u30002", "give seconds such as 2"),  # an ideographic space: not \s under ASCII
        ("2\xa0", "give seconds such as 2"),
        ("²", "invalid interval '²'"),
    ],
)
def test_seconds_refusals(text: str, says: str) -> None:
    assert says in refusal(parse_duration, text)


def test_seconds_refusal_names_the_option() -> None:
    assert refusal(parse_duration, "soon", "--sample").startswith("invalid --sample 'soon'")
    refused = refusal(parse_duration, "-3", "--duration")
    assert "invalid --duration '-3': it must be greater than 0" in refused


def test_seconds_bound_is_366_days() -> None:
    year = 366 * 86400
    assert parse_duration("366d") == parse_duration(str(year)) == year == units.MAX_DURATION
    assert "at most 366 days" in refusal(parse_duration, str(year + 1))
    assert "at most 366 days" in refusal(parse_duration, "367d")
    assert "at most 366 days" in refusal(parse_duration, "9" * 400)  # float() gives inf
    assert 0 < parse_duration("0.001ms") < 1e-5  # small is fine: only 0 is not a duration


@quick
@given(st.integers(min_value=1, max_value=366 * 86400))
def test_seconds_whole_numbers_in_every_unit_agree(n: int) -> None:
    assert parse_duration(str(n)) == parse_duration(f"{n}s") == n
    assert parse_duration(f"{n * 1000}ms") == pytest.approx(n)
    if n % 60 == 0:
        assert parse_duration(f"{n // 60}m") == n
    if n % 86400 == 0:
        assert parse_duration(f"{n // 86400}d") == n


@quick
@given(st.floats(min_value=1e-6, max_value=366 * 86400.0))
def test_seconds_decimal_text_reads_back(x: float) -> None:
    text = f"{x:.6f}"
    assert parse_duration(text) == float(text)


# --- SIZE ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        # docs/interface.md: `512M`, `1G`, `1.5GiB`, `4096`; binary multiples (K = 1024)
        ("512M", 512 * MiB),
        ("1G", GiB),
        ("1.5GiB", 3 * GiB // 2),
        ("4096", 4096),
        ("1k", KiB),
        ("1K", KiB),
        ("1KB", KiB),
        ("1KiB", KiB),
        ("1kib", KiB),
        ("64M", 64 * MiB),
        ("1 G", GiB),
        ("1GB", GiB),  # GB is read as GiB: sizes here are memory and files, binary
        ("2T", 2 * TiB),
        ("1P", PiB),
        ("1b", 1),
        ("1MiB ", MiB),
        (".5K", 512),
        ("1.5", 1),  # a fraction of a byte is dropped, not rounded up
    ],
)
def test_size_spellings(text: str, size: int) -> None:
    value = parse_size(text)
    assert value == size and type(value) is int


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0", "invalid size '0': it must be greater than 0"),
        ("0G", "invalid size '0G': it must be greater than 0"),
        ("-1", "invalid size '-1': it must be greater than 0"),
        ("lots", "invalid size 'lots'; give a size such as 512M, 1G or 1.5GiB"),
        ("8E", "invalid size '8E'"),  # exbi is beyond off_t anyway
        ("1e3", "invalid size '1e3'"),
        ("1,5G", "invalid size '1,5G'"),
        ("٣G", "invalid size '٣G'"),
        ("1GiG", "invalid size '1GiG'"),
    ],
)
def test_size_refusals(text: str, says: str) -> None:
    assert says in refusal(parse_size, text)


@pytest.mark.parametrize("text", ["0.1", "0.5b", "0.9", ".0001K"])
def test_size_of_less_than_one_byte_is_refused(text: str) -> None:
    # These once passed the "greater than 0" check on the float and came back as 0 bytes.
    assert f"invalid --size {text!r}" in refusal(parse_size, text, "--size")


def test_size_bound_is_off_t() -> None:
    assert parse_size("8191P") == 8191 * PiB
    assert "at most 8 EiB" in refusal(parse_size, "8192P")  # 2**63: one past off_t
    assert "at most 8 EiB" in refusal(parse_size, "9" * 400)  # float() gives inf
    assert "at most 8 EiB" in refusal(parse_size, "8388608T")
    assert refusal(parse_size, "x", "--rotate-size").startswith("invalid --rotate-size 'x'")


@quick
@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_size_in_bytes_reads_back_exactly(n: int) -> None:
    # Exact to off_t's last byte: a whole number is not taken through float.
    assert parse_size(str(n)) == n


def test_size_exact_where_a_float_is_not() -> None:
    assert parse_size(str(2**53 + 1)) == 2**53 + 1
    assert parse_size(str(2**63 - 1)) == 2**63 - 1
    assert "at most 8 EiB" in refusal(parse_size, str(2**63))


@pytest.mark.parametrize("text", ["1i", "1ib", "1Ki", "1gi"])
def test_size_with_a_lone_i_is_refused(text: str) -> None:
    # "i" only means something before "B" (KiB): "1i" was read as 1 byte.
    assert f"invalid --size {text!r}" in refusal(parse_size, text, "--size")


@quick
@given(st.integers(min_value=1, max_value=2**20), st.sampled_from(["K", "M", "G", "T"]))
def test_size_multiples(n: int, unit: str) -> None:
    power = {"K": KiB, "M": MiB, "G": GiB, "T": TiB}[unit]
    assert parse_size(f"{n}{unit}") == parse_size(f"{n}{unit}iB") == n * power


@quick
@given(st.integers(min_value=1, max_value=2**50))
def test_format_bytes_reads_back_within_its_rounding(n: int) -> None:
    text = format_bytes(n)  # "1.5 KiB": one decimal, so within 0.05 of the unit shown
    back = parse_size(text)
    unit = 1 if text.endswith(" B") else 1024 ** ["KiB", "MiB", "GiB", "TiB"].index(text[-3:]) * KiB
    assert abs(back - n) <= 0.05 * unit + 1


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (None, "-"),
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (MiB, "1.0 MiB"),
        (3 * GiB // 2, "1.5 GiB"),
        (-2048, "-2.0 KiB"),
        (1024 * TiB, "1024.0 TiB"),  # TiB is the largest unit shown
    ],
)
def test_format_bytes(n: int | None, text: str) -> None:
    assert format_bytes(n) == text


def test_format_bytes_digits() -> None:
    assert format_bytes(1536, 2) == "1.50 KiB"
    assert format_bytes(1536, 0) == "2 KiB"
    assert format_bytes(100, 3) == "100 B"  # whole bytes: no decimals


# --- COUNT and whole numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("1", 1),
        ("60", 60),
        ("+5", 5),
        (" 7 ", 7),
        ("7\n", 7),
        ("00001", 1),
        ("2147483647", 2**31 - 1),
    ],
)
def test_count_spellings(text: str, n: int) -> None:
    assert parse_count(text) == n


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0", "invalid count '0': it must be at least 1"),
        ("000", "invalid count '000': it must be at least 1"),
        ("-1", "invalid count '-1': give a whole number such as 60 (it must be at least 1)"),
        ("1.5", "invalid count '1.5': give a whole number such as 60"),
        ("1e3", "give a whole number such as 60"),
        ("٣", "give a whole number such as 60"),
        ("", "give a whole number such as 60"),
        ("+", "give a whole number such as 60"),
        ("++5", "give a whole number such as 60"),
        ("+-5", "give a whole number such as 60"),
        ("\u30005", "give a whole number such as 60"),
        ("²", "give a whole number such as 60"),
        ("2147483648", "invalid count '2147483648': at most 2147483647"),
    ],
)
def test_count_refusals(text: str, says: str) -> None:
    assert says in refusal(parse_count, text)


def test_a_huge_count_is_refused_in_one_short_line() -> None:
    message = refusal(parse_count, "9" * 5000, "-n")  # int() of it raises on 3.11+
    assert message.startswith("invalid -n '99999") and "at most 2147483647" in message
    assert len(message) < 100


@quick
@given(st.integers(min_value=1, max_value=units.MAX_COUNT))
def test_count_reads_back(n: int) -> None:
    assert parse_count(str(n)) == n


@pytest.mark.parametrize(("text", "n"), [("0", 0), ("10", 10), ("+5", 5), (" 3 ", 3)])
def test_int_in_range(text: str, n: int) -> None:
    assert parse_int(text, "--x", 0, 10) == n


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("11", "--x 11: must be between 0 and 10"),
        ("-5", "--x -5: must be between 0 and 10"),
        ("٣", "invalid --x '٣': give a whole number from 0 to 10"),
        ("", "invalid --x '': give a whole number from 0 to 10"),
        ("1" * 19, "give a whole number from 0 to 10"),
        ("1.0", "give a whole number from 0 to 10"),
    ],
)
def test_int_refusals(text: str, says: str) -> None:
    assert says in refusal(parse_int, text, "--x", 0, 10)


# --- replay speed and rate thresholds --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "factor"),
    [("10", 10.0), ("10x", 10.0), ("10X", 10.0), ("0", 0.0), ("0x", 0.0), (".5x", 0.5), ("1", 1.0)],
)
def test_speed_spellings(text: str, factor: float) -> None:
    # The promise: `10` and `10x` are the same speed; 0 plays without pauses.
    assert parse_speed(text) == factor


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("fast", "invalid --speed 'fast': give a factor such as 1, 10 or 0"),
        ("-1", "(it must be ≥ 0; 0: no pauses)"),
        ("x", "invalid --speed 'x'"),
        ("1e9", "invalid --speed '1e9'"),
        ("nan", "invalid --speed 'nan'"),
        ("1000000001", "invalid --speed '1000000001': at most 1000000000"),
    ],
)
def test_speed_refusals(text: str, says: str) -> None:
    assert says in refusal(parse_speed, text)


def test_speed_bound() -> None:
    assert parse_speed("1000000000") == 1e9


@quick
@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False))
def test_speed_with_or_without_x(d: Any) -> None:
    assert parse_speed(f"{d}") == parse_speed(f"{d}x") == float(d)


@pytest.mark.parametrize(("text", "rate"), [("1000", 1000.0), ("0", 0.0), ("10.5", 10.5)])
def test_rate_spellings(text: str, rate: float) -> None:
    assert parse_rate(text, "--spike") == rate


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "1000/s",
            "invalid --spike '1000/s': give pages per second, e.g. 1000"
            " (give the number alone: 1000)",
        ),
        ("1000 pages/s", "(give the number alone: 1000)"),
        ("-5", "invalid --spike '-5': give pages per second, e.g. 1000 (it must be ≥ 0)"),
        ("abc", "invalid --spike 'abc': give pages per second, e.g. 1000"),
        ("1e3", "invalid --spike '1e3'"),
        ("1_000", "invalid --spike '1_000'"),
        ("nan", "invalid --spike 'nan'"),
    ],
)
def test_rate_refusals(text: str, says: str) -> None:
    assert says in refusal(parse_rate, text, "--spike")


def test_rate_bound_and_the_option_named() -> None:
    assert parse_rate(str(10**12), "--trigger") == 1e12
    assert f"invalid --trigger '{10**12 + 1}': at most 1e+12 pages per second" in refusal(
        parse_rate, str(10**12 + 1), "--trigger"
    )


# --- every refusal: one short line ------------------------------------------------------------


@pytest.mark.parametrize(
    "parse",
    [
        parse_duration,
        parse_size,
        parse_count,
        parse_speed,
        lambda t: parse_rate(t, "--spike"),
        lambda t: parse_int(t, "--x", 0, 10),
    ],
)
@pytest.mark.parametrize("text", ["x" * 400, "9" * 400 + "q", "-" + "9" * 400, "1\n2"])
def test_a_long_or_odd_value_gives_one_short_line(parse: Callable[[str], Any], text: str) -> None:
    message = refusal(parse, text)
    assert len(message) < 140, message  # the value is cut, not echoed whole


# --- times -----------------------------------------------------------------------------------


def test_iso_utc_as_documented() -> None:
    # docs/interface.md: UTC, ISO 8601 with milliseconds and an explicit offset.
    assert iso_utc(1795737600.0) == "2026-11-27T00:00:00.000+00:00"
    assert iso_utc(1795737600.0 + 13 * 3600 + 43 * 60 + 17.123) == "2026-11-27T13:43:17.123+00:00"
    assert iso_utc(0) == "1970-01-01T00:00:00.000+00:00"
    assert iso_utc(None) is None


@quick
@given(st.floats(min_value=0, max_value=2**34, allow_nan=False))
@example(2251799814.1339993)  # wall * 1e6 rounds to ...134000 µs; datetime's split gives 133999
@example(-0.0004)
@example(1.9999996)
def test_iso_utc_is_the_same_text_as_datetime(wall: float) -> None:
    # Made without datetime for start-up time; it must not drift from what datetime writes.
    expected = datetime.datetime.fromtimestamp(wall, datetime.timezone.utc).isoformat(
        timespec="milliseconds"
    )
    assert iso_utc(wall) == expected
