"""The report writer and the `stageagent` CLI, end to end in a subprocess, plus Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stageagent import parse_event
from stageagent.cli import main
from stageagent.facade import StageAwareFacade, run_report_sync
from stageagent.report import markdown_to_html, write_report

from .scripts import (
    CHART_TITLE,
    QUESTION,
    SQL,
    cli_script,
    document_text,
    expected_result,
    happy_model,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REPORT_FILES = {"report.md", "report.html", "chart.png", "chart.vl.json", "chart.echarts.json",
                "query.sql", "data.csv", "events.jsonl"}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "STAGEAGENT_MODEL")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.update(extra)
    return env


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stageagent", *args], capture_output=True,
                          text=True, env=_env(tmp_path, **env), timeout=120, cwd=tmp_path,
                          check=False)


def _check_report_dir(out: Path, expected) -> None:
    assert REPORT_FILES <= {p.name for p in out.iterdir()}
    png = (out / "chart.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 1000
    events = [parse_event(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert events[0].type == "run_started" and events[-1].type == "run_completed"
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert (out / "query.sql").read_text().strip() == SQL + ";"
    csv_lines = (out / "data.csv").read_text().splitlines()
    assert csv_lines[0] == "category,revenue" and len(csv_lines) == expected.row_count + 1
    assert json.loads((out / "chart.vl.json").read_text())["title"] == CHART_TITLE
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and document_text(expected) in html
    assert "http://" not in html and "https://" not in html  # self-contained
    md = (out / "report.md").read_text()
    assert document_text(expected) in md and "![chart](chart.png)" in md


async def test_write_report_writes_every_file(sqlite_db, tmp_path):
    expected = expected_result(sqlite_db)
    result = await StageAwareFacade(database=sqlite_db, model=happy_model(expected)).report(
        QUESTION)
    written = write_report(result, tmp_path / "out")
    assert set(written) == REPORT_FILES
    _check_report_dir(tmp_path / "out", expected)


async def test_failed_run_report_shows_the_error_and_has_no_chart(sqlite_db, tmp_path):
    from stageagent import ScriptedModel

    model = ScriptedModel([RuntimeError("model exploded")])
    result = await StageAwareFacade(database=sqlite_db, model=model).report(QUESTION)
    written = write_report(result, tmp_path)
    assert not result.ok and {"report.html", "report.md", "events.jsonl"} <= set(written)
    assert "chart.png" not in written and "query.sql" not in written
    html = (tmp_path / "report.html").read_text()
    assert 'id="error"' in html and "model exploded" in html


def test_markdown_to_html_escapes_and_structures():
    out = markdown_to_html("## Result\nSales **rose**.\n\n- a <b>\n- c\n\nEnd & *done*.")
    assert out == ("<h4>Result</h4>\n<p>Sales <strong>rose</strong>.</p>\n"
                   "<ul><li>a &lt;b&gt;</li><li>c</li></ul>\n<p>End &amp; <em>done</em>.</p>")


def test_cli_report_end_to_end_in_a_subprocess(sqlite_path, sqlite_db, tmp_path):
    expected = expected_result(sqlite_db)
    script = tmp_path / "script.json"
    script.write_text(json.dumps(cli_script(expected)))
    out = tmp_path / "out"
    proc = _cli(tmp_path, "report", QUESTION, "--db", f"sqlite:///{sqlite_path}",
                "--script", str(script), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    # live progress on stderr: stage, iteration, tool, quality score
    assert "[sql #3] -> sql_executor" in proc.stderr
    assert "[chart #3] quality 1.00 (gate 0.80) passed" in proc.stderr
    assert "[run] run completed" in proc.stderr
    assert proc.stdout.strip() == str((out / "report.html").resolve())
    _check_report_dir(out, expected)


def test_cli_report_without_db_uses_the_cached_demo_database(tmp_path, sqlite_db):
    expected = expected_result(sqlite_db)  # the demo data is deterministic: same result
    script = tmp_path / "script.json"
    script.write_text(json.dumps(cli_script(expected)))
    proc = _cli(tmp_path, "report", QUESTION, "--script", str(script), "--out", "rep",
                "--no-chart")
    assert proc.returncode == 0, proc.stderr
    cached = list((tmp_path / "cache" / "stageagent").glob("demo-seed7-*.sqlite"))
    assert len(cached) == 1
    assert "[chart" not in proc.stderr and not (tmp_path / "rep" / "chart.png").exists()
    assert (tmp_path / "rep" / "report.html").exists()
    # the chart turns were never played: the script does not match the run
    assert "3 scripted turn(s) of stage 'chart' were never used" in proc.stderr


def test_cli_missing_api_key_is_a_clear_message(tmp_path, sqlite_path):
    proc = _cli(tmp_path, "report", QUESTION, "--db", sqlite_path, "--out", "x")
    assert proc.returncode == 2
    assert "ANTHROPIC_API_KEY" in proc.stderr and "--model" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _cli(tmp_path, "report", QUESTION, "--db", sqlite_path, "--model", "openai:gpt-4o")
    assert proc.returncode == 2 and "OPENAI_API_KEY" in proc.stderr


def test_cli_demo_db_and_stages(tmp_path, capsys):
    assert main(["demo-db", str(tmp_path / "d.sqlite")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"]["orders"] == 3000 and (tmp_path / "d.sqlite").exists()
    assert main(["stages"]) == 0
    listing = capsys.readouterr().out
    for line in ("sql  (", "chart  (", "document  (", "output: stageagent.tools.sql:SQLStageOutput",
                 "tools: schema_discovery, schema_retrieval, sql_validator"):
        assert line in listing
    bad = tmp_path / "stages"
    bad.mkdir()
    (bad / "x.toml").write_text('name = "x"\ntools = ["nope"]\n')
    assert main(["stages", "--stages-dir", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown tool 'nope'" in err and "x.toml" in err and len(err.splitlines()) == 1


def test_cli_tool_calls_a_tool_and_seeds_the_state(sqlite_path, capsys):
    assert main(["tool", "sql_executor", "--db", sqlite_path,
                 "--args", json.dumps({"sql": SQL})]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["result"]["columns"][1]["name"] == "revenue"
    assert main(["tool", "chart_generator", "--db", sqlite_path, "--sql", SQL,
                 "--args", '{"chart_type": "bar", "x": "category", "y": "revenue"}']) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["result"]["stored"] is True
    # a tool error is JSON on stdout with exit 1
    assert main(["tool", "data_analyzer", "--db", sqlite_path]) == 1
    out = json.loads(capsys.readouterr().out)
    assert not out["ok"] and "No SQL result" in out["error"]
    assert main(["tool", "sql_executor", "--db", sqlite_path, "--args", '{"limit": 5}']) == 1
    out = json.loads(capsys.readouterr().out)
    assert not out["ok"] and "sql" in out["error"] and "Field required" in out["error"]


@pytest.mark.parametrize("args, message", [
    (["tool", "nope"], "unknown tool 'nope'"),
    (["tool", "sql_executor", "--args", "{bad"], "--args is not valid JSON"),
    (["tool", "sql_executor", "--args", "[1]"], "--args must be a JSON object"),
    (["tool", "sql_executor", "--db", "foo://x"], "unsupported database backend 'foo'"),
    (["tool", "sql_executor", "--db", "postgresql+psycopg://u@127.0.0.1:1/x"], "cannot connect"),
    (["tool", "sql_executor", "--db", "/nonexistent/file.db"], "does not exist"),
    (["report", "q", "--db", "mysql+pymysql://root@127.0.0.1:1/x"], "cannot connect"),
])
def test_cli_bad_input_is_one_line_and_nonzero(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# --- the HTML in a real browser ------------------------------------------------------------


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")
    if found is None and os.environ.get("STAGEAGENT_REQUIRE_CHROMIUM") == "1":
        pytest.fail("chromium is not installed (STAGEAGENT_REQUIRE_CHROMIUM=1)", pytrace=False)
    return found


def test_headless_chromium_opens_the_report_without_errors(sqlite_path, sqlite_db, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed")
    expected = expected_result(sqlite_db)
    result = run_report_sync(QUESTION, database=sqlite_path, model=happy_model(expected))
    write_report(result, tmp_path / "out")
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         "--v=0", "--dump-dom", (tmp_path / "out" / "report.html").as_uri()],
        capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    for marker in ('id="document"', 'id="chart"', 'id="sql"', 'id="data"', 'id="trace"',
                   "data:image/png;base64,"):
        assert marker in dom
    assert document_text(expected).split(".")[0] in dom
    # console messages are where CSP violations and load errors show up
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []


def test_cli_script_must_match_the_stages(tmp_path, sqlite_path, capsys):
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"sqll": ["x"], "document": ["y"]}))
    assert main(["report", QUESTION, "--db", sqlite_path, "--script", str(script),
                 "--out", str(tmp_path / "o"), "--no-chart"]) == 2
    err = capsys.readouterr().err
    assert "unknown stage(s) sqll" in err and "no turns for stage(s) sql" in err
    script.write_text(json.dumps({"sql": [{"tool": 3}]}))
    assert main(["report", QUESTION, "--db", sqlite_path, "--script", str(script)]) == 2
    assert "--script sql[0]: a turn is a text" in capsys.readouterr().err


async def test_unrenderable_chart_still_writes_the_report(sqlite_db, tmp_path):
    expected = expected_result(sqlite_db)
    result = await StageAwareFacade(database=sqlite_db, model=happy_model(expected)).report(
        QUESTION)
    result.chart_spec = {**result.chart_spec, "mark": {"type": "bar"},
                         "transform": [{"calculate": "nosuchfunction(datum.revenue)",
                                        "as": "x"}]}
    written = write_report(result, tmp_path)
    assert "chart.png" not in written and "chart.vl.json" in written
    assert "The chart could not be rendered" in (tmp_path / "report.html").read_text()
