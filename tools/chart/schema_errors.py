"""Vega-Lite schema errors a model can act on: the bad value, where it is, what is allowed.

The top level of the schema is an `anyOf` of seven spec kinds, so a plain validator says
"Additional properties are not allowed ('encoding', 'mark' ...)" - the verdict of the
wrong branch. We validate against the kind the spec's own keys select (`mark` -> unit,
`layer` -> layer, ...), then descend every `anyOf`/`oneOf` to the deepest failing path
and report the value there with the allowed values (enums, channel names) and the closest
match: `encoding.colour: unknown channel 'colour' (did you mean 'color'?)`.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator

_KINDS = (("layer", "TopLevelLayerSpec"), ("facet", "TopLevelFacetSpec"),
          ("repeat", "TopLevelRepeatSpec"), ("hconcat", "TopLevelHConcatSpec"),
          ("vconcat", "TopLevelVConcatSpec"), ("concat", "TopLevelConcatSpec"),
          ("mark", "TopLevelUnitSpec"))
_MAX_LISTED = 40


@lru_cache(maxsize=8)
def _kind_validator(definition: str) -> Any:
    import jsonschema  # type: ignore[import-untyped]

    from .validation import load_schema

    schema = load_schema()
    sub = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
    return jsonschema.validators.validator_for(schema)(sub)


def spec_kind(spec: dict[str, Any]) -> str:
    """The schema definition a spec's keys select (a unit spec unless it says otherwise)."""
    return next((d for key, d in _KINDS if key in spec), "TopLevelUnitSpec")


def _unknown_keys(error: Any) -> list[str]:
    known = (error.schema.get("properties") or {}) if isinstance(error.schema, dict) else {}
    return [k for k in error.instance if k not in known] if isinstance(error.instance, dict) else []


@dataclass
class _Alternatives:
    """What the rejected branches at each path would have accepted (for the message)."""

    types: dict[tuple[Any, ...], set[str]] = field(default_factory=lambda: defaultdict(set))
    properties: dict[tuple[Any, ...], set[str]] = field(default_factory=lambda: defaultdict(set))
    required: dict[tuple[Any, ...], set[str]] = field(default_factory=lambda: defaultdict(set))


def _score(leaves: list[Any], root: tuple[Any, ...]) -> tuple[bool, int, int]:
    """(wrong JSON type, unknown or missing keys, distinct failing paths): lower is closer.
    Enum alternatives at one path count once - they are options, not separate problems."""
    wrong_type = any(leaf.validator == "type" and tuple(leaf.absolute_path) == root
                     for leaf in leaves)
    unknown = sum(len(_unknown_keys(leaf)) for leaf in leaves
                  if leaf.validator == "additionalProperties")
    unknown += sum(leaf.validator == "required" for leaf in leaves)
    return wrong_type, unknown, len({tuple(leaf.absolute_path) for leaf in leaves})


def _best(error: Any, alt: _Alternatives) -> list[Any]:
    """The leaf errors of the branch(es) of an anyOf/oneOf the instance came closest to
    (see `_score`); what the other branches accept is noted in `alt`."""
    if not error.context:
        return [error]
    root = tuple(error.absolute_path)
    branches: dict[Any, list[Any]] = defaultdict(list)
    for sub in error.context:
        branches[sub.relative_schema_path[0] if sub.relative_schema_path else 0].append(sub)
    scored = []
    for subs in branches.values():
        leaves = [leaf for sub in subs for leaf in _best(sub, alt)]
        for leaf in leaves:
            if tuple(leaf.absolute_path) != root:
                continue
            if leaf.validator == "type":
                value = leaf.validator_value
                alt.types[root] |= {value} if isinstance(value, str) else set(value)
            elif leaf.validator == "additionalProperties" and isinstance(leaf.schema, dict):
                alt.properties[root] |= set(leaf.schema.get("properties") or {})
                alt.required[root] |= set(leaf.schema.get("required") or [])
        scored.append((_score(leaves, root), leaves))
    best = min(score for score, _ in scored)
    return [leaf for score, leaves in scored if score == best for leaf in leaves]


def _where(path: Any) -> str:
    parts: list[str] = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else ("." if parts else "") + str(p))
    return "".join(parts) or "(top level)"


def _listing(values: list[Any]) -> str:
    shown = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values[:_MAX_LISTED])
    return shown + (", ..." if len(values) > _MAX_LISTED else "")


def _suggest(value: Any, allowed: list[Any]) -> str:
    words = [a for a in allowed if isinstance(a, str)]
    close = difflib.get_close_matches(str(value), words, n=1, cutoff=0.5) if words else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def _explain(path: Any, errors: list[Any], alt: _Alternatives) -> str:
    """One message for the errors found at one path."""
    where = _where(path)
    key = tuple(path)
    other_types = alt.types.get(key, set()) - {
        e.validator_value for e in errors if e.validator == "type" and isinstance(e.validator_value, str)}
    alternatives = f", or a value of type {' / '.join(sorted(other_types))}" if other_types else ""
    allowed: list[Any] = []
    for e in errors:
        if e.validator == "enum":
            allowed += [v for v in e.validator_value if v not in allowed]
        elif e.validator == "const" and e.validator_value not in allowed:
            allowed.append(e.validator_value)
    extra = [e for e in errors if e.validator == "additionalProperties"]
    if extra:
        e = extra[0]
        known = sorted(set(e.schema.get("properties") or {}) | alt.properties.get(key, set()))
        bad = [k for k in e.instance if k not in known] if isinstance(e.instance, dict) else []
        name = "channel" if path and list(path)[-1] == "encoding" else "property"
        hints = "; ".join(f"unknown {name} {k!r}{_suggest(k, known)}" for k in bad)
        # many kinds of object may stand here (transforms): name the keys that pick one
        kinds = sorted(alt.required.get(key, set()))
        listing = f"one of {_listing(kinds)}" if len(kinds) > 3 else _listing(known)
        return f"{where}: {hints or e.message}. Allowed: {listing}."
    if allowed:
        value = errors[0].instance
        return (f"{where}: {value!r} is not allowed{_suggest(value, allowed)}. "
                f"Allowed: {_listing(allowed)}{alternatives}.")
    required = [e for e in errors if e.validator == "required"]
    if required:
        return f"{where}: {required[0].message}."
    types = sorted({t for e in errors if e.validator == "type"
                    for t in ([e.validator_value] if isinstance(e.validator_value, str)
                              else e.validator_value)})
    if types:
        return f"{where}: {errors[0].instance!r} has the wrong type; expected {' or '.join(types)}."
    return f"{where}: {errors[0].message[:300]}"


def explain_schema_errors(spec: dict[str, Any], limit: int = 5) -> list[str]:
    """The schema violations of `spec`, deepest path first, each naming value and options."""
    validator = _kind_validator(spec_kind(spec))
    by_path: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    alt = _Alternatives()
    for top in validator.iter_errors(spec):
        leaves = _best(top, alt)
        deepest = max(len(e.absolute_path) for e in leaves)
        for e in leaves:
            if len(e.absolute_path) == deepest:
                by_path[tuple(e.absolute_path)].append(e)
    ordered = sorted(by_path.items(), key=lambda kv: (-len(kv[0]), kv[0].__repr__()))
    # a path inside another reported path says it better: keep only the deepest of a branch
    kept: list[tuple[tuple[Any, ...], list[Any]]] = []
    for path, errors in ordered:
        if not any(k[:len(path)] == path for k, _ in kept):
            kept.append((path, errors))
    return [_explain(path, errors, alt) for path, errors in kept[:limit]]
