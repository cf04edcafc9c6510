"""`python -m bench NAME [--json] [--quick] [--instructions | --shares]`.

NAME: overhead, sql, verdicts, schema, chart, document, pipeline, plan, eval, trace,
serve, local (needs stageagent[local]), all. `--instructions` (overhead, eval) counts
CPU instructions per iteration / per case under valgrind: stable under any machine load.
`--shares` (overhead): the time each feature (token counting, argument validation,
pricing, events, the request's copy of the history) costs one iteration, measured by
switching it off (`bench/shares.py`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

SUITES = {
    "overhead": "bench.overhead",
    "sql": "bench.sql_bench",
    "chart": "bench.chart_bench",
    "document": "bench.document_bench",
    "pipeline": "bench.pipeline_bench",
    "verdicts": "bench.sql_verdicts",
    "schema": "bench.schema_bench",
    "plan": "bench.plan_bench",
    "local": "bench.local_model_bench",
    "eval": "bench.eval_bench",
    "trace": "bench.trace_bench",
    "serve": "bench.serve_bench",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suite", choices=[*SUITES, "all"])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (smoke run)")
    parser.add_argument("--instructions", action="store_true",
                        help="overhead, eval: instructions per iteration / case under "
                        "valgrind")
    parser.add_argument("--shares", action="store_true",
                        help="overhead: what each feature costs one iteration, in µs")
    args = parser.parse_args(argv)
    if args.shares:
        if args.suite != "overhead":
            parser.error("--shares: only for overhead")
        from bench.shares import run as run_shares

        figures = run_shares(quick=args.quick)
        print(json.dumps(figures) if args.json
              else "\n".join(f"{k}: {v}" for k, v in figures.items()))
        return 0
    if args.instructions:
        module = importlib.import_module(SUITES[args.suite]) if args.suite in SUITES else None
        if module is None or not hasattr(module, "instructions"):
            parser.error("--instructions: only for overhead and eval")
        out = module.instructions()
        print(json.dumps(out) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))
        return 0
    names = list(SUITES) if args.suite == "all" else [args.suite]
    results = {}
    for name in names:
        module = importlib.import_module(SUITES[name])
        kwargs = {"quick": True} if args.quick and "quick" in module.run.__code__.co_varnames else {}
        results[name] = module.run(**kwargs)
    out = results[names[0]] if len(names) == 1 else results
    if args.json:
        print(json.dumps(out))
    else:
        for name, figures in results.items():
            print(f"== {name}")
            for key, value in figures.items():
                print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
