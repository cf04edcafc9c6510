"""The report pipeline as one event stream: sql -> (chart and document in parallel) -> report.

`StageAwareFacade.run(question)` runs the report template plan (`stageagent.plan.templates.
report_plan`) on the plan executor: the chart and document stages both start as soon as the
SQL stage passed, so a report takes the time of its critical path. The stages share ONE
runtime and ONE `state` dict (the SQL executor leaves its `QueryResult` there for the chart
and document tools). The stream is what it always was: `RunStarted`, each stage's events,
then `RunCompleted` or `RunFailed`, `seq` increasing by one. The events of one stage stay
together, stages in pipeline order: while the chart stage streams, the document stage's
events (it runs at the same time) wait in a buffer and follow once the chart is done.

Each stage's typed result feeds the next stage's prompt as template variables (see
`stage_context`). The facade is strict about failure: a stage that stops for any reason
other than `passed` or `completed` - including `max_iterations` with a "nearly good"
answer - ends the run with `RunFailed` naming the stage and the reason; a stage still
running in parallel is cancelled and the later ones never start. A report built on a query
that failed its gate would present unchecked numbers as facts; a caller who wants best
effort can run the stages one by one.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

from . import events as ev
from .events import Emitter
from .exceptions import PlanStateError, StageAgentError
from .models import Model
from .plan.executor import PlanExecutor
from .plan.approval import PlanApprover
from .plan.model import ExecutionPlan, Step
from .plan.run import PlanRun
from .plan.runner import RuntimeStepRunner, StepContext, StepFailure
from .plan.templates import report_plan
from .report import chart_summary, markdown_table
from .report_result import ReportResult
from .runtime import StageAwareRuntime, StageResult, StageRun
from .syncrun import run_sync
from .tracing import traced

if TYPE_CHECKING:
    from stageagent.tools.sql import Database

__all__ = ["ReportResult", "ReportRun", "StageAwareFacade", "chart_summary", "run_report_sync"]

#: rows of the SQL result shown in the chart / document prompts
CHART_PREVIEW_ROWS = 20
DOCUMENT_ROWS = 60

#: a model, a model id, or a mapping stage name -> model / id
ModelChoice = Model | str | Mapping[str, Model | str] | None


class ReportRun:
    """One facade run: iterate it for events; `result` is complete when it ends."""

    def __init__(self, facade: StageAwareFacade, question: str, *, chart: bool,
                 model: ModelChoice, context: dict[str, Any], stream: bool, run_id: str,
                 approve_steps: Sequence[str] = (), approver: PlanApprover | None = None):
        self.facade = facade
        self.question = question
        self.emitter = Emitter(run_id)
        self.result = ReportResult(question=question, run_id=run_id,
                                   dialect=facade.database.dialect)
        self.stage_names = facade.stage_names(chart=chart)
        self.plan = report_plan(question, stages=facade.stage_map(chart=chart), chart=chart,
                                document_sees_chart=facade.document_sees_chart,
                                plan_id=f"report-{run_id}")
        if approve_steps:
            self.plan = with_approvals(self.plan, approve_steps)
        self.result.plan = self.plan
        self._approver = approver
        self._model = model
        self._context = context
        self._stream = stream
        self._runner: _PipelineRunner | None = None
        self._plan_run: PlanRun | None = None
        self._cancelled = False
        self._gen = traced(self._run())  # spans when OpenTelemetry is set up (tracing.py)

    @property
    def run_id(self) -> str:
        return self.emitter.run_id

    @property
    def plan_events(self) -> list[ev.BaseEvent]:
        """The plan executor's own events of this run (plan_*, step_*; stage events nested
        as step_event) - not part of the facade's stream, which stays as it always was."""
        return self._plan_run.events if self._plan_run is not None else []

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ev.BaseEvent:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()

    def cancel(self) -> None:
        """Stop the run: running stages end `cancelled`, then `RunFailed` follows."""
        self._cancelled = True
        if self._runner is not None and self._runner.active:
            self._runner.cancel_stages()
        elif self._plan_run is not None:
            self._plan_run.cancel("the run was cancelled")

    def _repr_html_(self) -> str:  # rich display in Jupyter, also while the run goes on
        from .display import report_run_html
        return report_run_html(self)

    async def approve(self, approval_id: str, reason: str = "") -> None:
        """Let a step that waits for approval run (`approval_requested` names the id)."""
        await self._started_plan().approve(approval_id, "caller", reason)

    async def reject(self, approval_id: str, reason: str = "") -> None:
        """Refuse a step: it never runs and the report fails with `error_type` rejected."""
        await self._started_plan().reject(approval_id, "caller", reason)

    def _started_plan(self) -> PlanRun:
        if self._plan_run is None:
            raise PlanStateError(f"run {self.run_id!r} has not started its plan yet")
        return self._plan_run

    async def collect(self) -> ReportResult:
        async for _ in self:
            pass
        return self.result

    async def display(self) -> ReportResult:
        """Run to the end with a live view in the notebook cell; returns the result."""
        from .display import live
        return await live(self)

    # --- the pipeline ----------------------------------------------------------------

    def _event(self, cls: type[ev.BaseEvent], **fields: Any) -> ev.BaseEvent:
        self.emitter.iteration = 0
        event = self.emitter.make(cls, stage="", **fields)
        self.result.events.append(event)
        return event

    def _stamp(self, event: ev.BaseEvent) -> ev.BaseEvent:
        """A stage event, renumbered into the run's one sequence."""
        self.emitter.seq = seq = self.emitter.seq + 1
        event = event.model_copy(update={"seq": seq})
        self.result.events.append(event)
        return event

    def _fail(self, stage: str, error: str, error_type: str,
              exception: BaseException | None = None) -> ev.BaseEvent:
        r = self.result
        r.ok, r.failed_stage, r.error, r.error_type, r.exception = (
            False, stage, error, error_type, exception)
        return self._event(ev.RunFailed, error=error, error_type=error_type, failed_stage=stage)

    async def _run(self) -> AsyncGenerator[ev.BaseEvent, None]:
        result = self.result
        started = time.monotonic()
        yield self._event(ev.RunStarted, input=self.question, stages=self.stage_names)
        built: dict[str, Model] = {}  # models made from ids here; closed at the end
        try:
            models: dict[str, Model] = {}
            for name in self.stage_names:  # all before the first stage: fail fast and cheap
                try:
                    models[name] = self.facade.resolve_model(name, self._model, built)
                except Exception as exc:  # noqa: BLE001 - missing key, unknown id, SDK import
                    yield self._fail(name, f"{type(exc).__name__}: {exc}",
                                     type(exc).__name__, exc)
                    return
            async for event in self._execute(models):
                yield event
            if self._finish():
                result.duration_s = time.monotonic() - started
                yield self._event(ev.RunCompleted, ok=True, usage=result.usage,
                                  cost_usd=result.cost_usd,
                                  duration_s=round(result.duration_s, 3))
            else:
                yield self._failure()
        finally:
            result.duration_s = time.monotonic() - started
            if self._plan_run is not None and self._plan_run.started:
                await _stop(self._plan_run)
            for model in built.values():
                await model.aclose()

    async def _execute(self, models: dict[str, Model]) -> AsyncIterator[ev.BaseEvent]:
        """Run the plan; yield the stage events, one stage after the other."""
        self._runner = _PipelineRunner(self, models)
        executor = PlanExecutor(self._runner, approver=self._approver)
        self._plan_run = executor.run(self.plan, run_id=self.run_id)
        if self._cancelled:
            self._plan_run.cancel("the run was cancelled")
        order = StageOrder([s.id for s in self.plan.steps if s.kind == "stage"])
        async for event in self._plan_run:
            if isinstance(event, ev.StepEvent):
                released = order.add(event.step_id, event.event)
            elif isinstance(event, (ev.StepCompleted, ev.StepFailed, ev.StepSkipped)) \
                    and not getattr(event, "will_retry", False):
                released = order.end(event.step_id)
            elif isinstance(event, (ev.ApprovalRequested, ev.ApprovalDecided)):
                released = [event]  # at once: someone has to decide while the run waits
            else:
                continue
            for stage_event in released:
                yield self._stamp(stage_event)
        for stage_event in order.rest():
            yield self._stamp(stage_event)

    def _finish(self) -> bool:
        """Take the plan's outcome into the result; True when the report is complete."""
        assert self._plan_run is not None and self._runner is not None
        result = self.result
        outcome = self._plan_run.state
        stage_results = self._runner.stage_results
        for step in self.plan.steps:
            if step.id in stage_results:
                result.stages[step.target] = stage_results[step.id]
        if outcome is not None:
            result.step_statuses = {sid: s.status for sid, s in outcome.steps.items()}
        result.ok = outcome is not None and outcome.status == "completed"
        return result.ok

    def _failure(self) -> ev.BaseEvent:
        """`RunFailed` for the first stage (in pipeline order) that did not complete."""
        assert self._runner is not None
        failures = self._runner.failures
        for step in self.plan.steps:
            if step.id in failures:
                stage, error, error_type, exc = failures[step.id]
                return self._fail(stage, error, error_type, exc)
        state = self._plan_run.state if self._plan_run else None
        for step in self.plan.steps if not self._cancelled else ():
            refused = state.steps.get(step.id) if state is not None else None
            if refused is not None and refused.error_type == "rejected":
                return self._fail(step.target if step.kind == "stage" else step.id,
                                  refused.error or "not approved", "rejected")
        statuses = self.result.step_statuses
        unfinished = [s for s in self.plan.steps if statuses.get(s.id) != "completed"]
        stage = unfinished[0].target if unfinished else self.stage_names[0]
        if self._cancelled:
            return self._fail(stage, "the run was cancelled before the stage started",
                              "cancelled")
        return self._fail(stage, (state.error if state else None) or "the plan did not complete",
                          "plan_failed")


