"""The local model server's errors, without the extra installed: typed and explained."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stageagent.local_server import LocalModelError, LocalModelServer, free_port


def test_a_missing_model_file_is_named(tmp_path):
    with pytest.raises(LocalModelError, match="model file not found: .*nope.gguf"):
        LocalModelServer(model_path=tmp_path / "nope.gguf")


def test_a_server_that_dies_at_start_reports_its_log(tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model")
    server = LocalModelServer(model_path=junk, port=free_port())
    try:
        server.command()
    except LocalModelError as exc:  # the extra is not installed: the hint names it
        assert "stageagent[local]" in str(exc)
        return
    with pytest.raises(LocalModelError, match="exited at start"):
        server.start(timeout=60)
    assert server.process is None


def test_cli_names_the_bad_model_path(tmp_path):
    done = subprocess.run([sys.executable, "-m", "stageagent", "local-model", "serve",
                           "--model-path", str(tmp_path / "x.gguf")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().endswith(f"model file not found: {tmp_path / 'x.gguf'}")
    assert "Traceback" not in done.stderr


def test_report_on_a_local_model_with_no_server_fails_at_start(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(STAGEAGENT_LOCAL_MODEL_URL=f"http://127.0.0.1:{free_port()}/v1",
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-m", "stageagent", "report", "How many orders?",
                           "--model", "local:smollm2", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr
    assert "no local model server answers at http://127.0.0.1:" in done.stderr
    assert "stageagent local-model serve" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "events.jsonl").exists()  # no run was started
