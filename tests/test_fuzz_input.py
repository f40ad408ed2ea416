"""Fuzz tests of what users type and what files from other machines hold: sizes, durations,
counts, rates, monitoring-plugins ranges, fstab lines, recording lines and root manifests.

Only BadInput (CheckswapError) may escape the option parsers and the manifest loader; a
recording line is either a sample or a counted bad line, never an exception.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import tempfile

from fuzzhelp import WEIRD_NUMBERS, fuzz, vary_name
from hypothesis import example, given
from hypothesis import strategies as st

from checkswap import units
from checkswap.errors import BadInput
from checkswap.fleet.plugin import parse_range
from checkswap.kernel.swaps import unescape
from checkswap.lab import fstab
from checkswap.record.format import Reading
from checkswap.source.root import Root
from checkswap.units import parse_rate

# Option text: mostly things that look like the accepted forms, bent.
_UNITS = ["", "s", "ms", "m", "h", "d", "k", "M", "G", "GiB", "P", "PiB", "/s", " pages", "x"]
option_text = st.one_of(
    st.tuples(st.sampled_from(WEIRD_NUMBERS), st.sampled_from(_UNITS)).map("".join),
    st.tuples(st.integers(), st.sampled_from(_UNITS)).map(lambda t: f"{t[0]}{t[1]}"),
    st.tuples(st.floats(allow_nan=True), st.sampled_from(_UNITS)).map(lambda t: f"{t[0]}{t[1]}"),
    st.from_regex(r"\A[@~:0-9.eE+\- ]{0,12}\Z"),
    st.text(max_size=30),
)


def _own_errors_only(fn: object, *args: object) -> object:
    try:
        return fn(*args)  # type: ignore[operator]
    except BadInput as e:
        message = str(e)
        assert "\n" not in message and len(message) < 400, message
        return None


@fuzz("parse_size")
@given(option_text)
@example("9" * 400)
@example("9" * 400 + "P")
def test_parse_size(text: str) -> None:
    value = _own_errors_only(units.parse_size, text, "--size")
    assert value is None or (type(value) is int and 0 <= value <= units.MAX_SIZE)


@fuzz("parse_duration")
@given(option_text)
@example("9" * 400 + "d")
def test_parse_duration(text: str) -> None:
    value = _own_errors_only(units.parse_duration, text, "--interval")
    assert value is None or 0 < value <= units.MAX_DURATION


@fuzz("parse_count")
@given(option_text)
@example("1" * 5000)
@example("٣")
def test_parse_count(text: str) -> None:
    value = _own_errors_only(units.parse_count, text, "--count")
    assert value is None or (type(value) is int and 1 <= value <= units.MAX_COUNT)


@fuzz("parse_rate")
@given(option_text)
@example("/s")
@example(" pages")
@example("nan")
def test_parse_rate(text: str) -> None:
    value = _own_errors_only(parse_rate, text, "--spike")
    assert value is None or (isinstance(value, float) and 0 <= value < float("inf"))


@fuzz("monitoring-plugins ranges")
@given(option_text)
@example("1" * 400)
@example("@~:")
def test_parse_range(text: str) -> None:
    rng = _own_errors_only(parse_range, text, "--warning")
    if rng is not None:
        assert rng.start <= rng.end  # type: ignore[attr-defined]
        assert rng.text.isascii()  # type: ignore[attr-defined]
        for value in (0.0, 50.0, 1e9):
            rng.alerts(value)  # type: ignore[attr-defined]


_path = st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s).map(lambda s: "/" + s)


@fuzz("fstab round trip", vary=vary_name("path"))
@given(_path, st.one_of(st.none(), st.integers(-1, 32767)), st.lists(st.text(max_size=30)))
@example("/var/tmp/my swap\\040file", 10, ["# a comment", "UUID=x / ext4 defaults 0 1"])
@example("/a\x0cb", None, [])
@example("/a\u2028b", None, [])
def test_fstab_round_trip(path: str, priority: int | None, others: list[str]) -> None:
    others = [o.replace("\n", " ") for o in others if path not in o]
    line = fstab.swap_line(path, priority)
    assert "\n" not in line
    text = fstab.with_line("\n".join(others), line)
    numbers = fstab.line_numbers(text, path)
    assert numbers, (text, path)
    # fstab(5) fields are separated by blanks: spaces and tabs, nothing else.
    first = next(f for f in text.split("\n")[numbers[-1]].replace("\t", " ").split(" ") if f)
    assert unescape(first) == path
    # Taking the line out gives back the other lines, untouched.
    rest = fstab.without_lines(text, numbers)
    assert fstab.line_numbers(rest, path) == []
    assert [r for r in rest.split("\n") if r] == [
        o for i, o in enumerate("\n".join(others).split("\n")) if o and i not in numbers
    ]


# --- recording lines ---------------------------------------------------------------------------

GOOD_RAW = {
    "type": "raw",
    "mono": 100.0,
    "wall": 1795737600.0,
    "page_size_bytes": 4096,
    "vmstat": {"pswpin": 1, "pswpout": 2, "pgmajfault": 3},
    "meminfo": {"SwapTotal": 1 << 30, "SwapFree": 1 << 29, "SwapCached": 0},
    "psi": {"some": [0.0, 0.0, 0.0, 5], "full": [0.0, 0.0, 0.0, 5]},
}
_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from([10**400, 2**64, -(2**63), 1e300, -1e300]),
)
_json = st.recursive(
    _json_leaf,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=6), kids, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def recording_line(draw: st.DrawFn) -> str:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        rec = json.loads(json.dumps(GOOD_RAW))
        for _ in range(draw(st.integers(1, 3))):
            key = draw(st.sampled_from(sorted(rec)))
            if key in ("vmstat", "meminfo", "psi") and isinstance(rec[key], dict) and rec[key]:
                sub = draw(st.sampled_from(sorted(rec[key])))
                rec[key][sub] = draw(_json)
            else:
                rec[key] = draw(_json)
        return json.dumps(rec)
    if choice == 1:
        line = json.dumps(GOOD_RAW)
        cut = draw(st.integers(0, len(line)))
        return line[:cut] + draw(st.text(max_size=5)) + line[cut:]
    if choice == 2:
        depth = draw(st.integers(1, 100_000))
        return "[" * depth + "]" * draw(st.integers(0, depth))
    return draw(st.text(max_size=200))


KNOWN_BAD_LINES = [
    '{"type": "raw", "mono": 1, "wall": 1, "page_size_bytes": 4096, "vmstat": {}, "meminfo": {},'
    ' "psi": {"some": [' + "9" * 400 + ", 0, 0, 1]}}",
    "[" * 100_000,
    '{"type": "raw", "mono": NaN, "wall": 1e300, "page_size_bytes": 4096, "vmstat": {},'
    ' "meminfo": {}}',
]


@fuzz("recording lines (store.Reading)")
@given(st.lists(recording_line(), max_size=5))
@example(KNOWN_BAD_LINES)
def test_recording_lines(lines: list[str]) -> None:
    reading = Reading()
    good = [json.dumps(GOOD_RAW)]
    samples = list(reading.samples([*good, *lines, *good]))
    # Every line is a sample, a kept record of another type, or one counted bad line.
    assert len(samples) >= 2
    assert reading.lines == 2 + sum(1 for line in lines if line.strip())
    for s in samples:
        assert abs(s.wall) < 1e10 and abs(s.mono) < 1e10


# --- root manifests ----------------------------------------------------------------------------


@st.composite
def manifest_text(draw: st.DrawFn) -> str:
    choice = draw(st.integers(0, 2))
    if choice == 0:
        doc = {"format": "checkswap-snapshot-1", "page_size_bytes": 4096, "hostname": "h"}
        for _ in range(draw(st.integers(1, 3))):
            doc[draw(st.sampled_from(["page_size_bytes", "hostname", "kernel_release", "x"]))] = (
                draw(_json)
            )
        return json.dumps(doc)
    if choice == 1:
        depth = draw(st.integers(1, 100_000))
        return '{"a": ' * depth + "1" + "}" * depth
    return draw(st.text(max_size=200))


@fuzz("root manifests")
@given(manifest_text())
@example('{"a": ' * 100_000 + "1" + "}" * 100_000)
def test_manifest(text: str) -> None:
    tmp = _manifest_tree()
    path = os.path.join(tmp, "checkswap-manifest.json")
    # surrogateescape: a lone surrogate in the text is written as the invalid byte it stands for
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(text)
    try:
        root = Root(tmp)
        root.page_size  # noqa: B018 - reading it validates the manifest's value
        root.kernel_release  # noqa: B018
        root.hostname  # noqa: B018
    except BadInput as e:
        assert "\n" not in str(e)


@functools.cache
def _manifest_tree() -> str:
    # One tree for all 10^5 manifests (a directory each cost more than the parse); removed when
    # the session ends.
    tmp = tempfile.mkdtemp(prefix="checkswap-test-fuzz-")
    atexit.register(shutil.rmtree, tmp, True)
    os.makedirs(os.path.join(tmp, "proc"))
    return tmp
