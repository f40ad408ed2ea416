from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

import lab
from clihelp import FIXTURES

# Fuzz tests (tests/test_fuzz_*.py): a quick run by default, >= 10^5 inputs per parser when CI=true
# (CI sets it), within about ten minutes for all of them on a 2-core machine. The database is
# off: a failure prints the seed and the falsifying example, which is what a CI log can keep.
_FUZZ_COMMON = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile("fuzz-quick", max_examples=200, **_FUZZ_COMMON)  # type: ignore[arg-type]
# 2,000 drawn inputs, each followed by 49 variants (fuzzhelp.BATCH): 10^5 inputs per parser.
# CHECKSWAP_FUZZ_EXAMPLES overrides the count, to measure the rate or to dig deeper locally.
_CI_EXAMPLES = int(os.environ.get("CHECKSWAP_FUZZ_EXAMPLES", "2000"))
settings.register_profile("fuzz-ci", max_examples=_CI_EXAMPLES, **_FUZZ_COMMON)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    if lab.kernel_tests_enabled():
        lab.hold_session_lock()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    fuzzhelp = sys.modules.get("fuzzhelp")
    if fuzzhelp is not None and fuzzhelp.COUNTS:
        terminalreporter.section(f"fuzz inputs per parser (profile {fuzzhelp.PROFILE})")
        for name, n in sorted(fuzzhelp.COUNTS.items()):
            terminalreporter.write_line(f"{n:>9}  {name}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("kernel"):
            # The naming convention (tests/test_layout.py): a test that changes the machine
            # lives in a *_live.py file, so the name says what running it does.
            if not item.path.name.endswith("_live.py"):
                raise pytest.UsageError(
                    f"{item.nodeid} is marked kernel: it belongs in a tests/*_live.py file"
                )
            item.fixturenames.insert(0, "kernel_machine")


@pytest.fixture
def kernel_machine() -> Iterator[None]:
    """Every ``@pytest.mark.kernel`` test: opt-in and root (the session holds the machine lock)."""
    lab.require_kernel_tests()
    yield


@pytest.fixture
def fixture_root() -> object:
    def get(name: str) -> str:
        path = os.path.join(FIXTURES, name)
        assert os.path.isdir(path), path
        return path

    return get
