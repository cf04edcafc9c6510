"""Evaluator names -> classes, building evaluators from dataset specs, and their schema.

A spec is `Name`, `{Name: argument}` (the first field) or `{Name: {field: value}}` - the
three forms pydantic-evals accepts. `register_evaluator` adds a user's own class.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .errors import UnknownEvaluatorError
from .evaluator import Evaluator

_EVALUATORS: dict[str, type[Evaluator]] = {}

#: what a stage is scored with when the dataset names no evaluators
DEFAULTS: dict[str, list[Any]] = {
    "sql": ["ValidSQL", "ExecutesSQL", {"ExecutionAccuracy": "bird"},
            {"ExecutionAccuracy": "test_suite"}, {"ExecutionAccuracy": "strict"},
            "SchemaLinking"],
    "chart": ["ChartValid", "ChartTypeMatch", "EncodingMatch"],
    "document": ["NumericGrounding", "RequiredFacts", "StylePass"],
}
DEFAULTS["report"] = ["ExecutesSQL", {"ExecutionAccuracy": "test_suite"}, "SchemaLinking",
                      *DEFAULTS["chart"], *DEFAULTS["document"]]


def register_evaluator(cls: type[Evaluator]) -> type[Evaluator]:
    """Make `cls` nameable in datasets (usable as a class decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Evaluator) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not an Evaluator dataclass")
    _EVALUATORS[cls.name()] = cls
    return cls


def _builtins() -> dict[str, type[Evaluator]]:
    if not _EVALUATORS:
        from . import chart_evaluators as c
        from . import document_evaluators as d
        from . import judge as j
        from . import sql_evaluators as s

        for cls in (s.ValidSQL, s.ExecutesSQL, s.ExecutionAccuracy, s.ExecutionTimeRatio,
                    s.SchemaLinking, c.ChartValid, c.ChartTypeMatch, c.EncodingMatch,
                    d.NumericGrounding, d.RequiredFacts, d.StylePass, j.LLMJudge):
            _EVALUATORS[cls.name()] = cls
    return _EVALUATORS


def _fields(cls: type[Evaluator]) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.init]


def build(spec: Any) -> Evaluator:
    """An evaluator instance from a spec; raises ValueError/UnknownEvaluatorError."""
    known = _builtins()
    args: dict[str, Any]
    if isinstance(spec, str):
        name, args = spec, {}
    elif isinstance(spec, dict) and len(spec) == 1:
        name, value = next(iter(spec.items()))
        cls = known.get(name)
        fields = _fields(cls) if cls else []
        args = value if isinstance(value, dict) else ({fields[0].name: value} if fields else {})
        if value is None:
            args = {}
    else:
        raise ValueError("an evaluator is a name or a mapping with one key (its name), "
                         f"not {spec!r:.80}")
    cls = known.get(name)
    if cls is None:
        raise UnknownEvaluatorError(f"unknown evaluator {name!r} (known: "
                                    f"{', '.join(sorted(known))})")
    by_name = {f.name: f for f in _fields(cls)}
    unknown = sorted(set(args) - set(by_name))
    if unknown:
        raise ValueError(f"{name} has no argument {unknown[0]!r} (arguments: "
                         f"{', '.join(by_name) or 'none'})")
    return cls(**{k: _validated(name, cls, k, v) for k, v in args.items()})


def _validated(name: str, cls: type, field: str, value: Any) -> Any:
    """`value` as the argument's type; a ValueError naming the argument otherwise."""
    try:
        return _adapter(cls, field).validate_python(value)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join([field, *map(str, error["loc"])])
        raise ValueError(f"{name}: {where}: {error['msg']}") from None


def _resolve(cls: type, field: str) -> Any:
    import typing

    return typing.get_type_hints(cls)[field]


@lru_cache(maxsize=256)
def _adapter(cls: type, field: str) -> TypeAdapter[Any]:
    """The validator of one evaluator argument, per class: building it (type hints, a
    pydantic core schema) cost more than the rest of a case's bookkeeping."""
    return TypeAdapter(_resolve(cls, field))


def check_specs(specs: list[Any], *, path: str | Path | None, case: str | None) -> None:
    """Build every spec once, so a bad name or argument fails at load time."""
    from .errors import DatasetError

    for index, spec in enumerate(specs):
        try:
            build(spec)
        except (ValueError, TypeError, UnknownEvaluatorError) as exc:
            raise (UnknownEvaluatorError if isinstance(exc, UnknownEvaluatorError)
                   else DatasetError)(str(exc), path=path, case=case,
                                      key=f"evaluators[{index}]") from None


def evaluators_for(stage: str, dataset_specs: list[Any], case_specs: list[Any]) -> list[Evaluator]:
    """The dataset's evaluators (or the stage's defaults) plus the case's own, that can
    score `stage`."""
    specs = [*(dataset_specs or DEFAULTS[stage]), *case_specs]
    built = [build(s) for s in specs]
    return [e for e in built if stage in e.stages]


def evaluator_schemas() -> list[dict[str, Any]]:
    """JSON-schema alternatives for one evaluator spec (names and typed arguments)."""
    alternatives: list[dict[str, Any]] = [{"type": "string", "enum": sorted(_builtins())}]
    for name, cls in sorted(_builtins().items()):
        props = {}
        for f in _fields(cls):
            props[f.name] = _adapter(cls, f.name).json_schema()
        arg: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        value: dict[str, Any] = {"anyOf": [arg, {"type": "null"}]}
        if props:
            value["anyOf"].insert(1, next(iter(props.values())))
        alternatives.append({"type": "object", "properties": {name: value},
                             "required": [name], "additionalProperties": False,
                             "description": (cls.__doc__ or "").strip().split("\n")[0]})
    return alternatives
