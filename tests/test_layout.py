"""The test tree's naming convention, held to the files.

A test that changes the machine (swap areas, cgroups, sysctls, mounts: marked ``kernel``, run
only with CHECKSWAP_KERNEL_TESTS=1) lives in a ``test_*_live.py`` file, and every such file
holds one; ``test_kernel_<reader>.py`` is for the parsers of checkswap/kernel/ and changes
nothing. Before this, ``test_kernel_*`` meant both, and ``test_dash.py`` hid a live test among
tmux ones. conftest.py refuses a marked test outside a ``*_live.py`` file at collection too; this
reads the files themselves, so it also sees the files a partial run did not collect.
"""

from __future__ import annotations

import ast
import os

import pytest
from clihelp import TESTS


def module_names() -> list[str]:
    return sorted(f for f in os.listdir(TESTS) if f.startswith("test_") and f.endswith(".py"))


def marks_kernel(path: str) -> bool:
    """True if the file applies ``pytest.mark.kernel`` anywhere: a decorator, ``pytestmark``,
    or ``pytest.param(..., marks=...)``."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "kernel"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "mark"
        ):
            return True
    return False


def live_name(name: str) -> bool:
    return name.endswith("_live.py")


@pytest.mark.parametrize("name", module_names())
def test_a_file_with_live_tests_is_named_live(name: str) -> None:
    marked = marks_kernel(os.path.join(TESTS, name))
    if marked:
        assert live_name(name), f"{name} has tests marked kernel: move them to a *_live.py file"
    if live_name(name):
        assert marked, f"{name} is named *_live.py but no test in it is marked kernel"


def test_the_checker_sees_each_way_of_marking(tmp_path: object) -> None:
    cases = {
        "pytestmark = pytest.mark.kernel\n": True,
        "@pytest.mark.kernel\ndef test_x():\n    pass\n": True,
        "P = [pytest.param(1, marks=pytest.mark.kernel)]\n": True,
        "@pytest.mark.slow\ndef test_kernel():\n    pass\n": False,
        "# pytest.mark.kernel in a comment\n": False,
    }
    for i, (text, expected) in enumerate(cases.items()):
        path = os.path.join(str(tmp_path), f"case{i}.py")
        with open(path, "w") as f:
            f.write("import pytest\n" + text)
        assert marks_kernel(path) is expected, text


def test_parser_tests_of_kernel_readers_are_not_live() -> None:
    readers = [n for n in module_names() if n.startswith("test_kernel_")]
    assert readers  # test_kernel_parsers.py and the others: the convention has something to hold
    assert not [n for n in readers if live_name(n) or marks_kernel(os.path.join(TESTS, n))]
