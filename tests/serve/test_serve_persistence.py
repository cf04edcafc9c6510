"""Runs outlive the server: a restarted server serves finished runs, their event logs and
artifacts; runs in flight when it stopped - gracefully or by kill -9 - are reported
`interrupted` and their streams end with a terminal event. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import create_engine, text

from stageagent.serve import RunStore

from .conftest import PG_SCHEMA, PG_URL, REQUIRE_SERVICES
from .server import ServerThread, read_events

ROOT = Path(__file__).resolve().parents[2]


def _finished_report_survives_a_restart(settings: dict) -> None:
    with ServerThread(settings) as first:
        run_id = first.start_report()
        before = first.wait(run_id)
        events_before, _ = read_events(first.client, run_id)
        png_before = first.client.get(f"/v1/runs/{run_id}/artifacts/chart.png").content
    with ServerThread(settings) as second:
        after = second.client.get(f"/v1/runs/{run_id}").json()
        assert after["status"] == "completed"
        assert after["result"] == before["result"] and after["artifacts"] == before["artifacts"]
        events_after, _ = read_events(second.client, run_id)
        assert events_after == events_before
        assert second.client.get(f"/v1/runs/{run_id}/artifacts/chart.png").content == png_before
        tail, _ = read_events(second.client, run_id, last_event_id=10)
        assert tail == events_before[10:]


def test_a_restarted_server_serves_finished_runs_from_sqlite(settings):
    _finished_report_survives_a_restart(settings)


def test_a_run_in_flight_at_shutdown_is_interrupted_not_lost(settings):
    with ServerThread(settings) as first:
        run_id = first.start_guarded()
        first.pending_approval(run_id)
        seen, _ = read_events(first.client, run_id,
                              stop_when=lambda e, _c: e and e[-1]["data"]["type"] == "tool_called")
    with ServerThread(settings) as second:
        view = second.client.get(f"/v1/runs/{run_id}").json()
        assert view["status"] == "interrupted" and "server stopped" in view["error"]
        events, _ = read_events(second.client, run_id)
        assert events[:len(seen)] == seen
        assert events[-1]["data"]["type"] == "run_failed"
        assert events[-1]["data"]["error_type"] == "interrupted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_kill_9_of_stageagent_serve_leaves_an_interrupted_run_for_the_next_server(
        settings, tmp_path):
    config = tmp_path / "serve.toml"
    config.write_text(
        f'store = "{settings["store"]}"\nscript = "{settings["script"]}"\n'
        f'stages_dir = "{settings["stages_dir"]}"\n'
        'tools = ["tests.serve.guarded_tools:drop_table"]\n'
        f'[databases]\ndemo = "{settings["databases"]["demo"]}"\n')
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("STAGEAGENT_API_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "stageagent", "serve", "--config",
                             str(config), "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        client = httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.get("/healthz")
                break
            except httpx2.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "stageagent serve did not start"
                time.sleep(0.05)
        run_id = client.post("/v1/stages/guarded/runs", json={"input": "drop it"}).json()["id"]
        while not client.get(f"/v1/runs/{run_id}").json()["pending_approvals"]:
            time.sleep(0.02)
        seen, _ = read_events(client, run_id,
                              stop_when=lambda e, _c: e and e[-1]["data"]["type"] == "tool_called")
        client.close()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    with ServerThread(settings) as second:
        view = second.client.get(f"/v1/runs/{run_id}").json()
        assert view["status"] == "interrupted"
        events, _ = read_events(second.client, run_id)
        assert events[:len(seen)] == seen  # everything a client saw was already stored
        assert events[-1]["data"]["error_type"] == "interrupted"
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))


@pytest.fixture
def pg_store() -> str:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{PG_SCHEMA}"'))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any driver error means "not reachable"
        if REQUIRE_SERVICES:
            pytest.fail(f"{PG_URL} is not reachable: {exc}", pytrace=False)
        pytest.skip(f"{PG_URL} is not reachable: {exc}")
    store = RunStore(PG_URL, schema=PG_SCHEMA)
    store.drop_tables()
    store.close()
    return PG_URL


def test_a_restarted_server_serves_finished_runs_from_postgresql(settings, pg_store):
    _finished_report_survives_a_restart({**settings, "store": pg_store,
                                         "store_schema": PG_SCHEMA})


def test_interrupted_runs_are_per_instance_on_a_shared_postgresql(settings, pg_store):
    shared = {**settings, "store": pg_store, "store_schema": PG_SCHEMA}
    with ServerThread({**shared, "instance": "a"}) as a:
        run_id = a.start_guarded()
        a.pending_approval(run_id)
        with ServerThread({**shared, "instance": "b"}) as b:
            # b's start-up must not declare a's live run interrupted
            assert b.client.get(f"/v1/runs/{run_id}").json()["status"] == "running"
            assert a.client.get(f"/v1/runs/{run_id}").json()["status"] == "waiting_approval"
        a.client.post(f"/v1/runs/{run_id}/cancel")
        assert a.wait(run_id)["status"] == "cancelled"
