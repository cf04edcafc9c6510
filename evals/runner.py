"""The eval runner: cases concurrently (bounded), repeats, retries, timeouts, cassettes.

`Evaluation(dataset, model=..., stage=...)` runs every case (each `repeat` times) at its
stage - in isolation, with the stage's inputs taken from the case - or end to end
(`stage="report"`), scores it with the dataset's evaluators, and fills `report` as cases
finish, so a run that is interrupted keeps what it has (`report.partial`).

Models per case: `replay=DIR` serves `DIR/<case>.jsonl` (offline, a request that was not
recorded fails the case with a diff); otherwise the live model, behind the response cache
(`cache=DIR`) and, with `record=DIR`, a `RecordingModel` writing that case's cassette.
A case whose run ends in a retryable provider error (rate limit, overload, 5xx after the
adapter's own retries) is retried with backoff; a case that exceeds `case_timeout` fails
with that reason and the run goes on; a case whose gold SQL does not run is `broken` and
its model is never called. `workers=N` shares the cases among N forked processes (the
evaluators and the pipeline's SQL tools are CPU-bound; one event loop uses one core).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stageagent.exceptions import ModelError
from stageagent.models import Model, infer_model

from .cache import CachedModel
from .dataset import Case, Dataset
from .errors import BrokenCaseError, DatasetError
from .evaluator import EvaluationResult, EvaluatorContext
from .outcome import CaseOutput
from .progress import Progress
from .registry import evaluators_for
from .report import CaseResult, EvalReport, Status
from .resources import Resources
from .tasks import CaseRunner

ModelFactory = Callable[[], Model]


@dataclass
class RetryConfig:
    """Whole-case retries on retryable provider errors: exponential backoff."""

    attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2 ** attempt)


def cassette_name(case: Case, repeat: int, repeats: int) -> str:
    safe = re.sub(r"[^\w.-]+", "_", case.name)[:120]
    return f"{safe}.jsonl" if repeats == 1 else f"{safe}.r{repeat}.jsonl"


class Evaluation:
    """One eval run over a dataset; `await run()` returns the `EvalReport`."""

    def __init__(self, dataset: Dataset, *, model: Model | str | None = None,
                 stage: str | None = None, repeat: int = 1, concurrency: int = 8,
                 case_timeout: float | None = None, retry: RetryConfig | None = None,
                 record: str | Path | None = None, replay: str | Path | None = None,
                 cache: str | Path | None = None, progress: bool | None = False,
                 resources: Resources | None = None, stage_names: dict[str, str] | None = None,
                 judge_models: dict[str, Model] | None = None, name: str | None = None,
                 workers: int = 1):
        if repeat < 1 or concurrency < 1:
            raise ValueError("repeat and concurrency must be at least 1")
        if record and replay:
            raise ValueError("record and replay exclude each other")
        if model is None and replay is None:
            raise ValueError("a model (or a replay directory) is needed")
        if replay is not None and not Path(replay).is_dir():
            raise ValueError(f"replay directory {str(replay)!r} does not exist")
        self.dataset, self.stage, self.repeat = dataset, stage, repeat
        self.concurrency, self.case_timeout = concurrency, case_timeout
        self.workers = max(1, int(workers))
        self.retry = retry or RetryConfig()
        self.record = Path(record) if record else None
        self.replay = Path(replay) if replay else None
        self.cache = Path(cache) if cache else None
        self._model_spec = model
        self._model: Model | None = None
        self._owns_model = isinstance(model, str)
        base = Path(dataset.source).parent if dataset.source else None
        self.resources = resources or Resources(base_dir=base)
        self.resources.judge_model = self.judge_model  # type: ignore[method-assign]
        self._judges: dict[str, Model] = dict(judge_models or {})
        self._judge_tapes: set[str] = set()
        self.runner = CaseRunner(self.resources, stage_names=stage_names)
        self.show_progress = progress
        model_name = model if isinstance(model, str) else getattr(model, "name", "")
        self.report = EvalReport(
            name=name or dataset.name, dataset=dataset.source or dataset.name,
            model=str(model_name or f"replay:{self.replay}"), stage=stage or "",
            planned=len(dataset.cases) * repeat,
            settings={"repeat": repeat, "concurrency": concurrency, "workers": self.workers,
                      "case_timeout": case_timeout, "replay": str(self.replay or ""),
                      "record": str(self.record or "")})
        self._check_inputs()

    def _check_inputs(self) -> None:
        """Every case has what its stage needs - before anything is paid for."""
        for case in self.dataset.cases:
            stage = self.stage_of(case)
            context = case.inputs.context
            if stage in ("chart", "document") and context.result is None and not context.sql:
                raise DatasetError(f"the {stage} stage needs a result set to start from",
                                   path=self.dataset.source, case=case.name,
                                   key="inputs.context.result")
            evaluators_for(stage, self.dataset.evaluators, case.evaluators)

    def stage_of(self, case: Case) -> str:
        return self.stage or case.metadata.stage

    # --- models --------------------------------------------------------------------
    def base_model(self) -> Model:
        if self._model is None:
            assert self._model_spec is not None
            self._model = infer_model(self._model_spec)
        return self._model

    def model_for(self, case: Case, repeat: int) -> Model:
        from stageagent.models import RecordingModel, ReplayModel

        name = cassette_name(case, repeat, self.repeat)
        if self.replay is not None:
            path = self.replay / name
            if not path.exists():
                raise BrokenCaseError(f"no cassette {str(path)!r} to replay (was the case "
                                      "recorded?)")
            return ReplayModel(path)
        model: Model = self.base_model()
        if self.cache is not None:
            model = CachedModel(model, self.cache, salt=f"repeat{repeat}")
        if self.record is not None:
            model = RecordingModel(model, self.record / name)
        return model

    def judge_model(self, spec: str | None, ctx: EvaluatorContext | None = None) -> Model:
        """The judge's model for a case, behind the same replay / cache / record wrappers
        as the case's own model (cassettes under `<dir>/judge/`): a replayed eval scores
        the judge's recorded verdicts offline."""
        from stageagent.models import RecordingModel, ReplayModel

        name = cassette_name(ctx.case, ctx.attributes.get("repeat", 1), self.repeat) \
            if ctx is not None else "judge.jsonl"
        if self.replay is not None:
            return ReplayModel(self.replay / "judge" / name)
        key = spec or ""
        if key not in self._judges:
            self._judges[key] = self.base_model() if spec is None else infer_model(spec)
        model = self._judges[key]
        if self.cache is not None:
            model = CachedModel(model, self.cache, salt=f"judge{name}")
        if self.record is not None:  # a fresh cassette per case per run, then appended to
            model = RecordingModel(model, self.record / "judge" / name,
                                   append=name in self._judge_tapes)
            self._judge_tapes.add(name)
        return model

    # --- running -------------------------------------------------------------------
    async def run(self) -> EvalReport:
        started = time.monotonic()
        self.report.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.report.partial = True  # until every case has finished
        jobs = [(case, r) for case in self.dataset.cases for r in range(1, self.repeat + 1)]
        progress = Progress(len(jobs), enabled=self.show_progress)

        def finished(result: CaseResult) -> None:
            self.report.cases.append(result)
            progress.update(result.status)

        try:
            if self.workers > 1 and len(jobs) > 1:
                from .workers import run_in_processes

                await run_in_processes(self, jobs, self.workers, finished)
            else:
                await self.run_jobs(jobs, finished)
            self.report.partial = False
        finally:
            order = {(c.name, r): i for i, (c, r) in enumerate(jobs)}
            self.report.cases.sort(key=lambda c: order.get((c.name, c.repeat), 0))
            self.report.duration_s = round(time.monotonic() - started, 3)
            progress.close()
            if self._owns_model and self._model is not None:
                await self._model.aclose()
        return self.report

    async def run_jobs(self, jobs: list[tuple[Case, int]],
                       finished: Callable[[CaseResult], None]) -> None:
        """Run (case, repeat) jobs on this loop, `concurrency` at a time."""
        limiter = asyncio.Semaphore(self.concurrency)

        async def job(case: Case, repeat: int) -> None:
            async with limiter:
                result = await self.run_case(case, repeat)
            finished(result)

        tasks = [asyncio.ensure_future(job(case, r)) for case, r in jobs]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run_case(self, case: Case, repeat: int) -> CaseResult:
        stage = self.stage_of(case)
        meta: dict[str, Any] = {"name": case.name, "stage": stage, "repeat": repeat,
                "difficulty": case.metadata.difficulty, "tags": case.metadata.tags}
        try:
            if case.expected_output.sql and stage in ("sql", "report"):
                self.resources.gold(case.inputs.database, case.expected_output.sql)
            output = await self.attempts(stage, case, repeat)
            if output is None:
                return CaseResult(**meta, status="failed",
                                  reason=f"timed out after {self.case_timeout:g}s")
            results = await self.evaluate(stage, case, output, repeat)
        except BrokenCaseError as exc:
            return CaseResult(**meta, status="broken", reason=str(exc))
        except Exception as exc:  # noqa: BLE001 - one case's crash must not end the run
            return CaseResult(**meta, status="failed",
                              reason=f"the case crashed: {type(exc).__name__}: {exc}")
        failed = [r for r in results if r.is_assertion and r.value is False]
        status: Status = "passed" if results and not failed else "failed"
        reason = None
        if failed:
            reason = "; ".join(f"{r.name}: {r.reason or 'false'}" for r in failed[:4])
            if not output.ok and output.stop_reason:
                reason = f"stage stopped: {output.stop_reason}. {reason}"
        elif not results:
            reason = "no evaluator could score this case"
        chart = output.chart_spec or {}
        return CaseResult(**meta, status=status, reason=reason,
                          results=[r.to_dict() for r in results], figures=output.figures,
                          stages=output.stages if stage == "report" else {},
                          sql=output.sql, chart_type=(chart.get("usermeta") or {}).get(
                              "chart_type") if isinstance(chart.get("usermeta"), dict) else None)

    async def attempts(self, stage: str, case: Case, repeat: int) -> CaseOutput | None:
        """Run the case, retrying retryable provider errors; None when it timed out."""
        attempt = 0
        while True:
            model = self.model_for(case, repeat)
            try:
                coro = self.runner.run(stage, case, model)
                output = await (asyncio.wait_for(coro, self.case_timeout)
                                if self.case_timeout else coro)
            except (TimeoutError, asyncio.TimeoutError):
                return None
            finally:
                if self.replay is not None:
                    await model.aclose()
            error = output.error_exception
            if isinstance(error, ModelError) and error.retryable \
                    and attempt + 1 < self.retry.attempts and self.replay is None:
                await asyncio.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            return output

    async def evaluate(self, stage: str, case: Case, output: CaseOutput,
                       repeat: int = 1) -> list[EvaluationResult]:
        ctx = EvaluatorContext(case=case, output=output, resources=self.resources,
                               attributes={"repeat": repeat})
        results: list[EvaluationResult] = []
        for evaluator in evaluators_for(stage, self.dataset.evaluators, case.evaluators):
            try:
                value = await evaluator.evaluate_async(ctx)
            except BrokenCaseError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported on the case, the run goes on
                results.append(EvaluationResult(evaluator.name(), False,
                                                f"evaluator error: {type(exc).__name__}: {exc}",
                                                evaluator.name()))
                continue
            results.extend(evaluator.results(value))
        return results

    def close(self) -> None:
        self.resources.close()


async def evaluate(dataset: Dataset, **options: Any) -> EvalReport:
    """Run `dataset` and return its report (see `Evaluation` for the options)."""
    evaluation = Evaluation(dataset, **options)
    try:
        return await evaluation.run()
    finally:
        evaluation.close()
