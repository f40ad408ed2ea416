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


@pytest.mark.parametrize("case", REGISTRY_TREES)
def test_doctor_json_keys_are_the_registrys_in_its_order(case: str) -> None:
    from clihelp import no_sleep, run_cli

    _, out, err = run_cli(
        "doctor", "--sample", "1", "--format", "json", "--root", os.path.join(FIX, case),
        sleep=no_sleep,
    )  # fmt: skip
    assert err == "", err
    report = json.loads(out)
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
