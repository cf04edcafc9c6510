"""The CLI under hostile input: one line and exit 2 at start-up, never a traceback or a
paid-for run that fails late; Ctrl-C keeps what the run has; demo-db never drops a user's
tables."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from stageagent import parse_event
from stageagent.cli import main

from .scripts import QUESTION

SLOW_SQL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
            "WHERE x < 1000000000) SELECT count(*) AS n FROM c")


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_an_empty_question_is_a_usage_error_even_with_a_key(question, capsys, monkeypatch,
                                                             sqlite_path):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-used")
    assert main(["report", question, "--db", sqlite_path]) == 2
    assert "the question is empty" in _one_line_error(capsys)


def test_a_huge_question_is_refused_before_anything_runs(capsys, sqlite_path):
    assert main(["report", "x" * 20_000, "--db", sqlite_path]) == 2
    assert "20,000 characters" in _one_line_error(capsys)


def test_a_file_that_is_not_a_database_fails_the_start_up_check(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# not a database\n" * 50, encoding="utf-8")
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"sql": ["x"], "chart": ["y"], "document": ["z"]}))
    assert main(["report", QUESTION, "--db", str(readme), "--script", str(script),
                 "--out", str(tmp_path / "out")]) == 2
    err = _one_line_error(capsys)
    assert "README.md cannot be read as a sqlite database" in err
    assert "scripted turn" not in err and not (tmp_path / "out").exists()
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    assert main(["report", QUESTION, "--db", str(empty), "--script", str(script)]) == 2
    assert "has no tables" in _one_line_error(capsys)


def test_an_unwritable_out_dir_fails_before_the_run(tmp_path, capsys, sqlite_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"sql": ["x"], "chart": ["y"], "document": ["z"]}))
    assert main(["report", QUESTION, "--db", sqlite_path, "--script", str(script),
                 "--out", str(blocker / "sub")]) == 2
    err = _one_line_error(capsys)
    assert "--out" in err and "cannot write there" in err and "scripted turn" not in err


@pytest.mark.parametrize("args, message", [
    (["report", "q", "--db", "/no/such/dir/db.sqlite"], "does not exist"),
    (["report", "q", "--stages-dir", "/no/such/dir"], "stage files"),
    (["report", "q\u0000\u202e\U0001f4a5", "--script", "/no/such/script.json"], "--script"),
    (["demo-db", "/no/such/dir/x.sqlite"], "cannot create the demo database"),
])
def test_missing_paths_and_junk_are_one_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(args) == 2
    assert message in _one_line_error(capsys)


def test_a_script_that_runs_out_never_reports_a_negative_count(tmp_path, capsys, sqlite_path):
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"sql": ["no tool calls, no answer"], "document": ["x"]}))
    code = main(["report", QUESTION, "--db", sqlite_path, "--script", str(script),
                 "--out", str(tmp_path / "o"), "--no-chart"])
    err = capsys.readouterr().err
    assert code == 1 and "has only 1 turns" in err  # the real reason, once
    assert "-1 scripted" not in err and "stage 'sql' were never used" not in err


def test_demo_db_refuses_to_drop_a_users_tables_unless_replace(tmp_path, capsys):
    path = tmp_path / "shop.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
        con.execute("CREATE TABLE orders (id INTEGER)")
        con.execute("CREATE TABLE invoices (id INTEGER)")
        con.execute("INSERT INTO customers VALUES (1, 'Mine')")
    assert main(["demo-db", str(path)]) == 2
    err = _one_line_error(capsys)
    assert "customers, orders" in err and "--replace" in err and "invoices" not in err
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT name FROM customers").fetchall() == [("Mine",)]
    assert main(["demo-db", str(path), "--replace"]) == 0
    capsys.readouterr()
    # what we created we may recreate; the user's other table is untouched
    assert main(["demo-db", str(path)]) == 0
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 400
        assert con.execute("SELECT count(*) FROM invoices").fetchone()[0] == 0


def test_report_help_documents_question_script_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["report", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for part in ("question", "business question", "--script FILE", '{"tool": NAME',
                 "exit codes", "130", "interrupted", "2 ", "bad usage"):
        assert part in text, part


def test_ctrl_c_writes_the_incomplete_report_and_exits_130(tmp_path, sqlite_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({
        "sql": [{"tool": "sql_executor", "args": {"sql": SLOW_SQL}}, "done"],
        "chart": ["x"], "document": ["y"]}))
    out = tmp_path / "out"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "stageagent", "report", QUESTION, "--db", sqlite_path,
         "--script", str(script), "--out", str(out)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # wait until the slow query runs, then press Ctrl-C
        seen.append(line)
        if "-> sql_executor" in line:
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=120)[::-1]
    stderr = "".join(seen) + rest
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted during stage 'sql'" in stderr
    events = [parse_event(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert events[0].type == "run_started"
    assert [e.reason for e in events if e.type == "stage_completed"] == ["cancelled"]
    assert events[-1].type == "run_failed"
    md = (out / "report.md").read_text()
    assert "**Incomplete report**" in md and "stage `sql`" in md
    assert "Incomplete report" in (out / "report.html").read_text()


@pytest.mark.parametrize("args, message", [
    (["report", "q", "--db", "postgresql+psycopg://u:secret@[::1"], "is not a usable URL"),
    (["report", "q", "--db", "sqlite:///\udcff\udcfe"], "is not a usable URL"),
    (["report", "ab\udcff"], "not valid text"),
    (["demo-db", "postgresql+psycopg://u:secret@[::1"], "cannot create the demo database"),
])
def test_unparsable_urls_and_undecodable_bytes_are_one_line(args, message, capsys):
    assert main(args) == 2
    err = _one_line_error(capsys)
    assert message in err and "secret" not in err
