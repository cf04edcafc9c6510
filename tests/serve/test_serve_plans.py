"""Plans run by the service (`POST /v1/plans/runs`, and report runs with `approve_steps`)
against a real uvicorn server: steps that need approval wait, show up in the run and in
its event stream, are decided over HTTP, and a rejected step never runs. Every bad
request - a bad plan, a bad decision - is problem JSON naming the field."""

from __future__ import annotations

import pytest
from ag_ui.core import Event
from pydantic import TypeAdapter

from .server import ServerThread, read_events

AGUI = TypeAdapter(Event)


def _plan(**options):
    """drop (needs approval) -> after; `other` runs on its own."""
    return {"id": "cleanup", "goal": "drop the orders table", "options": options, "steps": [
        {"id": "drop", "target": "drop_table", "params": {"table": "orders"},
         "requires_approval": True, "description": "drop the orders table"},
        {"id": "after", "target": "drop_table", "params": {"table": "${steps.drop.output}"},
         "depends_on": ["drop"]},
        {"id": "other", "target": "drop_table", "params": {"table": "tmp"}}]}


def _start(server, plan):
    response = server.client.post("/v1/plans/runs", json={"plan": plan})
    assert response.status_code == 202, response.text
    assert response.json()["kind"] == "plan"
    return response.json()["id"]


def _decide(server, run_id, approval_id, **body):
    return server.client.post(f"/v1/runs/{run_id}/approvals/{approval_id}", json=body)


def _types(events):
    return [e["data"]["type"] for e in events]


def test_an_approved_step_runs_and_the_stream_shows_the_wait(server):
    run_id = _start(server, _plan())
    # the request is in the stream while the plan waits - read live, before any decision
    live, _ = read_events(server.client, run_id,
                          stop_when=lambda ev, _c: ev and ev[-1]["data"]["type"]
                          == "approval_requested")
    asked = live[-1]["data"]
    assert asked["approval_id"] == "cleanup:step:drop" and asked["step_id"] == "drop"
    assert asked["summary"] == "drop the orders table"
    view = server.client.get(f"/v1/runs/{run_id}").json()
    assert view["status"] == "waiting_approval" and view["plan_id"] == "cleanup"
    assert [(a["id"], a["kind"], a["step_id"]) for a in view["pending_approvals"]] == [
        ("cleanup:step:drop", "plan_step", "drop")]
    assert _decide(server, run_id, asked["approval_id"], approved=True,
                   reason="backed up").status_code == 200
    view = server.wait(run_id)
    assert view["status"] == "completed" and view["pending_approvals"] == []
    assert view["result"]["outputs"] == {"drop": "dropped orders",
                                         "after": "dropped dropped orders",
                                         "other": "dropped tmp"}
    events, _ = read_events(server.client, run_id)
    decided = [e["data"] for e in events if e["data"]["type"] == "approval_decided"]
    assert [(d["approval_id"], d["approved"], d["reason"]) for d in decided] == [
        ("cleanup:step:drop", True, "backed up")]
    types = _types(events)
    drop_started = [i for i, e in enumerate(events) if e["data"]["type"] == "step_started"
                    and e["data"]["step_id"] == "drop"]
    assert types.index("approval_decided") < drop_started[0]  # not before the decision
    assert types[-1] == "plan_completed" and [e["id"] for e in events] == list(
        range(1, len(events) + 1))


def test_a_rejected_step_never_runs_and_its_dependents_are_skipped(server):
    run_id = _start(server, _plan(on_error="continue"))
    approval = server.pending_approval(run_id)
    assert _decide(server, run_id, approval["id"], approved=False,
                   reason="not before the backup").status_code == 200
    view = server.wait(run_id)
    assert view["status"] == "partial"  # the plan executor's word: `other` completed
    steps = view["result"]["steps"]
    assert steps["drop"]["status"] == "failed" and steps["drop"]["error_type"] == "rejected"
    assert "not before the backup" in steps["drop"]["error"] and steps["drop"]["attempts"] == 0
    assert steps["after"]["status"] == "skipped" and steps["other"]["status"] == "completed"
    assert view["result"]["outputs"] == {"other": "dropped tmp"}
    events, _ = read_events(server.client, run_id)
    started = {e["data"]["step_id"] for e in events if e["data"]["type"] == "step_started"}
    assert started == {"other"}  # neither the rejected step nor its dependent started


