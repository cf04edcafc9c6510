"""The report pipeline as one event stream: SQL -> chart -> document.

`StageAwareFacade.run(question)` runs the three stages on ONE runtime with ONE `Emitter`
(so `seq` increases across stages) and ONE shared `state` dict (the SQL executor leaves its
`QueryResult` there for the chart and document tools), and yields every event:
`RunStarted`, each stage's events, then `RunCompleted` or `RunFailed`.

Each stage's typed result feeds the next stage's prompt as template variables (see
`stage_context`). The facade is strict about failure: a stage that stops for any reason
other than `passed` or `completed` - including `max_iterations` with a "nearly good"
answer - ends the run with `RunFailed` naming the stage and the reason, and the later
stages never start. A report built on a query that failed its gate would present unchecked
numbers as facts; a caller who wants best effort can run the stages one by one.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from . import events as ev
from .events import Emitter
from .exceptions import StageAgentError
from .messages import Usage
from .models import Model
from .runtime import StageAwareRuntime, StageResult, StageRun

if TYPE_CHECKING:
    from stageagent.tools.results import QueryResult
    from stageagent.tools.sql import Database, SQLStageOutput

#: rows of the SQL result shown in the chart / document prompts
CHART_PREVIEW_ROWS = 20
DOCUMENT_ROWS = 60

#: a model, a model id, or a mapping stage name -> model / id
ModelChoice = Model | str | Mapping[str, Model | str] | None


@dataclass
class ReportResult:
    """Everything one facade run produced (also when it failed part-way)."""

    question: str
    run_id: str
    ok: bool = False
    sql_output: SQLStageOutput | None = None
    query_result: QueryResult | None = None
    chart_spec: dict[str, Any] | None = None
    document: str | None = None
    events: list[ev.BaseEvent] = field(default_factory=list)
    stages: dict[str, StageResult] = field(default_factory=dict)
    error: str | None = None
    error_type: str = ""
    failed_stage: str | None = None
    exception: BaseException | None = None
    duration_s: float = 0.0
    dialect: str = ""

    @property
    def sql(self) -> str | None:
        if self.sql_output is not None:
            return self.sql_output.sql
        return self.query_result.sql if self.query_result is not None else None

    @property
    def usage_by_stage(self) -> dict[str, Usage]:
        return {name: r.usage or Usage() for name, r in self.stages.items()}

    @property
    def cost_by_stage(self) -> dict[str, float | None]:
        return {name: r.cost_usd for name, r in self.stages.items()}

    @property
    def usage(self) -> Usage:
        total = Usage()
        for usage in self.usage_by_stage.values():
            total = total + usage
        return total

    @property
    def cost_usd(self) -> float | None:
        """Total cost; None when no stage had a known price."""
        costs = [c for c in self.cost_by_stage.values() if c is not None]
        return sum(costs) if costs else None


class ReportRun:
    """One facade run: iterate it for events; `result` is complete when it ends."""

    def __init__(self, facade: StageAwareFacade, question: str, *, chart: bool,
                 model: ModelChoice, context: dict[str, Any], stream: bool, run_id: str):
        self.facade = facade
        self.question = question
        self.emitter = Emitter(run_id)
        self.result = ReportResult(question=question, run_id=run_id,
                                   dialect=facade.database.dialect)
        self.stage_names = facade.stage_names(chart=chart)
        self._model = model
        self._context = context
        self._stream = stream
        self._current: StageRun | None = None
        self._cancelled = False
        self._gen = self._run()

    @property
    def run_id(self) -> str:
        return self.emitter.run_id

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ev.BaseEvent:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        if self._current is not None:
            await self._current.aclose()
        await self._gen.aclose()

    def cancel(self) -> None:
        """Stop the run: the running stage ends `cancelled`, then `RunFailed` follows."""
        self._cancelled = True
        if self._current is not None:
            self._current.cancel()

    async def collect(self) -> ReportResult:
        async for _ in self:
            pass
        return self.result

    # --- the pipeline ----------------------------------------------------------------

    def _event(self, cls: type[ev.BaseEvent], **fields: Any) -> ev.BaseEvent:
        self.emitter.iteration = 0
        event = self.emitter.make(cls, stage="", **fields)
        self.result.events.append(event)
        return event

    def _fail(self, stage: str, error: str, error_type: str,
              exception: BaseException | None = None) -> ev.BaseEvent:
        r = self.result
        r.ok, r.failed_stage, r.error, r.error_type, r.exception = (
            False, stage, error, error_type, exception)
        return self._event(ev.RunFailed, error=error, error_type=error_type, failed_stage=stage)

    async def _run(self) -> AsyncGenerator[ev.BaseEvent, None]:
        facade, result = self.facade, self.result
        state: dict[str, Any] = {}  # ToolContext.state shared by the stages of this run
        started = time.monotonic()
        yield self._event(ev.RunStarted, input=self.question, stages=self.stage_names)
        built: dict[str, Model] = {}  # models made from ids here; closed at the end
        try:
            models: dict[str, Model] = {}
            for name in self.stage_names:  # all before the first stage: fail fast and cheap
                try:
                    models[name] = facade.resolve_model(name, self._model, built)
                except Exception as exc:  # noqa: BLE001 - missing key, unknown id, SDK import
                    yield self._fail(name, f"{type(exc).__name__}: {exc}",
                                     type(exc).__name__, exc)
                    return
            for name in self.stage_names:
                if self._cancelled:
                    yield self._fail(name, "the run was cancelled before the stage started",
                                     "cancelled")
                    return
                role = facade.role_of(name)
                try:
                    run = facade.runtime.run_stage(
                        name, self.question, context=facade.stage_context(role, result,
                                                                           self._context),
                        model=models[name], deps=facade.deps, state=state,
                        stream=self._stream, emitter=self.emitter)
                except StageAgentError as exc:  # e.g. a stage naming a tool this runtime lacks
                    yield self._fail(name, f"{type(exc).__name__}: {exc}",
                                     type(exc).__name__, exc)
                    return
                self._current = run
                async for event in run:
                    result.events.append(event)
                    yield event
                self._current = None
                stage_result = run.result
                assert stage_result is not None
                result.stages[name] = stage_result
                problem = collect_stage(role, stage_result, state, result)
                if problem is not None:
                    error_type = stage_result.reason if not stage_result.ok else "invalid_result"
                    yield self._fail(name, problem, error_type, stage_result.exception)
                    return
            result.ok = True
            result.duration_s = time.monotonic() - started
            yield self._event(ev.RunCompleted, ok=True, usage=result.usage,
                              cost_usd=result.cost_usd, duration_s=round(result.duration_s, 3))
        finally:
            result.duration_s = time.monotonic() - started
            for model in built.values():
                await model.aclose()


def collect_stage(role: str, stage: StageResult, state: dict[str, Any],
                  report: ReportResult) -> str | None:
    """Take a finished stage's result into `report`; return why the run must stop, if so."""
    from stageagent.tools.results import STATE_CHART_SPEC, STATE_SQL_RESULT, QueryResult

    if not stage.ok:
        return stage_failure(stage)
    if role == "sql":
        query = state.get(STATE_SQL_RESULT)
        if not isinstance(query, QueryResult):
            return f"stage {stage.stage!r} ended without an executed query (no sql_executor result)"
        report.query_result = query
        report.sql_output = stage.output
        if stage.output is None:
            return f"stage {stage.stage!r} produced no structured output (SQLStageOutput)"
    elif role == "chart":
        spec = state.get(STATE_CHART_SPEC)
        if not isinstance(spec, dict):
            return f"stage {stage.stage!r} ended without a chart (chart_generator stored none)"
        report.chart_spec = spec
    elif role == "document":
        if not stage.text.strip():
            return f"stage {stage.stage!r} ended without a text"
        report.document = stage.text.strip()
    return None


