"""Shared pieces of the fuzz tests: kernel-format text with perturbations, and input counting.

Random bytes rarely get past a parser's first check, so most inputs start from real text (the
fixtures, or this machine's /proc) and are bent the ways a hostile bundle or a future kernel
could: lines dropped, duplicated, reordered or truncated mid-line, numbers made huge, negative
or non-ASCII ('٣', '²'), tabs and unknown lines inserted.
"""

from __future__ import annotations

import functools
import os
import random
from collections.abc import Callable
from typing import Any, TypeVar

from clihelp import FIXTURES
from hypothesis import settings
from hypothesis import strategies as st

# Same rule as conftest's profiles (registered there): CI=true selects the >= 10^5 profile.
PROFILE = "fuzz-ci" if os.environ.get("CI") == "true" else "fuzz-quick"
# Inputs each fuzz test really ran; conftest prints them at the end of the session.
COUNTS: dict[str, int] = {}
# Each input hypothesis draws is followed by BATCH - 1 variants of it, bent by ``mutate`` with a
# generator seeded from the drawn input. Hypothesis spends ~3 ms choosing an input here, the
# parsers ~50 us reading one: without the batch, 10^5 inputs per parser would take two hours on
# the CI machine instead of minutes. The variants are deterministic, so a failure replays.
BATCH = int(os.environ.get("CHECKSWAP_FUZZ_BATCH", "50" if PROFILE == "fuzz-ci" else "5"))
F = TypeVar("F", bound=Callable[..., Any])

WEIRD_NUMBERS = [
    "0",
    "-1",
    "-0",
    "+5",
    "1_000",
    "9" * 400,
    "1" * 5000,
    str(2**64),
    str(2**63),
    "٣",
    "²",
    "١٢",
    "1e999",
    "nan",
    "inf",
    "-inf",
    "0x10",
    "1.5",
    ".",
    "",
    "\u00a0",
    "1\x00",
]


def fixture_text(*rel: str) -> str:
    with open(os.path.join(FIXTURES, *rel), encoding="utf-8", errors="surrogateescape") as f:
        return f.read()


def live_text(path: str, fallback: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except OSError:
        return fallback


Vary = Callable[[dict[str, Any], random.Random], dict[str, Any]]


def vary_text(kwargs: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Every text argument (and every text in a list argument) bent by ``mutate``."""
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if isinstance(value, str):
            out[key] = mutate(value, rng)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = [mutate(v, rng) for v in value]
        else:
            out[key] = value
    return out


def vary_name(key: str) -> Vary:
    """For tests of a path argument that must stay absolute and NUL-free: bend its characters."""

    def vary(kwargs: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        name = "/" + mutate_chars(kwargs[key][1:], rng).replace("\x00", "")
        return {**kwargs, key: name}

    return vary


def fuzz(name: str, vary: Vary | None = vary_text) -> Callable[[F], F]:
    """Apply the session's profile and count the inputs the test body really ran; each drawn
    input is followed by ``BATCH - 1`` variants made by ``vary`` (None: no variants)."""

    def wrap(fn: F) -> F:
        # Goes above @given: hypothesis lets its inner test be replaced, so each generated
        # input is counted (the outer test runs once).
        inner = fn.hypothesis.inner_test  # type: ignore[attr-defined]

        @functools.wraps(inner)
        def counted(*args: Any, **kwargs: Any) -> Any:
            COUNTS[name] = COUNTS.get(name, 0) + 1
            result = inner(*args, **kwargs)
            if vary is None or args:
                return result
            rng = random.Random(repr(sorted(kwargs.items())))
            for k in range(1, BATCH):
                variant = vary(kwargs, rng)
                COUNTS[name] += 1
                try:
                    inner(**variant)
                except Exception as e:
                    raise AssertionError(f"variant {k} of the drawn input: {variant!r}") from e
            return result

        fn.hypothesis.inner_test = counted  # type: ignore[attr-defined]
        return settings(settings.get_profile(PROFILE))(fn)

    return wrap


_token_number = st.one_of(st.sampled_from(WEIRD_NUMBERS), st.integers().map(str))
_junk_line = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", "\t", " ", "some", "unknown_field 12", "x: y kB", " - ", "0::/"]),
)


@st.composite
def perturbed(draw: st.DrawFn, base: str) -> str:
    """``base`` after a few random edits; sometimes it stays intact (the agreement tests need
    both)."""
    lines = base.split("\n")
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.integers(0, 8))
        if not lines:
            lines = [draw(_junk_line)]
        i = draw(st.integers(0, len(lines) - 1))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            words = lines[i].split(" ")
            k = draw(st.integers(0, len(words) - 1))
            words[k] = draw(_token_number)
            lines[i] = " ".join(words)
        elif op == 4:
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut]
        elif op == 5:
            lines[i] = lines[i].replace(" ", "\t", draw(st.integers(1, 3)))
        elif op == 6:
            lines.insert(i, draw(_junk_line))
        elif op == 7:
            # A number replaced inside a word ("avg10=0.00" -> "avg10=٣"), not only whole words.
            line = lines[i]
            digits = [k for k, c in enumerate(line) if c.isdigit()]
            if digits:
                k = draw(st.sampled_from(digits))
                lines[i] = line[:k] + draw(_token_number) + line[k + 1 :]
        else:
            lines[i] = lines[i] + draw(st.sampled_from(["\r", "\x0c", "\u2028", "\x85", " kB"]))
    text = "\n".join(lines)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text


def kernel_text(base: str) -> st.SearchStrategy[str]:
    """Mostly perturbed real text, some pure random text."""
    return st.one_of(perturbed(base), perturbed(base), perturbed(base), st.text(max_size=300))


_WEIRD_CHARS = " \t\n\r\x0c\x0b\x85\u2028\u00a0\\:=/-,.()[]{}0123456789٣²x\udcff"


def mutate_chars(text: str, rng: random.Random) -> str:
    """A few characters of ``text`` deleted, replaced or inserted (by slicing: a manifest nested
    100,000 deep is 600 KB, and a list of its characters would cost more than the parser)."""
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(3)
        i = rng.randrange(len(text) + 1)
        if op == 0 and i < len(text):
            text = text[:i] + text[i + 1 :]
        elif op == 1 and i < len(text):
            text = text[:i] + rng.choice(_WEIRD_CHARS) + text[i + 1 :]
        else:
            text = text[:i] + rng.choice(_WEIRD_CHARS) + text[i:]
    return text


def mutate(text: str, rng: random.Random) -> str:
    """``text`` after a few of the edits ``perturbed`` makes, chosen by ``rng`` (fast: no
    hypothesis draws), or after character-level edits."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        op = rng.randrange(8)
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            words = lines[i].split(" ")
            words[rng.randrange(len(words))] = rng.choice(WEIRD_NUMBERS)
            lines[i] = " ".join(words)
        elif op == 4:
            lines[i] = lines[i][: rng.randint(0, len(lines[i]))]
        elif op == 5:
            lines.insert(i, rng.choice(["", "\t", "unknown_field 12", "x: y kB", " - ", "0::/"]))
        elif op == 6:
            digits = [k for k, c in enumerate(lines[i]) if c.isdigit()]
            if digits:
                k = rng.choice(digits)
                lines[i] = lines[i][:k] + rng.choice(WEIRD_NUMBERS) + lines[i][k + 1 :]
        else:
            lines[i] = mutate_chars(lines[i], rng)
    return "\n".join(lines)
