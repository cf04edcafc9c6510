"""Hostile stage files: every one is a StageConfigError naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageagent import StageConfigError, StageConfigManager
from stageagent.registry import tool_registry

from .helpers import add

OK = 'prompt_text = "Add {{ input }}"\ntools = ["add"]\n'


def load(tmp_path: Path, content: bytes | str, name: str = "hostile.toml") -> StageConfigError:
    stages = tmp_path / "stages"
    stages.mkdir(exist_ok=True)
    path = stages / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(StageConfigError) as info:
        StageConfigManager([stages], include_bundled=False, tools=tool_registry([add]))
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    return info.value


def test_a_file_that_is_not_utf8(tmp_path):
    err = load(tmp_path, b'name = "x"\nprompt_text = "caf\xe9"\n')
    assert "not UTF-8" in str(err) and "0xe9" in str(err) and "line 2 (offset 29)" in str(err)


def test_a_relative_output_schema_reference(tmp_path):
    err = load(tmp_path, OK + 'output_schema = ".sql:SQLStageOutput"\n')
    assert err.key == "output_schema" and "relative" in str(err)


@pytest.mark.parametrize("ref", ["a..b:X", "stageagent.:X", "json:loads", "os.path:nope"])
def test_broken_output_schema_references(tmp_path, ref):
    err = load(tmp_path, OK + f'output_schema = "{ref}"\n')
    assert err.key == "output_schema"


def test_an_output_schema_module_that_raises_on_import(tmp_path, monkeypatch):
    (tmp_path / "exploding_schema_mod.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    err = load(tmp_path, OK + 'output_schema = "exploding_schema_mod:Out"\n')
    assert err.key == "output_schema" and "boom at import" in str(err)


def test_a_prompt_with_a_5000_digit_number(tmp_path):
    err = load(tmp_path, 'prompt_text = "{{ ' + "9" * 5000 + ' }}"\n')
    assert err.key == "prompt_text" and "cannot be parsed" in str(err)


def test_a_setting_with_a_5000_digit_number(tmp_path):
    err = load(tmp_path, OK + "max_iterations = " + "9" * 5000 + "\n")
    assert "not valid TOML" in str(err)


def test_a_prompt_nested_deeper_than_the_parser_recurses(tmp_path):
    err = load(tmp_path, 'prompt_text = "{{ ' + "(" * 5000 + "1" + ")" * 5000 + ' }}"\n')
    assert err.key == "prompt_text" and "nested too deeply" in str(err)


def test_toml_nested_deeper_than_the_parser_recurses(tmp_path):
    err = load(tmp_path, OK + "x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert "not valid TOML" in str(err) or err.key == "x"


def test_a_tool_listed_twice_is_reported_at_tools(tmp_path):
    err = load(tmp_path, 'prompt_text = "x"\ntools = ["add", "add"]\n')
    assert err.key == "tools" and "tools listed twice: add" in str(err)


def test_an_evaluator_listed_twice_is_reported_at_evaluators(tmp_path):
    err = load(tmp_path, 'prompt_text = "x"\nevaluators = ["e", "e"]\n')
    assert err.key == "evaluators" and "listed twice: e" in str(err)


def test_prompt_and_prompt_text_together_name_a_key(tmp_path):
    err = load(tmp_path, 'prompt = "a.j2"\nprompt_text = "x"\n')
    assert err.key == "prompt_text" and "not both" in str(err)


def test_a_prompt_file_that_is_not_utf8(tmp_path):
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "bin.j2").write_bytes(b"\xff\xfe\x00binary")
    err = load(tmp_path, 'prompt = "bin.j2"\n')
    assert err.key == "prompt" and "bin.j2" in str(err)


@pytest.mark.parametrize("prompt", ["nul\\u0000.j2", "../../../etc/passwd", "/etc/passwd"])
def test_hostile_prompt_names(tmp_path, prompt):
    err = load(tmp_path, f'prompt = "{prompt}"\n')
    assert err.key == "prompt"


@pytest.mark.parametrize("content, key", [
    ('tools = "add"\nprompt_text = "x"\n', "tools"),
    ('tools = [1]\nprompt_text = "x"\n', "tools.0"),
    ('prompt_text = "x"\nquality_threshold = nan\n', "quality_threshold"),
    ('prompt_text = "x"\n[timeouts]\nstage_s = -inf\n', "timeouts.stage_s"),
    ('prompt_text = "x"\nmodel = "openai:gpt-4o"\n', "model"),
    ('prompt_text = "x"\nname = "../../evil"\n', "name"),
    ('prompt_text = "x"\nname = "\\u202eevil"\n', "name"),
    ('prompt_text = "x"\n[model]\nid = "openai"\n', "model.id"),
])
def test_wrong_types_and_values(tmp_path, content, key):
    assert load(tmp_path, content).key == key


def test_a_bom_and_an_empty_file_are_handled(tmp_path):
    err = load(tmp_path, b"\xef\xbb\xbfprompt_text = 'x'\n")
    assert "not valid TOML" in str(err)