def stage_failure(stage: StageResult) -> str:
    """A one-paragraph reason a stage did not pass, for `RunFailed.error`."""
    parts = [f"stage {stage.stage!r} stopped: {stage.reason}"]
    if stage.score is not None:
        parts.append(f"last quality score {stage.score:.2f}")
    if stage.iterations:
        parts.append(f"after {stage.iterations} iteration(s)")
    message = ", ".join(parts)
    if stage.error:
        message += f" - {stage.error}"
    if stage.critiques:
        message += " - critiques: " + "; ".join(stage.critiques[:5])
    return message


class StageAwareFacade:
    """SQL -> chart -> document on one runtime, as one async stream of typed events.

    Args:
        runtime: the runtime to run stages on (default: a new one with the bundled stages,
            whose `sql_quality` evaluator also validates SQL against `database`).
        database: a `Database`, or a SQLAlchemy URL / SQLite path to open one (the facade
            then owns it: `close()` or `async with`).
        model: a model or model id for every stage, or a mapping stage name -> model;
            None uses the runtime's model, else each stage file's `[model] id`.
        stages: the names of the SQL, chart and document stages, in this order (use a
            variant such as `"sql_strict"` to compare prompts; the chart may be None).
        out_dir: passed to tools as `ReportDeps.out_dir`.
    """

    ROLES = ("sql", "chart", "document")

    def __init__(self, runtime: StageAwareRuntime | None = None, *,
                 database: Database | str | os.PathLike[str],
                 model: ModelChoice = None,
                 stages: Sequence[str | None] = ("sql", "chart", "document"),
                 out_dir: str | os.PathLike[str] | None = None):
        from pathlib import Path

        from stageagent.tools.deps import ReportDeps
        from stageagent.tools.sql import Database, SQLQualityEvaluator

        if isinstance(stages, str) or len(stages) != 3:
            raise ValueError("stages must name the (sql, chart, document) stages, in this "
                             f"order, e.g. ('sql', 'chart', 'document'); got {stages!r}")
        if stages[0] is None or stages[2] is None:
            raise ValueError("the SQL and document stages are required; only the chart "
                             "stage may be None")
        self._owns_database = not isinstance(database, Database)
        self.database = database if isinstance(database, Database) else Database(database)
        if runtime is None:
            runtime = StageAwareRuntime(
                evaluators={"sql_quality": SQLQualityEvaluator(self.database)})
        self.runtime = runtime
        self.model = model
        self._roles = {name: role for role, name in zip(self.ROLES, stages) if name is not None}
        self._names = {role: name for name, role in self._roles.items()}
        for name in self._roles:
            runtime.stages.get(name)  # UnknownStageError now, not mid-run
        self.deps = ReportDeps(database=self.database,
                               out_dir=Path(out_dir) if out_dir is not None else None)

    # --- configuration ------------------------------------------------------------------

    def stage_names(self, *, chart: bool = True) -> list[str]:
        return [self._names[r] for r in self.ROLES
                if r in self._names and (chart or r != "chart")]

    def role_of(self, stage: str) -> str:
        return self._roles[stage]

    def resolve_model(self, stage: str, model: ModelChoice = None,
                      cache: dict[str, Model] | None = None) -> Model:
        """The model a stage runs with: `model` (this run), else the facade's model, else
        the runtime's, else the stage file's `[model] id`. Raises now on a missing API key.

        Models built from ids go into `cache` (one client per id, shared by the stages;
        the caller closes them).
        """
        from .models import infer_model

        chosen = self.model if model is None else model
        spec = chosen.get(stage) if isinstance(chosen, Mapping) else chosen
        spec = spec or self.runtime.model or self.runtime.stages.get(stage).model.id
        if isinstance(spec, Model):
            return spec
        cache = {} if cache is None else cache
        if spec not in cache:
            cache[spec] = infer_model(spec)
        return cache[spec]

    def stage_context(self, role: str, result: ReportResult,
                      extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Template variables of a stage: the question and the upstream typed results."""
        from .report import markdown_table

        db = self.database
        context: dict[str, Any] = {"question": result.question, "dialect": db.dialect,
                                   "row_limit": db.row_limit}
        query, output = result.query_result, result.sql_output
        if role != "sql" and query is not None:
            context.update(
                sql=output.sql if output is not None else query.sql,
                sql_output=output, sql_notes=output.notes if output is not None else "",
                columns=[{"name": c.name, "kind": c.kind} for c in query.columns],
                row_count=query.row_count, truncated=query.truncated,
                data_table=markdown_table(query, CHART_PREVIEW_ROWS if role == "chart"
                                          else DOCUMENT_ROWS))
        if role == "document" and result.chart_spec is not None:
            context["chart"] = chart_summary(result.chart_spec)
        context.update(extra or {})
        return context

    # --- running --------------------------------------------------------------------------

    def run(self, question: str, *, chart: bool = True,
            model: ModelChoice = None,
            context: Mapping[str, Any] | None = None, stream: bool = False,
            run_id: str | None = None) -> ReportRun:
        """Start a run; iterate the returned `ReportRun` for events (`async for`).

        Args:
            question: the business question.
            chart: False skips the chart stage (the document stage then gets no chart).
            model: overrides the facade's model for this run.
            context: extra template variables for every stage's prompt.
            stream: stream model text as `TextDeltaEvent`s.
            run_id: the id stamped on every event (default: a new random id).
        """
        if not isinstance(question, str) or not question.strip():
            raise ValueError("question must be a non-empty string")
        return ReportRun(self, question.strip(), chart=chart and "chart" in self._names,
                         model=model, context=dict(context or {}), stream=stream,
                         run_id=run_id or uuid.uuid4().hex[:16])

    async def report(self, question: str, **kwargs: Any) -> ReportResult:
        """Run to the end and return the `ReportResult` (events are in `result.events`)."""
        return await self.run(question, **kwargs).collect()

    def run_sync(self, question: str, **kwargs: Any) -> ReportResult:
        """`report()` for scripts: runs its own event loop. Inside a running loop (Jupyter,
        an async app) use `await facade.report(...)` instead."""
        ensure_no_running_loop("StageAwareFacade.run_sync()", "await facade.report(...)")
        return asyncio.run(self.report(question, **kwargs))

    def close(self) -> None:
        if self._owns_database:
            self.database.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chart_summary(spec: dict[str, Any]) -> dict[str, Any]:
    """Title, mark and encoded fields of a Vega-Lite spec, for the document prompt."""
    mark = spec.get("mark")
    mark = mark.get("type") if isinstance(mark, dict) else mark
    title = spec.get("title")
    title = title.get("text") if isinstance(title, dict) else title
    fields = [d["field"] for d in (spec.get("encoding") or {}).values()
              if isinstance(d, dict) and isinstance(d.get("field"), str)]
    return {"title": title or "", "mark": mark or "", "fields": list(dict.fromkeys(fields))}


def ensure_no_running_loop(what: str, instead: str) -> None:
    """Raise a clear RuntimeError when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"{what} cannot run inside a running event loop (Jupyter, an async "
                       f"app); use `{instead}` instead")


def run_report_sync(question: str, *, database: Database | str | os.PathLike[str],
                    model: ModelChoice = None, chart: bool = True, **kwargs: Any) -> ReportResult:
    """One report from a script: opens the database, runs the pipeline, closes it."""
    ensure_no_running_loop("run_report_sync()", "await StageAwareFacade(...).report(...)")
    with StageAwareFacade(database=database, model=model) as facade:
        return asyncio.run(facade.report(question, chart=chart, **kwargs))
