"""Stages as data: `StageConfig` and the `StageConfigManager` that loads `stages/*.toml`.

A stage file fixes, per stage, the enabled tools, the prompt template, the quality gate
(evaluators and threshold), the iteration limit, the model and its settings, the context
and cost budget, an optional output schema, and timeouts. Everything is validated when the
file is loaded - unknown keys, unknown tools/evaluators, missing templates, out-of-range
numbers - with errors naming the file and the key. Configs are frozen: a run never sees
its stage change under it (use `model_copy(update=...)` to derive a variant).

Example (`stages/sql.toml`)::

    name = "sql"
    prompt = "sql.j2"
    tools = ["schema_discovery", "sql_executor"]
    evaluators = ["sql_quality"]
    quality_threshold = 0.8
    max_iterations = 6
    output_schema = "stageagent.tools.sql:SQLStageOutput"

    [model]
    id = "anthropic:claude-sonnet-4-6"
    max_tokens = 4096

    [budget]
    context_tokens = 24000
"""


import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal

from pydantic_core import ValidationError

from .exceptions import PromptError, RegistryError, StageConfigError, UnknownStageError
from .models.base import ModelSettings
from .plainclass import PlainClass, field
from .registry import evaluator_registry, import_ref, tool_registry, with_toolkit

#: the model a stage uses when its file names none (overridable per run)
DEFAULT_MODEL = os.environ.get("STAGEAGENT_MODEL", "anthropic:claude-sonnet-4-6")


class _Strict(PlainClass, frozen=True, extra="forbid"):
    """Stage settings: unknown keys are errors, and a loaded stage never changes."""


class StageModel(_Strict, frozen=True, extra="forbid"):
    """`[model]`: the model id and its settings."""

    id: str = field(default_factory=lambda: DEFAULT_MODEL)
    max_tokens: int | None = field(default=None, ge=1)
    temperature: float | None = field(default=None, ge=0.0, le=2.0)
    top_p: float | None = field(default=None, gt=0.0, le=1.0)
    stop_sequences: list[str] | None = None
    thinking_budget: int | None = field(default=None, ge=1)
    parallel_tool_calls: bool | None = None
    #: the first turn's tool choice: "auto", "required", "none" or one of the stage's
    #: tools (for a stage that must look something up before it can answer, and for
    #: small local models that answer without tools otherwise); later turns are "auto"
    tool_choice: str | None = None

    def settings(self, timeout: float | None = None) -> ModelSettings:
        data = self.model_dump(exclude={"id"}, exclude_none=True)
        if timeout is not None:
            data["timeout"] = timeout
        return ModelSettings(**data)


class StageBudget(_Strict, frozen=True, extra="forbid"):
    """`[budget]`: how much context one request may carry, and what the stage may spend."""

    #: history is trimmed to this many tokens before each model call
    context_tokens: int = field(default=32_000, ge=256)
    #: stop with reason "budget" once input+output tokens of the stage exceed this
    max_total_tokens: int | None = field(default=None, ge=1)
    #: stop with reason "budget" once the stage's cost exceeds this (known prices only)
    max_cost_usd: float | None = field(default=None, gt=0)


class StageTimeouts(_Strict, frozen=True, extra="forbid"):
    """`[timeouts]` in seconds."""

    stage_s: float | None = field(default=600.0, gt=0)
    tool_s: float | None = field(default=60.0, gt=0)
    model_s: float | None = field(default=120.0, gt=0)


class StageLimits(_Strict, frozen=True, extra="forbid"):
    """`[limits]`: loop detection, format retries, tool output size."""

    #: the same tool call (name + arguments) this many times ends the stage
    loop_repeats: int = field(default=3, ge=2)
    format_retries: int = field(default=2, ge=0)
    tool_output_tokens: int = field(default=4_000, ge=16)


def _one_prompt(value: str | None, earlier: dict[str, Any]) -> str | None:
    if value is not None and earlier.get("prompt"):
        raise ValueError("give either 'prompt' (a template file) or 'prompt_text', not both")
    return value


def _listed_once(kind: str) -> Any:
    def check(names: list[str], earlier: dict[str, Any]) -> list[str]:
        if len(set(names)) != len(names):
            dupes = sorted({t for t in names if names.count(t) > 1})
            raise ValueError(f"{kind} listed twice: {', '.join(dupes)}")
        return names
    return check


