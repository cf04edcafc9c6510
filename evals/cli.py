"""`stageagent eval`: run a dataset against a model, or compare two reports.

    stageagent eval --dataset FILE|NAME [--stage sql|chart|document|report] [--model ID]
                    [--repeat N] [--concurrency N] [--workers N] [--case-timeout S]
                    [--case NAME]...
                    [--tag TAG]... [--record DIR | --replay DIR] [--no-cache]
                    [--json FILE] [--markdown FILE] [--fail-under [METRIC=]VALUE]...
    stageagent eval diff A.json B.json [--json]

`--dataset` takes a file or a bundled dataset's name (`sql_demo`, `sql_shop`, `chart`,
`document`, `report`). Without `--stage` each case runs at its own `metadata.stage`.
`--fail-under 0.8` fails the run (exit 1) when the pass rate is below 0.8;
`--fail-under ex_bird=0.7` does the same for one metric's mean. Exit codes: 0 ok, 1 a
threshold missed, 2 bad usage / dataset / model set-up, 130 interrupted (the report of
the cases that finished is still written, marked partial).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MODEL_ENV = "STAGEAGENT_MODEL"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stageagent eval", description="Score a stage (or the "
                                "whole pipeline) on an eval dataset.")
    p.add_argument("--dataset", required=True, metavar="FILE|NAME")
    p.add_argument("--stage", choices=["sql", "chart", "document", "report"])
    p.add_argument("--model", metavar="ID", help=f"model id (default: ${MODEL_ENV})")
    p.add_argument("--repeat", type=int, default=1, metavar="N")
    p.add_argument("--concurrency", type=int, default=8, metavar="N",
                   help="cases in flight per process (default: 8)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="processes to share the cases (CPU-bound replays: one per core)")
    p.add_argument("--case-timeout", type=float, metavar="S")
    p.add_argument("--retries", type=int, default=3, metavar="N",
                   help="attempts per case on retryable provider errors")
    p.add_argument("--case", action="append", default=[], metavar="NAME")
    p.add_argument("--tag", action="append", default=[], metavar="TAG")
    p.add_argument("--stage-name", action="append", default=[], metavar="ROLE=STAGE",
                   help="run another stage file in a role, e.g. sql=sql_strict")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--record", metavar="DIR", help="write one cassette per case")
    mode.add_argument("--replay", metavar="DIR", help="replay the cassettes (offline)")
    p.add_argument("--cache", metavar="DIR", help="response cache directory (default: "
                   "~/.cache/stageagent/eval-responses)")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--json", metavar="FILE", help="write the JSON report")
    p.add_argument("--markdown", metavar="FILE", help="write the Markdown report")
    p.add_argument("--fail-under", action="append", default=[], metavar="[METRIC=]VALUE")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    return p


def _thresholds(values: list[str]) -> list[tuple[str, float]]:
    out = []
    for value in values:
        name, _, number = value.rpartition("=")
        try:
            out.append((name or "pass_rate", float(number)))
        except ValueError:
            raise SystemExit(_usage(f"--fail-under {value!r}: expected [METRIC=]NUMBER")) from None
    return out


def _usage(message: str) -> int:
    print(f"stageagent eval: error: {message}", file=sys.stderr)
    return 2


def _resolve_dataset(spec: str) -> Any:
    from .dataset import bundled, load_dataset

    path = Path(spec)
    if not path.exists() and path.suffix == "" and os.sep not in spec:
        path = bundled(spec)
    return load_dataset(path)


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    if argv[:1] == ["diff"]:
        return diff_main(argv[1:])
    args = build_parser().parse_args(argv)
    from stageagent.exceptions import StageAgentError

    try:
        thresholds = _thresholds(args.fail_under)
        evaluation = _evaluation(args)
    except SystemExit as exc:
        return int(exc.code or 2)
    except (StageAgentError, ValueError) as exc:
        return _usage(str(exc))
    code = 0
    try:
        report = asyncio.run(evaluation.run())
    except KeyboardInterrupt:
        report, code = evaluation.report, 130
    finally:
        evaluation.close()
    _write(report, args)
    if code:
        print(f"stageagent eval: interrupted; partial report of {len(report.cases)} of "
              f"{report.planned} cases", file=sys.stderr)
        return code
    return _check(report, thresholds)


def _evaluation(args: argparse.Namespace) -> Any:
    from stageagent.models import infer_model

    from .resources import cache_dir
    from .runner import Evaluation, RetryConfig

    whole = _resolve_dataset(args.dataset)
    dataset = whole.select(args.case or None, tags=args.tag or None)
    if not dataset.cases:
        raise ValueError(f"{whole.source}: the dataset has no cases" if not whole.cases
                         else "no case of the dataset matches --case/--tag")
    model = None
    if args.replay is None:
        spec = args.model or os.environ.get(MODEL_ENV)
        if not spec:
            raise ValueError(f"no model: pass --model ID or set ${MODEL_ENV} (or --replay DIR)")
        model = infer_model(spec)  # a missing API key fails here, before any case runs
    cache = None
    if not args.no_cache and args.replay is None:
        cache = args.cache or cache_dir() / "eval-responses"
    names = dict(item.split("=", 1) for item in args.stage_name if "=" in item)
    return Evaluation(dataset, model=model, stage=args.stage, repeat=args.repeat,
                      concurrency=args.concurrency, case_timeout=args.case_timeout,
                      retry=RetryConfig(attempts=max(1, args.retries)), record=args.record,
                      replay=args.replay, cache=cache, progress=args.progress,
                      stage_names=names, workers=args.workers)


def _write(report: Any, args: argparse.Namespace) -> None:
    print(report.table())
    if args.json:
        report.write_json(args.json)
    if args.markdown:
        Path(args.markdown).write_text(report.to_markdown(), encoding="utf-8")


def _check(report: Any, thresholds: list[tuple[str, float]]) -> int:
    code = 0
    for name, minimum in thresholds:
        value = report.metric(name)
        if value is None or value < minimum:
            shown = "missing" if value is None else f"{value:.3f}"
            print(f"stageagent eval: {name} {shown} is under --fail-under {minimum:g}",
                  file=sys.stderr)
            code = 1
    return code


def diff_main(argv: Sequence[str]) -> int:
    import json

    from .diff import diff_reports
    from .errors import EvalError
    from .report import EvalReport

    p = argparse.ArgumentParser(prog="stageagent eval diff",
                                description="Compare two eval reports case by case.")
    p.add_argument("a", metavar="A.json")
    p.add_argument("b", metavar="B.json")
    p.add_argument("--json", action="store_true", help="print the diff as JSON")
    args = p.parse_args(list(argv))
    try:
        result = diff_reports(EvalReport.load(args.a), EvalReport.load(args.b))
    except EvalError as exc:
        return _usage(str(exc))
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.text())
    return 0
