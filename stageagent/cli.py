"""The `stageagent` command line.

    stageagent report "question" [--db URL] [--model ID] [--out DIR] [--no-chart]
                                 [--stages-dir DIR] [--script FILE] [--verbose]
    stageagent demo-db PATH [--seed N] [--schema S] [--replace]
    stageagent stages [--stages-dir DIR]
    stageagent tool NAME [--db URL] [--args JSON] [--sql SELECT | --state JSON]
    stageagent eval --dataset FILE --stage sql|chart|document|report --model ID ...
    stageagent eval diff A.json B.json   (see stageagent.evals.cli)
    stageagent serve [--config FILE] [--host H] [--port N] [--script FILE]  (stageagent.serve.cli)

`report` streams progress to stderr and writes the report files (see `stageagent.report`).
Without `--db` it uses the demo SQLite database, created once under the user cache dir
(`$XDG_CACHE_HOME/stageagent`, else `~/.cache/stageagent`). The model is `--model`, else
`$STAGEAGENT_MODEL`, else each stage file's model (anthropic:claude-sonnet-4-6).
`--script FILE` replaces the model by scripted turns (offline demos and tests):
``{"sql": [turn, ...], "chart": [...], "document": [...]}`` where a turn is a text, a
tool call ``{"tool": "name", "args": {...}}``, or a list of both.

`tool` calls one registered tool directly and prints ``{"tool", "ok", "result" | "error"}``
as JSON. Chart and document tools read the SQL result from the run state: seed it with
`--sql "SELECT ..."` (run read-only first) or `--state '{"sql_result": {...}}'`.

`demo-db` never drops tables it did not create: a user's own `customers`, `orders`, ...
make it refuse, naming them, unless `--replace`.

Exit codes: 0 ok; 1 the run or the tool failed (the report is still written for a failed
run); 2 bad usage or setup (database, stage files, model or API key); 130 interrupted
(Ctrl-C cancels the run; the incomplete report is written first).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PROG = "stageagent"
MODEL_ENV = "STAGEAGENT_MODEL"
MAX_QUESTION_CHARS = 10_000


class CLIError(Exception):
    """A problem reported as one line on stderr, with an exit code (no traceback)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


# --- helpers -----------------------------------------------------------------------------


def _err(message: str) -> None:
    one_line = " ".join(line.strip() for line in message.splitlines() if line.strip())
    # whatever the message quotes (argv bytes that are not UTF-8 included) prints
    one_line = one_line.encode("utf-8", "backslashreplace").decode("utf-8")
    print(f"{PROG}: error: {one_line}", file=sys.stderr)


