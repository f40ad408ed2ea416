"""The layers of docs/architecture.md, held to every import in checkswap/.

The table in the document is the rule: each module's layer is read from it, and every import
(lazy ones inside functions included) must go to the same layer or a lower one. No two
modules, and no two packages, may import each other in a loop.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PACKAGE = os.path.join(TOP, "checkswap")
DOC = os.path.join(TOP, "docs", "architecture.md")


def doc_layers() -> dict[str, int]:
    """First name below ``checkswap`` (a module or a package) -> its layer, from the table."""
    layers: dict[str, int] = {}
    with open(DOC, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\| (\d+) \| ((?:`[\w_]+` ?)+) \|", line)
            if m:
                for name in re.findall(r"`([\w_]+)`", m.group(2)):
                    layers[name] = int(m.group(1))
    return layers


def modules() -> dict[str, str]:
    """Dotted module name -> file, for every module of the package."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(PACKAGE):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, TOP)[: -len(".py")].split(os.sep)
                if rel[-1] == "__init__":
                    rel = rel[:-1]
                found[".".join(rel)] = path
    return found


MODULES = modules()


def component(module: str) -> str:
    """``checkswap.model.procs`` -> ``model``; the package itself is ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: str) -> Iterator[tuple[int, str]]:
    """(line, checkswap module) for every import in the file, at any depth."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    package = os.path.relpath(os.path.dirname(path), TOP).replace(os.sep, ".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "checkswap":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            if base.split(".")[0] != "checkswap":
                continue
            for alias in node.names:
                # `from checkswap.record import report` imports a module, not a name.
                sub = f"{base}.{alias.name}"
                yield node.lineno, sub if sub in MODULES else base


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for _, target in imports_of(path):
            if target in MODULES and target != module:
                edges[module].add(target)
    return edges


def loops(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_table_names_every_part_of_the_package() -> None:
    layers = doc_layers()
    assert layers, f"no layer table found in {DOC}"
    unnamed = sorted({component(m) for m in MODULES} - set(layers))
    assert not unnamed, f"docs/architecture.md gives no layer to {unnamed}"
    gone = sorted(set(layers) - {component(m) for m in MODULES})
    assert not gone, f"docs/architecture.md names what the package no longer has: {gone}"


def test_no_module_imports_from_a_higher_layer() -> None:
    layers = doc_layers()
    upward = []
    for module, path in sorted(MODULES.items()):
        mine = layers[component(module)]
        for line, target in imports_of(path):
            theirs = layers.get(component(target))
            if theirs is not None and theirs > mine:
                rel = os.path.relpath(path, TOP)
                upward.append(f"{rel}:{line} (layer {mine}) imports {target} (layer {theirs})")
    assert not upward, "\n".join(upward)


def test_no_modules_import_each_other() -> None:
    assert loops(graph()) == []


def test_no_packages_import_each_other() -> None:
    edges: dict[str, set[str]] = {}
    for module, targets in graph().items():
        edges.setdefault(component(module), set()).update(
            component(t) for t in targets if component(t) != component(module)
        )
    assert loops(edges) == []


COMMANDS = sorted(m for m in MODULES if m.startswith("checkswap.commands."))


@pytest.mark.parametrize("module", COMMANDS)
def test_a_command_reads_no_kernel_file(module: str) -> None:
    path = MODULES[module]
    readers = [t for _, t in imports_of(path) if component(t) == "kernel"]
    assert not readers, f"{module} imports kernel readers {readers}: take them from model/"
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    calls = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("read_text", "open_pread", "listdir")
    ]
    assert not calls, f"{module} reads kernel files itself at lines {calls}"


def test_the_checks_see_a_loop_and_an_upward_import() -> None:
    # The rules are only as good as the graph: a planted loop and a planted upward edge show.
    assert loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    layers = doc_layers()
    assert layers["kernel"] < layers["model"] < layers["commands"]
    assert any(t == "checkswap.model.sample" for _, t in imports_of(MODULES["checkswap.fields"]))


def private_imports(path: str) -> Iterator[tuple[int, str]]:
    """(line, name) for every ``from checkswap.x import _name`` that is not a module: a
    leading underscore says "this module's own" (a dunder such as __version__ does not), so
    another module needing it means the name should be public or live in a module both share."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("checkswap"):
            for alias in node.names:
                name = alias.name
                if (
                    name.startswith("_")
                    and not name.endswith("__")
                    and f"{node.module}.{name}" not in MODULES
                ):
                    yield node.lineno, f"{node.module}.{name}"


def test_no_module_imports_another_modules_private_names() -> None:
    found = [
        f"{os.path.relpath(path, TOP)}:{line}: {name}"
        for path in MODULES.values()
        for line, name in private_imports(path)
    ]
    assert found == [], found
