"""The REST API against a real uvicorn server: runs, results, artifacts, approvals, limits,
and problem JSON naming the field for every bad request."""

from __future__ import annotations

import csv
import io
import json

import pytest

from stageagent import parse_event

from .server import ServerThread

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_a_report_run_ends_with_its_result_and_downloadable_artifacts(settings, expected):
    with ServerThread({**settings, "render_workers": 1}) as server:  # the default: a process
        _report_and_artifacts(server, expected)


def _report_and_artifacts(server, expected):
    run_id = server.start_report()
    view = server.wait(run_id)
    assert view["status"] == "completed", view
    result = view["result"]
    assert result["ok"] and result["row_count"] == expected.row_count
    assert result["columns"] == expected.column_names
    assert result["rows"] == [list(r) for r in expected.rows]
    assert "million EUR" in result["document"]
    assert set(result["stages"]) == {"sql", "chart", "document"}
    assert {"report.html", "chart.png", "data.csv", "query.sql", "events.jsonl"} <= set(
        view["artifacts"])
    png = server.client.get(view["links"]["chart.png"])
    assert png.headers["content-type"] == "image/png" and png.content.startswith(PNG_MAGIC)
    rows = list(csv.reader(io.StringIO(server.client.get(view["links"]["data.csv"]).text)))
    assert rows[0] == expected.column_names and len(rows) == expected.row_count + 1
    html = server.client.get(view["links"]["report.html"])
    assert html.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert result["document"] in html.text
    logged = [parse_event(line) for line in server.client.get(
        view["links"]["events.jsonl"]).text.splitlines()]
    assert logged[-1].type == "run_completed" and logged[0].run_id == run_id
    listed = server.client.get("/v1/runs").json()["runs"]
    assert [r["id"] for r in listed] == [run_id] and listed[0]["status"] == "completed"


def test_a_stage_run_returns_messages_that_continue_as_history(server):
    run_id = server.start_guarded()
    approval = server.pending_approval(run_id)
    assert approval["tool"] == "drop_table" and approval["arguments"] == {"table": "orders"}
    assert server.client.get(f"/v1/runs/{run_id}").json()["status"] == "waiting_approval"
    decided = server.client.post(f"/v1/runs/{run_id}/approvals/{approval['id']}",
                                 json={"approved": False, "reason": "not on a weekday"})
    assert decided.status_code == 200
    view = server.wait(run_id)
    assert view["status"] == "completed" and view["stage"] == "guarded"
    result = view["result"]
    assert result["reason"] == "completed" and result["text"].startswith("I asked")
    tool_message = [m for m in result["messages"] if m["role"] == "tool"][0]
    assert tool_message["results"][0]["is_error"] and "not on a weekday" in \
        tool_message["results"][0]["content"]
    # the transcript goes back as history of a follow-up run (validated as messages)
    follow = server.client.post("/v1/stages/guarded/runs", json={
        "input": "and now?", "history": result["messages"]})
    assert follow.status_code == 202, follow.text
    second = follow.json()["id"]
    server.client.post(f"/v1/runs/{second}/cancel")
    assert server.wait(second)["status"] in ("cancelled", "failed", "completed")


def test_an_approved_tool_runs_and_a_decided_approval_cannot_be_decided_again(server):
    run_id = server.start_guarded()
    approval = server.pending_approval(run_id)
    url = f"/v1/runs/{run_id}/approvals/{approval['id']}"
    assert server.client.post(url, json={"approved": True}).status_code == 200
    view = server.wait(run_id)
    results = [m for m in view["result"]["messages"] if m["role"] == "tool"][0]["results"]
    assert results[0]["content"] == "dropped orders" and not results[0]["is_error"]
    again = server.client.post(url, json={"approved": False})  # the run has ended
    assert again.status_code == 409 and again.json()["type"].endswith("/run-not-running")


def test_cancel_stops_a_waiting_run_and_a_finished_run_cannot_be_cancelled(server):
    run_id = server.start_guarded()
    server.pending_approval(run_id)
    assert server.client.post(f"/v1/runs/{run_id}/cancel").status_code == 202
    view = server.wait(run_id)
    assert view["status"] == "cancelled" and view["result"]["reason"] == "cancelled"
    again = server.client.post(f"/v1/runs/{run_id}/cancel")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_the_concurrency_limit_answers_429_with_retry_after(settings):
    with ServerThread({**settings, "max_concurrent_runs": 1, "retry_after_s": 7}) as server:
        first = server.start_guarded()
        approval = server.pending_approval(first)
        refused = server.client.post("/v1/reports", json={"question": "revenue?"})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "7"
        assert refused.json()["type"].endswith("/too-many-runs")
        server.client.post(f"/v1/runs/{first}/approvals/{approval['id']}",
                           json={"approved": False})
        server.wait(first)
        assert server.client.post("/v1/reports", json={"question": "revenue?"}).status_code \
            == 202  # the slot is free again


