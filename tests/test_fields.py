"""The field registry (fields.py): one entry per figure, and every output built from it."""

from __future__ import annotations

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