def _model_class(value: Any, earlier: dict[str, Any]) -> Any:
    """`output_schema` is a `"module:Class"` reference or a pydantic model class."""
    from pydantic import BaseModel

    if value is None or isinstance(value, str):
        return value
    if isinstance(value, type) and issubclass(value, BaseModel):
        return value
    what = value.__qualname__ if isinstance(value, type) else type(value).__name__
    raise ValueError(f"give a 'module:Class' reference or a pydantic model class, not {what}")


class StageConfig(_Strict, frozen=True, extra="forbid"):
    """One stage, as loaded from a TOML file (or built in code)."""

    name: str = field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    #: template file name on the prompt search path ...
    prompt: str | None = None
    #: ... or the template source inline (handy in notebooks)
    prompt_text: str | None = field(default=None, after=_one_prompt)
    #: `"module:attr"` of the `Toolkit` the stage's tools and evaluators come from, when
    #: the runtime is not given them itself (the bundled stages name the pipeline's)
    toolkit: str | None = None
    tools: list[str] = field(default_factory=list, after=_listed_once("tools"))
    evaluators: list[str] = field(default_factory=list, after=_listed_once("evaluators"))
    quality_threshold: float = field(default=0.7, ge=0.0, le=1.0)
    max_iterations: int = field(default=5, ge=1)
    #: `"module:Class"` of a pydantic model (or the class itself, in code): enables
    #: explore-then-format
    output_schema: Any = field(default=None, after=_model_class)
    #: what ungrounded values in the formatted output do: "critique" (lower the score),
    #: "fail" (score 0 for the iteration), or "off"
    grounding: Literal["critique", "fail", "off"] = "critique"
    model: StageModel = field(default_factory=StageModel)
    budget: StageBudget = field(default_factory=StageBudget)
    timeouts: StageTimeouts = field(default_factory=StageTimeouts)
    limits: StageLimits = field(default_factory=StageLimits)
    #: where it was loaded from (None for stages built in code)
    source: str | None = None

    def output_model(self) -> Any:
        """The output schema class (a pydantic model class), imported on demand."""
        from pydantic import BaseModel

        if not self.output_schema:
            return None
        ref = self.output_schema
        cls = ref if isinstance(ref, type) else import_ref(ref)
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            raise StageConfigError(f"{self.output_schema!r} is not a pydantic model class",
                                   path=self.source, key="output_schema")
        return cls


