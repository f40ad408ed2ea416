"""docs/interface.md against the code: the stable interface as written must be the one built.

The document is parsed, not copied: its tables (first column a name in backticks) are compared
with argparse's definitions, with real JSON output on fixture trees, with a scrape of the
exporter, with the finding ids in checkswap/doctor/rules.py and with the exit statuses of real runs.
Both directions are checked where the code can be enumerated: a name documented but not built
fails, and so does a JSON key, flag, metric or finding id built but not documented.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import os
import re
import shlex
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from typing import Any

import golden_cases
import pytest
from clihelp import FIXTURES, REPO

from checkswap.cli import build_parser
from checkswap.commands import COMMANDS
from checkswap.doctor import roles, rules
from checkswap.fleet.plugin import parse_range
from checkswap.model import verdict

DOC = os.path.join(REPO, "docs", "interface.md")
TICKS = re.compile(r"`([^`]+)`")


# --- reading the document ------------------------------------------------------------------


def _doc_text() -> str:
    with open(DOC, encoding="utf-8") as f:
        return f.read()


def _cells(line: str) -> list[str]:
    # A "\|" inside a cell is a literal bar, not a column break.
    parts = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [p.strip().replace("\\|", "|") for p in parts]


def doc_tables() -> dict[str, list[list[str]]]:
    """heading (backticks removed) -> rows of the first table under it, header row dropped."""
    tables: dict[str, list[list[str]]] = {}
    heading = ""
    rows: list[list[str]] | None = None
    for line in _doc_text().splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip().replace("`", "")
            rows = None
        elif line.startswith("|"):
            if rows is None and heading not in tables:
                rows = tables[heading] = []
            if rows is not None and not set(line.replace("|", "").strip()) <= set("-: "):
                rows.append(_cells(line))
        elif rows is not None:
            rows = None
            heading = heading + " (after its table)"  # a second table needs its own heading
    return {k: v[1:] for k, v in tables.items()}


def table(heading: str) -> list[list[str]]:
    tables = doc_tables()
    assert heading in tables, f"docs/interface.md has no table under a heading {heading!r}"
    return tables[heading]


def ticks(cell: str) -> list[str]:
    return TICKS.findall(cell)


def first_names(rows: list[list[str]]) -> list[str]:
    return [ticks(r[0])[0] for r in rows if ticks(r[0])]


def section(title: str) -> str:
    """The text of a heading's section, up to the next heading of the same or higher level."""
    text = _doc_text()
    m = re.search(rf"^(#+) {re.escape(title)}\s*$", text, re.M)
    assert m, f"docs/interface.md has no section {title!r}"
    level = len(m.group(1))
    rest = text[m.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def planned_paragraph(start: str) -> list[str]:
    """Backticked names of the paragraph in "Planned, not yet built" beginning with ``start``;
    none when that paragraph is gone (everything it listed is built)."""
    body = section("Planned, not yet built")
    for para in body.split("\n\n"):
        if para.strip().startswith(start):
            return ticks(para)
    return []


# --- the code's side -----------------------------------------------------------------------


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_parser(words: list[str]) -> argparse.ArgumentParser:
    """The parser of ``checkswap watch`` or ``checkswap swapfile add``."""
    parser, _ = build_parser(words[0])
    p = subparsers(parser)[words[0]]
    for w in words[1:]:
        p = subparsers(p)[w]
    return p


def options(p: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    out = {}
    for a in p._actions:
        if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if a.option_strings:
            for s in a.option_strings:
                out[s] = a
        else:
            out[str(a.metavar or a.dest)] = a
    return out


def run(argv: list[str], moving: golden_cases.MovingTree | None = None) -> tuple[int, str, str]:
    """The CLI in-process with the golden tests' fake clock (sleep advances it)."""
    return golden_cases.run(argv, moving)


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def trees() -> list[str]:
    return golden_cases.trees()


def has_vmstat(root: str) -> bool:
    return os.path.isfile(os.path.join(root, "proc", "vmstat"))


# --- commands and flags --------------------------------------------------------------------


def command_sections() -> list[str]:
    """``watch``, ..., ``swapfile add``: every command line that has its own flags."""
    names = []
    for name in COMMANDS:
        subs = subparsers(command_parser([name]))
        names += [f"{name} {s}" for s in subs] if subs else [name]
    return names


def test_every_command_is_documented_and_exists() -> None:
    assert set(first_names(table("Commands"))) == set(COMMANDS)


@pytest.mark.parametrize("heading", command_sections())
def test_flags_match_the_parser(heading: str) -> None:
    p = command_parser(heading.split())
    built = options(p)
    rows = table(heading)
    documented: dict[str, list[str]] = {}
    for row in rows:
        for name in ticks(row[0]):
            documented[name] = row
    assert set(documented) == set(built), (
        f"{heading}: documented but not built: {sorted(set(documented) - set(built))}; "
        f"built but not documented: {sorted(set(built) - set(documented))}"
    )
    for name, row in documented.items():
        action = built[name]
        if action.choices is not None:
            assert set(ticks(row[1])) == {str(c) for c in action.choices}, f"{heading} {name}"
        default = action.default
        if isinstance(default, str) and default:
            assert default in ticks(row[2]), (
                f"{heading} {name}: the code's default is {default!r}, the doc says {row[2]!r}"
            )
        if action.required and action.option_strings:
            assert "required" in row[2], f"{heading} {name} is required"


def test_global_flags() -> None:
    parser, _ = build_parser(None)
    assert set(first_names(table("Global flags"))) == set(options(parser))


def test_planned_commands_and_flags_are_not_built() -> None:
    body = section("Planned, not yet built")
    bullets = [line for line in body.splitlines() if line.startswith("- ")]
    items = [ticks(line)[0] for line in bullets if line.startswith("- `")]
    # Once every planned command and flag is built the list goes; a list left must be items.
    assert len(items) == len(bullets), "the planned list is not a list of `command flag` items"
    for item in items:
        words = item.split()
        if words[0] not in COMMANDS:
            continue  # a planned command: not built, as the commands table test shows
        p = command_parser(words[:1])
        rest = words[1:]
        if rest and not rest[0].startswith("-") and subparsers(p):
            assert rest[0] not in subparsers(p), f"{item} is built: move it into its table"
        else:
            flag, value = rest[0], rest[1] if len(rest) > 1 else None
            opts = options(p)
            if value is None:
                assert flag not in opts, f"{item} is built: move it into its table"
            else:
                assert flag in opts, f"{item}: {flag} itself is not built"
                assert value not in (opts[flag].choices or ()), f"{item} is built"


# --- JSON keys -----------------------------------------------------------------------------


class Spec:
    """One key table: dotted paths with their type; optional and open ones marked."""

    def __init__(self, heading: str) -> None:
        self.heading = heading
        self.types: dict[str, str] = {}
        for row in table(heading):
            names = ticks(row[0])
            assert names, f"{heading}: a row without a key: {row}"
            self.types[names[0]] = row[1]
        self.observed: set[str] = set()
        self.parents_seen: set[str] = set()

    def optional(self, key: str) -> bool:
        return "optional" in self.types[key]

    def is_open(self, key: str) -> bool:
        return "(open)" in self.types.get(key, "")

    def children(self, path: str) -> list[str]:
        return [k for k in self.types if _parent(k) == path]

    def check(self, value: Any, path: str = "") -> None:
        if path and self.is_open(path.removesuffix("[]")):
            return
        if isinstance(value, dict):
            self.parents_seen.add(path)
            for key in value:
                child = f"{path}.{key}" if path else key
                assert child in self.types, (
                    f"{self.heading}: the code emits {child!r}, which docs/interface.md does not "
                    "document: add it to the table (add, don't rename)"
                )
                self.observed.add(child)
                self.check(value[key], child)
            for child in self.children(path):
                if not self.optional(child):
                    assert child.rsplit(".", 1)[-1] in value, (
                        f"{self.heading}: {child!r} is documented as always present but missing"
                    )
        elif isinstance(value, list):
            for item in value:
                self.check(item, f"{path}[]")

    def assert_covered(self) -> None:
        unseen = [
            k
            for k in self.types
            if k not in self.observed and not self.optional(k) and _parent(k) in self.parents_seen
        ]
        assert not unseen, f"{self.heading}: documented keys never seen in real output: {unseen}"


def _parent(key: str) -> str:
    if "." not in key:
        return ""
    return key.rsplit(".", 1)[0]


@pytest.fixture(scope="module")
def watch_records() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"header": [], "sample": [], "summary": []}
    argvs = [
        ["watch", "-n", "2", "-i", "1", "--format", "json", "--root", os.path.join(FIXTURES, t)]
        for t in trees()
    ]
    for argv in argvs:
        status, text, _ = run(argv)
        if status == 2 and not has_vmstat(argv[-1]):
            continue  # a tree from another project without proc/vmstat: watch cannot read it
        assert status == 0, argv
        for rec in json_lines(text):
            out.setdefault(rec["type"], []).append(rec)
    tmp = tempfile.mkdtemp(prefix="checkswap-test-interface-")
    try:
        moving = golden_cases.MovingTree(tmp)
        status, text, _ = run(
            ["watch", "-n", "3", "-i", "1", "--format", "json", "--root", moving.path], moving
        )
        assert status == 0
        for rec in json_lines(text):
            out.setdefault(rec["type"], []).append(rec)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


@pytest.mark.parametrize("kind", ["header", "sample", "summary"])
def test_watch_json_keys(kind: str, watch_records: dict[str, list[dict[str, Any]]]) -> None:
    spec = Spec(f"watch: {kind}")
    assert watch_records[kind]
    for rec in watch_records[kind]:
        spec.check(rec)
    spec.assert_covered()


def test_watch_emits_only_documented_record_types(
    watch_records: dict[str, list[dict[str, Any]]],
) -> None:
    assert set(watch_records) == {"header", "sample", "summary"}


def test_planned_watch_keys_are_not_emitted(
    watch_records: dict[str, list[dict[str, Any]]],
) -> None:
    planned = planned_paragraph("JSON keys planned for `watch`")
    for rec in watch_records["sample"]:
        built = set(rec) & set(planned)
        assert not built, f"{built} are emitted now: document them in the sample table"


def test_watch_csv_columns_follow_the_sample_table() -> None:
    spec = Spec("watch: sample")
    expected = [k for k in spec.types if k != "type" and not spec.types[k].startswith("object")]
    status, text, _ = run(
        [
            "watch",
            "-n",
            "2",
            "-i",
            "1",
            "--format",
            "csv",
            "--root",
            os.path.join(FIXTURES, "linux-4.19-no-psi"),
        ]
    )
    assert status == 0
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == expected
    assert expected[-1] == "note"
    assert len(rows) == 3  # the header row and one row per sample: no summary row
    flat = dict(zip(rows[0], rows[1]))
    assert flat["psi_some_avg10"] == ""  # null is an empty field (this kernel has no PSI)
    assert flat["swap_in_pages"] == "0"  # and 0 is 0


def test_top_json_keys() -> None:
    spec = Spec("top: processes")
    n = 0
    for t in trees():
        status, text, _ = run(
            [
                "top",
                "-n",
                "2",
                "-i",
                "1",
                "--cgroups",
                "--format",
                "json",
                "--root",
                os.path.join(FIXTURES, t),
            ]
        )
        if status == 2 and not has_vmstat(os.path.join(FIXTURES, t)):
            continue  # a tree from another project without proc/vmstat (issue 13, item 7)
        assert status == 0, t
        for rec in json_lines(text):
            assert rec["type"] == "processes"
            spec.check(rec)
            n += 1
    assert n
    spec.assert_covered()
    status, text, _ = run(
        ["top", "--format", "json", "--root", os.path.join(FIXTURES, "cgroup-v2")]
    )
    assert json_lines(text)[0]["cgroups"] is None  # without --cgroups, as documented


def test_doctor_json_keys() -> None:
    spec = Spec("doctor: result")
    n = 0
    for t in trees():
        for role in ("general", "database"):
            status, text, _ = run(
                [
                    "doctor",
                    "--sample",
                    "1",
                    "--role",
                    role,
                    "--format",
                    "json",
                    "--root",
                    os.path.join(FIXTURES, t),
                ]
            )
            if status == 3:
                continue  # a tree doctor cannot read (no /proc/swaps): a plugin line
            (rec,) = json_lines(text)
            spec.check(rec)
            assert rec["verdict"] in code_verdicts()
            n += 1
    assert n
    spec.assert_covered()
    verdict_row = next(r for r in table("doctor: result") if r[0] == "`verdict`")
    assert set(ticks(verdict_row[2])) == code_verdicts()


def code_verdicts() -> set[str]:
    """Every verdict ``model.verdict.verdict`` can return: the first item of each return."""
    with open(verdict.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    func = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "verdict")
    out = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            first = node.value.elts[0]
            assert isinstance(first, ast.Constant), f"verdict.py:{node.lineno}: not a literal"
            out.add(first.value)
    assert out
    return out


@pytest.fixture(scope="module")
def made() -> Iterator[dict[str, Any]]:
    """A recording with trigger captures, its report, and a snapshot bundle, from a tree whose
    counters climb."""
    tmp = tempfile.mkdtemp(prefix="checkswap-test-interface-")
    try:
        moving = golden_cases.MovingTree(tmp)
        rec = os.path.join(tmp, "rec.jsonl")
        status, _, _ = run(
            ["record", "-o", rec, "-n", "5", "-i", "1", "--trigger", "100", "--root", moving.path],
            moving,
        )
        assert status == 0
        status, text, _ = run(["report", rec, "--format", "json", "--spike", "100"])
        assert status == 0
        (report,) = json_lines(text)
        # The same recording with three samples cut out of its middle: a gap in the report.
        with open(rec) as f:
            lines = f.readlines()
        raws = [i for i, line in enumerate(lines) if '"type":"raw"' in line]
        gapped = os.path.join(tmp, "gapped.jsonl")
        with open(gapped, "w") as f:
            f.writelines(x for i, x in enumerate(lines) if i not in raws[1:4])
        status, text, _ = run(["report", gapped, "--format", "json"])
        assert status == 0
        (gapped_report,) = json_lines(text)
        bundle = os.path.join(tmp, "snap.tar.gz")
        status, _, _ = run(
            ["snapshot", "-n", "2", "-i", "1", "-o", bundle, "--root", moving.path], moving
        )
        assert status == 0
        with tarfile.open(bundle) as tar:
            f = tar.extractfile("checkswap-manifest.json")
            assert f is not None
            manifest = json.load(f)
        state = os.path.join(tmp, "state")
        status, _, _ = run(
            [
                "check",
                "--sample",
                "1",
                "--state-file",
                state,
                "--root",
                os.path.join(FIXTURES, "linux-6.18-swapping"),
            ]
        )
        assert status == 0
        with open(state) as f:
            check_state = json.load(f)
        yield {
            "report": report,
            "gapped": gapped_report,
            "manifest": manifest,
            "state": check_state,
            "tmp": tmp,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_report_json_keys(made: dict[str, Any]) -> None:
    spec = Spec("report: result")
    assert made["report"]["spikes"], "the recording should hold a spike"
    assert made["gapped"]["gap_periods"], "the cut recording should hold a gap"
    spec.check(made["report"])
    spec.check(made["gapped"])
    spec.assert_covered()


def test_snapshot_manifest_keys(made: dict[str, Any]) -> None:
    spec = Spec("snapshot manifest")
    spec.check(made["manifest"])
    spec.assert_covered()
    assert made["manifest"]["format"] == "checkswap-bundle"


def test_check_state_file_keys(made: dict[str, Any]) -> None:
    spec = Spec("check state file")
    spec.check(made["state"])
    spec.assert_covered()


def test_json_times_are_utc_iso_with_offset(
    watch_records: dict[str, list[dict[str, Any]]], made: dict[str, Any]
) -> None:
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
    for rec in watch_records["sample"]:
        assert iso.match(rec["time"])
    assert iso.match(made["report"]["start"])
    for s in made["manifest"]["samples"]:
        assert iso.match(s["time"])


# --- Prometheus metrics --------------------------------------------------------------------


def scrape(tree: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from checkswap.fleet import serve
    from checkswap.source.root import Root

    monkeypatch.setattr(serve, "DOCTOR_SAMPLE_S", 0.05)  # the doctor job's sample
    root = Root(os.path.join(FIXTURES, tree))
    jobs = serve.background_jobs(root, 10, 15.0, 300.0, "general", io.StringIO())
    for job in jobs:
        job.run_once()
    exp = serve.Exporter(serve.SwapCollector(root, jobs))
    body, _, _ = exp.render(None, None)
    return body.decode()


def test_metrics_match_the_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("prometheus_client")
    rows = table("Prometheus metrics of serve")
    documented = {ticks(r[0])[0]: (r[1].strip(), tuple(sorted(ticks(r[2])))) for r in rows}
    types: dict[str, str] = {}
    labels: dict[str, set[tuple[str, ...]]] = {}
    # One tree with PSI, zswap, swap areas and a doctor finding; one with processes and cgroups;
    # one with zram, zswap's debugfs and mTHP counters.
    for tree in ("linux-6.18-swapping", "top-cgroup-v2-server", "tiers-zram-zswap-6.18"):
        text = scrape(tree, monkeypatch)
        types.update(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
        for line in text.splitlines():
            if line.startswith("checkswap_"):
                m = re.match(r"^(\w+?)(?:\{(.*)\})? \S+$", line)
                assert m, line
                got = tuple(sorted(re.findall(r'(\w+)="', m.group(2) or "")))
                labels.setdefault(m.group(1), set()).add(got)
    # The wait family needs this host's taskstats, which no fixture tree has: its labels come
    # from the family's own function (tests/test_serve_waits.py drives it through a scan).
    from checkswap.fleet.metrics import process_wait_metrics
    from checkswap.fleet.waits import Reading, WaitTotals

    waits = WaitTotals()
    for t in (0.0, 1.0):
        waits.update([Reading(1, 1, ("comm", "unit"), t)], now=t)
    for s in process_wait_metrics(waits, 10)[0].samples:
        labels.setdefault(s.name, set()).add(tuple(sorted(s.labels)))
    exported = {n for n in types if n.startswith("checkswap_")}
    assert set(documented) == exported, (
        f"documented, not exported: {sorted(set(documented) - exported)}; "
        f"exported, not documented: {sorted(exported - set(documented))}"
    )
    for name, (kind, want) in documented.items():
        assert types[name] == kind, f"{name}: {types[name]}, documented {kind}"
        assert labels.get(name), f"{name}: no sample in any scrape"
        assert labels[name] == {want}, f"{name}: labels {labels[name]}, documented {want}"
        assert (kind == "counter") == name.endswith("_total"), name
    for name in planned_paragraph("Metrics planned for `serve`"):
        assert name not in exported, f"{name} is exported now: move it into the metrics table"


# --- doctor findings and roles -------------------------------------------------------------


def code_findings() -> dict[str, set[str]]:
    """id -> severities, from every ``finding(...)`` call in checkswap/doctor/rules.py."""
    path = os.path.join(REPO, "checkswap", "doctor", "rules.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    out: dict[str, set[str]] = {}
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef):
            continue
        assigned: dict[str, set[str]] = {}
        for node in ast.walk(func):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, set()).update(_strings(node.value))
        for node in ast.walk(func):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "finding"
            ):
                ident, sev = node.args[0], node.args[1]
                assert isinstance(ident, ast.Constant) and isinstance(ident.value, str), (
                    f"doctor/rules.py:{node.lineno}: a finding id that is not a literal cannot be "
                    "checked against docs/interface.md"
                )
                sevs = assigned.get(sev.id, set()) if isinstance(sev, ast.Name) else _strings(sev)
                sevs &= set(rules.SEVERITY_ORDER)
                assert sevs, (
                    f"doctor/rules.py:{node.lineno}: cannot tell the severity of {ident.value}"
                )
                out.setdefault(ident.value, set()).update(sevs)
    return out


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def test_finding_ids_and_severities_match_doctor_py() -> None:
    rows = table("Finding ids")
    documented = {ticks(r[0])[0]: set(ticks(r[1])) for r in rows}
    code = code_findings()
    assert set(documented) == set(code), (
        f"documented, not in doctor/rules.py: {sorted(set(documented) - set(code))}; "
        f"in doctor/rules.py, not documented: {sorted(set(code) - set(documented))}"
    )
    for ident, sevs in code.items():
        assert documented[ident] == sevs, f"{ident}: code {sevs}, documented {documented[ident]}"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", ident), f"{ident} is not kebab-case"
    for ident in planned_paragraph("Doctor finding ids planned"):
        assert ident not in code, f"{ident} is emitted now: move it into the finding table"


def test_roles_table_matches_doctor_roles() -> None:
    rows = table("Roles")
    assert first_names(rows) == list(roles.ROLES)
    assert set(first_names(rows)) == set(options(command_parser(["doctor"]))["--role"].choices)
    for row in rows:
        role = roles.ROLES[ticks(row[0])[0]]
        assert row[1] == role.swappiness_advised
        assert int(re.match(r"\d+", row[2]).group()) == role.swappiness_max  # type: ignore[union-attr]
        assert row[3] == role.swap_advice


# --- the check plugin ----------------------------------------------------------------------


def test_range_syntax_examples() -> None:
    for row in table("Range syntax"):
        r = parse_range(ticks(row[0])[0])
        for v in ticks(row[2]):
            assert r.alerts(float(v)), f"{row[0]} should alert for {v}"
        for v in ticks(row[3]):
            assert not r.alerts(float(v)), f"{row[0]} should not alert for {v}"


def test_check_line_and_perfdata_labels(tmp_path: Any) -> None:
    rows = table("Perfdata")
    documented = {ticks(r[0])[0]: (ticks(r[1]) or [""])[0] for r in rows}
    seen: dict[str, str] = {}
    line_re = re.compile(r"^CHECKSWAP (OK|WARNING|CRITICAL|UNKNOWN) - [^|]+ \| (.+)\n$")
    for tree in ("linux-6.18-swapping", "check-no-swap-6.18", "linux-4.19-no-psi"):
        status, out, _ = run(
            [
                "check",
                "--sample",
                "1",
                "--state-file",
                str(tmp_path / tree),
                "--root",
                os.path.join(FIXTURES, tree),
            ]
        )
        m = line_re.match(out)
        assert m, out
        assert m.group(1) == ("OK", "WARNING", "CRITICAL", "UNKNOWN")[status]
        for item in m.group(2).split():
            label, rest = item.split("=", 1)
            uom = re.match(r"^(?:U|[-\d.]+)([a-zA-Z%]*)", rest).group(1)  # type: ignore[union-attr]
            seen[label.strip("'")] = uom
    assert seen == documented


# --- exit statuses -------------------------------------------------------------------------


def test_exit_statuses(tmp_path: Any) -> None:
    rows = table("Exit statuses")
    assert rows
    for row in rows:
        line = ticks(row[0])[0].replace("{fixtures}", FIXTURES)
        argv = shlex.split(line)
        assert not ({"add", "stress"} & set(argv)) or "--dry-run" in argv, "never change the host"
        if argv[0] == "check" and "--state-file" not in argv:
            argv += ["--state-file", str(tmp_path / f"state-{len(os.listdir(tmp_path))}")]
        status, out, err = run(argv)
        assert status == int(row[1]), f"{line}: exit {status}, documented {row[1]}\n{out}{err}"
        if argv[0] in ("doctor", "check") and status == 3 and "--root" not in argv:
            assert out.startswith("CHECKSWAP UNKNOWN - "), out
        if argv[0] == "fleet" and "json" in argv:  # the JSON error rule: one object
            assert json.loads(out)["status"] == "UNKNOWN", out


# --- the repository stands on its own ------------------------------------------------------


def test_docs_point_at_this_file_not_outside_the_repository() -> None:
    """README and docs/ link only to files inside the repository, and every *.md they name
    exists in it: the interface is this file, not a document kept somewhere else."""
    names = {n for _, _, files in os.walk(REPO) for n in files if n.endswith(".md")}
    paths = [os.path.join(REPO, "README.md")] + [
        os.path.join(REPO, "docs", n) for n in os.listdir(os.path.join(REPO, "docs"))
    ]
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if re.match(r"^[a-z]+:", target):
                continue  # a URL
            resolved = os.path.realpath(os.path.join(os.path.dirname(path), target))
            assert resolved.startswith(REPO + os.sep), f"{path}: link {target} leaves the repo"
            assert os.path.exists(resolved), f"{path}: link {target} is broken"
        for name in re.findall(r"\b[\w-]+\.md\b", text):
            assert name in names, f"{path} names {name}, which is not in the repository"


def test_top_table_is_the_registry() -> None:
    """The documented top keys are fields.py's TOP_FIELDS, PROCESS_FIELDS and CGROUP_FIELDS, in
    their order: a key named in one place and not the other fails here."""
    from checkswap import fields

    want: list[str] = []
    for key in fields.TOP_KEYS:
        want.append(key)
        children = {"processes": fields.PROCESS_KEYS, "cgroups": fields.CGROUP_KEYS}.get(key, ())
        want += [f"{key}[].{child}" for child in children]
    documented = [k for k in first_names(table("top: processes")) if k != "processes_total"]
    assert documented == want