def with_approvals(plan: ExecutionPlan, step_ids: Sequence[str]) -> ExecutionPlan:
    """`plan` with `requires_approval` on the named steps (ValueError naming an unknown one)."""
    unknown = [s for s in step_ids if s not in plan.step_ids]
    if unknown:
        raise ValueError(f"approve_steps: the report plan has no step {unknown[0]!r} "
                         f"(its steps: {', '.join(plan.step_ids)})")
    steps = [s.model_copy(update={"requires_approval": True}) if s.id in step_ids else s
             for s in plan.steps]
    return plan.model_copy(update={"steps": steps})


class StageOrder:
    """Keeps each stage's events together, stages in plan order: events of a stage that
    runs ahead (in parallel) wait until every earlier stage has ended."""

    def __init__(self, steps: list[str]):
        self.steps = steps
        self.position = 0
        self.buffers: dict[str, list[ev.BaseEvent]] = {s: [] for s in steps}
        self.ended: set[str] = set()

    def add(self, step_id: str, event: ev.BaseEvent) -> list[ev.BaseEvent]:
        if self.position < len(self.steps) and self.steps[self.position] == step_id:
            return [event]
        self.buffers.setdefault(step_id, []).append(event)
        return []

    def end(self, step_id: str) -> list[ev.BaseEvent]:
        self.ended.add(step_id)
        released: list[ev.BaseEvent] = []
        while self.position < len(self.steps) and self.steps[self.position] in self.ended:
            self.position += 1
            if self.position < len(self.steps):
                released.extend(self.buffers.pop(self.steps[self.position], []))
        return released

    def rest(self) -> list[ev.BaseEvent]:
        """What is still buffered when the plan ends (stages cut short by a failure)."""
        released: list[ev.BaseEvent] = []
        for step_id in self.steps[self.position:]:
            released.extend(self.buffers.pop(step_id, []))
        return released


