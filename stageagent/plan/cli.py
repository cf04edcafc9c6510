"""`stageagent plan ...`: generate, run, resume and watch plans from the command line.

    stageagent plan "question" [--run]     generate (LLM), validate, show, store as a draft
    stageagent plan run FILE|ID            run a plan from a JSON file or the store
    stageagent plan resume ID [--retry STEP ...]
    stageagent plan status ID [--watch]    status, progress, steps, Mermaid graph

Common options: --store PATH (default: $STAGEAGENT_PLAN_STORE, else plans.sqlite in the
user cache dir), --db URL, --model ID, --script FILE ({"planner": [...], "<stage>": [...]}
scripted turns instead of a model), --yes (approve every approval; without it approvals
are asked on the terminal, and refused when there is none), --json.
Progress goes to stderr; exit codes: 0 completed, 1 failed / partial / cancelled /
rejected, 2 bad usage or set-up, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..events import BaseEvent
from ..exceptions import PlanError, PlanValidationError
from .approval import PlanApprovalRequest
from .catalog import Catalog
from .executor import PlanExecutor
from .mermaid import to_mermaid
from .model import FINAL_PLAN_STATUSES, ExecutionPlan, progress
from .sqlite_store import SQLitePlanStore
from .store import PlanState

STORE_ENV = "STAGEAGENT_PLAN_STORE"
COMMANDS = ("run", "resume", "status")


def add_plan_parser(sub: Any) -> None:
    """Register `plan` on the main parser (`stageagent.cli`)."""
    p = sub.add_parser("plan", help="plan-and-execute: generate, run, resume, status",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("words", nargs=argparse.REMAINDER, metavar="QUESTION | run FILE|ID | "
                   "resume ID | status ID")
    p.set_defaults(handler=plan_command, is_async=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stageagent plan", add_help=False)
    p.add_argument("target", help="the question, or the plan file / id")
    p.add_argument("--store", metavar="PATH", help=f"plan store (default: ${STORE_ENV})")
    p.add_argument("--db", metavar="URL", help="database for the report tools")
    p.add_argument("--model", metavar="ID")
    p.add_argument("--script", metavar="FILE")
    p.add_argument("--yes", action="store_true", help="approve every approval")
    p.add_argument("--json", action="store_true")
    p.add_argument("--run", action="store_true", help="(question) run the plan at once")
    p.add_argument("--retry", nargs="*", default=[], metavar="STEP")
    p.add_argument("--watch", action="store_true", help="(status) follow until it ends")
    p.add_argument("--max-repairs", type=int, default=2)
    return p


async def plan_command(args: argparse.Namespace) -> int:
    from ..cli import CLIError

    words = list(args.words)
    if not words:
        raise CLIError("plan: give a question, or run FILE|ID, resume ID, status ID")
    command = words.pop(0) if words[0] in COMMANDS and len(words) > 1 else "generate"
    try:
        opts = _parser().parse_args(words)
    except SystemExit:
        raise CLIError(f"plan {command}: bad arguments {' '.join(words)!r}") from None
    store = SQLitePlanStore(_store_path(opts.store))
    try:
        if command == "status":
            return await _status(store, opts)
        with _Setup(opts) as setup:
            if command == "generate":
                return await _generate(store, setup, opts)
            return await _execute(store, setup, opts, command)
    except PlanValidationError as exc:
        raise CLIError(str(exc), code=2) from None
    except PlanError as exc:
        raise CLIError(f"plan: {exc}", code=1) from None
    finally:
        await store.close()


def _store_path(option: str | None) -> Path:
    from ..cli import cache_dir

    path = Path(option or os.environ.get(STORE_ENV) or cache_dir() / "plans.sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class _Setup:
    """The runtime, catalog, models and database behind a plan command."""

    def __init__(self, opts: argparse.Namespace):
        from stageagent.tools import TOOLKIT
        from stageagent.tools.deps import ReportDeps
        from stageagent.tools.sql import SQLQualityEvaluator

        from ..cli import MODEL_ENV, load_script, open_database
        from ..registry import tool_registry
        from ..runtime import StageAwareRuntime

        self.db = open_database(opts.db)
        # plans may call the pipeline's tools directly, so the runtime is given them
        self.runtime = StageAwareRuntime(tools=tool_registry().union(TOOLKIT.tools),
                                         evaluators={"sql_quality": SQLQualityEvaluator(self.db)},
                                         deps=ReportDeps(database=self.db))
        self.catalog = Catalog.from_runtime(self.runtime)
        self.scripts = load_script(opts.script) if opts.script else {}
        self.model: Any = self.scripts or opts.model or os.environ.get(MODEL_ENV) or None
        self.yes = opts.yes

    def __enter__(self) -> _Setup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def planner_model(self) -> Any:
        from ..cli import CLIError

        if self.scripts:
            if "planner" not in self.scripts:
                raise CLIError('--script: no "planner" turns to generate the plan with')
            return self.scripts["planner"]
        return self.model or "anthropic:claude-sonnet-4-6"

    def executor(self, store: SQLitePlanStore) -> PlanExecutor:
        from .runner import RuntimeStepRunner

        runner = RuntimeStepRunner(self.runtime, model=self.model, deps=self.runtime.deps)
        return PlanExecutor(runner, store, catalog=self.catalog, approver=self.approve,
                            on_event=_progress)

    async def approve(self, request: PlanApprovalRequest) -> tuple[bool, str]:
        what = f"step {request.step_id!r}" if request.step_id else "the plan"
        if self.yes:
            return True, "--yes"
        if not sys.stdin.isatty():
            return False, "no terminal to ask on; pass --yes to approve"
        answer = await asyncio.to_thread(input, f"approve {what} ({request.summary})? [y/N] ")
        return answer.strip().lower() in ("y", "yes"), "asked on the terminal"


async def _generate(store: SQLitePlanStore, setup: _Setup, opts: argparse.Namespace) -> int:
    from .generator import PlanGenerator

    generator = PlanGenerator(setup.runtime, setup.catalog, model=setup.planner_model(),
                              max_repairs=opts.max_repairs,
                              explore_tools=["schema_discovery"])
    plan = await generator.generate(opts.target, on_event=_progress)
    await setup.executor(store).submit(plan)
    _show(plan, None, opts.json)
    print(f"plan {plan.id} stored in {store.path}; run it with: stageagent plan run {plan.id}",
          file=sys.stderr)
    if not opts.run:
        return 0
    result = await setup.executor(store).resume(plan.id).wait()
    return 0 if result.status == "completed" else 1


async def _execute(store: SQLitePlanStore, setup: _Setup, opts: argparse.Namespace,
                   command: str) -> int:
    from ..cli import CLIError

    executor = setup.executor(store)
    path = Path(opts.target)
    if command == "run" and path.suffix == ".json" or path.is_file():
        try:
            plan = ExecutionPlan.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CLIError(f"plan run: cannot read a plan from {path}: {exc}") from None
        run = executor.run(plan)
    else:
        run = executor.resume(opts.target, retry=opts.retry)
    result = await run.wait()
    state = await executor.state(result.plan_id)
    _show(state.plan, state, opts.json)
    return 0 if result.status == "completed" else 1


async def _status(store: SQLitePlanStore, opts: argparse.Namespace) -> int:
    from .store import load_state

    state = await load_state(store, opts.target)
    shown = 0
    while opts.watch and state.status not in FINAL_PLAN_STATUSES:
        if state.records != shown:
            shown = state.records
            print(_progress_line(state), file=sys.stderr, flush=True)
        await asyncio.sleep(0.5)
        state = await load_state(store, opts.target)
    _show(state.plan, state, opts.json)
    return 0 if state.status == "completed" else 1


def _progress_line(state: PlanState) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in sorted(state.counts().items()))
    return (f"[{time.strftime('%H:%M:%S')}] plan {state.plan.id} {state.status}: "
            f"{progress(state.statuses()):.0%} ({counts or 'no steps'})")


def _show(plan: ExecutionPlan, state: PlanState | None, as_json: bool) -> None:
    statuses = {sid: s.status for sid, s in state.steps.items()} if state else None
    if as_json:
        data: dict[str, Any] = {"plan": plan.model_dump(mode="json")}
        if state is not None:
            data.update(status=state.status, error=state.error,
                        progress=progress(state.statuses()),
                        steps={sid: {"status": s.status, "attempts": s.attempts,
                                     "error": s.error} for sid, s in state.steps.items()})
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    if state is not None:
        print(_progress_line(state) + (f" - {state.error}" if state.error else ""))
    print(f"goal: {plan.goal}")
    for step in plan.steps:
        status = f"[{statuses[step.id]}] " if statuses else ""
        deps = f" <- {', '.join(step.depends_on)}" if step.depends_on else ""
        print(f"  {status}{step.id}: {step.kind} {step.target}{deps}")
        if state is not None and state.steps[step.id].error:
            print(f"      {state.steps[step.id].error}")
    print("\n```mermaid\n" + to_mermaid(plan, statuses) + "\n```")


def _progress(event: BaseEvent) -> None:
    """Live progress on stderr: plan and step transitions (stage events in brief)."""
    from ..report import event_summary

    kind: str = getattr(event, "type", "")
    data = event.model_dump(exclude={"run_id", "ts", "seq", "stage", "iteration", "type"})
    if kind == "step_event":
        inner = getattr(event, "event")
        line = event_summary(inner)
        if line is not None and inner.type != "thought":
            print(f"  {getattr(event, 'step_id')}/{inner.stage}: {line}", file=sys.stderr)
        return
    if kind in ("plan_created", "plan_revised"):
        data.pop("plan", None)
        data.pop("diff", None)
    if kind.startswith(("plan_", "step_", "approval_")):
        detail = " ".join(f"{k}={v}" for k, v in data.items() if v not in (None, "", [], {}))
        print(f"[{time.strftime('%H:%M:%S')}] {kind} {detail}", file=sys.stderr,
              flush=True)


__all__ = ["add_plan_parser", "plan_command"]
