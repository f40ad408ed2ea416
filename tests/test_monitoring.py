"""monitoring/: the rules pass promtool (syntax and unit tests), the dashboard is well formed and
uses only metrics that serve exports, and the systemd unit verifies."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from typing import Any

import lab
import pytest
from clihelp import REPO

MONITORING = os.path.join(REPO, "monitoring")
RULES = os.path.join(MONITORING, "checkswap.rules.yml")
DASHBOARD = os.path.join(MONITORING, "grafana-dashboard.json")
UNIT = os.path.join(MONITORING, "systemd", "checkswap-exporter.service")
PANEL_TYPES = {"timeseries", "stat", "bargauge", "table", "gauge", "text"}


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if lab.kernel_tests_enabled():
            pytest.fail(f"{name} missing: tools/test installs it (APT_PACKAGES)")
        pytest.skip(f"{name} not installed (Debian package in tools/test APT_PACKAGES)")
    return path


def exported_names() -> set[str]:
    """Every metric family name serve can export: the field registry's (sample and processes
    records), fleet/metrics.py's own and those it takes from fleet/names.py."""
    from checkswap.fields import metric_families, top_metric_families

    named: set[str] = set()
    for module in ("metrics.py", "names.py"):
        with open(os.path.join(REPO, "checkswap", "fleet", module)) as f:
            named |= set(re.findall(r'"(checkswap_[a-z_]+)"', f.read()))
    return named | {m.name for m in [*metric_families(), *top_metric_families()]}


