"""The metric families serve builds itself and fleet asks for: one name each, in
fleet/names.py, so serve and fleet cannot drift apart; and fleet without prometheus_client.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from typing import Any

from checkswap.fleet import names
from checkswap.fleet.ranking import ask

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}


class Recorder:
    """A Prometheus client that answers one quiet host and keeps every query it was sent."""

    def __init__(self) -> None:
        self.calls = 0
        self.sent: list[str] = []

    def query(self, promql: str, at: float) -> list[dict[str, Any]]:
        self.calls += 1
        self.sent.append(promql)
        return [{"metric": {"instance": "a:1"}, "value": [at, "0"]}]

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Any]:
        self.calls += 1
        self.sent.append(promql)
        return [{"metric": {"instance": "a:1"}, "values": [[end, "0"]]}]


def test_names_are_written_once_in_the_package() -> None:
    """Each name is a string in names.py and nowhere else in checkswap/ (docstrings aside)."""
    found = []
    for dirpath, _, files in os.walk(os.path.join(TOP, "checkswap")):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), path)
            docstrings = {
                id(n.body[0].value)
                for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef))
                and n.body
                and isinstance(n.body[0], ast.Expr)
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and any(n in node.value for n in NAMES)
                ):
                    found.append(f"{os.path.relpath(path, TOP)}:{node.lineno}")
    assert all(f.startswith("checkswap/fleet/names.py:") for f in found), found
    assert len(found) == len(NAMES)


def test_what_fleet_asks_for_is_what_serve_exports() -> None:
    from checkswap.fields import metric_families, top_metric_families
    from checkswap.fleet.metrics import (
        cgroup_pressure_metrics,
        finding_metrics,
        process_wait_metrics,
    )
    from checkswap.fleet.waits import Reading, WaitTotals

    totals = WaitTotals()
    totals.update([Reading(1, 1, ("java", "app.service"), 0.0)], 0.0)
    totals.update([Reading(1, 1, ("java", "app.service"), 2.0)], 1.0)
    families = (
        finding_metrics([{"id": "thrashing", "severity": "critical"}])
        + process_wait_metrics(totals, 3)
        + cgroup_pressure_metrics({"/a": (1, 1)}, 3)
    )
    exported = {s.name for fam in families for s in fam.samples}
    assert exported >= NAMES  # every name of names.py is a family serve really builds
    for m in [*metric_families(), *top_metric_families()]:
        exported |= {m.name, m.name + "_total"}
    client = Recorder()
    ask(client, 0.0, 3600.0)  # type: ignore[arg-type]
    asked = {n for q in client.sent for n in re.findall(r"\bcheckswap_\w+", q)}
    assert asked and asked <= exported, asked - exported
    assert names.FINDING in asked


def test_fleet_needs_no_prometheus_client() -> None:
    """fleet runs where the exporter extra is not installed: its modules import without it."""
    code = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        "import checkswap.commands.fleet, checkswap.fleet.ranking, checkswap.render.fleet\n"
        "import checkswap.fleet.names\n"
        "assert 'checkswap.fleet.metrics' not in sys.modules\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=TOP)
    assert run.returncode == 0, run.stderr