@pytest.mark.parametrize(("body", "field", "status"), [
    ({}, "question", 422),
    ({"question": ""}, "question", 422),
    ({"question": "   "}, "question", 422),
    ({"question": 42}, "question", 422),
    ({"question": "q", "database": "postgresql://evil.example/db"}, "database", 422),
    ({"question": "q", "database": "nope"}, "database", 422),
    ({"question": "q", "options": {"chart": "yes"}}, "options.chart", 422),
    ({"question": "q", "options": {"colour": True}}, "options.colour", 422),
    ({"question": "q", "model": "openai:gpt-4o"}, "model", 422),
    ({"question": "q\u0000"}, "question", 422),
    ({"question": "q", "unknown": 1}, "unknown", 422),
    (["question"], "(body)", 422),
    ({"question": "q", "context": {"deep": json.loads("[" * 16 + "1" + "]" * 16)}}, None, 202),
])
def test_bad_report_requests_get_problem_json_naming_the_field(server, body, field, status):
    response = server.client.post("/v1/reports", json=body)
    if status == 202:  # the control case: the same server accepts a good body
        server.wait(response.json()["id"])
        return
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["field"] == field
    assert problem["title"] and problem["detail"] and problem["instance"] == "/v1/reports"
    assert server.client.get("/v1/runs").json()["runs"] == []  # nothing was started


def test_bad_stage_requests_and_unknown_things_are_problems(server):
    cases = [
        (server.client.post("/v1/stages/nope/runs", json={"input": "x"}), 404, "name"),
        (server.client.post("/v1/stages/guarded/runs", json={"input": 3}), 422, "input"),
        (server.client.post("/v1/stages/guarded/runs", json={
            "input": "x", "history": [{"role": "wizard", "content": "hi"}]}), 422, "history[0]"),
        (server.client.get("/v1/runs/nope"), 404, "id"),
        (server.client.get("/v1/runs/nope/events"), 404, "id"),
        (server.client.get("/v1/runs?limit=0"), 400, "limit"),
        (server.client.post("/v1/reports", content=b"{", headers={
            "content-type": "application/json"}), 400, "(body)"),
        (server.client.post("/v1/reports", content=b"question=x", headers={
            "content-type": "application/x-www-form-urlencoded"}), 415, "Content-Type"),
    ]
    for response, status, field in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"].startswith(field), response.json()
    hostile = [b'{"question": "q", "context": {"a": ' + b"[" * 20000 + b"]" * 20000 + b"}}",
               b'{"question": "\xff\xfe"}', b'{"question": "\\ud800"}']
    for body in hostile:  # too deep, not UTF-8, a lone surrogate
        response = server.client.post("/v1/reports", content=body,
                                      headers={"content-type": "application/json"})
        assert response.status_code in (400, 422), (body[:40], response.text)
        assert response.json()["field"] in ("(body)", "question"), response.json()
    missing = server.client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_a_body_over_the_limit_is_refused_with_413_before_anything_runs(settings):
    with ServerThread({**settings, "max_body_bytes": 2048}) as server:
        big = {"question": "x" * 5000}
        response = server.client.post("/v1/reports", json=big)
        assert response.status_code == 413 and response.json()["status"] == 413

        def chunks():  # no Content-Length: counted while it is read
            yield b'{"question": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}'

        chunked = server.client.post("/v1/reports", content=chunks(),
                                     headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        assert server.client.get("/v1/runs").json()["runs"] == []


def test_databases_and_stages_are_listed_by_name_only(server):
    databases = server.client.get("/v1/databases").json()
    assert databases == {"databases": ["demo"], "default": "demo"}
    names = {s["name"] for s in server.client.get("/v1/stages").json()["stages"]}
    assert {"sql", "chart", "document", "guarded"} <= names


def test_a_run_cancelled_before_it_asks_for_approval_does_not_wait_for_one(server):
    response = server.client.post("/v1/stages/guarded/runs", json={"input": "drop orders"})
    run_id = response.json()["id"]
    assert server.client.post(f"/v1/runs/{run_id}/cancel").status_code == 202  # at once
    view = server.wait(run_id, timeout=30)
    assert view["status"] == "cancelled" and view["pending_approvals"] == []