def test_promtool_check_rules() -> None:
    r = subprocess.run([tool("promtool"), "check", "rules", RULES], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 17 rules found" in r.stdout


def test_promtool_test_rules() -> None:
    r = subprocess.run(
        [
            tool("promtool"),
            "test",
            "rules",
            os.path.join(MONITORING, "tests", "checkswap.rules.test.yml"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def test_the_documented_zram_area_join_matches_what_serve_exports(tmp_path: Any) -> None:
    """docs/interface.md's PromQL joining zram metrics (device="zram1") to the per-area ones
    (device="/dev/zram1"), evaluated by promtool on serve's own output for a tree with one zram
    swap area and one zram device that is not swap (the golden scrape)."""
    with open(os.path.join(REPO, "docs", "interface.md")) as f:
        doc = f.read()
    section = doc[doc.index("### The `device` label") :]
    start = section.index("```promql\n") + len("```promql\n")
    expr = section[start : section.index("\n```", start)].strip()
    scrape = os.path.join(REPO, "tests", "golden", "tiers-zram-zswap-6.18__serve-scrape.out")
    with open(scrape) as f:
        lines = [
            line.split()
            for line in f
            if line.startswith(
                ("checkswap_swap_device_used_bytes{", "checkswap_zram_memory_used_bytes{")
            )
        ]
    assert len(lines) == 3, lines  # /dev/zram1 as an area; zram1 and zram2 as zram devices
    series = [
        {"series": name.replace("{", '{instance="vm",'), "values": value} for name, value in lines
    ]
    values = {name: float(value) for name, value in lines}
    used = values['checkswap_swap_device_used_bytes{device="/dev/zram1"}']
    ram = values['checkswap_zram_memory_used_bytes{device="zram1"}']
    test = {
        "rule_files": [],
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": expr,
                        "eval_time": "0m",
                        # zram2 is no swap area: no per-area series, so no result for it.
                        "exp_samples": [
                            {"labels": '{device="/dev/zram1", instance="vm"}', "value": used / ram}
                        ],
                    }
                ],
            }
        ],
    }
    path = os.path.join(str(tmp_path), "join.test.yml")
    with open(path, "w") as f:
        json.dump(test, f)  # JSON is YAML
    r = subprocess.run([tool("promtool"), "test", "rules", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def test_rules_use_only_exported_metrics() -> None:
    with open(RULES) as f:
        text = f.read()
    used = set(re.findall(r"\b(checkswap_[a-z_]+)", text))
    recorded = set(re.findall(r"record: [a-z]+:(checkswap_[a-z_]+):", text))  # instance:, device:
    assert used - recorded <= exported_names(), used - recorded - exported_names()
    # No alert on swap used alone (it fires forever on quiet swap).
    assert not re.search(r"alert:.*\n\s+expr: [^\n]*swap_used[^\n]*> *0?\.\d+\s*\n", text)


def load_dashboard() -> dict[str, Any]:
    with open(DASHBOARD) as f:
        return dict(json.load(f))


def test_dashboard_structure() -> None:
    d = load_dashboard()
    assert d["uid"] == "checkswap" and d["title"] and isinstance(d["schemaVersion"], int)
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert "checkswap_" in variables["instance"]["query"]["query"]
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    occupied: set[tuple[int, int]] = set()
    for p in d["panels"]:
        assert p["type"] in PANEL_TYPES, p["type"]
        assert p["title"] and p["description"]
        g = p["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24 and g["h"] > 0 and g["y"] >= 0
        cells = {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }
        assert not cells & occupied, f"panel {p['title']!r} overlaps another"
        occupied |= cells
        assert p["datasource"]["uid"] == "${datasource}"
        refs = [t["refId"] for t in p["targets"]]
        assert refs and len(refs) == len(set(refs))
        for t in p["targets"]:
            assert t["expr"].count("(") == t["expr"].count(")")
            # Every variable used is defined (or one of Grafana's own).
            for var in re.findall(r"\$(\w+)", t["expr"]):
                assert var in variables or var.startswith("__"), var
            assert '{instance=~"$instance"}' in t["expr"]
    text = json.dumps(d)
    used = set(re.findall(r"\b(checkswap_[a-z_]+)", text))
    assert used <= exported_names(), used - exported_names()
    # What the issue asks the dashboard to show.
    for metric in (
        "checkswap_swap_in_pages_total",
        "checkswap_memory_pressure_stall_seconds_total",
        "checkswap_swap_device_used_bytes",
        "checkswap_process_swap_bytes",
        "checkswap_cgroup_swap_bytes",
        "checkswap_doctor_finding",
        # The tiers (issue 14): every tier's counters, per-area I/O, zram, mTHP.
        "checkswap_zswap_in_pages_total",
        "checkswap_swap_in_zero_pages_total",
        "checkswap_zswap_writeback_pages_total",
        "checkswap_swap_device_written_bytes_total",
        "checkswap_zram_memory_used_bytes",
        "checkswap_mthp_swap_out_fallback_total",
    ):
        assert metric in used, metric


def test_systemd_unit_verifies(tmp_path: Any) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    # verify insists that ExecStart exists: point it at a stand-in in a copy of the unit.
    exe = os.path.join(str(tmp_path), "checkswap")
    os.symlink(shutil.which("true") or "/bin/true", exe)
    with open(UNIT) as f:
        unit = f.read()
    assert "ExecStart=/usr/local/bin/checkswap serve --listen 127.0.0.1:9947" in unit
    copy = os.path.join(str(tmp_path), "checkswap-exporter.service")
    with open(copy, "w") as f:
        f.write(unit.replace("/usr/local/bin/checkswap", exe))
    r = subprocess.run([analyze, "verify", copy], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


def test_dashboard_all_tier_rates_on_both_kernels(tmp_path: Any) -> None:
    """The dashboard's all-tier expressions, run by promtool on a 6.18 host (every tier) and on
    one without zswap counters nor swpin_zero: 12 and 23 pages/s on the first, the devices'
    own 5 and 2 on the second, never an empty result."""
    panel = next(p for p in load_dashboard()["panels"] if "every tier" in p["title"])
    exprs = {t["legendFormat"]: t["expr"] for t in panel["targets"]}
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {
                        "record": f"dash:{name}",
                        "expr": exprs[f"{{{{instance}}}} {legend}"]
                        .replace("$instance", ".*")
                        .replace("$__rate_interval", "5m"),
                    }
                    for name, legend in (
                        ("in_all", "swap-in, all tiers"),
                        ("out_all", "swap-out, all tiers"),
                    )
                ],
            }
        ]
    }
    series = {
        "new": {
            "swap_in_pages": 0,
            "zswap_in_pages": 600,
            "swap_in_zero_pages": 120,
            "swap_out_pages": 60,
            "zswap_writeback_pages": 60,
            "zswap_out_pages": 1200,
            "swap_out_zero_pages": 180,
        },
        "old": {"swap_in_pages": 300, "swap_out_pages": 120},
    }
    inputs = [
        {
            "series": f'checkswap_{m}_total{{instance="{host}",job="checkswap"}}',
            "values": f"0+{v}x40",
        }
        for host, counters in series.items()
        for m, v in counters.items()
    ]

    def sample(rule: str, host: str, value: float) -> dict[str, Any]:
        return {"labels": f'dash:{rule}{{instance="{host}",job="checkswap"}}', "value": value}

    test = {
        "rule_files": ["dashboard.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": inputs,
                "promql_expr_test": [
                    {
                        "expr": "dash:in_all",
                        "eval_time": "30m",
                        "exp_samples": [sample("in_all", "new", 12), sample("in_all", "old", 5)],
                    },
                    {
                        "expr": "dash:out_all",
                        "eval_time": "30m",
                        "exp_samples": [sample("out_all", "new", 23), sample("out_all", "old", 2)],
                    },
                ],
            }
        ],
    }
    # JSON is YAML: promtool reads both files as they are written here.
    (tmp_path / "dashboard.rules.yml").write_text(json.dumps(rules))
    (tmp_path / "dashboard.test.yml").write_text(json.dumps(test))
    r = subprocess.run(
        [tool("promtool"), "test", "rules", str(tmp_path / "dashboard.test.yml")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
