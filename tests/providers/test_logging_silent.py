"""A library logs nothing until `enable_logging()`; enabled, each record appears once.

Each case runs in a fresh interpreter: loguru's default stderr handler is process-wide
state, and an earlier `enable_logging()` in the test process would hide a leak.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).parent.parent

SCRIPT = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, sys.argv[2])
    from providers.replies import anthropic_message
    from providers.wire_server import Reply, WireServer
    from stageagent import ModelRequest, ModelSettings, UserMessage, enable_logging
    from stageagent.models.anthropic import AnthropicModel
    from stageagent.models.retry import RetryPolicy

    if sys.argv[1] == "on":
        enable_logging("DEBUG")
    server = WireServer().start()
    busy = {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    server.queue(Reply.json(busy, status=529), Reply.json(anthropic_message(["one"])),
                 Reply.json(anthropic_message(["two"])))

    async def main():
        model = AnthropicModel("claude-sonnet-4-6", base_url=server.url, api_key="sk-ant-x",
                               retry_policy=RetryPolicy(max_retries=2, base_delay=0.001,
                                                        max_delay=0.01))
        request = ModelRequest(messages=[UserMessage(content="hi")],
                               settings=ModelSettings(temperature=0.0))
        try:
            for _ in range(2):
                print((await model.request(request)).text)
        finally:
            await model.aclose()

    asyncio.run(main())
    server.stop()
""")


def run(mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT, mode, str(TESTS)],
                          capture_output=True, text=True, timeout=120)


def test_retry_waits_and_ignored_settings_are_silent_by_default():
    done = run("off")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["one", "two"]
    assert done.stderr == ""


def test_enabled_each_record_appears_once():
    done = run("on")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    retries = [line for line in lines if "retry 1 in" in line]
    ignored = [line for line in lines if "temperature ignored" in line]
    assert len(retries) == 1, lines       # not twice (loguru's default handler and ours)
    assert len(ignored) == 1, lines       # once per process, not once per request
    assert "DEBUG" in retries[0] and "WARNING" in ignored[0]


@pytest.mark.parametrize("name", ["sql", "chart", "document"])
def test_bundled_stages_set_nothing_the_default_model_ignores(name):
    from stageagent import StageConfigManager
    from stageagent.models.anthropic import AnthropicModel
    from stageagent.stage_config import DEFAULT_MODEL

    config = StageConfigManager().get(name)
    assert config.model.id == DEFAULT_MODEL and DEFAULT_MODEL.startswith("anthropic:")
    settings = config.model.settings(config.timeouts.model_s)
    ignored = AnthropicModel.ignored_settings(settings)
    assert ignored == [], f"{name}.toml sets {ignored}, which the default model ignores"


def test_only_the_log_module_talks_to_loguru():
    import ast

    import stageagent

    root = Path(stageagent.__file__).parent
    offenders = []
    for path in [*root.rglob("*.py"), *(root.parent / "tools").rglob("*.py"),
                 *(root.parent / "evals").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] == "loguru" for n in names) and path.name != "log.py":
                offenders.append(str(path))
    assert offenders == [], "log through stageagent.log.run_logger(), silent until enabled"
