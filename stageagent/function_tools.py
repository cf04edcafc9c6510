"""Tools: typed Python functions the model may call.

`@tool` turns a sync or async function into a `Tool`: the JSON schema of its arguments
comes from the signature (types, defaults) and the docstring (summary, per-argument
descriptions in Google `Args:` or Sphinx `:param x:` style); arguments are validated by
pydantic before the function runs. A first parameter annotated `ToolContext` receives the
run context (deps, per-run state) and is not shown to the model.

Sync tools run in a worker thread so a blocking call (a database query) never stalls the
event loop; async tools run on the loop.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Callable, Coroutine, get_type_hints

from pydantic_core import PydanticSerializationError, PydanticUndefined, ValidationError

from .exceptions import ToolDefinitionError
from .jsontext import dumps
from .models.base import ToolDefinition
from .plainclass import is_pydantic_model

_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass
class ToolContext:
    """What a tool sees of the run: identity, user dependencies, and per-run state.

    `state` is shared by every tool and evaluator of one stage run (and by the stages of
    one facade run): the SQL executor leaves its result there for the chart stage.
    Parallel-safe tools running together each write a copy of it; the runner applies
    their writes in call order when all are done (a later call's write wins).
    """

    run_id: str = ""
    stage: str = ""
    iteration: int = 0
    deps: Any = None
    state: dict[str, Any] = field(default_factory=dict)
    tool_call_id: str = ""


if TYPE_CHECKING:
    from pydantic import BaseModel


@cache
def _args_base() -> type[BaseModel]:
    """The base of every tool's arguments model, made with the first tool (pydantic's
    model machinery is loaded then, not when stageagent is imported)."""
    from pydantic import BaseModel, ConfigDict

    class ArgsBase(BaseModel):
        model_config = ConfigDict(defer_build=True, extra="forbid",
                                  arbitrary_types_allowed=False)

    return ArgsBase


def _param_docs(doc: str) -> tuple[str, dict[str, str]]:
    """Split a docstring into (summary, {param: description})."""
    if not doc:
        return "", {}
    doc = inspect.cleandoc(doc)
    params: dict[str, str] = {}
    for m in re.finditer(r"^\s*:param\s+(?:[\w\[\], ]+\s+)?(\w+):\s*(.+)$", doc, re.M):
        params[m.group(1)] = m.group(2).strip()
    block = re.search(r"^(?:Args|Arguments|Parameters):\s*\n((?:[ \t]+.+\n?|\s*\n)+)", doc, re.M)
    if block:
        current = None
        for line in block.group(1).splitlines():
            arg = re.match(r"^\s+(\w+)(?:\s*\([^)]*\))?\s*:\s*(.*)$", line)
            if arg and (current is None or len(line) - len(line.lstrip()) <= 8):
                current = arg.group(1)
                params[current] = arg.group(2).strip()
            elif current and line.strip():
                params[current] += " " + line.strip()
    summary_lines = []
    for line in doc.splitlines():
        if re.match(r"^(Args|Arguments|Parameters|Returns|Raises):", line) or line.startswith(":"):
            break
        summary_lines.append(line)
    return "\n".join(summary_lines).strip(), params


class Tool:
    """A callable the model can use. Build with `@tool` or `Tool(function, ...)`."""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        read_only: bool = False,
        requires_approval: bool = False,
        timeout: float | None = None,
        max_retries: int = 2,
        max_output_tokens: int | None = None,
        parallel_safe: bool | None = None,
    ):
        """`read_only`: the tool has no side effects outside the run. `parallel_safe`: it
        may run concurrently with the other calls of its turn (default: `read_only`);
        a tool whose result depends on another call's `ctx.state` write is not."""
        if not callable(function):
            raise ToolDefinitionError(f"tool function {function!r} is not callable")
        self.function = function
        self.name: str = name or str(getattr(function, "__name__", ""))
        if not _NAME_RE.match(self.name):
            raise ToolDefinitionError(
                f"tool name {self.name!r} must be 1-64 characters of letters, digits, _ or -")
        self.read_only = read_only
        self.parallel_safe = read_only if parallel_safe is None else parallel_safe
        self.requires_approval = requires_approval
        self.timeout = timeout
        if max_retries < 0:
            raise ToolDefinitionError(f"tool {self.name!r}: max_retries must be >= 0")
        self.max_retries = max_retries
        self.max_output_tokens = max_output_tokens
        self.is_async = inspect.iscoroutinefunction(function)
        summary, param_docs = _param_docs(inspect.getdoc(function) or "")
        self.description = description if description is not None else summary
        self.takes_ctx, self.args_model, fields = self._build_args_model(param_docs)
        #: validated keyword arguments for a dict of arguments; raises pydantic
        #: `ValidationError`. The validator itself, not a method around it: it runs for
        #: every call the model makes.
        self.validate: Callable[[dict[str, Any]], dict[str, Any]] = (
            _dict_validator(f"{self.name}_args", fields) or self._model_validate)
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        self.parameters: dict[str, Any] = schema
        self.definition = ToolDefinition(name=self.name, description=self.description,
                                         parameters=schema)

    def _build_args_model(
        self, param_docs: dict[str, str]
    ) -> tuple[bool, type[BaseModel], dict[str, tuple[Any, Any]]]:
        fn = self.function
        where = f"tool {self.name!r} ({getattr(fn, '__qualname__', fn)!r})"
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError) as exc:
            raise ToolDefinitionError(f"{where}: cannot read its signature: {exc}") from exc
        try:
            hints = get_type_hints(fn, include_extras=True)  # keep Annotated constraints
        except Exception as exc:
            raise ToolDefinitionError(f"{where}: cannot resolve type hints: {exc}") from exc
        takes_ctx = False
        fields: dict[str, Any] = {}
        from pydantic import Field, create_model

        for index, (pname, param) in enumerate(signature.parameters.items()):
            annotation = hints.get(pname, inspect.Parameter.empty)
            if index == 0 and annotation is ToolContext:
                takes_ctx = True
                continue
            if annotation is ToolContext:
                raise ToolDefinitionError(
                    f"{where}: ToolContext must be the first parameter, not {pname!r}")
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise ToolDefinitionError(
                    f"{where}: parameter {pname!r}: *args/**kwargs are not supported; "
                    "declare each argument")
            if param.kind is param.POSITIONAL_ONLY:
                raise ToolDefinitionError(
                    f"{where}: parameter {pname!r} is positional-only; tools take keywords")
            if annotation is inspect.Parameter.empty:
                raise ToolDefinitionError(
                    f"{where}: parameter {pname!r} has no type annotation; the model needs a "
                    "type to call it")
            default = PydanticUndefined if param.default is param.empty else param.default
            fields[pname] = (annotation, Field(default, description=param_docs.get(pname)))
        try:
            model = create_model(f"{self.name}_args", __base__=_args_base(), **fields)
            model.model_json_schema()
        except Exception as exc:
            raise ToolDefinitionError(
                f"{where}: argument types cannot be expressed as JSON schema: {exc}") from exc
        return takes_ctx, model, {n: (a, f.default) for n, (a, f) in fields.items()}

    def _model_validate(self, arguments: Any) -> dict[str, Any]:
        return self.args_model.__pydantic_validator__.validate_python(arguments).__dict__

    async def call(self, arguments: dict[str, Any], ctx: ToolContext | None = None) -> Any:
        """Validate and run (no timeout, no error conversion: the runtime adds those)."""
        return await self.invoke(self.validate(arguments), ctx or ToolContext())

    async def invoke(self, kwargs: dict[str, Any], ctx: ToolContext) -> Any:
        """Run with already-validated arguments; sync functions go to a worker thread."""
        return await self.start(kwargs, ctx)

    def start(self, kwargs: dict[str, Any], ctx: ToolContext) -> Coroutine[Any, Any, Any]:
        """The call as a coroutine, not yet started (no wrapper coroutine on the hot path)."""
        fn = self.function
        if self.is_async:
            return fn(ctx, **kwargs) if self.takes_ctx else fn(**kwargs)
        if self.takes_ctx:
            return asyncio.to_thread(fn, ctx, **kwargs)
        return asyncio.to_thread(fn, **kwargs)

    def __repr__(self) -> str:
        flags = [f for f, on in (("read_only", self.read_only),
                                 ("parallel_safe", self.parallel_safe),
                                 ("requires_approval", self.requires_approval)) if on]
        return f"Tool({self.name!r}{', ' + ', '.join(flags) if flags else ''})"


