"""Prompt templates and tool definitions."""

from __future__ import annotations

import asyncio
import threading
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from stageagent import (
    PromptEnvironment,
    PromptError,
    Tool,
    ToolContext,
    ToolDefinitionError,
    tool,
)

# --- prompts ---------------------------------------------------------------------------


def test_user_dirs_come_before_bundled(tmp_path):
    (tmp_path / "sql.j2").write_text("my own sql prompt for {{ input }}")
    env = PromptEnvironment([tmp_path])
    assert env.render("sql.j2", {"input": "q"}) == "my own sql prompt for q"
    assert PromptEnvironment().exists("sql.j2")  # the bundled one


def test_missing_variable_names_template_and_variable(tmp_path):
    (tmp_path / "p.j2").write_text("Question: {{ question }} in {{ dialect }}")
    env = PromptEnvironment([tmp_path], include_bundled=False)
    with pytest.raises(PromptError) as info:
        env.render("p.j2", {"question": "q"})
    assert info.value.template == "p.j2" and info.value.variable == "dialect"
    assert "'p.j2' needs variable 'dialect'" in str(info.value)


def test_missing_attribute_is_named_too(tmp_path):
    (tmp_path / "p.j2").write_text("{{ result.rows }}")
    env = PromptEnvironment([tmp_path], include_bundled=False)
    with pytest.raises(PromptError) as info:
        env.render("p.j2", {"result": {}})
    assert info.value.variable == "rows"


def test_missing_template_and_syntax_errors(tmp_path):
    env = PromptEnvironment([tmp_path], include_bundled=False)
    with pytest.raises(PromptError, match="'nope.j2' not found"):
        env.render("nope.j2")
    (tmp_path / "bad.j2").write_text("line one\n{% for %}")
    with pytest.raises(PromptError, match="'bad.j2' line 2"):
        env.render("bad.j2")


def test_templates_are_sandboxed(tmp_path):
    env = PromptEnvironment([tmp_path], include_bundled=False)
    with pytest.raises(PromptError, match="unsafe"):
        env.render_string("{{ x.__class__.__mro__[1].__subclasses__() }}", {"x": "s"})


# --- tools -----------------------------------------------------------------------------


class Filter(BaseModel):
    column: str
    op: Literal["=", ">", "<"]
    value: float


def test_schema_from_signature_and_docstring():
    @tool(read_only=True, timeout=3, max_retries=4)
    def search(ctx: ToolContext, query: str, limit: int = 10, filters: list[Filter] | None = None) -> list:
        """Search the catalogue.

        Args:
            query: words to look for
            limit: at most this many rows,
                counted after filtering
            filters: optional column filters
        """
        return []

    d = search.definition
    assert d.name == "search" and d.description == "Search the catalogue."
    props = d.parameters["properties"]
    assert list(props) == ["query", "limit", "filters"]  # ctx is not shown to the model
    assert props["query"] == {"description": "words to look for", "title": "Query", "type": "string"}
    assert props["limit"]["default"] == 10
    assert props["limit"]["description"] == "at most this many rows, counted after filtering"
    assert d.parameters["required"] == ["query"]
    assert "Filter" in d.parameters["$defs"]
    assert search.takes_ctx and search.read_only and search.timeout == 3 and search.max_retries == 4


def test_sphinx_style_docstrings():
    @tool
    def f(a: int) -> int:
        """Do it.

        :param a: the number
        """
        return a

    assert f.parameters["properties"]["a"]["description"] == "the number"


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f(*args: int): pass", "*args/**kwargs are not supported"),
        ("def f(**kw: int): pass", "*args/**kwargs are not supported"),
        ("def f(a, /): pass", "positional-only"),
        ("def f(a): pass", "parameter 'a' has no type annotation"),
        ("def f(a: int, ctx: ToolContext): pass", "ToolContext must be the first parameter"),
        ("def f(a: threading.Lock): pass", "cannot be expressed as JSON schema"),
    ],
)
def test_unsupported_signatures_are_typed_errors(source, message):
    namespace = {"ToolContext": ToolContext, "threading": threading}
    exec(source, namespace)
    with pytest.raises(ToolDefinitionError) as info:
        Tool(namespace["f"])
    assert message in str(info.value) and "'f'" in str(info.value)


def test_bad_tool_names_and_non_callables():
    with pytest.raises(ToolDefinitionError, match="1-64 characters"):
        Tool(lambda: None, name="has space")
    with pytest.raises(ToolDefinitionError, match="not callable"):
        Tool(42)  # type: ignore[arg-type]


async def test_sync_tools_run_off_the_event_loop():
    loop_thread = threading.get_ident()

    @tool
    def where() -> int:
        """Returns the thread it ran in."""
        return threading.get_ident()

    assert await where.call({}) != loop_thread

    @tool
    async def here() -> int:
        """Async tools run on the loop."""
        await asyncio.sleep(0)
        return threading.get_ident()

    assert await here.call({}) == loop_thread


async def test_arguments_are_validated_and_coerced_before_the_call():
    seen = []

    @tool
    async def f(n: int, filt: Filter) -> None:
        """Records its arguments."""
        seen.append((n, filt))

    await f.call({"n": "7", "filt": {"column": "x", "op": ">", "value": "1.5"}})
    assert seen == [(7, Filter(column="x", op=">", value=1.5))]
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        await f.call({"n": 1, "filt": {"column": "x", "op": "!=", "value": 1}})
    assert len(seen) == 1


async def test_omitted_arguments_take_defaults_and_constraints_hold():
    from pydantic import ValidationError

    @tool
    async def page(query: str, limit: Annotated[int, Field(ge=1, le=100)] = 10,
                   tags: list[str] | None = None) -> dict:
        """Pages through results."""
        return {"query": query, "limit": limit, "tags": tags}

    assert await page.call({"query": "q"}) == {"query": "q", "limit": 10, "tags": None}
    assert await page.call({"query": "q", "limit": "5", "tags": ["a"]}) == \
        {"query": "q", "limit": 5, "tags": ["a"]}
    for bad in ({"query": "q", "limit": 0}, {"limit": 5}, {"query": "q", "extra": 1}, [1]):
        with pytest.raises(ValidationError):
            page.validate(bad)  # type: ignore[arg-type]
    assert page.parameters["properties"]["limit"]["maximum"] == 100
    assert page.parameters["required"] == ["query"]
