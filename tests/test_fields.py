"""The field registry (fields.py): one entry per figure, and every output built from it."""

from __future__ import annotations

import json
import os

import pytest
from clihelp import FIXTURES as FIX

from checkswap import fields
from checkswap.model.rates import Interval, Tracker
from checkswap.model.sample import Sampler
from checkswap.source.root import Root

CASES = ["linux-6.18-swapping", "linux-4.19-no-psi", "arm64-64k-pages"]


def _system_metrics():  # type: ignore[no-untyped-def]
    pytest.importorskip("prometheus_client")
    from checkswap.fleet.metrics import system_metrics

    return system_metrics


def _exposed(family) -> str:  # type: ignore[no-untyped-def]
    return f"{family.name}_total" if family.type == "counter" else family.name


def _take(case: str):  # type: ignore[no-untyped-def]
    root = Root(os.path.join(FIX, case))
    sampler = Sampler(root)
    try:
        return root, sampler.take()
    finally:
        sampler.close()


def test_sample_record_has_every_sample_field_in_registry_order() -> None:
    root, first = _take("linux-6.18-swapping")
    tracker = Tracker()
    iv = Interval(first, first)
    tracker.add(iv)
    rec = fields.sample_record(iv, tracker, root.page_size)
    keys = [k for k in rec if k not in ("type", "max", "note", *fields.WINDOW_KEYS)]
    assert keys == [f.key for f in fields.SAMPLE_FIELDS]
    assert list(fields.CSV_COLUMNS[: len(keys)]) == keys


def test_every_text_column_is_a_registry_field() -> None:
    for key in fields.TEXT_COLUMNS + fields.TEXT_ZSWAP_COLUMNS:
        title, field = fields.column(key)
        assert title and field.width > 0
        flat = key.split(".")[-1]
        assert flat in fields.FIELDS or flat in fields.AVG_FIELDS
    assert fields.column("avg_5m.swap_in_per_s")[0] == "5m in/s"


@pytest.mark.parametrize("case", CASES)
def test_registry_metrics_are_what_serve_emits(case: str) -> None:
    """serve's families are the registry's, turned into prometheus_client families without loss:
    names, types, help, order, labels and values. (That the text itself has not changed is the
    serve-scrape golden cases' part.)"""
    system_metrics = _system_metrics()
    root, sample = _take(case)
    emitted = [m for m in system_metrics(sample, None, root.page_size)]
    ours: dict[str, list[tuple[dict[str, str], object]]] = {}
    for metric, value in fields.metric_values(sample, root.page_size):
        labels = {metric.label[0]: metric.label[1]} if metric.label else {}
        ours.setdefault(metric.name, []).append((labels, value))
    # prometheus_client names a counter family without its _total; its samples carry it.
    assert list(ours) == [_exposed(m) for m in emitted]
    families = {m.name: m for m in fields.metric_families()}
    for fam in emitted:
        mine = families[_exposed(fam)]
        assert (mine.type, mine.help) == (fam.type, fam.documentation)
        assert [(s.labels, s.value) for s in fam.samples] == ours[mine.name]
        assert {s.name for s in fam.samples} == {mine.name}


def test_metric_families_cover_every_system_family_once() -> None:
    system_metrics = _system_metrics()
    root, sample = _take("linux-6.18-swapping")
    full = {
        **sample.vmstat,
        "zswpin": 1,
        "zswpout": 2,
        "zswpwb": 3,
        "swpin_zero": 4,
        "swpout_zero": 5,
        "workingset_refault_anon": 6,
    }
    sample.vmstat = full
    sample.meminfo = {**sample.meminfo, "Zswap": 1, "Zswapped": 2}
    emitted = [_exposed(m) for m in system_metrics(sample, None, root.page_size)]
    assert [m.name for m in fields.metric_families()] == emitted


# --- doctor's keys and check's perfdata come from the registry ---------------------------------

REGISTRY_TREES = ["linux-6.18-swapping", "linux-4.19-no-psi", "check-no-swap-6.18", "topo-nfs"]
SAMPLE_EXTRAS = {"type", *fields.WINDOW_KEYS, "max", "note"}  # sub-records, not fields


