"""Every command's output on every fixture tree, bundle and recording, against tests/golden/.

A behaviour-preserving change must leave these identical; an intended change regenerates them
(see tests/golden_cases.py) and the diff shows in review what changed for users.
"""

from __future__ import annotations

import difflib
import os

import golden_cases
import pytest

NAMES = [name for name, _ in golden_cases.cases()]


@pytest.fixture(scope="module")
def captured() -> dict[str, str]:
    return golden_cases.capture()


@pytest.mark.parametrize("name", NAMES)
def test_output_unchanged(name: str, captured: dict[str, str]) -> None:
    path = golden_cases.path_of(name)
    assert os.path.exists(path), f"no golden output for {name}: run tests/golden_cases.py --update"
    with open(path, encoding="utf-8") as f:
        expected = f.read()
    got = captured[name]
    if got != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), got.splitlines(True), "golden", "now", n=1
            )
        )
        pytest.fail(f"{name} changed:\n{diff[:4000]}")


def test_no_stale_golden_files() -> None:
    known = {os.path.basename(golden_cases.path_of(n)) for n in NAMES}
    stale = sorted(set(os.listdir(golden_cases.GOLDEN)) - known)
    assert not stale, f"golden files without a case: {stale}"
