"""What a careless or hostile user hands the eval CLI: files that are not reports, a
partial report in a diff, an empty dataset, an evaluator argument of the wrong type.
Each gets a one-line error that names the file (exit 2) or an honest diff - never a
traceback, and never a silent "nothing changed"."""

from __future__ import annotations

import pytest

from stageagent.evals.cli import main
from stageagent.evals.dataset import dataset_from_data
from stageagent.evals.diff import diff_reports
from stageagent.evals.errors import DatasetError, EvalError
from stageagent.evals.report import CaseResult, EvalReport


def _case(name: str, status: str = "passed") -> CaseResult:
    return CaseResult(name=name, stage="sql", status=status,  # type: ignore[arg-type]
                      results=[{"name": "ex_bird", "value": status == "passed"}])


@pytest.mark.parametrize("content", ["[]", "null", "3", "{}", '{"name": "eval"}',
                                     '{"cases": "all of them"}', '{"cases": [{"name": 1}]}'])
def test_a_file_that_is_not_a_report_is_refused_naming_it(tmp_path, capsys, content):
    path = tmp_path / "other.json"
    path.write_text(content)
    with pytest.raises(EvalError, match="other.json: not an eval report"):
        EvalReport.load(path)
    good = tmp_path / "good.json"
    EvalReport(cases=[_case("a")]).write_json(good)
    assert main(["diff", str(good), str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "other.json: not an eval report" in err and len(err.splitlines()) == 1


def test_a_report_written_by_the_harness_loads_back(tmp_path):
    path = EvalReport(cases=[_case("a"), _case("b", "failed")], planned=3,
                      partial=True).write_json(tmp_path / "r.json")
    loaded = EvalReport.load(path)
    assert [c.key for c in loaded.cases] == ["a", "b"] and loaded.partial


def test_cases_an_interrupted_run_never_reached_are_not_run_not_removed():
    complete = EvalReport(cases=[_case("a"), _case("b"), _case("c")], planned=3)
    partial = EvalReport(cases=[_case("a", "failed")], planned=3, partial=True)
    diff = diff_reports(complete, partial)
    kinds = {c.case: c.change for c in diff.changes}
    assert kinds == {"sql/a": "regressed", "sql/b": "not run", "sql/c": "not run"}
    assert "B is partial: 1 of 3 cases ran" in diff.text()
    assert {c.case: c.change for c in diff_reports(partial, complete).changes} == {
        "sql/a": "improved", "sql/b": "not run", "sql/c": "not run"}
    # a complete report without a case: that case really was removed
    assert {c.case: c.change for c in diff_reports(
        complete, EvalReport(cases=[_case("a")], planned=1)).changes} == {
        "sql/b": "removed", "sql/c": "removed"}


def test_an_empty_dataset_is_named_not_blamed_on_filters(tmp_path, capsys):
    path = tmp_path / "empty.yaml"
    path.write_text("name: empty\ncases: []\n")
    assert main(["--dataset", str(path), "--model", "openai:gpt-4o"]) == 2
    err = capsys.readouterr().err
    assert "empty.yaml: the dataset has no cases" in err and "--case" not in err


def test_an_evaluator_argument_of_the_wrong_type_is_named():
    base = {"name": "c", "inputs": {"question": "q"}, "metadata": {"stage": "sql"}}
    with pytest.raises(DatasetError, match=r"ExecutionTimeRatio: runs: .*integer") as info:
        dataset_from_data({"cases": [{**base, "evaluators": [
            {"ExecutionTimeRatio": {"runs": [1]}}]}]})
    assert info.value.case == "c" and info.value.key == "evaluators[0]"
