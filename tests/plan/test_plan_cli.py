"""`stageagent plan`: generate (scripted planner), run a file, status, resume, errors."""

from __future__ import annotations

import json

import pytest

from stageagent.cli import main
from stageagent.tools.demo_db import create_demo_database

PLAN = {"goal": "count the orders", "steps": [
    {"id": "q", "target": "sql_executor", "params": {"sql": "SELECT count(*) AS n FROM orders"}},
    {"id": "again", "target": "sql_executor", "depends_on": ["q"],
     "params": {"sql": "SELECT count(*) AS m FROM products"}}]}


@pytest.fixture
def env(tmp_path):
    db = tmp_path / "demo.sqlite"
    create_demo_database(db)
    return ["--store", str(tmp_path / "plans.sqlite"), "--db", str(db)], tmp_path


def test_generate_validates_shows_and_stores_then_run_and_status(env, capsys):
    common, tmp = env
    script = tmp / "script.json"
    script.write_text(json.dumps({"planner": ["Two counts.", json.dumps(PLAN)]}))
    assert main(["plan", "How many orders?", *common, "--script", str(script)]) == 0
    out, err = capsys.readouterr()
    assert "q: tool sql_executor" in out and "flowchart TD" in out and "s0 --> s1" in out
    assert "stored in" in err
    script.write_text(json.dumps({"planner": ["Two counts.", json.dumps(PLAN)]}))
    assert main(["plan", "How many orders?", *common, "--script", str(script), "--json"]) == 0
    plan_id = json.loads(capsys.readouterr().out)["plan"]["id"]
    assert main(["plan", "run", plan_id, *common]) == 0
    out, err = capsys.readouterr()
    assert "completed: 100%" in out and "step_completed" in err
    assert main(["plan", "status", plan_id, *common, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["status"] == "completed" and status["progress"] == 1.0
    assert {s["status"] for s in status["steps"].values()} == {"completed"}


def test_run_a_plan_file_and_an_invalid_one(env, capsys):
    common, tmp = env
    good = tmp / "plan.json"
    good.write_text(json.dumps(PLAN))
    assert main(["plan", "run", str(good), *common]) == 0
    bad = tmp / "bad.json"
    bad.write_text(json.dumps({"steps": [{"id": "x", "target": "rm_rf"},
                                         {"id": "y", "target": "sql_executor",
                                          "depends_on": ["zz"], "params": {}}]}))
    capsys.readouterr()
    assert main(["plan", "run", str(bad), *common]) == 2
    err = capsys.readouterr().err
    assert "step 'x', field 'target'" in err and "step 'y', field 'depends_on[0]'" in err


def test_failing_plan_exits_1_and_resume_of_unknown_is_clear(env, capsys):
    common, tmp = env
    failing = tmp / "fail.json"
    failing.write_text(json.dumps({"steps": [
        {"id": "w", "target": "sql_executor", "params": {"sql": "DELETE FROM orders"}}]}))
    assert main(["plan", "run", str(failing), *common]) == 1
    out = capsys.readouterr().out
    assert "[failed] w" in out
    assert main(["plan", "resume", "nope", *common]) == 1
    assert "no plan 'nope'" in capsys.readouterr().err
    assert main(["plan"]) == 2
