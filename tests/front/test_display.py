"""The notebook HTML in-process: escaping, failures, fallbacks, the live view's state."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from stageagent import ScriptedModel, call, evaluator
from stageagent.display import LiveView, live, report_html, stage_result_html
from stageagent.display.html import chart_html, sql_html
from stageagent.exceptions import ModelConnectionError
from stageagent.facade import StageAwareFacade
from core.helpers import make_runtime, stage  # tests/ is on sys.path: its packages import by name
from tests.pipeline.scripts import QUESTION, expected_result, happy_model

HOSTILE = "Revenue <script>alert('x')</script> \u202e\u0000 & \U0001f4a5 per category?"


async def test_a_failed_report_shows_why_and_escapes_everything(demo_db):
    model = ScriptedModel([ModelConnectionError("<b>connection reset</b>")])
    facade = StageAwareFacade(database=demo_db, model=model)
    result = await facade.report(HOSTILE)
    assert not result.ok
    html = report_html(result)
    assert "<script>" not in html and "<b>connection" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;connection reset&lt;/b&gt;" in html
    # a right-to-left override would reorder the page's text; a NUL has no place in HTML
    assert "\u202e" not in html and "\0" not in html
    assert "[U+202E][NUL] &amp; \U0001f4a5 per category?</h3>" in html
    assert 'sa-badge sa-bad">failed</span>' in html
    assert "in stage <code>sql</code>" in html
    assert "<details open><summary>Iterations (0)</summary>" in html
    assert result._repr_html_() == html


async def test_the_live_view_tracks_a_report_run_outside_ipython(demo_db):
    model = happy_model(expected_result(demo_db))
    run = StageAwareFacade(database=demo_db, model=model).run(QUESTION)
    result = await live(run)  # no IPython shell here: consumed silently
    assert result is run.result and result.ok
    view = LiveView()
    for event in result.events:
        view.add(event)
        if event.type == "stage_started" and event.stage == "chart":
            assert [r.status for r in view.stages.values()] == ["passed", "running", "pending"]
    view.finish("completed")
    assert view.status == "completed"
    assert [(n, r.status, r.calls) for n, r in view.stages.items()] == [
        ("sql", "passed", 4), ("chart", "passed", 2), ("document", "passed", 1)]
    assert "run completed in" in view.log_lines()[-1]


async def test_a_stage_run_display_returns_its_result_and_renders_failures():
    model = ScriptedModel([call("boom", {"reason": "<i>x</i>"}), "4", "4"])
    never = evaluator(lambda candidate: (0.2, ["Say <why>."]))
    run = make_runtime(evaluators={"never": never}).run_stage(
        stage(evaluators=["never"], quality_threshold=0.9, max_iterations=3), "2+2?",
        model=model)
    result = await run.display()
    assert result.reason == "max_iterations"
    html = stage_result_html(result)
    assert 'sa-warn">max_iterations</span>' in html
    assert "<li>Say &lt;why&gt;.</li>" in html  # critiques of a stage that did not pass
    assert 'boom&nbsp;<span class="sa-err">\u2717</span>' in html  # the failed tool call
    assert "<details open><summary>Turns (3)</summary>" in html
    assert result._repr_html_() == html


def test_sql_is_highlighted_without_pygments_too():
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys
        sys.modules["pygments"] = None  # as if not installed
        from stageagent.display.html import sql_html
        print(sql_html("SELECT a, 'x<y' FROM t WHERE n > 10"))
    """)], capture_output=True, text=True, cwd=root, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        '<pre class="sa-sql"><span class="sa-kw">SELECT</span> a, '
        '<span class="sa-str">&#x27;x&lt;y&#x27;</span> <span class="sa-kw">FROM</span> t '
        '<span class="sa-kw">WHERE</span> n &gt; <span class="sa-numlit">10</span></pre>')
    assert "&lt;" in sql_html("SELECT '<'")  # and with pygments: escaped as well


def test_a_chart_that_cannot_render_says_so():
    html = chart_html({"mark": "bar", "encoding": {"x": {"field": "a", "type": "bogus"}},
                       "data": {"values": [{"a": 1}]}})
    assert html.startswith('<div class="sa-failed">The chart could not be rendered')
