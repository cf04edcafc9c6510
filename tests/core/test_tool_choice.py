"""A stage's `[model] tool_choice`: sent on the first turn only, checked against the
stage's tools when the stage is prepared."""

from __future__ import annotations

import pytest

from stageagent import FunctionModel, StageAwareRuntime, StageConfig, call, tool
from stageagent.exceptions import StageConfigError


@tool(read_only=True)
def lookup(key: str) -> str:
    """Look a key up.

    Args:
        key: what to look up
    """
    return key.upper()


def stage(choice: str | None) -> StageConfig:
    return StageConfig(name="look", tools=["lookup"], max_iterations=3,
                       prompt_text="Look things up: {{ input }}",
                       model={"id": "function:x", "tool_choice": choice})


async def test_tool_choice_is_sent_on_the_first_turn_only():
    seen: list[str | None] = []

    def answer(request):
        seen.append(request.settings.tool_choice)
        return call("lookup", {"key": "a"}) if len(seen) == 1 else "A."

    run = StageAwareRuntime(tools=[lookup]).run_stage(stage("lookup"), "a?",
                                                      model=FunctionModel(answer))
    result = await run.collect()
    assert result.reason == "completed"
    assert seen == ["lookup", None]


@pytest.mark.parametrize("choice", ["required", "none", "auto"])
async def test_the_generic_choices_are_accepted(choice):
    run = StageAwareRuntime(tools=[lookup]).run_stage(stage(choice), "a?",
                                                      model=FunctionModel(lambda r: "A."))
    assert (await run.collect()).reason == "completed"


def test_a_choice_naming_no_stage_tool_is_a_config_error():
    runtime = StageAwareRuntime(tools=[lookup])
    with pytest.raises(StageConfigError, match="tool_choice 'lokup'.*lookup") as info:
        runtime.prepare(stage("lokup"))
    assert "model.tool_choice" in str(info.value)
