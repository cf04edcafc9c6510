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


async def test_document_scores_match_the_pipelines_own_checker(resources):
    """Right: the pipeline's grounded draft; wrong: its largest figure misquoted. The
    reported grounding must be what `check_consistency` says of the text the model gave."""
    from stageagent.evals.dataset import bundled, load_dataset
    from stageagent.evals.tasks import query_result
    from stageagent.tools.document import analyze_paragraph, check_consistency, generate_draft

    ds = load_dataset(bundled("document")).select(tags=["join"])
    right = _first_half(ds)
    report = await evaluate(ds, model=oracle_model(ds, right=right), resources=resources)
    by_name = {c.name: c for c in report.cases}
    for case in ds.cases:
        values = by_name[case.name].values()
        result = query_result(case.inputs.context.result, case.inputs.context.sql or "")
        draft = generate_draft(result, case.inputs.question,
                               analyze_paragraph(result, case.inputs.question))
        if right(case):
            assert values["grounded"] is check_consistency(draft, result).ok, case.name
            assert values["facts_present"] is True, case.name
        else:
            assert values["grounded"] is False, case.name


async def test_report_end_to_end_known_quality(resources):
    from stageagent.evals.dataset import bundled, load_dataset

    ds = load_dataset(bundled("report")).select(tags=["top_n", "group_by"])
    assert ds.cases
    right = await evaluate(ds, model=oracle_model(ds), resources=resources)
    wrong = await evaluate(ds, model=oracle_model(ds, right=lambda c: False),
                           resources=resources)
    for metric in ("ex_test_suite", "ChartTypeMatch", "facts_present", "grounded"):
        assert right.metric(metric) == 1.0, metric
    assert wrong.pass_rate == 0.0 and wrong.metric("ex_test_suite") == 0.0
    assert all(c.figures.stop_reason != "passed" for c in wrong.cases)
    for case in right.cases:  # the runtime's figures per stage, and summed
        assert set(case.stages) == {"sql", "chart", "document"}
        assert case.figures.iterations == sum(s.iterations for s in case.stages.values()) >= 3


async def test_two_worker_processes_score_exactly_like_one(sql_shop, resources):
    half = {c.name for c in sql_shop.cases[1::2]}
    model = oracle_model(sql_shop, right=lambda c: c.name in half)
    one = await evaluate(sql_shop, model=model, resources=resources)
    two = await evaluate(sql_shop, model=model, resources=resources, workers=2)
    assert [(c.name, c.scored()) for c in two.cases] == [(c.name, c.scored()) for c in one.cases]
    assert not two.partial and two.settings["workers"] == 2