def test_a_decision_is_taken_once_and_only_while_the_run_waits(server):
    plan = _plan()
    plan["steps"][1]["requires_approval"] = True  # two approvals, one after the other
    run_id = _start(server, plan)
    first = server.pending_approval(run_id)
    unknown = _decide(server, run_id, "cleanup:step:nope", approved=True)
    assert unknown.status_code == 404 and unknown.json()["field"] == "approval_id"
    assert _decide(server, run_id, first["id"], approved=True).status_code == 200
    server.wait(run_id, until=lambda v: [a["id"] for a in v["pending_approvals"]]
                == ["cleanup:step:after"])
    twice = _decide(server, run_id, first["id"], approved=False)
    assert twice.status_code == 409 and twice.json()["field"] == "approval_id"
    assert twice.json()["type"].endswith("/approval-decided")
    assert "already decided: approved" in twice.json()["detail"]
    assert _decide(server, run_id, "cleanup:step:after", approved=False).status_code == 200
    view = server.wait(run_id)
    assert view["status"] == "failed" and view["result"]["steps"]["after"]["error_type"] \
        == "rejected"  # on_error="stop": the plan stops at the rejection
    ended = _decide(server, run_id, "cleanup:step:after", approved=True)
    assert ended.status_code == 409 and ended.json()["type"].endswith("/run-not-running")
    missing = _decide(server, "no-such-run", "x", approved=True)
    assert missing.status_code == 404 and missing.json()["field"] == "id"