def _doctor_json(case: str) -> dict[str, object]:
    """``doctor --sample 1 --format json`` on a fixture tree, which must say nothing on stderr."""
    from clihelp import no_sleep, run_cli

    _, out, err = run_cli(
        "doctor", "--sample", "1", "--format", "json", "--root", os.path.join(FIX, case),
        sleep=no_sleep,
    )  # fmt: skip
    assert err == "", err
    report: dict[str, object] = json.loads(out)
    return report


@pytest.mark.parametrize("case", REGISTRY_TREES)
def test_doctor_json_keys_are_the_registrys_in_its_order(case: str) -> None:
    report = _doctor_json(case)
    assert tuple(report) == fields.DOCTOR_KEYS
    for key in report:
        assert fields.field(key).key == key  # each has a Field: title, unit, help
    assert set(report["sample"]) - SAMPLE_EXTRAS <= set(fields.FIELDS)
    # The figures doctor shares with the sample record are the same figure under the same key.
    for key in ("page_size_bytes", "time"):
        assert report[key] == report["sample"][key]


def test_doctor_one_sample_record_keys_are_the_registrys() -> None:
    assert set(fields.DOCTOR_STATIC_SAMPLE_KEYS) - {"type"} <= set(fields.FIELDS)


def test_doctor_key_without_a_field_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure report() computes that the registry does not list must not reach the output."""
    from checkswap.doctor import report

    monkeypatch.setattr(report, "DOCTOR_KEYS", fields.DOCTOR_KEYS[:-1])  # "notes" unknown
    with pytest.raises(AssertionError, match="notes"):
        report.diagnose(Root(os.path.join(FIX, "linux-6.18-swapping")), sleep=lambda s: None)


def _check_perf(case: str, tmp: str) -> list[tuple[str, str, str]]:
    """(label, value, UOM) of each perfdata item of one check run, in line order."""
    import re

    from clihelp import no_sleep, run_cli

    state = os.path.join(tmp, case)
    _, out, err = run_cli(
        "check", "--sample", "1", "--state-file", state, "--root", os.path.join(FIX, case),
        sleep=no_sleep,
    )  # fmt: skip
    assert err == "", err
    items = []
    for item in out.rstrip("\n").split(" | ", 1)[1].split():
        label, rest = item.split("=", 1)
        m = re.match(r"^(U|[-\d.]+)([a-zA-Z%]*)", rest)
        assert m, item
        items.append((label, m.group(1), m.group(2)))
    return items


@pytest.mark.parametrize("case", REGISTRY_TREES)
def test_check_perfdata_labels_and_units_are_the_registrys(case: str, tmp_path: object) -> None:
    items = _check_perf(case, str(tmp_path))
    by_label = {p.label: (key, p) for key, p in fields.PERFDATA.items()}
    labels = [label for label, _, _ in items]
    assert labels == [p.label for p in fields.PERFDATA.values() if p.label in labels]
    for label, value, uom in items:
        key, p = by_label[label]
        assert uom == ("" if value == "U" else p.uom), label
        assert fields.field(key).key == key


def test_check_perfdata_and_watch_json_give_one_figure_one_name(tmp_path: object) -> None:
    """The perfdata item of a field and watch's JSON for that field are the same figure."""
    from clihelp import no_sleep, run_cli

    case = "linux-6.18-swapping"
    _, out, _ = run_cli(
        "watch", "-n", "2", "-i", "1", "--format", "json", "--root", os.path.join(FIX, case),
        sleep=no_sleep,
    )  # fmt: skip
    sample = [json.loads(line) for line in out.splitlines()][-1]
    values = {label: value for label, value, _ in _check_perf(case, str(tmp_path))}
    for key, p in fields.PERFDATA.items():
        if p.counter or key not in sample:
            continue
        assert float(values[p.label]) == pytest.approx(sample[key], rel=1e-5), key


def test_check_perfdata_without_a_label_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from checkswap.fleet import check

    perf = dict(fields.PERFDATA)
    del perf["interval_s"]
    monkeypatch.setattr(check, "PERFDATA", perf)
    with pytest.raises(AssertionError, match="interval_s"):
        _check_perf("linux-6.18-swapping", str(tmp_path))


