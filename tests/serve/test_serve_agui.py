"""`?protocol=ag-ui`: every message validates as an `ag-ui-protocol` event, in the order an
AG-UI frontend expects, and resumes from Last-Event-ID like our own stream."""

from __future__ import annotations

from ag_ui.core import Event
from pydantic import TypeAdapter

from .server import read_events

AGUI = TypeAdapter(Event)


def _agui(server, run_id, **kwargs):
    events, _ = read_events(server.client, run_id, protocol="ag-ui", **kwargs)
    return [(e["id"], AGUI.validate_python(e["data"])) for e in events]


def test_a_report_maps_to_run_steps_messages_and_tool_calls(server):
    run_id = server.start_report()
    server.wait(run_id)
    ours, _ = read_events(server.client, run_id)
    mapped = _agui(server, run_id)
    types = [e.type.value for _, e in mapped]
    assert types[0] == "RUN_STARTED" and types[-1] == "RUN_FINISHED"
    assert mapped[0][1].run_id == mapped[0][1].thread_id == run_id
    steps = [(e.type.value, e.step_name) for _, e in mapped if e.type.value.startswith("STEP_")]
    assert steps == [("STEP_STARTED", "sql"), ("STEP_FINISHED", "sql"),
                     ("STEP_STARTED", "chart"), ("STEP_FINISHED", "chart"),
                     ("STEP_STARTED", "document"), ("STEP_FINISHED", "document")]
    calls = [e["data"] for e in ours if e["data"]["type"] == "tool_called"]
    starts = [e for _, e in mapped if e.type.value == "TOOL_CALL_START"]
    assert [(s.tool_call_id, s.tool_call_name) for s in starts] == [
        (c["tool_call_id"], c["tool"]) for c in calls]
    for call in calls:  # START, ARGS (the JSON), END, RESULT - in this order
        own = [e for _, e in mapped if getattr(e, "tool_call_id", None) == call["tool_call_id"]]
        assert [e.type.value for e in own] == ["TOOL_CALL_START", "TOOL_CALL_ARGS",
                                               "TOOL_CALL_END", "TOOL_CALL_RESULT"]
    thoughts = [e["data"]["text"] for e in ours if e["data"]["type"] == "thought"]
    contents = [e.delta for _, e in mapped if e.type.value == "TEXT_MESSAGE_CONTENT"]
    assert contents == thoughts
    gates = [e for _, e in mapped if e.type.value == "CUSTOM"
             and e.name == "stageagent.quality_gate"]
    assert gates and all(0 <= g.value["score"] <= 1 for g in gates)


def test_ag_ui_resumes_from_last_event_id_and_a_stage_run_ends_the_run(server):
    run_id = server.start_guarded()
    approval = server.pending_approval(run_id)
    server.client.post(f"/v1/runs/{run_id}/approvals/{approval['id']}", json={"approved": True})
    server.wait(run_id)
    full = _agui(server, run_id)
    assert full[0][1].type.value == "RUN_STARTED"
    assert full[-2][1].type.value == "STEP_FINISHED" and full[-1][1].type.value == "RUN_FINISHED"
    ids = [i for i, _ in full]
    assert len(set(map(str, ids))) == len(ids)  # every message has an id of its own
    # resume after every message - between events and inside one (a tool call's START,
    # ARGS, END come from one event): exactly the rest, nothing repeated
    for index, position in enumerate(ids):
        tail = _agui(server, run_id, last_event_id=position)
        assert [e.model_dump() for _, e in tail] == [e.model_dump() for _, e in full[index + 1:]]
    assert any(isinstance(i, str) for i in ids)  # there were resumes inside an event


def test_a_cancelled_run_finishes_with_the_cancelled_outcome(server):
    run_id = server.start_report()
    server.wait(run_id)
    guarded = server.start_guarded()
    server.pending_approval(guarded)
    server.client.post(f"/v1/runs/{guarded}/cancel")
    server.wait(guarded)
    last = _agui(server, guarded)[-1][1]
    assert last.type.value == "RUN_FINISHED" and last.outcome.type == "cancelled"
    bad = server.client.get(f"/v1/runs/{run_id}/events", params={"protocol": "graphql"})
    assert bad.status_code == 400 and bad.json()["field"] == "protocol"
    ours = server.client.get(f"/v1/runs/{run_id}/events", headers={"Last-Event-ID": "3.1"})
    assert ours.status_code == 400 and ours.json()["field"] == "Last-Event-ID"
