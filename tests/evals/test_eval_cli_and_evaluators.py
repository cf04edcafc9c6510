"""The eval CLI (replay, fail-under, diff, notebook table) and the chart / document /
schema-linking / judge evaluators on hand-made cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from stageagent.evals.dataset import Expected, Fact, dataset_from_data
from stageagent.evals.document_evaluators import fact_present
from stageagent.evals.evaluator import EvaluatorContext
from stageagent.evals.judge import LLMJudge, parse_verdict
from stageagent.evals.oracle import oracle_model
from stageagent.evals.outcome import CaseOutput
from stageagent.evals.runner import evaluate
from stageagent.evals.schema_linking import precision_recall
from stageagent.models import FunctionModel


def _cli(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "stageagent", "eval", *args],
                          capture_output=True, text=True, env=env, timeout=300)


async def test_cli_replays_fails_under_and_diffs(sql_shop, resources, tmp_path, db_dir):
    ds = sql_shop.select(["shop_anonymous_sales", "shop_branch_parents"])
    tapes = tmp_path / "tapes"
    await evaluate(ds, model=oracle_model(ds, right=lambda c: c.name == "shop_branch_parents"),
                   resources=resources, record=tapes)
    env = {"STAGEAGENT_CACHE_DIR": str(db_dir.parent / "cli-cache")}
    args = ["--dataset", "sql_shop", "--case", "shop_anonymous_sales", "--case",
            "shop_branch_parents", "--replay", str(tapes)]
    ok = _cli(*args, "--json", str(tmp_path / "a.json"), "--fail-under", "0.5", env_extra=env)
    assert ok.returncode == 0, ok.stderr
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["summary"]["stages"]["sql"]["pass_rate"] == 0.5
    missed = _cli(*args, "--json", str(tmp_path / "b.json"), "--fail-under", "ex_bird=0.9",
                  env_extra=env)
    assert missed.returncode == 1 and "ex_bird 0.500" in missed.stderr
    diff = _cli("diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert diff.returncode == 0 and "0 improved, 0 regressed" in diff.stdout
    bad = _cli("--dataset", str(tmp_path / "missing.yaml"), "--replay", str(tapes))
    assert bad.returncode == 2 and "missing.yaml" in bad.stderr
    bad = _cli(*args[:-1], str(tmp_path / "nowhere"))
    assert bad.returncode == 2 and "nowhere" in bad.stderr and "Traceback" not in bad.stderr
    bad = _cli("--dataset", "sql_shop", "--stage", "chart", "--replay", str(tapes))
    assert bad.returncode == 2 and "shop_books_per_genre" in bad.stderr
    assert "inputs.context.result" in bad.stderr


def test_report_shows_as_an_html_table_in_notebooks():
    from stageagent.evals.report import CaseResult, EvalReport

    report = EvalReport(cases=[CaseResult(name="a<b", stage="sql", status="failed", reason="x")])
    html = report._repr_html_()
    assert "<table>" in html and "a&lt;b" in html and "0.0%" in html


def _ctx(expected: Expected, output: CaseOutput, resources):
    data = {"cases": [{"name": "c", "inputs": {"question": "q?"}, "metadata": {"stage": "chart"},
                       "expected_output": expected.model_dump(exclude_none=True)}]}
    case = dataset_from_data(data).cases[0]
    return EvaluatorContext(case=case, output=output, resources=resources)


def test_encoding_match_allows_a_horizontal_bar(resources):
    from stageagent.evals.chart_evaluators import EncodingMatch

    spec = {"mark": "bar", "encoding": {"x": {"field": "revenue"}, "y": {"field": "category"}}}
    ctx = _ctx(Expected(encoding={"x": "category", "y": "revenue"}),
               CaseOutput(stage="chart", chart_spec=spec), resources)
    assert EncodingMatch().evaluate(ctx)["encoding_match"].value is True
    line = _ctx(Expected(encoding={"x": "category", "y": "revenue"}),
                CaseOutput(stage="chart", chart_spec={**spec, "mark": "line"}), resources)
    assert EncodingMatch().evaluate(line)["encoding_match"].value is False


def test_facts_match_phrases_and_rounded_figures():
    text = "Services led with 1.40 million EUR, ahead of Furniture."
    assert fact_present(Fact(text="services"), text)
    assert fact_present(Fact(value=1398339.97), text)
    assert not fact_present(Fact(value=1298339.97), text)


def test_schema_linking_precision_recall():
    assert precision_recall(frozenset({"a", "a.x"}), frozenset({"a", "a.x", "a.y"})) == (1.0, 2 / 3)
    assert precision_recall(frozenset(), frozenset({"a"})) == (0.0, 0.0)


async def test_llm_judge_scores_with_any_model(resources):
    judge = LLMJudge(rubric="Does the text name the top category?", model="test:judge",
                     threshold=0.6)
    model = FunctionModel(lambda request: '{"score": 0.75, "reason": "names it"}')
    resources.judge_model = lambda spec, ctx=None: model  # type: ignore[method-assign]
    ctx = _ctx(Expected(), CaseOutput(stage="document", document="Services led."), resources)
    result = await judge.evaluate(ctx)
    assert result["judge_pass"] is True and result["judge_score"].value == 0.75
    assert parse_verdict("no json here")[0] is None


async def test_llm_judge_verdicts_are_recorded_and_replayed(sql_shop, resources, tmp_path):
    ds = sql_shop.select(["shop_anonymous_sales"]).model_copy(update={"evaluators": [
        "ExecutesSQL", {"LLMJudge": {"rubric": "Is the SQL minimal?", "model": "test:judge",
                                     "threshold": 0.5}}]})
    judge = FunctionModel(lambda request: '{"score": 0.4, "reason": "extra join"}')
    recorded = await evaluate(ds, model=oracle_model(ds), resources=resources, record=tmp_path,
                              judge_models={"test:judge": judge})
    assert judge.calls == 1 and (tmp_path / "judge").is_dir()
    replayed = await evaluate(ds, replay=tmp_path, resources=resources)
    for report in (recorded, replayed):
        values = report.cases[0].values()
        assert values["judge_score"] == 0.4 and values["judge_pass"] is False
        assert report.cases[0].status == "failed"


def test_execution_time_ratio_rewards_only_correct_queries(sql_shop, resources):
    from stageagent.evals.sql_evaluators import ExecutionTimeRatio, r_ves_reward

    case = sql_shop.select(["shop_anonymous_sales"]).cases[0]
    right = EvaluatorContext(case=case, resources=resources, output=CaseOutput(
        stage="sql", sql=case.expected_output.sql))
    wrong = EvaluatorContext(case=case, resources=resources, output=CaseOutput(
        stage="sql", sql='SELECT COUNT(*) FROM "Sale"'))
    good = ExecutionTimeRatio(runs=2).evaluate(right)
    assert good["time_ratio"] > 0 and good["ves"] == good["time_ratio"] ** 0.5
    assert good["r_ves"] == r_ves_reward(good["time_ratio"])
    bad = ExecutionTimeRatio(runs=1).evaluate(wrong)
    assert bad["ves"] == 0.0 and bad["r_ves"] == 0.0
    assert [r_ves_reward(x) for x in (3, 1.5, 0.6, 0.3, 0.1)] == [1.25, 1.0, 0.75, 0.5, 0.25]


def test_diff_names_improved_regressed_added_and_removed():
    from stageagent.evals.diff import diff_reports
    from stageagent.evals.report import CaseResult, EvalReport

    def case(name, status, score):
        return CaseResult(name=name, stage="sql", status=status,
                          results=[{"name": "schema_recall", "value": score}])

    a = EvalReport(cases=[case("up", "failed", 0.5), case("down", "passed", 1.0),
                          case("same", "passed", 1.0), case("gone", "passed", 1.0)])
    b = EvalReport(cases=[case("up", "passed", 1.0), case("down", "failed", 0.25),
                          case("same", "passed", 1.0), case("new", "failed", 0.0)])
    diff = diff_reports(a, b)
    kinds = {c.case: c.change for c in diff.changes}
    assert kinds == {"sql/up": "improved", "sql/down": "regressed", "sql/gone": "removed",
                     "sql/new": "added"}
    assert next(c for c in diff.changes if c.case == "sql/down").deltas == {"schema_recall": -0.75}
    assert "1 improved, 1 regressed" in diff.text()


async def test_repeat_samples_each_case_again_even_with_the_cache(sql_shop, resources, tmp_path):
    ds = sql_shop.select(["shop_anonymous_sales"])
    model = oracle_model(ds)
    report = await evaluate(ds, model=model, resources=resources, repeat=3, cache=tmp_path)
    assert [c.key for c in report.cases] == ["shop_anonymous_sales",
                                             "shop_anonymous_sales [2]",
                                             "shop_anonymous_sales [3]"]
    assert model.calls == 3 * 3  # three turns per sample, none served across repeats
    assert report.pass_rate == 1.0
