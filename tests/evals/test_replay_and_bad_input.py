"""Record then replay offline (identical scores); bad input: malformed datasets, broken
gold SQL, a model that hangs on one case, an interrupted run."""

from __future__ import annotations

import asyncio
import socket

import pytest

from stageagent.evals.dataset import dataset_from_data, load_dataset
from stageagent.evals.errors import DatasetError, UnknownEvaluatorError
from stageagent.evals.oracle import oracle_model
from stageagent.evals.runner import Evaluation, evaluate
from stageagent.models import FunctionModel


def _scores(report):
    return [(c.key, c.scored(), c.figures.iterations, c.figures.input_tokens) for c in report.cases]


async def test_record_then_replay_offline_gives_identical_scores(sql_shop, resources, tmp_path,
                                                                 monkeypatch):
    half = {c.name for c in sql_shop.cases[::2]}
    model = oracle_model(sql_shop, right=lambda c: c.name in half)
    recorded = await evaluate(sql_shop, model=model, resources=resources, record=tmp_path)
    assert len(list(tmp_path.glob("*.jsonl"))) == len(sql_shop.cases)

    def no_network(*args, **kwargs):
        raise AssertionError("the replay tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    replayed = await evaluate(sql_shop, replay=tmp_path, resources=resources)
    assert _scores(replayed) == _scores(recorded)
    assert 0 < recorded.pass_rate < 1


async def test_cache_serves_an_unchanged_case_without_calling_the_model(sql_shop, resources,
                                                                        tmp_path):
    ds = sql_shop.select(["shop_anonymous_sales", "shop_branch_parents"])
    model = oracle_model(ds)
    first = await evaluate(ds, model=model, resources=resources, cache=tmp_path)
    calls = model.calls
    second = await evaluate(ds, model=model, resources=resources, cache=tmp_path)
    assert calls > 0 and model.calls == calls
    assert _scores(first) == _scores(second)


def test_malformed_dataset_names_file_case_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ncases:\n- name: c1\n  inputs: {question: q, database: demo}\n"
                    "  metadata: {stage: sql, difficulty: extreme}\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert info.value.case == "c1" and info.value.key == "metadata.difficulty"
    assert str(path) in str(info.value)
    path.write_text("cases: [{name: c2, inputs: {question: q}, metadata: {stage: document},\n"
                    "  expected_output: {facts: [{text: x, value: 3}]}}]")
    with pytest.raises(DatasetError, match="exactly one of") as info:
        load_dataset(path)
    assert info.value.case == "c2" and info.value.key == "expected_output.facts.0"
    path.write_text("cases: [: broken")
    with pytest.raises(DatasetError, match="not valid YAML"):
        load_dataset(path)


def test_unknown_evaluator_and_bad_argument_are_load_errors():
    base = {"name": "c", "inputs": {"question": "q"}, "metadata": {"stage": "sql"}}
    with pytest.raises(UnknownEvaluatorError) as info:
        dataset_from_data({"cases": [{**base, "evaluators": ["Nope"]}]})
    assert info.value.key == "evaluators[0]" and info.value.case == "c"
    with pytest.raises(DatasetError, match="bird"):
        dataset_from_data({"cases": [base], "evaluators": [{"ExecutionAccuracy": "fuzzy"}]})


async def test_gold_that_does_not_run_is_broken_not_a_model_failure(sql_shop, resources):
    good = sql_shop.cases[0]
    bad = good.model_copy(update={"name": "bad_gold", "inputs": good.inputs.model_copy(
                                      update={"question": "A question with a broken gold?"}),
                                  "expected_output": good.expected_output
                                  .model_copy(update={"sql": "SELECT nope FROM \"Nowhere\""})})
    ds = sql_shop.model_copy(update={"cases": [good, bad]})
    model = oracle_model(ds)
    report = await evaluate(ds, model=model, resources=resources)
    assert model.calls == 3  # the good case: executor call, answer, format; not the broken one
    status = {c.name: c for c in report.cases}
    assert status["bad_gold"].status == "broken" and "gold SQL" in status["bad_gold"].reason
    assert status[good.name].status == "passed"
    assert report.pass_rate == 1.0 and report.stages()["sql"]["broken"] == 1


async def test_a_model_that_hangs_on_one_case_fails_that_case_only(sql_shop, resources):
    ds = sql_shop.select(["shop_anonymous_sales", "shop_branch_parents"])
    oracle = oracle_model(ds)
    hang = ds.cases[0].inputs.question

    async def answer(request):
        if any(getattr(m, "content", None) == hang for m in request.messages):
            await asyncio.sleep(3600)
        return await oracle.request(request)

    report = await evaluate(ds, model=FunctionModel(answer), resources=resources,
                            case_timeout=8.0)  # generous: the other case must finish on a loaded machine
    by_name = {c.name: c for c in report.cases}
    assert by_name["shop_anonymous_sales"].status == "failed"
    assert "timed out" in by_name["shop_anonymous_sales"].reason
    assert by_name["shop_branch_parents"].status == "passed", by_name["shop_branch_parents"].reason
    assert not report.partial


async def test_an_interrupted_run_keeps_its_results_and_says_partial(sql_shop, resources):
    ds = sql_shop.select(["shop_anonymous_sales", "shop_branch_parents"])
    oracle = oracle_model(ds)
    hang = ds.cases[0].inputs.question
    blocked = asyncio.Event()

    async def answer(request):
        if any(getattr(m, "content", None) == hang for m in request.messages):
            blocked.set()
            await asyncio.sleep(3600)
        return await oracle.request(request)

    evaluation = Evaluation(ds, model=FunctionModel(answer), resources=resources)
    task = asyncio.ensure_future(evaluation.run())
    while len(evaluation.report.cases) < 1 or not blocked.is_set():
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    report = evaluation.report
    assert report.partial and report.planned == 2
    assert [c.name for c in report.cases] == ["shop_branch_parents"]
    assert "PARTIAL: 1 of 2" in report.table()


async def test_retryable_provider_errors_retry_the_case_with_backoff(sql_shop, resources):
    from stageagent.exceptions import ModelOverloadedError, ModelAuthError
    from stageagent.evals.runner import RetryConfig

    ds = sql_shop.select(["shop_anonymous_sales", "shop_branch_parents"])
    oracle = oracle_model(ds)
    flaky, broken = ds.cases[0].inputs.question, ds.cases[1].inputs.question
    failures = {flaky: 2}

    async def answer(request):
        asked = {getattr(m, "content", None) for m in request.messages}
        if flaky in asked and failures[flaky]:
            failures[flaky] -= 1
            raise ModelOverloadedError("overloaded", provider="test", status=529)
        if broken in asked:
            raise ModelAuthError("bad key", provider="test", status=401)
        return await oracle.request(request)

    report = await evaluate(ds, model=FunctionModel(answer), resources=resources,
                            retry=RetryConfig(attempts=3, base_delay=0.01))
    by_name = {c.name: c for c in report.cases}
    assert failures[flaky] == 0 and by_name[ds.cases[0].name].status == "passed"
    assert by_name[ds.cases[1].name].status == "failed"  # not retryable: one attempt
    assert "error" in by_name[ds.cases[1].name].reason


async def test_a_case_that_crashes_fails_alone(sql_shop, resources, tmp_path):
    """A replay missing one cassette and a judge with no recording: those cases fail
    (or are broken) with the reason; the others are scored."""
    ds = sql_shop.select(["shop_anonymous_sales", "shop_branch_parents"])
    await evaluate(ds, model=oracle_model(ds), resources=resources, record=tmp_path)
    (tmp_path / "shop_branch_parents.jsonl").unlink()
    (tmp_path / "shop_anonymous_sales.jsonl").write_text("{not json\n")
    report = await evaluate(ds, replay=tmp_path, resources=resources)
    by_name = {c.name: c for c in report.cases}
    assert by_name["shop_branch_parents"].status == "broken"
    assert "no cassette" in by_name["shop_branch_parents"].reason
    assert by_name["shop_anonymous_sales"].status == "failed"
    assert "crashed" in by_name["shop_anonymous_sales"].reason and not report.partial