@pytest.mark.parametrize(("body", "status", "field"), [
    (b"{not json", 400, "(body)"),
    (b"[]", 422, "(body)"),
    (b'{"approved": "yes"}', 422, "approved"),
    (b'{"reason": "no verdict"}', 422, "approved"),
    (b'{"approved": true, "by": "me"}', 422, "by"),
    (b'{"approved": true, "reason": "' + b"x" * 2001 + b'"}', 422, "reason"),
])
def test_bad_decisions_are_problem_json_naming_the_field(server, body, status, field):
    run_id = _start(server, _plan())
    approval = server.pending_approval(run_id)
    response = server.client.post(f"/v1/runs/{run_id}/approvals/{approval['id']}",
                                  content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field
    assert server.client.get(f"/v1/runs/{run_id}").json()["status"] == "waiting_approval"
    server.client.post(f"/v1/runs/{run_id}/cancel")


def test_a_huge_decision_is_refused_before_it_is_read(settings):
    with ServerThread({**settings, "max_body_bytes": 4096}) as server:
        run_id = _start(server, _plan())
        approval = server.pending_approval(run_id)
        huge = b'{"approved": true, "reason": "' + b"x" * 100_000 + b'"}'
        response = server.client.post(f"/v1/runs/{run_id}/approvals/{approval['id']}",
                                      content=huge,
                                      headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        assert server.client.get(f"/v1/runs/{run_id}").json()["status"] == "waiting_approval"


def _step(**fields):
    return {"id": "a", "target": "drop_table", "params": {"table": "t"}, **fields}


@pytest.mark.parametrize(("plan", "field", "step_id"), [
    ({"steps": [_step(target="rm_rf")]}, "plan.steps[0].target", "a"),
    ({"steps": [_step(), _step(id="b", depends_on=["zz"])]}, "plan.steps[1].depends_on[0]",
     "b"),
    ({"steps": [_step(params={"table": 3})]}, "plan.steps[0].params.table", "a"),
    ({"steps": [_step(id="x y")]}, "plan.steps[0].id", "x y"),
    ({"steps": [_step(retries="many")]}, "plan.steps[0].retries", "a"),
    ({"steps": [_step(depends_on=["b"]), _step(id="b", depends_on=["a"])]},
     "plan.steps[1].depends_on", "b"),  # the cycle, named where it closes
    ({"steps": [_step(kind="stage", target="nope", params={"input": "q"})]},
     "plan.steps[0].target", "a"),
    ({"steps": [], "options": {"max_parallel": 0}}, "plan.options.max_parallel", None),
    ({"steps": [], "colour": "red"}, "plan.colour", None),
])
def test_a_bad_plan_is_refused_naming_the_step_and_the_field(server, plan, field, step_id):
    response = server.client.post("/v1/plans/runs", json={"plan": plan})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("/invalid-plan") and problem["field"] == field
    assert problem["errors"][0]["step_id"] == step_id
    assert server.client.get("/v1/runs").json()["runs"] == []  # nothing was started


@pytest.mark.parametrize(("body", "field"), [
    ({}, "plan"),
    ({"plan": []}, "plan"),
    ({"plan": {"steps": []}, "database": "sqlite:////etc/passwd"}, "database"),
    ({"plan": {"steps": []}, "database": "nope"}, "database"),
    ({"plan": {"steps": []}, "model": "openai:gpt-4o"}, "model"),
    ({"plan": {"steps": []}, "options": {"stream": "yes"}}, "options.stream"),
])
def test_a_bad_plan_request_names_the_field(server, body, field):
    response = server.client.post("/v1/plans/runs", json=body)
    assert response.status_code == 422 and response.json()["field"] == field, response.text


def test_a_server_stopped_mid_wait_reports_the_run_interrupted_never_approved(settings):
    with ServerThread(settings) as first:
        run_id = _start(first, _plan())
        first.pending_approval(run_id)
    with ServerThread(settings) as second:
        view = second.client.get(f"/v1/runs/{run_id}").json()
        assert view["status"] == "interrupted" and view["pending_approvals"] == []
        events, _ = read_events(second.client, run_id)
        assert "approval_decided" not in _types(events)
        assert not any(e["data"]["type"] == "step_started" and e["data"]["step_id"] == "drop"
                       for e in events)
        assert events[-1]["data"]["error_type"] == "interrupted"
        late = _decide(second, run_id, "cleanup:step:drop", approved=True)
        assert late.status_code == 409 and late.json()["type"].endswith("/run-not-running")


def test_cancelling_a_waiting_plan_denies_the_step_it_waits_for(server):
    run_id = _start(server, _plan())
    server.pending_approval(run_id)
    assert server.client.post(f"/v1/runs/{run_id}/cancel").status_code == 202
    view = server.wait(run_id)
    assert view["status"] == "cancelled"
    assert set(view["result"]["outputs"]) <= {"other"}  # the step that needed no approval
    drop = view["result"]["steps"]["drop"]
    assert drop["status"] != "completed" and drop["attempts"] == 0
    assert "cancelled" in drop["error"]


def test_a_report_step_that_needs_approval_waits_and_a_rejection_fails_the_report(server):
    run_id = server.start_report(options={"approve_steps": ["chart"]})
    approval = server.pending_approval(run_id)
    assert approval["step_id"] == "chart" and approval["id"].endswith(":step:chart")
    assert _decide(server, run_id, approval["id"], approved=False,
                   reason="no charts today").status_code == 200
    view = server.wait(run_id)
    assert view["status"] == "failed"
    result = view["result"]
    assert result["failed_stage"] == "chart" and result["error_type"] == "rejected"
    assert "no charts today" in result["error"] and "chart" not in result["stages"]
    events, _ = read_events(server.client, run_id)
    types = _types(events)
    assert "approval_requested" in types and "approval_decided" in types
    assert not any(e["data"]["stage"] == "chart" for e in events)  # the stage never ran
    assert types[-1] == "run_failed"


def test_an_approved_report_step_completes_the_report(server):
    run_id = server.start_report(options={"approve_steps": ["sql", "report"]})
    for step in ("sql", "report"):
        approval = server.wait(run_id, until=lambda v: v["pending_approvals"])[
            "pending_approvals"][0]
        assert approval["step_id"] == step
        assert _decide(server, run_id, approval["id"], approved=True).status_code == 200
    view = server.wait(run_id)
    assert view["status"] == "completed" and view["result"]["ok"]


@pytest.mark.parametrize(("options", "field"), [
    ({"approve_steps": ["deploy"]}, "options.approve_steps[0]"),
    ({"approve_steps": "sql"}, "options.approve_steps"),
    ({"chart": False, "approve_steps": ["sql", "chart"]}, "options.approve_steps[1]"),
])
def test_bad_approve_steps_name_the_field(server, options, field):
    response = server.client.post("/v1/reports", json={"question": "q", "options": options})
    assert response.status_code == 422 and response.json()["field"] == field, response.text


def test_the_ag_ui_stream_of_a_plan_carries_its_approvals_and_steps(server):
    run_id = _start(server, _plan(on_error="continue"))
    approval = server.pending_approval(run_id)
    _decide(server, run_id, approval["id"], approved=False, reason="no")
    server.wait(run_id)
    events, _ = read_events(server.client, run_id, protocol="ag-ui")
    mapped = [AGUI.validate_python(e["data"]) for e in events]
    kinds = [e.type.value for e in mapped]
    assert kinds[0] == "RUN_STARTED" and kinds[-1] == "RUN_ERROR"  # partial is no success
    custom = [(e.name, e.value.get("approval_id")) for e in mapped if e.type.value == "CUSTOM"]
    assert ("stageagent.approval_requested", "cleanup:step:drop") in custom
    assert ("stageagent.approval_decided", "cleanup:step:drop") in custom
    steps = [(e.type.value, e.step_name) for e in mapped if e.type.value.startswith("STEP_")]
    assert steps == [("STEP_STARTED", "plan:other"), ("STEP_FINISHED", "plan:other"),
                     ("STEP_FINISHED", "plan:drop")]
