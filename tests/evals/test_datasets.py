"""The bundled datasets: sizes the issue asks for, every gold query runs, every file is
valid against the shipped JSON schema (what an editor checks), and the schema is current."""

from __future__ import annotations

import io
import json
from collections import Counter

import jsonschema
import pytest
import yaml

from stageagent.evals.dataset import BUNDLED, SCHEMA_FILE, dataset_json_schema, load_dataset
from stageagent.evals.progress import Progress
from stageagent.evals.report import CaseResult, EvalReport

FILES = sorted(BUNDLED.glob("*.yaml"))


def test_shipped_schema_is_current():
    assert json.loads(SCHEMA_FILE.read_text()) == json.loads(
        json.dumps(dataset_json_schema(), sort_keys=True))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_bundled_file_validates_against_the_schema(path):
    jsonschema.validate(yaml.safe_load(path.read_text()), json.loads(SCHEMA_FILE.read_text()))
    assert path.read_text().startswith("# yaml-language-server: $schema=dataset.schema.json")


def test_schema_rejects_what_the_loader_rejects():
    schema = json.loads(SCHEMA_FILE.read_text())
    bad = {"cases": [{"name": "c", "inputs": {"question": "q"}, "metadata": {"stage": "sq1"}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad = {"cases": [], "evaluators": [{"ExecutionAccuracy": {"method": "fuzzy"}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_sizes_and_coverage():
    stages: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    databases = set()
    for path in FILES:
        for case in load_dataset(path).cases:
            stages[case.metadata.stage] += 1
            tags.update(case.metadata.tags)
            databases.add(case.inputs.database)
            if case.metadata.stage == "sql":
                assert case.expected_output.sql, case.name
    assert stages["sql"] >= 60 and stages["chart"] >= 20 and stages["document"] >= 20
    assert stages["report"] >= 10 and {"demo", "shop"} <= databases
    for tag in ("join", "aggregate", "date_range", "top_n", "null_handling", "ambiguous"):
        assert tags[tag] >= 3, tag


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_gold_query_runs_and_returns_rows(path, resources):
    for case in load_dataset(path).cases:
        sql = case.expected_output.sql or case.inputs.context.sql
        if sql and case.inputs.database:
            assert resources.gold(case.inputs.database, sql).rows, case.name


def test_progress_bar_and_markdown():
    out = io.StringIO()
    bar = Progress(2, enabled=True, stream=out)
    bar.update("passed")
    bar.update("broken")
    bar.close()
    assert "2/2" in out.getvalue() and "broken 1" in out.getvalue()
    report = EvalReport(name="x", cases=[CaseResult(name="a", stage="sql", status="passed"),
                                         CaseResult(name="b", stage="sql", status="failed",
                                                    reason="ex_bird: 0 rows")])
    md = report.to_markdown()
    assert "| sql | 2 | 50.0% |" in md and "| b | failed | ex_bird: 0 rows |" in md