def _json_arg(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CLIError(f"{option} is not valid JSON: {exc.msg} (line {exc.lineno}, "
                       f"column {exc.colno})") from None


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stageagent"


def demo_database_path(seed: int = 7) -> Path:
    """The cached demo SQLite file; rebuilt when the generator's source changes."""
    from stageagent.tools import demo_db

    digest = hashlib.sha256(Path(demo_db.__file__).read_bytes()).hexdigest()[:10]
    path = cache_dir() / f"demo-seed{seed}-{digest}.sqlite"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        demo_db.create_demo_database(tmp, seed=seed)
        os.replace(tmp, path)  # atomic: a concurrent run never sees a half-written file
    return path


def open_database(url: str | None, schema: str | None = None) -> Any:
    """A reachable `Database` (the cached demo database without a URL) or CLIError."""
    from stageagent.tools.sql import Database, DatabaseError

    target: str | Path = url if url else demo_database_path()
    try:
        str(target).encode("utf-8")
    except UnicodeEncodeError:  # argv bytes that are not text: no driver can open them
        raise CLIError(f"database: {_printable(str(target))} is not a usable URL or path: "
                       f"it holds bytes that are not UTF-8") from None
    try:
        db = Database(target, schema=schema)
        db.ping()
    except DatabaseError as exc:
        raise CLIError(f"database: {exc}") from None
    except ValueError as exc:  # a URL SQLAlchemy cannot parse, bytes that are not text
        raise CLIError(f"database: {_printable(str(target))} is not a usable URL or path: "
                       f"{_printable(str(exc))}") from None
    check_tables(db, str(target), schema)
    return db


def check_tables(db: Any, target: str, schema: str | None) -> None:
    """Read the table list: a file that is not a database, or a database without tables,
    fails here - at start-up, before any model call - not in the middle of a run."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    try:
        tables = inspect(db.engine).get_table_names(schema=schema)
    except SQLAlchemyError as exc:
        db.close()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise CLIError(f"database: {target} cannot be read as a {db.backend} database: "
                       f"{reason}") from None
    if not tables:
        db.close()
        where = f" in schema {schema!r}" if schema else ""
        raise CLIError(f"database: {target} has no tables{where}: there is nothing to report "
                       "on (create the sample with `stageagent demo-db PATH`)")


def load_stages(stages_dir: str | None) -> Any:
    from stageagent import StageAgentError, StageConfigManager

    try:
        return StageConfigManager([stages_dir] if stages_dir else ())
    except StageAgentError as exc:  # StageConfigError / PromptError name the file and key
        raise CLIError(f"stage files: {exc}") from None


def _turn(item: Any, where: str) -> Any:
    from stageagent.models import call

    if isinstance(item, str):
        return item
    if isinstance(item, dict) and isinstance(item.get("tool"), str):
        args = item.get("args", {})
        if not isinstance(args, dict):
            raise CLIError(f"{where}: 'args' must be an object")
        return call(item["tool"], args)
    if isinstance(item, list) and item and not any(isinstance(i, list) for i in item):
        return [_turn(i, where) for i in item]
    raise CLIError(f"{where}: a turn is a text, {{\"tool\": name, \"args\": {{...}}}} or a "
                   f"list of those; got {json.dumps(item)[:80]}")


def load_script(path: str) -> dict[str, Any]:
    """`--script FILE`: one `ScriptedModel` per stage, from JSON turns."""
    from stageagent.models import ScriptedModel

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CLIError(f"--script: cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CLIError(f"--script: {path} is not valid JSON: {exc.msg} (line {exc.lineno})") \
            from None
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise CLIError("--script: expected an object {\"stage\": [turns...]}")
    return {stage: ScriptedModel([_turn(t, f"--script {stage}[{i}]") for i, t in enumerate(turns)],
                                 name=f"script-{stage}")
            for stage, turns in data.items()}


# --- commands ------------------------------------------------------------------------------


def _progress(event: Any, verbose: bool) -> None:
    from .report import event_prefix, event_summary

    if event.type == "thought" and not verbose:
        return
    line = event_summary(event)
    if line is not None:
        print(f"{event_prefix(event)} {line}", file=sys.stderr, flush=True)


def _missing_key_message(exc: Any) -> str:
    other = ("openai:gpt-4o (OPENAI_API_KEY)" if exc.variable == "ANTHROPIC_API_KEY"
             else "anthropic:claude-sonnet-4-6 (ANTHROPIC_API_KEY)")
    return (f"no API key for {exc.provider}: set the environment variable {exc.variable}, or "
            f"choose another model with --model (or ${MODEL_ENV}), e.g. --model {other}, or "
            f"--model local:smollm2 with `stageagent local-model serve` running (no key, "
            f"no network; needs stageagent[local])")


def _printable(text: str) -> str:
    """`text` safe to print and to write as UTF-8 (undecodable argv bytes escaped), with
    a password in a URL masked."""
    text = re.sub(r"(://[^:/@\s]*:)[^@/\s]*@", r"\1***@", text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def check_question(question: str) -> str:
    """The question, stripped; an empty one is a usage error (exit 2), not a traceback."""
    text = question.strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CLIError(f"the question is not valid text (undecodable bytes): "
                       f"{_printable(text)[:80]}") from None
    if not text:
        raise CLIError('the question is empty: ask something, e.g. stageagent report '
                       '"Which product categories brought the most revenue in 2024?"')
    if len(text) > MAX_QUESTION_CHARS:
        raise CLIError(f"the question has {len(text):,} characters; keep it under "
                       f"{MAX_QUESTION_CHARS:,}")
    return text


def check_out_dir(out: str) -> None:
    """Fail before the run, not after paying for it, when the report cannot be written."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".stageagent-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CLIError(f"--out {out}: cannot write there: {exc.strerror or exc}") from None


def _check_script(model: dict[str, Any], facade: Any, chart: bool) -> None:
    """--script: every stage of the run needs turns, and no turns for unknown stages."""
    unknown = sorted(set(model) - set(facade.stage_names()))
    missing = [n for n in facade.stage_names(chart=chart) if n not in model]
    if unknown or missing:
        raise CLIError("--script: " + "; ".join(
            ([f"unknown stage(s) {', '.join(unknown)}"] if unknown else [])
            + ([f"no turns for stage(s) {', '.join(missing)}"] if missing else [])))


def _prepare(args: argparse.Namespace, stages: Any, db: Any,
             built: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(facade, the per-stage models, the --model/--script choice), or CLIError."""
    from stageagent import MissingAPIKeyError, StageAgentError, StageAwareRuntime
    from stageagent.tools.sql import SQLQualityEvaluator

    from .facade import StageAwareFacade

    runtime = StageAwareRuntime(stages, evaluators={"sql_quality": SQLQualityEvaluator(db)})
    model: Any = load_script(args.script) if args.script else (
        args.model or os.environ.get(MODEL_ENV) or None)
    try:
        facade = StageAwareFacade(runtime, database=db, model=model, out_dir=args.out)
    except (StageAgentError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    chart = not args.no_chart
    if isinstance(model, dict):
        _check_script(model, facade, chart)
    try:
        models = {name: facade.resolve_model(name, cache=built)
                  for name in facade.stage_names(chart=chart)}
    except MissingAPIKeyError as exc:
        raise CLIError(_missing_key_message(exc)) from None
    except StageAgentError as exc:
        raise CLIError(f"model: {exc}") from None
    _check_local_servers(models.values())
    check_out_dir(args.out)
    return facade, models, model


def _check_local_servers(models: Any) -> None:
    """A `local:` model whose server is not running fails now, with the command to run."""
    from .local_server import LocalModelError, check_reachable

    urls = {m.base_url for m in models if getattr(m, "capabilities", None) is not None
            and m.capabilities.name == "llama-cpp-python" and m.base_url}
    for url in sorted(urls):
        try:
            check_reachable(url)
        except LocalModelError as exc:
            raise CLIError(str(exc)) from None


async def _report(args: argparse.Namespace) -> int:
    args.question = check_question(args.question)
    stages = load_stages(args.stages_dir)  # checked before the database is touched
    db = open_database(args.db, args.schema)
    built: dict[str, Any] = {}
    interrupt = InterruptToCancel()
    try:
        facade, models, choice = _prepare(args, stages, db, built)
        run = interrupt.run = facade.run(args.question, chart=not args.no_chart, model=models)
        with interrupt:
            async for event in run:
                _progress(event, args.verbose)
    finally:
        for m in built.values():
            await m.aclose()
        db.close()
    if interrupt.interrupted:
        return _write_interrupted(run, args.out)
    return _finish(run.result, choice, args.out)


def _finish(result: Any, choice: Any, out: str) -> int:
    """Warn about unused scripted turns, write the report, and say how the run ended."""
    from stageagent import MissingAPIKeyError

    from .report import write_report

    if isinstance(choice, dict):
        for stage, scripted in choice.items():
            if scripted.remaining > 0:  # a script that ran out is the run's error, not this
                print(f"{PROG}: warning: {scripted.remaining} scripted turn(s) of stage "
                      f"{stage!r} were never used", file=sys.stderr)
    try:
        written = write_report(result, out)
    except OSError as exc:
        raise CLIError(f"cannot write the report to {out}: {exc}") from None
    print(f"report written to {Path(out).resolve()}: {', '.join(sorted(written))}",
          file=sys.stderr)
    if not result.ok:
        if isinstance(result.exception, MissingAPIKeyError):
            raise CLIError(_missing_key_message(result.exception))
        _err(f"the run failed in stage {result.failed_stage!r}: {result.error}")
        return 1
    print(Path(out, "report.html").resolve())
    return 0


class InterruptToCancel:
    """While the run streams, Ctrl-C (SIGINT) cancels the run instead of killing it: the
    running stage ends `cancelled`, the events so far are kept, and the CLI writes an
    incomplete report and exits 130. A second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.run: Any = None
        self.interrupted = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def _on_sigint(self) -> None:
        self.interrupted = True
        print(f"{PROG}: interrupted: cancelling the run and writing what exists so far "
              "(Ctrl-C again to quit at once)", file=sys.stderr, flush=True)
        self._restore()
        self.run.cancel()

    def _restore(self) -> None:
        if self._loop is not None:
            self._loop.remove_signal_handler(signal.SIGINT)
            self._loop = None

    def __enter__(self) -> InterruptToCancel:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, self._on_sigint)
            self._loop = loop
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # no signal handlers here (Windows, a non-main thread): Ctrl-C stops as usual
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore()


def _write_interrupted(run: Any, out: str) -> int:
    """Mark the result of an interrupted run incomplete, write it, and exit 130."""
    from .report import INTERRUPTED, write_report

    result = run.result
    stage = result.failed_stage or _running_stage(result.events) or "(none)"
    result.ok, result.failed_stage, result.error_type = False, stage, INTERRUPTED
    result.error = f"interrupted by the user (Ctrl-C) during stage {stage!r}"
    try:
        write_report(result, out)
    except OSError as exc:
        raise CLIError(f"interrupted; cannot write the report to {out}: {exc}", code=130) \
            from None
    print(f"{PROG}: interrupted during stage {stage!r}: incomplete report written to "
          f"{Path(out).resolve()}", file=sys.stderr)
    return 130


def _running_stage(events: list[Any]) -> str | None:
    """The last stage that started (the one running when the run stopped)."""
    return next((e.stage for e in reversed(events) if e.type == "stage_started"), None)


def _demo_db(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from stageagent.tools.demo_db import ForeignTablesError, create_demo_database

    try:
        counts = create_demo_database(args.path, seed=args.seed, schema=args.schema,
                                      replace=args.replace)
    except ForeignTablesError as exc:
        raise CLIError(str(exc).replace("replace=True (--replace)", "--replace")) from None
    except (SQLAlchemyError, OSError, ValueError) as exc:
        raise CLIError(f"cannot create the demo database at {_printable(args.path)}: "
                       f"{str(exc).splitlines()[0]}") from None
    print(json.dumps({"path": str(args.path), "seed": args.seed, "rows": counts}))
    return 0


def _stages(args: argparse.Namespace) -> int:
    manager = load_stages(args.stages_dir)
    for config in manager:
        print(f"{config.name}  ({config.source})")
        if config.description:
            print(f"  {config.description}")
        print(f"  model: {config.model.id}   prompt: {config.prompt or '(inline)'}   "
              f"gate: {', '.join(config.evaluators) or '-'} >= {config.quality_threshold:g}   "
              f"max iterations: {config.max_iterations}")
        if config.output_schema:
            print(f"  output: {config.output_schema}")
        print(f"  tools: {', '.join(config.tools) or '-'}")
    return 0


def _jsonable(value: Any) -> Any:
    from pydantic import BaseModel
    from pydantic_core import to_jsonable_python

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return to_jsonable_python(value, fallback=str)


async def _tool(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from stageagent.function_tools import ToolContext, format_validation_error
    from stageagent.tools import TOOLKIT
    from stageagent.tools.deps import ReportDeps
    from stageagent.tools.results import STATE_SQL_RESULT, QueryResult

    registry = TOOLKIT.tools
    if args.name not in registry:
        raise CLIError(f"unknown tool {args.name!r} (known: {', '.join(registry.names())})")
    arguments = _json_arg(args.args, "--args")
    if not isinstance(arguments, dict):
        raise CLIError("--args must be a JSON object of the tool's arguments")
    state = _json_arg(args.state, "--state") if args.state else {}
    if not isinstance(state, dict):
        raise CLIError("--state must be a JSON object")
    tool = registry.get(args.name)
    db = open_database(args.db, args.schema)
    try:
        if isinstance(state.get(STATE_SQL_RESULT), dict):
            try:
                state[STATE_SQL_RESULT] = QueryResult.model_validate(state[STATE_SQL_RESULT])
            except ValidationError as exc:
                raise CLIError(f"--state {STATE_SQL_RESULT}: not a QueryResult: "
                               f"{exc.errors()[0]['msg']}") from None
        if args.sql:
            from stageagent.tools.sql import (
                DatabaseError,
                UnsafeQueryError,
                execute_query,
            )

            try:
                state[STATE_SQL_RESULT] = execute_query(db, args.sql)
            except (DatabaseError, UnsafeQueryError) as exc:
                raise CLIError(f"--sql: {exc}", code=1) from None
        ctx = ToolContext(run_id="cli", stage="cli", deps=ReportDeps(database=db), state=state)
        out: dict[str, Any] = {"tool": args.name}
        try:
            value = await tool.invoke(tool.validate(arguments), ctx)
            out.update(ok=True, result=_jsonable(value))
        except ValidationError as exc:
            out.update(ok=False, error=format_validation_error(args.name, exc))
        except Exception as exc:  # noqa: BLE001 - every tool failure is reported as JSON
            out.update(ok=False, error=f"{type(exc).__name__}: {exc}")
    finally:
        db.close()
    print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    return 0 if out["ok"] else 1


# --- parser ----------------------------------------------------------------------------------

REPORT_DESCRIPTION = """\
Answer a business question from a database: the SQL stage writes and runs a read-only
query, the chart stage draws it, the document stage writes a paragraph whose every figure
is checked against the rows. Progress goes to stderr; the report files (report.md,
report.html, chart.png, chart.vl.json, chart.echarts.json, query.sql, data.csv,
events.jsonl) go to --out, and the path of report.html to stdout."""

REPORT_EPILOG = """\
--script FILE (no model is called):
  a JSON object with one list of turns per stage of the run, e.g.
    {"sql": [{"tool": "sql_executor", "args": {"sql": "SELECT ..."}}, "summary", "{...}"],
     "chart": [{"tool": "chart_generator", "args": {"chart_type": "bar", "x": "..."}}, "done"],
     "document": ["The paragraph."]}
  A turn is a text, a tool call {"tool": NAME, "args": {...}}, or a list of both (tool
  calls made together). Every stage that runs needs turns ("chart" not with --no-chart).

exit codes:
  0    the report was written and every stage passed
  1    the run failed (a stage did not pass); the report is still written, with the error
  2    bad usage or set-up, one line on stderr: empty question, missing API key,
       unreadable database or a file that is not one, bad --script, unwritable --out
  130  interrupted (Ctrl-C): the run is cancelled and what exists so far is written
       (events.jsonl, report.md marked incomplete with the stage that was running)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Stage-aware ReAct agents: "
                                     "question -> SQL -> chart -> report.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("report", help="answer a question with SQL, a chart and a text",
                       description=REPORT_DESCRIPTION, epilog=REPORT_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("question", help="the business question, in plain words (quote it), e.g. "
                   '"Which product categories brought the most revenue in 2024?"')
    p.add_argument("--db", metavar="URL", help="SQLAlchemy URL or SQLite path "
                   "(default: the demo SQLite database, created on first use)")
    p.add_argument("--schema", help="PostgreSQL schema / MySQL database to query")
    p.add_argument("--model", metavar="ID", help="model for every stage, e.g. "
                   f"anthropic:claude-sonnet-4-6 (default: ${MODEL_ENV}, else the stage files')")
    p.add_argument("--out", metavar="DIR", default="report", help="output directory "
                   "(default: ./report)")
    p.add_argument("--no-chart", action="store_true", help="skip the chart stage")
    p.add_argument("--stages-dir", metavar="DIR", help="extra stage files (override by name)")
    p.add_argument("--script", metavar="FILE", help="play scripted model turns from a JSON "
                   "file instead of calling a model (offline demos, tests; format below)")
    p.add_argument("--verbose", "-v", action="store_true", help="debug logs and model thoughts")
    p.set_defaults(handler=_report, is_async=True)

    p = sub.add_parser("demo-db", help="write the deterministic demo database")
    p.add_argument("path", metavar="PATH", help="SQLite file path or SQLAlchemy URL")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--schema", help="PostgreSQL schema / MySQL database to write into")
    p.add_argument("--replace", action="store_true", help="drop and recreate demo-named "
                   "tables (customers, orders, ...) even if stageagent did not create them")
    p.set_defaults(handler=_demo_db, is_async=False)

    p = sub.add_parser("stages", help="list the stage configs and their tools")
    p.add_argument("--stages-dir", metavar="DIR")
    p.set_defaults(handler=_stages, is_async=False)

    p = sub.add_parser("tool", help="call one registered tool and print its result as JSON")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--db", metavar="URL", help="database (default: the demo database)")
    p.add_argument("--schema", help="PostgreSQL schema / MySQL database")
    p.add_argument("--args", default="{}", metavar="JSON", help="the tool's arguments")
    seed = p.add_mutually_exclusive_group()
    seed.add_argument("--sql", metavar="SELECT", help="run this read-only query first and "
                      "put its result in the state (for chart and document tools)")
    seed.add_argument("--state", metavar="JSON", help="initial run state, e.g. "
                      '{"sql_result": {QueryResult as JSON}}')
    p.set_defaults(handler=_tool, is_async=True)

    from .local_server import register as register_local_model

    register_local_model(sub)
    # parsed by stageagent.evals.cli (main() hands it the rest of the command line)
    sub.add_parser("eval", help="score a stage on an eval dataset (stageagent eval -h)",
                   add_help=False)
    from .plan.cli import add_plan_parser  # stageagent plan ...: see stageagent.plan.cli

    add_plan_parser(sub)
    from .serve.cli import add_parser as add_serve_parser

    add_serve_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `stageagent` console script and `python -m stageagent`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["eval"]:
        from stageagent.evals.cli import main as eval_main

        return eval_main(argv[1:])
    args = build_parser().parse_args(argv)
    if getattr(args, "verbose", False):
        from stageagent import enable_logging

        enable_logging("DEBUG")
    try:
        if args.is_async:
            from .syncrun import run_sync

            return run_sync(args.handler(args))
        return args.handler(args)
    except CLIError as exc:
        _err(str(exc))
        return exc.code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