def test_registry_tables_are_the_stable_interfaces_tables() -> None:
    """docs/interface.md lists doctor's keys and check's perfdata in order: the registry's."""
    from test_interface import table, ticks

    doctor = [ticks(r[0])[0] for r in table("doctor: result") if ticks(r[0])]
    assert tuple(k for k in doctor if "." not in k) == fields.DOCTOR_KEYS
    rows = table("Perfdata")
    documented = [(ticks(r[0])[0], (ticks(r[1]) or [""])[0]) for r in rows]
    assert documented == [(p.label, p.uom) for p in fields.PERFDATA.values()]


def test_doctor_sub_objects_are_the_interfaces_rows_in_order() -> None:
    """Each of doctor's sub-objects in DOCTOR_OBJECTS is docs/interface.md's rows for it."""
    from test_interface import table, ticks

    keys = [ticks(r[0])[0] for r in table("doctor: result") if ticks(r[0])]
    for path, own in fields.DOCTOR_OBJECTS.items():
        prefix = path + "."
        documented = [k[len(prefix) :] for k in keys if k.startswith(prefix)]
        # disk_cost's rows include disks[]'s: those are the next object's.
        documented = [k for k in documented if "." not in k]
        assert documented == [f.key for f in own], path
        optional = {
            ticks(r[0])[0][len(prefix) :]
            for r in table("doctor: result")
            if ticks(r[0]) and ticks(r[0])[0].startswith(prefix) and "optional" in r[1]
        }
        assert {k for k in optional if "." not in k} == {
            k[len(prefix) :] for k in fields.DOCTOR_OPTIONAL_KEYS if k.startswith(prefix)
        }, path


@pytest.mark.parametrize("case", ["topo-md-raid", "swap-area-deleted", "linux-6.1-zswap"])
def test_doctor_sub_objects_keys_are_the_registrys(case: str) -> None:
    report = _doctor_json(case)
    seen = 0
    for path, own in fields.DOCTOR_OBJECTS.items():
        head, _, tail = path.partition(".")
        objects = [report[head]] if not tail else report[head]["disks"] if report[head] else []
        for obj in objects:
            if obj is None:
                continue
            seen += 1
            wanted = [f.key for f in own]
            assert list(obj) == [k for k in wanted if k in obj], path
            absent = {f"{path}.{k}" for k in wanted if k not in obj}
            assert absent <= fields.DOCTOR_OPTIONAL_KEYS, path
    assert seen >= 2  # the tree gave more than since_boot to check


def test_doctor_object_refuses_a_key_the_registry_lacks_and_a_key_left_out() -> None:
    with pytest.raises(AssertionError, match=r"not in fields\.DOCTOR_OBJECTS.*surprise"):
        fields.doctor_object("disk_cost.disks[]", {**dict.fromkeys(
            f.key for f in fields.DOCTOR_DISK_FIELDS), "surprise": 1})  # fmt: skip
    with pytest.raises(AssertionError, match=r"lacks.*util_pct"):
        fields.doctor_object(
            "disk_cost.disks[]", dict.fromkeys(f.key for f in fields.DOCTOR_DISK_FIELDS[:-1])
        )
    # since_boot's per-day averages and meaning may be absent (no uptime, no counters).
    head = [f.key for f in fields.DOCTOR_SINCE_BOOT_FIELDS][:8]
    assert list(fields.doctor_object("since_boot", dict.fromkeys(head))) == head


# --- top's records: TOP_FIELDS, PROCESS_FIELDS, CGROUP_FIELDS ------------------------------


def _v1_tree(tmp: str) -> str:
    """A tree whose one swapping process sits in a cgroup v1 memory hierarchy."""
    import shutil

    tree = os.path.join(tmp, "v1")
    shutil.copytree(os.path.join(FIX, "top-hidepid2", "proc"), f"{tree}/proc")
    with open(f"{tree}/proc/3100/cgroup", "w") as f:
        f.write("4:memory:/hog\n0::/\n")
    hog = f"{tree}/sys/fs/cgroup/memory/hog"
    os.makedirs(hog)
    with open(f"{tree}/sys/fs/cgroup/memory/memory.stat", "w") as f:
        f.write("swap 0\npgmajfault 0\n")
    with open(f"{hog}/memory.stat", "w") as f:
        f.write("swap 1048576\npgmajfault 40\n")
    return tree


