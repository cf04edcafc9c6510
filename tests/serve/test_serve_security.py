"""Bearer token (required off loopback), CORS off unless configured, config errors that
name the file and the key."""

from __future__ import annotations

import pytest

from stageagent.serve import ServeConfig, ServeConfigError, create_app, load_config

from .server import ServerThread

TOKEN = "s3cret-token-0123456789"


def test_binding_off_loopback_without_a_token_is_refused(settings, monkeypatch):
    monkeypatch.delenv("STAGEAGENT_API_TOKEN", raising=False)
    with pytest.raises(ServeConfigError, match="STAGEAGENT_API_TOKEN") as info:
        load_config(None, host="0.0.0.0")
    assert info.value.key == "host"
    with pytest.raises(ServeConfigError, match="not loopback"):
        create_app(ServeConfig(**{**settings, "host": "192.168.1.20"}))
    create_app(ServeConfig(**{**settings, "host": "0.0.0.0", "api_token": TOKEN}))
    monkeypatch.setenv("STAGEAGENT_API_TOKEN", "from-env-0123456789")
    assert load_config(None, host="::").api_token == "from-env-0123456789"
    monkeypatch.setenv("STAGEAGENT_API_TOKEN", "short")
    with pytest.raises(ServeConfigError, match="too short") as info:
        load_config(None, host="::")
    assert info.value.key == "STAGEAGENT_API_TOKEN"
    monkeypatch.delenv("STAGEAGENT_API_TOKEN")
    for host in ("127.0.0.1", "::1", "localhost", "127.8.9.10"):
        assert load_config(None, host=host).loopback


def test_with_a_token_every_api_call_needs_it(settings):
    with ServerThread({**settings, "api_token": TOKEN}) as server:
        run_id = server.start_report()  # the fixture client sends the token
        server.wait(run_id)
        anonymous = server.client.get(f"/v1/runs/{run_id}", headers={"Authorization": ""})
        assert anonymous.status_code == 401 and anonymous.json()["status"] == 401
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        wrong = server.client.post("/v1/reports", json={"question": "q"},
                                   headers={"Authorization": "Bearer " + TOKEN[:-1]})
        assert wrong.status_code == 401
        # EventSource cannot send headers: the events endpoint takes ?access_token=
        events = server.client.get(f"/v1/runs/{run_id}/events",
                                   params={"access_token": TOKEN},
                                   headers={"Authorization": ""})
        assert events.status_code == 200 and "run_completed" in events.text
        sneaky = server.client.get(f"/v1/runs/{run_id}", params={"access_token": TOKEN},
                                   headers={"Authorization": ""})
        assert sneaky.status_code == 401  # only for the stream
        page = server.client.get("/", headers={"Authorization": ""})
        assert page.status_code == 200  # the viewer page holds no data


def test_cors_is_off_unless_origins_are_configured(settings):
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    with ServerThread(settings) as server:
        response = server.client.options("/v1/reports", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
        got = server.client.get("/v1/runs", headers={"Origin": "https://app.example"})
        assert "access-control-allow-origin" not in got.headers
    with ServerThread({**settings, "cors_origins": ["https://app.example"]}) as server:
        response = server.client.options("/v1/reports", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        other = server.client.options("/v1/reports", headers={
            **preflight, "Origin": "https://evil.example"})
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"


def test_config_file_errors_name_the_file_and_the_key(tmp_path):
    bad = tmp_path / "serve.toml"
    cases = {
        'max_concurrent_runs = 0\n': "max_concurrent_runs",
        'port = "eighty"\n': "port",
        'colour = "blue"\n': "colour",
        'default_database = "sales"\n': "default_database",
        'tools = ["no_such_module:thing"]\n': "tools[0]",
        '[databases]\n': "databases",
    }
    for content, key in cases.items():
        bad.write_text(content)
        with pytest.raises(ServeConfigError) as info:
            create_app(load_config(bad))
        assert info.value.key == key, (content, info.value)
        assert str(bad) in str(info.value) or key.startswith("tools")
    bad.write_text("port = ")
    with pytest.raises(ServeConfigError, match="not valid TOML"):
        load_config(bad)
    script = tmp_path / "broken.json"
    script.write_text("{not json")
    with pytest.raises(ServeConfigError, match="not valid JSON") as info:
        create_app(ServeConfig(script=str(script)))
    assert info.value.key == "script"


def test_a_broken_stage_file_stops_the_start_naming_file_and_key(settings, tmp_path):
    stages = tmp_path / "bad-stages"
    stages.mkdir()
    (stages / "broken.toml").write_text('name = "broken"\ntools = ["no_such_tool"]\n')
    with pytest.raises(ServeConfigError, match=r"broken.toml \[tools\[0\]\]") as info:
        create_app(ServeConfig(**{**settings, "stages_dir": str(stages)}))
    assert info.value.key == "stages_dir"


def test_a_model_id_from_a_client_is_checked_against_the_config(settings, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    real = {k: v for k, v in settings.items() if k != "script"}
    with ServerThread({**real, "allowed_models": ["openai:gpt-4o"]}) as server:
        refused = server.client.post("/v1/stages/guarded/runs", json={
            "input": "x", "model": "anthropic:claude-sonnet-4-6"})
        assert refused.status_code == 422 and refused.json()["field"] == "model"
    with ServerThread(real) as server:
        endpoint = server.client.post("/v1/reports", json={
            "question": "q", "model": "openai:gpt-4o@http://127.0.0.1:9/v1"})
        assert endpoint.status_code == 422 and "allowed_models" in endpoint.json()["detail"]
        for path, body in (("/v1/stages/guarded/runs", {"input": "x"}),
                           ("/v1/reports", {"question": "q"})):
            unknown = server.client.post(path, json={**body, "model": "nonsense:model"})
            assert unknown.status_code == 422 and unknown.json()["field"] == "model"
            assert "unknown provider" in unknown.json()["detail"]
            keyless = server.client.post(path, json={**body,
                                                     "model": "anthropic:claude-sonnet-4-6"})
            assert keyless.status_code == 503 and "ANTHROPIC_API_KEY" in keyless.json()["detail"]
        assert server.client.get("/v1/runs").json()["runs"] == []
