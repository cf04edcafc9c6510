"""The framework core does not know the report pipeline: a runtime knows the tools it is
given, and a stage may name the toolkit its tools come from (the bundled stages do)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import stageagent
from stageagent import (ScriptedModel, StageAwareRuntime, StageConfig, StageConfigError,
                        StageConfigManager, call, tool)

from .helpers import add

#: the pipeline's application modules that live in the stageagent package (they use the
#: pipeline on purpose); everything else is the framework core
PIPELINE_APP = {"facade.py", "report.py", "report_result.py", "cli.py", "__main__.py",
                "plan/cli.py"}
#: the front doors, which serve and show the pipeline's reports
PIPELINE_DIRS = ("tools", "evals", "serve", "display")

KIT_MODULE = '''
from stageagent import tool
from stageagent.registry import Toolkit


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


KIT = Toolkit(tools={"add": "inversion_kit:add"})
'''


@pytest.fixture
def kit(tmp_path, monkeypatch):
    """A toolkit in a module of its own, as a user's or a pipeline's would be."""
    (tmp_path / "inversion_kit.py").write_text(KIT_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "inversion_kit:KIT"
    sys.modules.pop("inversion_kit", None)


def test_a_runtime_knows_only_what_it_is_given():
    runtime = StageAwareRuntime(tools=[add])
    assert runtime.tools.names() == ["add"]
    assert runtime.evaluators.names() == []
    config = StageConfig(name="s", tools=["sql_executor"], prompt_text="x")
    with pytest.raises(StageConfigError, match="unknown tool 'sql_executor'"):
        runtime.prepare(config)


async def test_a_stage_naming_a_toolkit_gets_its_tools(kit):
    config = StageConfig(name="s", tools=["add"], toolkit=kit, prompt_text="x")
    runtime = StageAwareRuntime()
    model = ScriptedModel([call("add", {"a": 1, "b": 2}), "3"])
    events = [e async for e in runtime.run_stage(config, "1+2", model=model)]
    assert [e.content for e in events if e.type == "tool_result"] == ["3"]
    assert runtime.tools.names() == []  # the runtime's own registry did not grow


def test_given_tools_win_over_the_toolkit(kit):
    @tool
    def add(a: int, b: int) -> int:
        """Add, the user's way."""
        return a + b + 1000

    config = StageConfig(name="s", tools=["add"], toolkit=kit, prompt_text="x")
    assert StageAwareRuntime(tools=[add]).prepare(config).tools["add"] is add


def test_a_bad_toolkit_reference_names_the_key(tmp_path):
    (tmp_path / "s.toml").write_text('prompt_text = "x"\ntoolkit = "json:loads"\n')
    with pytest.raises(StageConfigError) as info:
        StageConfigManager([tmp_path], include_bundled=False)
    assert info.value.key == "toolkit" and "not a stageagent Toolkit" in str(info.value)


def test_bundled_stages_validate_against_the_toolkit_they_name():
    manager = StageConfigManager()  # given no tools at all
    assert manager.tools.names() == []
    for name in ("sql", "chart", "document"):
        assert manager.get(name).toolkit == "stageagent.tools:TOOLKIT"


def imported_names(tree: ast.AST) -> list[str]:
    """Every module an AST imports, relative ones with their leading dots."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.append(base)
            if not node.module:
                names += [base + a.name for a in node.names]
    return names


def test_core_modules_do_not_import_the_pipeline():
    root = Path(stageagent.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if "/".join(parts) in PIPELINE_APP or parts[0] in PIPELINE_DIRS:
            continue
        for name in imported_names(ast.parse(path.read_text(encoding="utf-8"))):
            if name.startswith(("stageagent.tools", "stageagent.evals")) or (
                    name.startswith(".") and name.lstrip(".").startswith(("tools", "evals"))):
                offenders.append(f"{'/'.join(parts)}: {name}")
    assert offenders == []


def test_running_a_stage_does_not_load_the_pipeline():
    script = (
        "import asyncio, sys\n"
        "from stageagent import ScriptedModel, StageAwareRuntime, StageConfig, tool\n"
        "@tool\n"
        "def hi() -> str:\n"
        "    'Say hi.'\n"
        "    return 'hi'\n"
        "config = StageConfig(name='s', tools=['hi'], prompt_text='x')\n"
        "run = StageAwareRuntime(tools=[hi]).run(config, 'x', model=ScriptedModel(['done']))\n"
        "print(asyncio.run(run).reason)\n"
        "print(sorted(m for m in sys.modules if m.startswith('stageagent.tools')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["completed", "[]"]
