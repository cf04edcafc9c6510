"""What a request may name, resolved on the server: databases, stages, models.

A database name from the config becomes one read-only `Database` and one
`StageAwareRuntime` (its `sql_quality` evaluator validates against that database),
opened on first use and shared by every run on it. The model a request asks for is
checked here: only ids from `allowed_models` when the config lists some; otherwise no id
with a custom endpoint (`openai:gpt@http://host/v1` would let a client send the server's
API key to a host of its choosing). With `script` set, every run plays fresh scripted
models read from that file (demos, tests), and no real model is ever called.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .config import DEMO_DATABASE, ServeConfig
from .problems import Problem

if TYPE_CHECKING:
    from stageagent.facade import StageAwareFacade
    from stageagent.runtime import StageAwareRuntime
    from stageagent.stage_config import StageConfigManager
    from stageagent.toolcalls import Approver

#: what a request says (or leaves out) to get the scripted models of `--script`
SCRIPT_MODEL = "script"


class Workspace:
    """Databases, runtimes and stage configs of one server, by name."""

    def __init__(self, config: ServeConfig, *, approver: Approver | None = None,
                 tools: Iterable[Any] = ()):
        self.config = config
        self.approver = approver
        from stageagent.registry import tool_registry
        from stageagent.tools import BUILTIN_TOOLS

        self.registry = tool_registry()  # the pipeline's tools, then the config's own
        for name, ref in BUILTIN_TOOLS.items():
            self.registry.register_lazy(name, ref)
        for item in tools:  # the registry turns typed functions into tools
            self.registry.register(getattr(item, "name", None) or item.__name__, item)
        self._stages: StageConfigManager | None = None
        self._facades: dict[str, StageAwareFacade] = {}
        self._lock = asyncio.Lock()

    # --- stages ------------------------------------------------------------------------

    @property
    def stages(self) -> StageConfigManager:
        if self._stages is None:
            from stageagent.stage_config import StageConfigManager

            dirs = [self.config.stages_dir] if self.config.stages_dir else []
            self._stages = StageConfigManager(dirs, tools=self.registry)
        return self._stages

    def check_stages(self) -> None:
        """Load the stage files now; an error names the file and the key."""
        from stageagent.exceptions import StageAgentError

        from .config import ServeConfigError

        try:
            self.stages
        except StageAgentError as exc:
            raise ServeConfigError(f"stage files: {exc}", key="stages_dir") from None

    def check_stage(self, name: str) -> None:
        if name not in self.stages.names():
            raise Problem(404, "Unknown stage", f"no stage named {name!r} (known: "
                          f"{', '.join(sorted(self.stages.names()))})", field="name",
                          slug="unknown-stage")

    # --- databases ---------------------------------------------------------------------

    def database_name(self, name: str | None) -> str:
        name = name or self.config.default_database_name()
        if name not in self.config.databases:
            raise Problem(422, "Invalid request", f"database: unknown database {name!r}; this "
                          f"server has {', '.join(self.config.database_names())}",
                          field="database", slug="invalid-request")
        return name

    async def facade(self, name: str) -> StageAwareFacade:
        """The facade (and runtime) of a configured database, opened on first use."""
        async with self._lock:
            facade = self._facades.get(name)
            if facade is None:
                facade = await asyncio.to_thread(self._open, name)
                self._facades[name] = facade
            return facade

    def _open(self, name: str) -> StageAwareFacade:
        from stageagent.facade import StageAwareFacade
        from stageagent.runtime import StageAwareRuntime
        from stageagent.tools.sql import Database, DatabaseError, SQLQualityEvaluator

        target = self.config.databases[name]
        if target == DEMO_DATABASE:
            from stageagent.cli import demo_database_path

            target = str(demo_database_path())
        try:
            db = Database(target)
            db.ping()
        except DatabaseError as exc:
            raise Problem(503, "Database unavailable", f"database {name!r}: {exc}",
                          field="database", slug="database-unavailable") from None
        runtime = StageAwareRuntime(self.stages, approver=self.approver, tools=self.registry,
                                    evaluators={"sql_quality": SQLQualityEvaluator(db)})
        return StageAwareFacade(runtime, database=db)

    async def runtime(self, database: str) -> StageAwareRuntime:
        return (await self.facade(database)).runtime

    def close(self) -> None:
        for facade in self._facades.values():
            facade.database.close()
        self._facades.clear()

    # --- models ------------------------------------------------------------------------

    def models(self, requested: str | None, stages: list[str]) -> Any:
        """The model choice for a run over `stages`: an id, None, or scripted models."""
        if self.config.script:
            if requested not in (None, SCRIPT_MODEL):
                raise Problem(422, "Invalid request", "model: this server plays scripted "
                              f"models (script = {self.config.script}); omit model or send "
                              f"{SCRIPT_MODEL!r}", field="model", slug="invalid-request")
            return self._scripted(stages)
        model = requested or self.config.default_model
        allowed = self.config.allowed_models
        if model is not None and allowed is not None and model not in allowed:
            raise Problem(422, "Invalid request", f"model: {model!r} is not allowed here "
                          f"(allowed: {', '.join(allowed)})", field="model",
                          slug="invalid-request")
        if model is not None and allowed is None and "@" in model:
            raise Problem(422, "Invalid request", "model: a model id with a custom endpoint "
                          "('@http...') must be listed in the server's allowed_models",
                          field="model", slug="invalid-request")
        return model

    def build_model(self, model_id: str) -> Any:
        """A model client from an id, now: a bad id or a missing key is the request's
        answer (422 / 503), not a run that fails later. The caller closes it."""
        from stageagent.exceptions import MissingAPIKeyError, StageAgentError
        from stageagent.models import infer_model

        try:
            return infer_model(model_id)
        except MissingAPIKeyError as exc:  # the server's set-up, not the client's request
            raise Problem(503, "Model unavailable", str(exc), field="model",
                          slug="model-unavailable") from None
        except StageAgentError as exc:
            raise Problem(422, "Invalid request", f"model: {exc}", field="model",
                          slug="invalid-request") from None

    def _scripted(self, stages: list[str]) -> dict[str, Any]:
        from stageagent.cli import CLIError, load_script

        try:
            scripted = load_script(self.config.script or "")
        except CLIError as exc:
            raise Problem(500, "Server misconfigured", str(exc), slug="server-misconfigured") \
                from None
        missing = [s for s in stages if s not in scripted]
        if missing:
            raise Problem(422, "Invalid request", f"the server's script has no turns for "
                          f"stage(s) {', '.join(missing)}", field="model",
                          slug="invalid-request")
        return scripted


def load_tools(config: ServeConfig) -> list[Any]:
    """The config's `tools` ("module:attribute" each), imported now: errors name the key."""
    from stageagent.exceptions import RegistryError
    from stageagent.registry import import_ref

    from .config import ServeConfigError

    loaded = []
    for index, ref in enumerate(config.tools):
        try:
            loaded.append(import_ref(ref))
        except RegistryError as exc:
            raise ServeConfigError(str(exc), key=f"tools[{index}]") from None
    return loaded


def check_script(config: ServeConfig) -> None:
    """Fail at start-up (not at the first request) on a broken script file."""
    if config.script:
        from stageagent.cli import CLIError, load_script

        from .config import ServeConfigError

        try:
            load_script(config.script)
        except CLIError as exc:
            raise ServeConfigError(str(exc), key="script") from None
