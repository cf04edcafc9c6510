"""SSE against a real uvicorn server: the client drops the connection in the middle of a
live run and resumes with Last-Event-ID - nothing lost, nothing repeated; several
clients on one run; keep-alive comments while the run waits."""

from __future__ import annotations

import threading

from .server import read_events


def _seqs(events):
    return [e["id"] for e in events]


def test_a_dropped_stream_resumes_from_last_event_id_without_loss_or_repeat(server):
    run_id = server.start_guarded()
    # read until the tool call that waits for approval, then drop the connection
    first, _ = read_events(server.client, run_id,
                           stop_when=lambda ev, _c: ev and ev[-1]["data"]["type"] == "tool_called")
    assert first[-1]["data"]["tool"] == "drop_table"
    first += read_events(server.client, run_id, last_event_id=first[-1]["id"], stop_after=1)[0]
    approval = server.pending_approval(run_id)
    server.client.post(f"/v1/runs/{run_id}/approvals/{approval['id']}", json={"approved": True})
    rest, _ = read_events(server.client, run_id, last_event_id=first[-1]["id"])
    everything, _ = read_events(server.client, run_id)
    assert _seqs(first) + _seqs(rest) == _seqs(everything)
    assert [e["data"] for e in first + rest] == [e["data"] for e in everything]
    assert _seqs(everything) == list(range(1, len(everything) + 1))
    # the wait itself is in the stream: asked (before the drop), then decided, then the call
    asked = first[-1]["data"]  # read live, before anyone decided
    types = [e["data"]["type"] for e in everything]
    start = types.index("approval_requested")
    assert types[start:start + 4] == ["approval_requested", "approval_decided",
                                      "tool_approval", "tool_result"]
    requested, decided = everything[start]["data"], everything[start + 1]["data"]
    assert requested["approval_id"] == decided["approval_id"] == approval["id"]
    assert requested["stage"] == "guarded" and requested["plan_id"] == ""
    assert requested["summary"] == 'drop_table {"table": "orders"}'
    assert decided["approved"] is True and decided["by"] == "http"
    assert asked == requested
    assert everything[-1]["data"]["type"] == "stage_completed"
    assert all(e["id"] == e["data"]["seq"] for e in everything)


def test_resume_at_every_position_of_a_finished_report_gives_exactly_the_rest(server):
    run_id = server.start_report()
    server.wait(run_id)
    full, _ = read_events(server.client, run_id)
    assert full[0]["data"]["type"] == "run_started" and full[-1]["data"]["type"] == "run_completed"
    for cut in range(0, len(full) + 1):
        tail, _ = read_events(server.client, run_id, last_event_id=cut)
        assert _seqs(tail) == _seqs(full)[cut:]
    # ?after= does the same for clients that cannot set headers
    response = server.client.get(f"/v1/runs/{run_id}/events", params={"after": len(full) - 1})
    assert response.text.count("\nid: ") + response.text.startswith("id: ") == 1


def test_several_clients_watch_one_live_run_and_see_the_same_events(server):
    run_id = server.start_guarded()
    results: list[list[dict]] = [[] for _ in range(5)]

    def watch(index: int) -> None:
        results[index], _ = read_events(server.client, run_id)

    threads = [threading.Thread(target=watch, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    approval = server.pending_approval(run_id)
    server.client.post(f"/v1/runs/{run_id}/approvals/{approval['id']}", json={"approved": False})
    for t in threads:
        t.join(timeout=60)
    assert all(not t.is_alive() for t in threads)
    reference = [e["data"] for e in results[0]]
    assert reference[-1]["type"] == "stage_completed"
    assert all([e["data"] for e in r] == reference for r in results)


def test_keep_alive_comments_flow_while_the_run_waits(server):
    run_id = server.start_guarded()
    events, comments = read_events(server.client, run_id,
                                   stop_when=lambda _e, c: len(c) >= 2)
    assert comments[:2] == ["keep-alive", "keep-alive"]
    assert events and events[-1]["data"]["type"] == "approval_requested"  # nothing lost
    server.client.post(f"/v1/runs/{run_id}/cancel")
    server.wait(run_id)


def test_a_bad_last_event_id_is_a_problem_naming_the_header(server):
    run_id = server.start_report()
    for bad in ("-1", "abc", "1e3", "9" * 40, "3.", ".3", "1.2.3"):
        response = server.client.get(f"/v1/runs/{run_id}/events",
                                     headers={"Last-Event-ID": bad})
        assert response.status_code == 400 and response.json()["field"] == "Last-Event-ID"
    server.wait(run_id)
