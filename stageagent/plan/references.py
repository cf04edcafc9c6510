"""`${steps.<id>.output.<path>}`: a step parameter that names an earlier step's output.

A string that is exactly one reference resolves to the referenced value itself (a list
stays a list); a reference inside a longer string is replaced by the value's text. The
path after `output` walks dict keys, attributes and list indices (`rows.0.1`). References
are resolved when the step starts, from the outputs of completed steps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..exceptions import PlanReferenceError

REFERENCE = re.compile(r"\$\{steps\.([A-Za-z_][A-Za-z0-9_-]{0,63})\.output((?:\.[^.}\s]+)*)\}")
#: anything that looks like it meant to be a reference (for "malformed reference" errors)
LOOSE_REFERENCE = re.compile(r"\$\{[^}]*\}")


@dataclass(frozen=True, slots=True)
class Reference:
    step_id: str
    path: tuple[str, ...]
    field: str  # where in the params it sits, e.g. "params.sql" or "params.rows[0]"
    whole: bool  # the string is exactly this reference


def strings(params: Any, field: str = "params") -> Iterator[tuple[str, str]]:
    """`(field, text)` of every string in a params tree (`params.rows[0]`, ...)."""
    if isinstance(params, str):
        yield field, params
    elif type(params) is dict or isinstance(params, Mapping):
        for key, value in params.items():
            yield from strings(value, f"{field}.{key}")
    elif isinstance(params, (list, tuple)):
        for index, value in enumerate(params):
            yield from strings(value, f"{field}[{index}]")


def find_references(params: Any, field: str = "params") -> Iterator[Reference]:
    """Every reference in a params tree, with the field it sits in."""
    for where, text in strings(params, field):
        if "${" not in text:
            continue
        for match in REFERENCE.finditer(text):
            path = tuple(match.group(2).split(".")[1:]) if match.group(2) else ()
            yield Reference(match.group(1), path, where, match.group(0) == text)


def malformed_references(params: Any, field: str = "params") -> Iterator[tuple[str, str]]:
    """`(field, text)` of every `${...}` that is not a valid step reference."""
    for where, text in strings(params, field):
        for match in LOOSE_REFERENCE.finditer(text):
            if not REFERENCE.fullmatch(match.group(0)):
                yield where, match.group(0)


def lookup(value: Any, path: tuple[str, ...], where: str) -> Any:
    """Walk `path` into `value` (keys, indices, attributes)."""
    for depth, part in enumerate(path):
        here = ".".join(path[:depth + 1])
        if isinstance(value, Mapping):
            if part not in value:
                raise PlanReferenceError(f"{where}: output has no key {here!r} "
                                      f"(keys: {', '.join(map(str, list(value)[:20]))})")
            value = value[part]
        elif isinstance(value, (list, tuple)):
            try:
                value = value[int(part)]
            except (ValueError, IndexError):
                raise PlanReferenceError(f"{where}: {here!r} is not an index of a list of "
                                      f"{len(value)}") from None
        elif hasattr(value, part) and not part.startswith("_"):
            value = getattr(value, part)
        else:
            raise PlanReferenceError(f"{where}: {type(value).__name__} has no field {here!r}")
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def resolve(params: Any, outputs: Mapping[str, Any], step_id: str = "?",
            field: str = "params") -> Any:
    """`params` with every reference replaced by the referenced output (a new tree)."""
    if isinstance(params, str):
        if "${" not in params:
            return params
        match = REFERENCE.fullmatch(params)
        if match:
            return _value(match, outputs, step_id, field)
        return REFERENCE.sub(lambda m: _text(_value(m, outputs, step_id, field)), params)
    if isinstance(params, Mapping):
        return {k: resolve(v, outputs, step_id, f"{field}.{k}") for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return [resolve(v, outputs, step_id, f"{field}[{i}]") for i, v in enumerate(params)]
    return params


def _value(match: re.Match[str], outputs: Mapping[str, Any], step_id: str, field: str) -> Any:
    source = match.group(1)
    where = f"step {step_id!r} {field}: {match.group(0)}"
    if source not in outputs:
        raise PlanReferenceError(f"{where}: step {source!r} has no output (not completed)")
    path = tuple(match.group(2).split(".")[1:]) if match.group(2) else ()
    return lookup(outputs[source], path, where)


def has_references(params: Any) -> bool:
    if not params:
        return False
    return next(find_references(params), None) is not None