def tool(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    read_only: bool = False,
    requires_approval: bool = False,
    timeout: float | None = None,
    max_retries: int = 2,
    max_output_tokens: int | None = None,
    parallel_safe: bool | None = None,
) -> Any:
    """Decorator: `@tool` or `@tool(read_only=True, timeout=5)` makes a `Tool`."""

    def wrap(fn: Callable[..., Any]) -> Tool:
        return Tool(fn, name=name, description=description, read_only=read_only,
                    requires_approval=requires_approval, timeout=timeout,
                    max_retries=max_retries, max_output_tokens=max_output_tokens,
                    parallel_safe=parallel_safe)

    return wrap(function) if function is not None else wrap


def _dict_validator(name: str, fields: dict[str, tuple[Any, Any]]) -> Any:
    """Validation straight to a kwargs dict (a TypedDict schema, extra keys forbidden).

    Same rules as the arguments model that gives the JSON schema, without building a
    model instance per call; an omitted optional argument takes the function's own
    default. None if a type cannot be expressed this way (the model validates then).
    """
    from pydantic import ConfigDict, TypeAdapter
    from typing_extensions import NotRequired, TypedDict

    try:
        shape = TypedDict(name, {  # type: ignore[misc]
            n: (a if default is PydanticUndefined else NotRequired[a])
            for n, (a, default) in fields.items()})
        shape.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
        adapter = TypeAdapter(shape)
    except Exception:  # noqa: BLE001 - the model path still validates
        return None
    validator = getattr(adapter, "validator", None)
    validate = getattr(validator, "validate_python", None) or adapter.validate_python
    return validate


#: types that are never a pydantic model (the model check is an ABC check: costly)
_JSON_NATIVE = frozenset({int, float, bool, type(None), dict, list, tuple})


def render_output(value: Any) -> str:
    """A tool's return value as observation text (JSON for structured values)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:  # the common case, without the serialiser: its JSON is its digits
        try:
            return str(value)
        except ValueError:  # past Python's int-to-text digit limit: the serialiser can
            pass
    if kind not in _JSON_NATIVE:
        if isinstance(value, str):  # a str subclass (a StrEnum member) is text too
            return value
        if is_pydantic_model(value):
            try:
                return value.model_dump_json()
            except PydanticSerializationError:  # lone surrogates in a string field
                return dumps(value.model_dump(mode="json"))
    return dumps(value)


def format_validation_error(tool_name: str, error: ValidationError) -> str:
    """Argument errors phrased for the model: tool, argument, what was wrong."""
    lines = [f"Invalid arguments for tool {tool_name!r}:"]
    for err in error.errors(include_url=False):
        loc = ".".join(str(x) for x in err.get("loc", ())) or "(arguments)"
        if err.get("type") == "extra_forbidden":
            lines.append(f"- {loc}: unexpected argument")
        else:
            lines.append(f"- {loc}: {err.get('msg')} (got {err.get('input')!r:.80})")
    return "\n".join(lines)
