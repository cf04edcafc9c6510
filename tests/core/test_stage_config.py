"""Stages as data: loading, overriding, and errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from stageagent import StageConfigError, StageConfigManager, UnknownStageError
from stageagent.registry import tool_registry

from .helpers import add, boom

GOOD = """
name = "calc"
description = "adds numbers"
prompt = "calc.j2"
tools = ["add"]
quality_threshold = 0.9
max_iterations = 3

[model]
id = "openai:gpt-4o-mini"
max_tokens = 512

[budget]
context_tokens = 4000
max_total_tokens = 50000

[timeouts]
stage_s = 30

[limits]
loop_repeats = 4
"""


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    stages = tmp_path / "stages"
    prompts = tmp_path / "prompts"
    stages.mkdir()
    prompts.mkdir()
    (prompts / "calc.j2").write_text("Add for {{ input }}")
    return stages


def manager(user_dir: Path, **kwargs):
    return StageConfigManager([user_dir], include_bundled=False,
                              tools=tool_registry([add, boom]), **kwargs)


def test_loads_a_stage_with_every_field(user_dir):
    (user_dir / "calc.toml").write_text(GOOD)
    config = manager(user_dir).get("calc")
    assert config.tools == ["add"] and config.prompt == "calc.j2"
    assert config.quality_threshold == 0.9 and config.max_iterations == 3
    assert config.model.id == "openai:gpt-4o-mini" and config.model.max_tokens == 512
    assert config.budget.context_tokens == 4000 and config.budget.max_total_tokens == 50000
    assert config.timeouts.stage_s == 30 and config.timeouts.tool_s == 60.0
    assert config.limits.loop_repeats == 4
    assert config.source == str(user_dir / "calc.toml")
    with pytest.raises(ValidationError, match="frozen"):
        config.max_iterations = 10  # frozen: nothing mutates a stage under a running loop


@pytest.mark.parametrize(
    "edit, key, message",
    [
        (lambda t: t.replace('tools = ["add"]', 'tools = ["add", "rm_rf"]'), "tools[1]",
         "unknown tool 'rm_rf'"),
        (lambda t: t.replace('"calc.j2"', '"missing.j2"'), "prompt",
         "prompt template 'missing.j2' not found"),
        (lambda t: t.replace("quality_threshold = 0.9", "quality_threshold = 1.5"),
         "quality_threshold", "less than or equal to 1"),
        (lambda t: t.replace("quality_threshold = 0.9", "quality_threshold = -0.1"),
         "quality_threshold", "greater than or equal to 0"),
        (lambda t: t.replace("max_iterations = 3", "max_iterations = 0"), "max_iterations",
         "greater than or equal to 1"),
        (lambda t: "colour = 'blue'\n" + t, "colour", "unknown key 'colour'"),
        (lambda t: t + "\ncolour = 'blue'\n", "limits.colour", "unknown key 'limits.colour'"),
        (lambda t: t.replace("max_tokens = 512", "max_tokns = 512"), "model.max_tokns",
         "unknown key 'model.max_tokns'"),
        (lambda t: t.replace('"openai:gpt-4o-mini"', '"gemini:pro"'), "model.id",
         "unknown model provider 'gemini'"),
        (lambda t: t.replace('tools = ["add"]', 'tools = ["add", "add"]'), "tools",
         "tools listed twice: add"),
        (lambda t: 'evaluators = ["judge"]\n' + t, "evaluators[0]", "unknown evaluator 'judge'"),
        (lambda t: t.replace('max_iterations = 3', 'max_iterations = "three"'), "max_iterations",
         "valid integer"),
    ],
)
def test_invalid_stage_files_name_file_and_key(user_dir, edit, key, message):
    path = user_dir / "calc.toml"
    path.write_text(edit(GOOD))
    with pytest.raises(StageConfigError) as info:
        manager(user_dir)
    err = info.value
    assert err.path == str(path)
    assert err.key == key
    assert message in str(err)
    assert str(path) in str(err)


def test_malformed_toml_names_the_file(user_dir):
    path = user_dir / "broken.toml"
    path.write_text("name = \n[[[")
    with pytest.raises(StageConfigError) as info:
        manager(user_dir)
    assert info.value.path == str(path) and "not valid TOML" in str(info.value)


def test_bad_prompt_syntax_is_reported_at_load_time(user_dir):
    (user_dir.parent / "prompts" / "calc.j2").write_text("{% if %}")
    (user_dir / "calc.toml").write_text(GOOD)
    with pytest.raises(StageConfigError) as info:
        manager(user_dir)
    assert info.value.key == "prompt" and "line 1" in str(info.value)


def test_user_stage_overrides_bundled_by_name(user_dir):
    bundled = StageConfigManager()
    assert {"sql", "chart", "document"} <= set(bundled.names())
    assert bundled.get("sql").source.endswith("sql.toml")
    (user_dir / "mine.toml").write_text(GOOD.replace('name = "calc"', 'name = "sql"'))
    # the bundled stages name the pipeline's toolkit; the user's stage uses the given tools
    merged = StageConfigManager([user_dir], tools=tool_registry([add]))
    assert merged.get("sql").source == str(user_dir / "mine.toml")
    assert merged.get("sql").tools == ["add"]
    assert "chart" in merged  # the other bundled stages are still there


def test_name_defaults_to_file_stem_and_unknown_stage_is_typed(user_dir):
    (user_dir / "adder.toml").write_text(GOOD.replace('name = "calc"\n', ""))
    m = manager(user_dir)
    assert m.names() == ["adder"]
    with pytest.raises(UnknownStageError) as info:
        m.get("nope")
    assert "unknown stage 'nope'" in str(info.value) and "adder" in str(info.value)


def test_missing_user_directory_is_an_error(tmp_path):
    with pytest.raises(StageConfigError) as info:
        StageConfigManager([tmp_path / "nowhere"], include_bundled=False)
    assert "does not exist" in str(info.value)


def test_stage_dirs_from_environment(user_dir, monkeypatch):
    (user_dir / "calc.toml").write_text(GOOD)
    monkeypatch.setenv("STAGEAGENT_STAGES_PATH", str(user_dir))
    m = StageConfigManager(include_bundled=False, tools=tool_registry([add]))
    assert m.names() == ["calc"]