def _key_of(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML table; every way it can fail is a StageConfigError naming the file."""
    import tomllib  # here: a program with stages built in code never parses TOML

    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise StageConfigError(f"cannot read: {exc}", path=path) from None
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise StageConfigError(f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at line "
                               f"{line} (offset {exc.start})", path=path) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StageConfigError(f"not valid TOML: {exc}", path=path) from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise StageConfigError(f"not valid TOML: {str(exc)[:120]}", path=path) from None
    except RecursionError:
        raise StageConfigError("not valid TOML: arrays or tables nested too deeply",
                               path=path) from None


def parse_stage_file(path: Path) -> StageConfig:
    """Parse and validate the schema of one stage file (not its references)."""
    data = _read_toml(path)
    data.setdefault("name", path.stem)
    data["source"] = str(path)
    try:
        return StageConfig(**data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        key = _key_of(first["loc"])
        if first["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            msg = f"unknown key {key!r}"
        else:
            msg = first["msg"]
        more = f" (and {len(errors) - 1} more problem(s): " + "; ".join(
            f"{_key_of(e['loc'])}: {e['msg']}" for e in errors[1:]) + ")" if len(errors) > 1 else ""
        raise StageConfigError(msg + more, path=path, key=key) from None
    except TypeError as exc:  # e.g. a non-string key
        raise StageConfigError(str(exc), path=path) from None


def _check_model_id(config: StageConfig) -> None:
    """`[model] id` is `provider:model` with a provider stageagent has an adapter for."""
    from .models import KNOWN_PROVIDERS

    model_id = config.model.id
    if ":" not in model_id:
        raise StageConfigError(f"model id {model_id!r} is not 'provider:model'",
                               key="model.id", path=config.source)
    provider = model_id.partition(":")[0]
    if provider not in KNOWN_PROVIDERS:
        raise StageConfigError(
            f"unknown model provider {provider!r} in {model_id!r} "
            f"(known: {', '.join(KNOWN_PROVIDERS)})", key="model.id", path=config.source)


def env_dirs(variable: str) -> list[Path]:
    value = os.environ.get(variable, "")
    return [Path(p) for p in value.split(os.pathsep) if p]


class StageConfigManager:
    """Loads bundled and user stage files; user files override bundled ones by name.

    Search order: the bundled `stageagent.stages`, then `$STAGEAGENT_STAGES_PATH`, then
    `user_dirs` (later wins). References are checked at load time against the tool and
    evaluator registries given (none by default) plus the toolkit each stage names, and
    against the prompt search path.
    """

    def __init__(
        self,
        user_dirs: Iterable[str | Path] = (),
        *,
        include_bundled: bool = True,
        tools: Any = None,
        evaluators: Any = None,
        prompts: Any = None,
        prompt_dirs: Iterable[str | Path] = (),
    ):
        from .templating import PromptEnvironment

        self.tools = tools if tools is not None else tool_registry()
        self.evaluators = evaluators if evaluators is not None else evaluator_registry()
        self.user_dirs = [*env_dirs("STAGEAGENT_STAGES_PATH"), *(Path(d) for d in user_dirs)]
        self.prompts = prompts or PromptEnvironment(
            [*(Path(d) for d in prompt_dirs), *env_dirs("STAGEAGENT_PROMPTS_PATH"),
             *(d.parent / "prompts" for d in reversed(self.user_dirs))])
        self.include_bundled = include_bundled
        self._stages: dict[str, StageConfig] = {}
        self.reload()

    def reload(self) -> None:
        dirs: list[Path] = []
        if self.include_bundled:
            from stageagent import stages

            dirs.append(stages.PATH)
        for d in self.user_dirs:
            if not d.is_dir():
                raise StageConfigError("stage directory does not exist", path=d)
            dirs.append(d)
        loaded: dict[str, StageConfig] = {}
        for d in dirs:
            for path in sorted(d.glob("*.toml")):
                config = parse_stage_file(path)
                self.validate(config)
                loaded[config.name] = config
        self._stages = loaded

    def validate(self, config: StageConfig) -> StageConfig:
        """Check a stage's references; raises StageConfigError naming file and key."""
        self._check_names(config)
        self._check_prompt(config)
        if config.output_schema:
            try:
                config.output_model()
            except RegistryError as exc:
                raise StageConfigError(str(exc), key="output_schema",
                                       path=config.source) from None
        _check_model_id(config)
        return config

    def _check_names(self, config: StageConfig) -> None:
        """Every tool and evaluator is given to the manager or in the stage's toolkit."""
        try:
            tools, evaluators = with_toolkit(config.toolkit, self.tools, self.evaluators)
        except RegistryError as exc:
            raise StageConfigError(str(exc), key="toolkit", path=config.source) from None
        for kind, names, known in (("tool", config.tools, tools),
                                   ("evaluator", config.evaluators, evaluators)):
            for index, name in enumerate(names):
                if name not in known:
                    raise StageConfigError(
                        f"unknown {kind} {name!r} (known: {', '.join(known.names()) or 'none'})",
                        key=f"{kind}s[{index}]", path=config.source)

    def _check_prompt(self, config: StageConfig) -> None:
        try:
            if config.prompt:
                self.prompts.check(config.prompt)
            elif config.prompt_text is not None:
                self.prompts.check_source(config.prompt_text, name=f"{config.name}.prompt_text")
        except PromptError as exc:
            key = "prompt" if config.prompt else "prompt_text"
            raise StageConfigError(str(exc), key=key, path=config.source) from None

    def register(self, config: StageConfig) -> StageConfig:
        """Add (or replace) a stage built in code, validated like a file."""
        self._stages[config.name] = self.validate(config)
        return config

    def get(self, name: str) -> StageConfig:
        try:
            return self._stages[name]
        except KeyError:
            raise UnknownStageError(
                f"unknown stage {name!r} (loaded: {', '.join(sorted(self._stages)) or 'none'})",
                key=name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._stages

    def __iter__(self) -> Iterator[StageConfig]:
        return iter(self._stages[n] for n in sorted(self._stages))

    def names(self) -> list[str]:
        return sorted(self._stages)