async def _stop(plan_run: PlanRun) -> None:
    """Make sure the plan's task is over (the consumer may have stopped reading)."""
    task = plan_run.start()
    if not task.done():
        plan_run.cancel("the consumer stopped reading")
        try:
            await task
        except BaseException:  # noqa: BLE001 - it was being stopped
            pass


class _PipelineRunner(RuntimeStepRunner):
    """Runs the report plan's stages with the facade's models and prompt context, and
    takes each finished stage's typed result into the `ReportResult`."""

    def __init__(self, run: ReportRun, models: dict[str, Model]):
        facade = run.facade
        super().__init__(facade.runtime, model=models, deps=facade.deps, state={},
                         stream=run._stream)
        self.report = run
        self.failures: dict[str, tuple[str, str, str, BaseException | None]] = {}

    def context_for(self, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        facade, run = self.report.facade, self.report
        with_chart = "chart" in step.depends_on
        return facade.stage_context(facade.role_of(step.target), run.result, run._context,
                                    with_chart=with_chart)

    def check(self, step: Step, result: StageResult) -> str | None:
        role = self.report.facade.role_of(step.target)
        return collect_stage(role, result, self.state, self.report.result)

    async def run(self, step: Step, params: dict[str, Any], ctx: StepContext) -> Any:
        try:
            return await super().run(step, params, ctx)
        except StepFailure as exc:
            stage = self.stage_results.get(step.id)
            error_type = stage.reason if stage is not None and not stage.ok else "invalid_result"
            self.failures[step.id] = (step.target, str(exc), error_type,
                                      stage.exception if stage is not None else None)
            raise
        except StageAgentError as exc:  # e.g. a stage naming a tool this runtime lacks
            self.failures[step.id] = (step.target, f"{type(exc).__name__}: {exc}",
                                      type(exc).__name__, exc)
            raise

    async def run_tool(self, step: Step, params: dict[str, Any], ctx: StepContext) -> Any:
        """The `report` step: the parts are there; the Markdown report, as text."""
        from .report import render_markdown

        result = self.report.result
        if result.query_result is None or result.document is None:
            raise StepFailure("the report has no query result or no text")
        return render_markdown(result)


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
    """sql -> (chart and document in parallel) -> report on one runtime, as one async
    stream of typed events.

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
        document_sees_chart: run the document stage after the chart stage, so its prompt
            can mention the chart (default False: both run in parallel from the SQL result;
            see `stageagent.plan.templates`).
    """

    ROLES = ("sql", "chart", "document")

    def __init__(self, runtime: StageAwareRuntime | None = None, *,
                 database: Database | str | os.PathLike[str],
                 model: ModelChoice = None,
                 stages: Sequence[str | None] = ("sql", "chart", "document"),
                 out_dir: str | os.PathLike[str] | None = None,
                 document_sees_chart: bool = False):
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
        self.document_sees_chart = document_sees_chart
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

    def stage_map(self, *, chart: bool = True) -> dict[str, str]:
        """Role (sql, chart, document) -> stage name, for the report plan."""
        return {r: n for r, n in self._names.items() if chart or r != "chart"}

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
                      extra: Mapping[str, Any] | None = None, *,
                      with_chart: bool = True) -> dict[str, Any]:
        """Template variables of a stage: the question and the upstream typed results
        (the chart only `with_chart`: when the document stage waits for it)."""
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
        if role == "document" and with_chart and result.chart_spec is not None:
            context["chart"] = chart_summary(result.chart_spec)
        context.update(extra or {})
        return context

    # --- running --------------------------------------------------------------------------

    def run(self, question: str, *, chart: bool = True,
            model: ModelChoice = None,
            context: Mapping[str, Any] | None = None, stream: bool = False,
            run_id: str | None = None, approve_steps: Sequence[str] = (),
            approver: PlanApprover | None = None) -> ReportRun:
        """Start a run; iterate the returned `ReportRun` for events (`async for`).

        Args:
            question: the business question.
            chart: False skips the chart stage (the document stage then gets no chart).
            model: overrides the facade's model for this run.
            context: extra template variables for every stage's prompt.
            stream: stream model text as `TextDeltaEvent`s.
            run_id: the id stamped on every event (default: a new random id).
            approve_steps: steps of the report plan (sql, chart, document, report) that
                wait for an approval before they run: from `approver`, else from
                `ReportRun.approve` / `reject` (the plan's approval timeout rejects).
            approver: async callback deciding those approvals (see `stageagent.plan`).
        """
        if not isinstance(question, str) or not question.strip():
            raise ValueError("question must be a non-empty string")
        return ReportRun(self, question.strip(), chart=chart and "chart" in self._names,
                         model=model, context=dict(context or {}), stream=stream,
                         run_id=run_id or uuid.uuid4().hex[:16],
                         approve_steps=approve_steps, approver=approver)

    async def report(self, question: str, **kwargs: Any) -> ReportResult:
        """Run to the end and return the `ReportResult` (events are in `result.events`)."""
        return await self.run(question, **kwargs).collect()

    def run_sync(self, question: str, **kwargs: Any) -> ReportResult:
        """`report()` for scripts and notebooks: inside a running loop (Jupyter) it runs on a
        loop of its own in a worker thread (`stageagent.syncrun`); `await` is better there."""
        return run_sync(self.report(question, **kwargs))

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




def run_report_sync(question: str, *, database: Database | str | os.PathLike[str],
                    model: ModelChoice = None, chart: bool = True, **kwargs: Any) -> ReportResult:
    """One report from a script: opens the database, runs the pipeline, closes it."""
    with StageAwareFacade(database=database, model=model) as facade:
        return run_sync(facade.report(question, chart=chart, **kwargs))
