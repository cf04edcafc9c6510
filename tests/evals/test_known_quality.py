"""The harness with models of known quality: the reported scores match exactly."""

from __future__ import annotations

import pytest

from stageagent.evals.oracle import oracle_model
from stageagent.evals.runner import evaluate


def _first_half(dataset):
    names = {c.name for c in dataset.cases[: len(dataset.cases) // 2]}
    return lambda case: case.name in names


@pytest.mark.parametrize("quality", ["right", "wrong", "half"])
async def test_sql_scores_are_exact(sql_shop, resources, quality):
    right = {"right": lambda c: True, "wrong": lambda c: False, "half": _first_half(sql_shop)}
    report = await evaluate(sql_shop, model=oracle_model(sql_shop, right=right[quality]),
                            resources=resources, concurrency=4)
    expected = {"right": 1.0, "wrong": 0.0, "half": 0.5}[quality]
    n = len(sql_shop.cases)
    assert len(report.cases) == n and not report.partial
    assert report.pass_rate == expected
    for metric in ("ex_bird", "ex_test_suite", "ex_strict", "schema_recall"):
        assert report.metric(metric) == expected
    assert report.metric("ExecutesSQL") == 1.0  # even the wrong query runs
    statuses = {c.name: c.status for c in report.cases}
    for case in sql_shop.cases:
        want = "passed" if right[quality](case) else "failed"
        assert statuses[case.name] == want, case.name
    summary = report.stages()["sql"]
    assert summary["passed"] == round(expected * n) and summary["broken"] == 0
    assert all(c.figures.iterations >= 1 and c.figures.requests >= 2 for c in report.cases)


async def test_demo_sql_always_right(sql_demo, resources):
    report = await evaluate(sql_demo, model=oracle_model(sql_demo), resources=resources,
                            concurrency=8)
    failures = [(c.name, c.reason) for c in report.cases if c.status != "passed"]
    assert failures == []
    assert len(sql_demo.cases) + 22 >= 60


async def test_chart_known_quality(resources):
    from stageagent.evals.dataset import bundled, load_dataset

    ds = load_dataset(bundled("chart")).select(tags=["line"])
    right = _first_half(ds)
    report = await evaluate(ds, model=oracle_model(ds, right=right), resources=resources)
    for case in report.cases:
        values = case.values()
        good = right(next(c for c in ds.cases if c.name == case.name))
        assert values["ChartTypeMatch"] is good, case.name
        if good:
            assert values["ChartValid"] is True and values["encoding_match"] is True
    assert report.metric("ChartTypeMatch") == (len(ds.cases) // 2) / len(ds.cases)
