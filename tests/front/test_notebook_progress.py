"""A run in progress displayed by a real Jupyter kernel: a `StageRun` and a `ReportRun`
shown mid-run render what they have done so far (`_repr_html_`), and their result once
they end. The notebook is built here and executed with nbclient; scripted models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests.front.test_notebook import kernel_manager

ROOT = Path(__file__).resolve().parents[2]

STAGE_SETUP = '''
from stageagent import ScriptedModel, StageAwareRuntime, StageConfig, call, tool

@tool
async def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: the first
        b: the second
    """
    return a + b

runtime = StageAwareRuntime(tools=[add], price=lambda m, u: None)
calc = StageConfig(name="calc", tools=["add"], prompt_text="Task: {{ input }}",
                   max_iterations=4)
model = ScriptedModel([call("add", {"a": 2, "b": 3}), call("add", {"a": 5, "b": 4}),
                       "The sum is 9."])
run = runtime.run_stage(calc, "2+3+4?", model=model)
run
'''

# five events: stage_started, tool_called, tool_result, iteration_completed, tool_called
STAGE_MIDWAY = "events = [await run.__anext__() for _ in range(5)]\nrun"
STAGE_END = "result = await run.collect()\nrun"

REPORT_SETUP = '''
from stageagent.facade import StageAwareFacade
from stageagent.tools.demo_db import create_demo_database
from stageagent.tools.sql import Database
from tests.pipeline.scripts import QUESTION, expected_result, happy_model

create_demo_database("demo.sqlite")
db = Database("demo.sqlite")
facade = StageAwareFacade(database=db, model=happy_model(expected_result(db)))
report = facade.run(QUESTION, approve_steps=["chart"])
async for event in report:
    if event.type == "approval_requested":
        break
report
'''
REPORT_END = "await report.approve(event.approval_id)\nfinal = await report.collect()\nreport"


@pytest.fixture(scope="module")
def cells(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (
        STAGE_SETUP, STAGE_MIDWAY, STAGE_END, REPORT_SETUP, REPORT_END)]
    workdir = tmp_path_factory.mktemp("progress")
    (workdir / "tests").symlink_to(ROOT / "tests")  # the scripted pipeline turns
    client = NotebookClient(nb, km=kernel_manager(workdir / "kernels"), timeout=120,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return list(nb.cells)


def html_of(cell: Any) -> str:
    (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    return str(result["data"]["text/html"])


def test_a_stage_run_not_yet_started_says_so(cells):
    html = html_of(cells[0])
    assert 'sa-idle">pending</span> stage calc: not started' in html
    assert "input: 2+3+4?" in html


def test_a_stage_run_midway_shows_its_iteration_and_tool_calls_so_far(cells):
    html = html_of(cells[1])
    assert 'sa-run">running</span> stage calc' in html
    assert "iteration 2 of 4" in html and "5 events" in html
    rows = html.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert len(rows) == 2
    assert "{&quot;a&quot;: 2, &quot;b&quot;: 3}" in rows[0] and 'sa-ok">ok</span>' in rows[0]
    assert "<td>5</td>" in rows[0]  # the first call's observation
    assert "{&quot;a&quot;: 5, &quot;b&quot;: 4}" in rows[1]
    assert 'sa-run">running</span>' in rows[1]  # the second call: no result yet


def test_a_finished_stage_run_shows_its_result(cells):
    html = html_of(cells[2])
    assert "running" not in html and "The sum is 9." in html
    assert 'id="sa-run-' not in html  # the result's own rendering


def test_a_report_run_waiting_for_an_approval_shows_its_stages_and_the_wait(cells):
    html = html_of(cells[3])
    assert 'sa-run">running</span> run' in html
    assert "<td>sql</td><td><span class=\"sa-badge sa-ok\">passed</span>" in html
    assert "Waiting for approval" in html and ":step:chart</td>" in html
    assert "a chart of the SQL result" in html


def test_a_finished_report_run_shows_the_report(cells):
    html = html_of(cells[4])
    assert "Waiting for approval" not in html and 'sa-ok">ok</span>' in html
    assert "million EUR" in html  # the report's text