def _top_json(root: str) -> list[dict[str, object]]:
    import json

    from clihelp import no_sleep, run_cli

    argv = ["top", "-n", "2", "-i", "1", "--cgroups", "--pss", "--format", "json"]
    status, out, err = run_cli(*argv, "--root", root, sleep=no_sleep)
    assert status == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_top_records_carry_exactly_the_registry_keys(tmp_path: object) -> None:
    """top's JSON keys, in order, are TOP_KEYS, PROCESS_KEYS and CGROUP_KEYS (an optional one
    only where present): a key the scan grows outside the registry fails here."""
    seen = {"process": 0, "cgroup": 0, "v1": 0}
    trees = [os.path.join(FIX, t) for t in ("top-cgroup-v2-server", "cgroup-v2", "top-hidepid2")]
    for root in [*trees, _v1_tree(str(tmp_path))]:
        for rec in _top_json(root):
            assert tuple(rec) == fields.TOP_KEYS, root
            for p in rec["processes"]:  # type: ignore[attr-defined]
                assert tuple(p) == fields.PROCESS_KEYS, root
                seen["process"] += 1
            for c in rec["cgroups"] or []:  # type: ignore[attr-defined]
                want = [k for k in fields.CGROUP_KEYS if k in c or k not in fields.OPTIONAL_KEYS]
                assert list(c) == want, root
                seen["cgroup"] += 1
                seen["v1"] += c["version"] == 1
    assert all(seen.values()), seen  # every kind of record was looked at, v1 cgroups too


def _keys_read(path: str, function: str | None = None) -> set[str]:
    """String keys a renderer reads: x.get("k"), x["k"], and the keys of its column tables."""
    import ast

    with open(path) as f:
        tree: ast.AST = ast.parse(f.read())
    if function is not None:
        tree = next(
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function
        )
    keys: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            keys.add(node.args[0].value)
        elif isinstance(node, ast.Subscript):
            index = node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, str):
                keys.add(index.value)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id.endswith("_COLUMNS") for t in node.targets
        ):
            for elt in ast.walk(node.value):
                if (
                    isinstance(elt, ast.Tuple)
                    and elt.elts
                    and isinstance(elt.elts[0], ast.Constant)
                ):
                    keys.add(str(elt.elts[0].value))
    return keys


# swap_events is an open object of the kernel's counters; top prints two of them.
_EVENT_COUNTERS = {"max", "fail"}


def test_top_renderer_reads_only_registry_keys() -> None:
    import checkswap.render.top as top

    registry = {*fields.TOP_KEYS, *fields.PROCESS_KEYS, *fields.CGROUP_KEYS, *_EVENT_COUNTERS}
    read = _keys_read(top.__file__)
    assert {"swap_bytes", "swap_delta_bytes_per_s", "psi_some_avg10"} <= read  # it sees them
    assert read <= registry, f"render/top.py reads keys not in fields.py: {read - registry}"


def test_dash_tables_read_only_registry_keys() -> None:
    pytest.importorskip("rich")
    import checkswap.render.dash as dash

    registry = {*fields.TOP_KEYS, *fields.PROCESS_KEYS, *fields.CGROUP_KEYS}
    read = _keys_read(dash.__file__, "who") | {k for k, _, _ in dash.PROCESS_COLUMNS}
    read |= {k for k, _, _ in dash.CGROUP_COLUMNS}
    assert {"swap_bytes", "majflt_per_s", "unattributed_swap_bytes"} <= read
    assert read <= registry, f"dash's tables read keys not in fields.py: {read - registry}"


def test_top_and_dash_title_a_figure_alike() -> None:
    """The column both show under one field is titled by that field in both."""
    pytest.importorskip("rich")
    import checkswap.render.dash as dash
    from checkswap.render.top import text_lines

    rec = {"processes": [{"pid": 1, "swap_bytes": 4096}], "cgroups": []}
    top_text = "\n".join(text_lines(rec, 1, "swap"))
    state = dash.DashState("h", None, 1.0, "live")
    state.update({}, rec, [], None)
    dash_text = str(dash.frame_text(state, 100, 30))
    for key, _, _ in dash.PROCESS_COLUMNS:
        title = fields.process_field(key).title
        if key == "comm":
            continue  # dash says "process" where top says COMMAND
        assert title in dash_text, key
        name, slash, per = title.partition("/")
        assert name.upper() + slash + per in top_text, key
