from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import lab

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def pytest_configure(config: pytest.Config) -> None:
    if lab.kernel_tests_enabled():
        lab.hold_session_lock()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("kernel"):
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
