from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import lab

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("kernel"):
            item.fixturenames.insert(0, "kernel_machine")


@pytest.fixture
def kernel_machine() -> Iterator[None]:
    """Every ``@pytest.mark.kernel`` test: opt-in, root, and one at a time machine-wide."""
    lab.require_kernel_tests()
    with lab.kernel_lock():
        yield


@pytest.fixture
def fixture_root() -> object:
    def get(name: str) -> str:
        path = os.path.join(FIXTURES, name)
        assert os.path.isdir(path), path
        return path

    return get
