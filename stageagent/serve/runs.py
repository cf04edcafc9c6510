"""The run manager: starts runs as tasks, logs their events, keeps the slot count.

Every run is one asyncio task that iterates a `ReportRun` (facade) or a `StageRun`
(runtime). Its events go to the `EventWriter` (`writer.py`), which stores them before
they reach the run's in-memory `EventLog`.

A run that cannot finish - the server shuts down, or the run crashed - still gets a last
event: `run_failed` with `error_type` "interrupted" (or the exception's type), so every
stream ends with a terminal event.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any


from stageagent import events as ev
from stageagent.exceptions import MissingAPIKeyError, StageAgentError
from stageagent.log import get_logger

from .approvals import ApprovalBroker, ApprovalDecidedError, PendingApproval, UnknownApprovalError
from .artifacts import report_artifacts, report_summary, stage_summary
from .config import ServeConfig
from .eventlog import Entry, EventLog
from .problems import Problem
from .plans import PlanSource, checked_plan, plan_status, plan_summary
from .schemas import PlanRunRequest, ReportRequest, StageRunRequest
from .store import RunRecord, RunStore
from .workspace import Workspace
from .writer import EventWriter, StoreThreads

log = get_logger().bind(component="stageagent.serve")  # silent unless serve enables it

INTERRUPTED = "the server stopped while the run was in flight"
#: what a run's target is, by kind, in `GET /v1/runs/{id}`
TARGET_KEYS = {"report": "database", "stage": "stage", "plan": "plan_id"}


def terminal_event(run_id: str, seq: int, error: str, error_type: str) -> Entry:
    event = ev.RunFailed(run_id=run_id, seq=seq, ts=time.time(), error=error,
                         error_type=error_type)
    return Entry(seq, event.type, event.model_dump_json())


@dataclass
class LiveRun:
    record: RunRecord
    log: EventLog
    source: Any = None            # the ReportRun / StageRun being iterated
    task: asyncio.Task[None] | None = None
    cancel_requested: bool = False
    waiting: bool = False
    last_seq: int = 0
    models: list[Any] = field(default_factory=list)  # model clients this run closes


class RunManager:
    """Runs of one server: start, watch, cancel, approve, and serve them after restarts."""

    def __init__(self, config: ServeConfig, store: RunStore, workspace: Workspace,
                 broker: ApprovalBroker):
        self.config = config
        self.store = store
        self.workspace = workspace
        self.broker = broker
        self._live: dict[str, LiveRun] = {}
        self.writer = EventWriter(store, self._publish)
        self.io = StoreThreads(store)  # reads; writes go through the writer's thread
        # vl-convert holds the GIL while it renders the chart: in a thread it would stall
        # the event loop (and every stream) for the length of a render
        self._render: ProcessPoolExecutor | None = None
        if config.render_workers:
            import multiprocessing

            self._render = ProcessPoolExecutor(max_workers=config.render_workers,
                                               mp_context=multiprocessing.get_context("spawn"))

    # --- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Close runs an earlier process left in flight, then accept new ones."""
        ids = await self.writer.write(self.store.interrupt_in_flight)
        for run_id in ids:
            seq = await self.io.call(self.store.last_seq, run_id) + 1
            entry = terminal_event(run_id, seq, INTERRUPTED, "interrupted")
            await self.writer.write(self.store.append_events,
                                    [(run_id, entry.seq, entry.type, entry.data)])
        if ids:
            log.warning("{} run(s) were in flight when the server stopped: {}", len(ids),
                        ", ".join(ids))
        self.writer.start()

    async def stop(self) -> None:
        """Interrupt every live run (each gets its terminal event), then drain the writer."""
        tasks = [live.task for live in self._live.values() if live.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.writer.stop()
        self.io.close()
        if self._render is not None:
            self._render.shutdown(wait=True, cancel_futures=True)

    # --- starting --------------------------------------------------------------------

    def _reserve(self) -> None:
        if len(self._live) >= self.config.max_concurrent_runs:
            raise Problem(429, "Too many runs", f"this server runs at most "
                          f"{self.config.max_concurrent_runs} run(s) at once; retry later",
                          slug="too-many-runs",
                          headers={"Retry-After": str(self.config.retry_after_s)})

    async def start_report(self, request: ReportRequest) -> RunRecord:
        self._reserve()
        if len(request.question) > self.config.max_question_chars:
            raise Problem(422, "Invalid request", f"question: longer than "
                          f"{self.config.max_question_chars} characters", field="question",
                          slug="invalid-request")
        if not request.options.chart and "chart" in request.options.approve_steps:
            index = request.options.approve_steps.index("chart")
            raise Problem(422, "Invalid request", "options.approve_steps: no chart step in a "
                          "report without a chart", field=f"options.approve_steps[{index}]",
                          slug="invalid-request")
        database = self.workspace.database_name(request.database)
        facade = await self.workspace.facade(database)
        stages = facade.stage_names(chart=request.options.chart)
        models = self.workspace.models(request.model, stages)
        self._reserve()  # opening the database awaited: check the slot again
        owned = [self.workspace.build_model(models)] if isinstance(models, str) else []
        record = self._record("report", database, request.model_dump(mode="json"))
        source = facade.run(request.question, chart=request.options.chart,
                            model=owned[0] if owned else models, context=request.context,
                            stream=request.options.stream, run_id=record.id,
                            approve_steps=request.options.approve_steps,
                            approver=self.broker.plan_approver(record.id))
        return await self._launch(record, source, self._finish_report, owned)

    async def start_stage(self, name: str, request: StageRunRequest) -> RunRecord:
        self._reserve()
        self.workspace.check_stage(name)
        database = self.workspace.database_name(request.database)
        runtime = await self.workspace.runtime(database)
        facade = await self.workspace.facade(database)
        model = self.workspace.models(request.model, [name])
        self._reserve()
        if isinstance(model, dict):
            model, owned = model[name], []
        else:
            owned = [self.workspace.build_model(model)] if isinstance(model, str) else []
            model = owned[0] if owned else model
        body = request.model_dump(mode="json")
        record = self._record("stage", name, {**body, "database": database})
        try:
            source = runtime.run_stage(name, request.input, context=request.context,
                                       history=request.history, model=model,
                                       deps=facade.deps, stream=request.options.stream,
                                       run_id=record.id)
        except StageAgentError as exc:  # e.g. the stage file's own model: no key, bad id
            for built in owned:
                await built.aclose()
            if isinstance(exc, MissingAPIKeyError):
                raise Problem(503, "Model unavailable", str(exc), field="model",
                              slug="model-unavailable") from None
            raise Problem(422, "Invalid request", f"model: {type(exc).__name__}: {exc}",
                          field="model", slug="invalid-request") from None
        return await self._launch(record, source, self._finish_stage, owned)

    async def start_plan(self, request: PlanRunRequest) -> RunRecord:
        from stageagent.plan.catalog import Catalog

        self._reserve()
        database = self.workspace.database_name(request.database)
        facade = await self.workspace.facade(database)
        plan = checked_plan(request.plan, Catalog.from_runtime(facade.runtime))
        stages = sorted({s.target for s in plan.steps if s.kind == "stage"})
        models = self.workspace.models(request.model, stages)
        self._reserve()
        owned = [self.workspace.build_model(models)] if isinstance(models, str) else []
        record = self._record("plan", plan.id, {**request.model_dump(mode="json"),
                                                "database": database})
        source = PlanSource(facade.runtime, plan, run_id=record.id,
                            model=owned[0] if owned else models, deps=facade.deps,
                            stream=request.options.stream,
                            approver=self.broker.plan_approver(record.id),
                            deliver=partial(self._deliver, record.id))
        return await self._launch(record, source, self._finish_plan, owned)

    def _record(self, kind: str, target: str, request: dict[str, Any]) -> RunRecord:
        now = time.time()
        return RunRecord(id=uuid.uuid4().hex[:16], kind=kind, target=target, status="running",
                         created_at=now, updated_at=now, request=request,
                         instance=self.config.instance)

    async def _launch(self, record: RunRecord, source: Any,
                      finish: Callable[[LiveRun, Any], Any],
                      owned: list[Any] | None = None) -> RunRecord:
        live = LiveRun(record=record, log=EventLog(), source=source, models=owned or [])
        self._live[record.id] = live  # the slot is taken before the first await
        try:
            await self.writer.write(self.store.create_run, record)
        except BaseException:
            del self._live[record.id]
            await self._close_models(live)
            raise
        live.task = asyncio.create_task(self._drive(live, finish), name=f"run-{record.id}")
        return record

    # --- running ---------------------------------------------------------------------

    async def _drive(self, live: LiveRun, finish: Callable[[LiveRun, Any], Any]) -> None:
        run_id = live.record.id
        status, result, error = "failed", None, None
        try:
            async for event in live.source:
                self._deliver(run_id, event)
                await asyncio.sleep(0)  # let the writer and the streams have a turn
            status, result, error = await finish(live, live.source.result)
        except asyncio.CancelledError:  # the server is shutting down
            status, error = "interrupted", INTERRUPTED
            self.writer.put(run_id, terminal_event(run_id, live.last_seq + 1, error,
                                                   "interrupted"))
        except Exception as exc:  # noqa: BLE001 - a crash must still end the run visibly
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            log.exception("run {} crashed", run_id)
            self.writer.put(run_id, terminal_event(run_id, live.last_seq + 1, error,
                                                   type(exc).__name__))
        finally:
            await self._close(live, status, result, error)

    async def _close(self, live: LiveRun, status: str, result: dict[str, Any] | None,
                     error: str | None) -> None:
        run_id = live.record.id
        await self.writer.flush()
        try:
            await self.writer.write(self.store.finish_run, run_id, status, result, error)
        except Exception as exc:  # noqa: BLE001
            log.error("cannot record the end of run {}: {}", run_id, exc)
        live.record.status, live.record.result, live.record.error = status, result, error
        live.log.close()
        self._live.pop(run_id, None)
        self.broker.forget(run_id)
        await self._close_models(live)

    async def _close_models(self, live: LiveRun) -> None:
        for model in live.models:
            try:
                await model.aclose()
            except Exception as exc:  # noqa: BLE001 - closing must not mask the outcome
                log.warning("cannot close model {}: {}", model, exc)

    def _status(self, live: LiveRun, ok: bool) -> str:
        if ok:
            return "completed"
        return "cancelled" if live.cancel_requested else "failed"

    async def _finish_report(self, live: LiveRun, result: Any) -> tuple[str, Any, Any]:
        summary = report_summary(result)
        try:
            files = await self._artifacts(result)
            await self.writer.write(self.store.put_artifacts, live.record.id, files)
        except Exception as exc:  # noqa: BLE001 - the run's outcome stands without files
            log.error("cannot store the artifacts of run {}: {}", live.record.id, exc)
            summary["artifacts_error"] = f"{type(exc).__name__}: {exc}"
        return self._status(live, result.ok), summary, result.error

    async def _artifacts(self, result: Any) -> list[tuple[str, str, bytes]]:
        if self._render is None:
            return await asyncio.to_thread(report_artifacts, result)
        portable = replace(result, exception=None)  # exceptions may not pickle
        return await asyncio.get_running_loop().run_in_executor(self._render, report_artifacts,
                                                                portable)

    async def _finish_plan(self, live: LiveRun, result: Any) -> tuple[str, Any, Any]:
        return plan_status(result, live.cancel_requested), plan_summary(result), result.error

    async def _finish_stage(self, live: LiveRun, result: Any) -> tuple[str, Any, Any]:
        return self._status(live, result.ok), stage_summary(result), result.error

    def _deliver(self, run_id: str, event: Any) -> None:
        """One event of a run, in seq order, to the store and then the run's streams."""
        live = self._live.get(run_id)
        if live is not None:
            live.last_seq = event.seq
            self.writer.put(run_id, Entry(event.seq, event.type, event.model_dump_json()))

    def on_approval_asked(self, pending: PendingApproval) -> None:
        """A tool waits for approval: say so in the run's stream. (A plan step's request
        is announced by the plan itself, under the same approval id.)"""
        live = self._live.get(pending.run_id)
        if pending.kind != "tool" or live is None:
            return
        subject = pending.subject
        event = live.source.emitter.make(
            ev.ApprovalRequested, stage=subject["stage"], plan_id="", approval_id=pending.id,
            summary=f"{subject['tool']} {json.dumps(subject['arguments'], ensure_ascii=False)}",
            timeout_s=self.broker.timeout_s)
        self._deliver(pending.run_id, event)

    def on_approval_decided(self, pending: PendingApproval, approved: bool, reason: str) -> None:
        live = self._live.get(pending.run_id)
        if pending.kind != "tool" or live is None:
            return
        event = live.source.emitter.make(
            ev.ApprovalDecided, stage=pending.subject["stage"], plan_id="",
            approval_id=pending.id, approved=approved, by="http", reason=reason)
        self._deliver(pending.run_id, event)

    def _publish(self, run_id: str, entry: Entry) -> None:
        live = self._live.get(run_id)
        if live is not None:
            live.log.append(entry.seq, entry.type, entry.data)

    def on_approval_change(self, run_id: str, waiting: bool) -> None:
        live = self._live.get(run_id)
        if live is not None:
            live.waiting = waiting
            live.record.status = "waiting_approval" if waiting else "running"

    # --- reading ---------------------------------------------------------------------

    @property
    def active(self) -> int:
        return len(self._live)

    async def record(self, run_id: str) -> RunRecord:
        live = self._live.get(run_id)
        if live is not None:
            return live.record
        record = await self.io.call(self.store.get_run, run_id)
        if record is None:
            raise Problem(404, "Unknown run", f"no run with id {run_id!r}", field="id",
                          slug="unknown-run")
        return record

    async def view(self, run_id: str) -> dict[str, Any]:
        """The run as `GET /v1/runs/{id}` shows it."""
        record = await self.record(run_id)
        live = self._live.get(run_id)
        names = [] if live is not None else await self.io.call(
            self.store.artifact_names, run_id)
        return {"id": record.id, "kind": record.kind,
                TARGET_KEYS.get(record.kind, "stage"): record.target,
                "status": record.status, "created_at": record.created_at,
                "updated_at": record.updated_at, "request": record.request,
                "result": record.result, "error": record.error,
                "last_seq": live.log.last_seq if live is not None else None,
                "pending_approvals": self.broker.pending(run_id),
                "artifacts": names,
                "links": {"events": f"/v1/runs/{run_id}/events",
                          **{n: f"/v1/runs/{run_id}/artifacts/{n}" for n in names}}}

    async def list(self, limit: int) -> list[dict[str, Any]]:
        records = await self.io.call(self.store.list_runs, limit)
        out = []
        for r in records:
            live = self._live.get(r.id)
            status = live.record.status if live is not None else r.status
            question = (r.request.get("question") or r.request.get("input")
                        or (r.request.get("plan") or {}).get("goal") or r.target or "")
            out.append({"id": r.id, "kind": r.kind, "target": r.target, "status": status,
                        "created_at": r.created_at, "title": question[:200]})
        return out

    async def event_log(self, run_id: str) -> EventLog:
        """The live log of a running run, or a closed one read from the store."""
        live = self._live.get(run_id)
        if live is not None:
            return live.log
        await self.record(run_id)  # 404 for an unknown run
        rows = await self.io.call(self.store.load_events, run_id)
        live = self._live.get(run_id)  # it may have finished while we read
        if live is not None:
            return live.log
        return EventLog([Entry(seq, "", data) for seq, data in rows], closed=True)

    async def artifact(self, run_id: str, name: str) -> tuple[str, bytes]:
        await self.record(run_id)
        found = await self.io.call(self.store.get_artifact, run_id, name)
        if found is None:
            raise Problem(404, "Unknown artifact", f"run {run_id!r} has no artifact {name!r}",
                          field="name", slug="unknown-artifact")
        return found

    # --- acting ----------------------------------------------------------------------

    async def cancel(self, run_id: str) -> dict[str, Any]:
        live = self._live.get(run_id)
        if live is None:
            record = await self.record(run_id)
            raise Problem(409, "Run not running", f"run {run_id!r} has already ended "
                          f"({record.status})", slug="run-not-running")
        live.cancel_requested = True
        live.source.cancel()
        self.broker.close(run_id)  # a run waiting for an approval stops waiting
        return {"id": run_id, "cancel_requested": True}

    async def decide(self, run_id: str, approval_id: str, approved: bool, reason: str) -> None:
        record = await self.record(run_id)
        if run_id not in self._live:
            raise Problem(409, "Run not running", f"run {run_id!r} has already ended "
                          f"({record.status}): nothing waits for approval {approval_id!r}",
                          field="id", slug="run-not-running")
        try:
            self.broker.decide(run_id, approval_id, approved, reason)
        except ApprovalDecidedError as exc:
            verdict = "approved" if exc.approved else "rejected"
            raise Problem(409, "Approval already decided", f"approval {approval_id!r} was "
                          f"already decided: {verdict} ({exc.reason})", field="approval_id",
                          slug="approval-decided") from None
        except UnknownApprovalError:
            raise Problem(404, "Unknown approval", f"run {run_id!r} has no pending approval "
                          f"{approval_id!r}", field="approval_id",
                          slug="unknown-approval") from None
