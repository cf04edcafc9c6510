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
from .schema_errors import explain_schema_errors

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "vega-lite-v5.schema.json"
_MAX_SCHEMA_ERRORS = 5
# transforms that add fields to the data, and the keys naming them
_DERIVED_KEYS = ("as",)


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The Vega-Lite v5 JSON schema (read on first use)."""
    with SCHEMA_PATH.open(encoding="utf-8") as f:
        return json.load(f)


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


def schema_errors(spec: dict[str, Any]) -> list[str]:
    """Vega-Lite schema violations, deepest first, each with its path and the allowed values."""
    return explain_schema_errors(spec, _MAX_SCHEMA_ERRORS)


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


_TEXT_AGGREGATES = ("count", "distinct", "valid", "missing", "values")
_ORDER_AGGREGATES = ("min", "max", "argmin", "argmax")
#: numbers this large are epoch milliseconds (after March 1973), a real time
_EPOCH_MS_FLOOR = 1e11


def _numeric(value: Any) -> bool:
    """A number, or a string a Vega expression coerces to one ("12.5")."""
    if is_number(value):
        return True
    try:
        return isinstance(value, str) and value.strip() != "" and float(value) == float(value)
    except ValueError:
        return False
_MEASURE_CHANNELS = ("theta", "size", "radius")
_LENGTH_MARKS = ("bar", "line", "area", "arc", "trail")


def _example(values: list[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def _type_problem(where: str, name: str, vl_type: str, values: list[Any], role: str) -> str | None:
    """Why `values` cannot be drawn as `vl_type` (None when they can)."""
    present = [v for v in values if v is not None]
    if vl_type == "quantitative" and not (role == "quantitative" or (
            present and all(_numeric(v) for v in present))):
        return (f"{where}: field {name!r} is encoded as quantitative but its values are "
                f"{role} (e.g. {_example(values)!r}).")
    if vl_type == "temporal":
        if present and all(is_number(v) for v in present) and not all(
                abs(v) >= _EPOCH_MS_FLOOR for v in present):  # epoch milliseconds are fine
            first = _example(values)
            return (f"{where}: field {name!r} holds numbers (e.g. {first!r}) encoded as temporal; "
                    f"Vega-Lite reads a number as epoch milliseconds ({first!r} -> "
                    "1970-01-01), so the axis shows nonsense. Use type 'ordinal' for years or "
                    "counts, or give it real dates ('2024-01-01').")
        if role != "temporal" and not (present and all(
                is_iso_temporal(v) or (isinstance(v, str) and v.strip().isdigit() and len(v.strip()) == 4)
                or (is_number(v) and abs(v) >= _EPOCH_MS_FLOOR) for v in present)):
            return (f"{where}: field {name!r} is encoded as temporal but its values are "
                    f"{role} (e.g. {_example(values)!r}).")
    return None


def _aggregate_problem(where: str, name: str, definition: dict[str, Any], values: list[Any],
                       role: str) -> str | None:
    """`sum` of a text column, or a summed measure typed as a category."""
    aggregate = definition.get("aggregate")
    if not isinstance(aggregate, str) or aggregate in _TEXT_AGGREGATES:
        return None
    present = [v for v in values if v is not None]
    if aggregate in _ORDER_AGGREGATES and present and all(
            is_iso_temporal(v) or _numeric(v) for v in present):
        return None  # the latest date, the largest value
    if present and not all(_numeric(v) for v in present):
        return (f"{where}: aggregate {aggregate!r} of field {name!r}, whose values are text "
                f"(e.g. {_example(values)!r}): only count/distinct apply to a category. "
                "Aggregate a numeric column, or use aggregate 'count'.")
    if definition.get("type") in ("nominal", "ordinal") and aggregate not in ("min", "max"):
        return (f"{where}: field {name!r} is aggregated with {aggregate!r} (a quantity) but "
                f"typed {definition['type']!r}; use type 'quantitative'.")
    return None


def _measure_as_category(where: str, name: str, definition: dict[str, Any], role: str,
                         mark: str | None, other_role: str | None) -> str | None:
    """A measure typed nominal where a length or an angle needs a quantity."""
    if role != "quantitative" or definition.get("type") not in ("nominal", "ordinal"):
        return None
    channel = where.rsplit(".", 1)[-1]
    if channel in _MEASURE_CHANNELS or (
            mark in _LENGTH_MARKS and channel in ("x", "y") and other_role in
            ("nominal", "ordinal", "temporal")):
        return (f"{where}: field {name!r} is a measure but typed {definition['type']!r}: "
                f"every value becomes its own category and the {mark or 'chart'} shows no "
                "quantity. Use type 'quantitative'.")
    return None


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
        if definition.get("aggregate") in _TEXT_AGGREGATES:
            continue
        problem = _aggregate_problem(where, name, definition, column_values, role) or \
            (_type_problem(where, name, vl_type, column_values, role)
             if isinstance(vl_type, str) and "aggregate" not in definition else None) or \
            _measure_as_category(where, name, definition, role, _mark(spec, where),
                                 _other_position_role(spec, where, rows, result_kinds))
        if problem:
            errors.append(problem)
        elif vl_type is None and "aggregate" not in definition:
            warnings.append(f"{where}: field {name!r} has no type; state it explicitly.")
    return errors, warnings


def _unit_of(spec: dict[str, Any], where: str) -> dict[str, Any]:
    """The (sub)spec an encoding path like `layer[0].encoding.x` belongs to."""
    node: Any = spec
    for part in where.split(".encoding")[0].split(".") if ".encoding" in where else []:
        key, _, index = part.partition("[")
        node = node.get(key) if isinstance(node, dict) else None
        if index and isinstance(node, list):
            node = node[int(index.rstrip("]"))]
    return node if isinstance(node, dict) else spec


def _mark(spec: dict[str, Any], where: str) -> str | None:
    mark = _unit_of(spec, where).get("mark", spec.get("mark"))
    mark = mark.get("type") if isinstance(mark, dict) else mark
    return mark if isinstance(mark, str) else None


def _other_position_role(spec: dict[str, Any], where: str, rows: list[dict[str, Any]],
                         kinds: dict[str, ColumnInfo]) -> str | None:
    """The role of the other position channel (y for x, x for y), if it encodes a field."""
    channel = where.rsplit(".", 1)[-1]
    if channel not in ("x", "y"):
        return None
    other = (_unit_of(spec, where).get("encoding") or {}).get("y" if channel == "x" else "x")
    if not isinstance(other, dict) or not isinstance(other.get("field"), str):
        return None
    if isinstance(other.get("type"), str):
        return str(other["type"])
    name = other["field"]
    return infer_role(kinds.get(name, ColumnInfo(name=name)), [r.get(name) for r in rows])


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
