"""Spec validation: the Vega-Lite v5 JSON schema AND the fields against the data.

The schema alone is not enough: `{"field": "revenu"}` is schema-valid and renders an empty
chart without any error. So every encoded field must be a column of the inline data (and
of the SQL result when there is one), with a type its values can carry.

The schema is vendored (`tools/data/vega-lite-v5.schema.json`, Vega-Lite 5.20.1, BSD-3
licensed, taken from the altair 5.5 wheel): loaded lazily, once, with the validator
compiled once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from ..results import ColumnInfo, QueryResult
from .analysis import infer_role, is_iso_temporal, is_number

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "vega-lite-v5.schema.json"
_MAX_SCHEMA_ERRORS = 5
# transforms that add fields to the data, and the keys naming them
_DERIVED_KEYS = ("as",)


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The Vega-Lite v5 JSON schema (read on first use)."""
    with SCHEMA_PATH.open(encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = load_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


@dataclass
class ValidationReport:
    """Outcome of `validate_spec`: valid only when both the schema and the fields pass."""

    schema_errors: list[str] = field(default_factory=list)
    field_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.schema_errors and not self.field_errors

    @property
    def errors(self) -> list[str]:
        return self.schema_errors + self.field_errors

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, **asdict(self)}


def _where(path: Any) -> str:
    return "/".join(str(p) for p in path) or "(top level)"


def schema_errors(spec: dict[str, Any]) -> list[str]:
    """Vega-Lite schema violations, most relevant first, each with its JSON path."""
    from jsonschema.exceptions import best_match, relevance

    errors = sorted(_validator().iter_errors(spec), key=relevance)
    messages = []
    for error in errors[:_MAX_SCHEMA_ERRORS]:
        # anyOf/oneOf errors hide the useful message in their context
        best = best_match([error] + list(error.context or [])) if error.context else error
        messages.append(f"{_where(best.absolute_path)}: {best.message[:300]}")
    return messages


def _encodings(spec: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (channel path, field definition) of a spec, through layers and concats."""
    if not isinstance(spec, dict):
        return
    for channel, definition in (spec.get("encoding") or {}).items():
        defs = definition if isinstance(definition, list) else [definition]
        for i, d in enumerate(defs):
            if isinstance(d, dict):
                where = f"{path}encoding.{channel}" + (f"[{i}]" if isinstance(definition, list) else "")
                yield where, d
                if isinstance(d.get("condition"), dict):
                    yield where + ".condition", d["condition"]
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for i, sub in enumerate(spec.get(key) or []):
            yield from _encodings(sub, f"{path}{key}[{i}].")
    if isinstance(spec.get("spec"), dict):
        yield from _encodings(spec["spec"], f"{path}spec.")


def _derived_fields(spec: Any) -> set[str]:
    """Fields created by transforms (calculate/aggregate/window/fold... `as`)."""
    found: set[str] = set()
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in _DERIVED_KEYS:
                found.update([value] if isinstance(value, str) else
                             [v for v in value if isinstance(v, str)] if isinstance(value, list)
                             else [])
            else:
                found |= _derived_fields(value)
    elif isinstance(spec, list):
        for item in spec:
            found |= _derived_fields(item)
    return found


def _type_fits(vl_type: str, values: list[Any], role: str) -> bool:
    present = [v for v in values if v is not None]
    if vl_type == "quantitative":
        return role == "quantitative" or (bool(present) and all(is_number(v) for v in present))
    if vl_type == "temporal":
        return role == "temporal" or (bool(present) and all(
            is_iso_temporal(v) or (isinstance(v, int) and 1000 <= v <= 3000) for v in present))
    return True  # nominal / ordinal: any value can be a category


def field_errors(spec: dict[str, Any], result: QueryResult | None = None) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the encoded fields against the inline data and the result."""
    errors: list[str] = []
    warnings: list[str] = []
    data = spec.get("data") if isinstance(spec, dict) else None
    if not isinstance(data, dict) or "values" not in data:
        if isinstance(data, dict) and "url" in data:
            errors.append("data.url: external data is not allowed; the rows must be inline in "
                          "data.values (chart_generator does this from the SQL result).")
        else:
            errors.append("data.values is missing: the spec must carry the result rows inline.")
        return errors, warnings
    values = data["values"]
    if not isinstance(values, list) or not values:
        errors.append("data.values is empty: the chart would be blank.")
        return errors, warnings
    rows = [r for r in values if isinstance(r, dict)]
    data_columns = list(dict.fromkeys(k for r in rows for k in r))
    result_columns = result.column_names if result is not None else None
    known = set(data_columns) | _derived_fields(spec.get("transform"))
    listing = ", ".join(result_columns if result_columns is not None else data_columns)
    result_kinds = {c.name: c for c in result.columns} if result is not None else {}
    for where, definition in _encodings(spec):
        name = definition.get("field")
        if name is None:
            continue
        if not isinstance(name, str):
            continue  # repeat references are resolved by Vega-Lite itself
        lookup = name.replace("\\.", ".")
        if lookup not in known:
            errors.append(f"{where}: field {name!r} is not a column of the result (an unknown "
                          f"field renders an empty chart). Columns: {listing}.")
            continue
        if lookup not in data_columns:
            continue  # derived by a transform: its type is the transform's business
        if result_columns is not None and lookup not in result_columns:
            warnings.append(f"{where}: field {name!r} is in data.values but not in the SQL result.")
        column_values = [r.get(lookup) for r in rows]
        info = result_kinds.get(lookup, ColumnInfo(name=lookup))
        role = infer_role(info, column_values)
        vl_type = definition.get("type")
        if definition.get("aggregate") in ("count", "distinct", "valid", "missing"):
            continue
        if isinstance(vl_type, str) and not _type_fits(vl_type, column_values, role):
            errors.append(f"{where}: field {name!r} is encoded as {vl_type} but its values are "
                          f"{role} (e.g. {next((v for v in column_values if v is not None), None)!r}).")
        elif vl_type is None and "aggregate" not in definition:
            warnings.append(f"{where}: field {name!r} has no type; state it explicitly.")
    return errors, warnings


def validate_spec(spec: Any, result: QueryResult | None = None) -> ValidationReport:
    """Check `spec` against the Vega-Lite v5 schema and its fields against the data."""
    if not isinstance(spec, dict):
        return ValidationReport(schema_errors=[f"a Vega-Lite spec is a JSON object, got "
                                               f"{type(spec).__name__}"])
    report = ValidationReport(schema_errors=schema_errors(spec))
    report.field_errors, report.warnings = field_errors(spec, result)
    if not report.errors and next(_encodings(spec), None) is None:
        report.warnings.append("The spec encodes nothing.")
    return report
