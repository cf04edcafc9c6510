"""Datasets of eval cases, read from YAML (the shape pydantic-evals uses).

A dataset file is `name`, `cases` and dataset-wide `evaluators`; a case is `name`,
`inputs`, `expected_output`, `metadata` and its own `evaluators` - the nouns and keys of
pydantic-evals' `Dataset` / `Case`, so a file moves between the two harnesses with its
cases intact. What we add is typing: the inputs of a stage (question, database, stage
context), the expectations a stage is scored on, and metadata (stage, difficulty, tags),
all validated at load time with errors that name the file, the case and the key.

`dataset.schema.json` (next to the bundled datasets; `write_json_schema()` regenerates it)
lets an editor check a file as it is typed: start the file with
`# yaml-language-server: $schema=dataset.schema.json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import DatasetError

Stage = Literal["sql", "chart", "document", "report"]
STAGES: tuple[str, ...] = ("sql", "chart", "document", "report")
BUNDLED = Path(__file__).parent / "datasets"
SCHEMA_FILE = BUNDLED / "dataset.schema.json"

#: an evaluator as a dataset names it: `Name`, `{Name: argument}` or `{Name: {kwargs}}`
EvaluatorSpec = Union[str, dict[str, Any]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Strict):
    """A result column; `kind` is inferred from the values when left out."""

    name: str
    kind: Literal["integer", "number", "string", "boolean", "date", "datetime", "time",
                  "other"] | None = None


class ResultSet(_Strict):
    """Rows a chart or document stage is given, as the SQL stage would have produced them."""

    columns: list[Union[str, Column]] = Field(min_length=1)
    rows: list[list[Any]]

    @model_validator(mode="after")
    def _rows_fit(self) -> "ResultSet":
        width = len(self.columns)
        for number, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(f"row {number} has {len(row)} values for {width} columns")
        return self


class StageContext(_Strict):
    """What an isolated stage gets from upstream: the SQL and its result, extra prompt
    variables. A chart/document case gives `result`, or `sql` to run on `database`."""

    sql: str | None = None
    result: ResultSet | None = None
    variables: dict[str, Any] = Field(default_factory=dict)


class Inputs(_Strict):
    question: str = Field(min_length=1)
    #: `demo`, `shop` (bundled SQLite databases), a SQLite path or a SQLAlchemy URL
    database: str | None = None
    context: StageContext = Field(default_factory=StageContext)


class Fact(_Strict):
    """A fact the document must state: a phrase, or a figure (relative tolerance)."""

    text: str | None = None
    value: float | None = None
    tolerance: float = Field(default=0.005, ge=0, le=1)

    @model_validator(mode="after")
    def _one_kind(self) -> "Fact":
        if (self.text is None) == (self.value is None):
            raise ValueError("a fact has exactly one of `text` or `value`")
        return self


class Expected(_Strict):
    """What the stage is scored against; each evaluator reads the keys it needs."""

    sql: str | None = None
    chart_type: Union[str, list[str], None] = None
    encoding: dict[str, str] | None = None
    facts: list[Union[str, Fact]] | None = None

    def chart_types(self) -> list[str]:
        value = self.chart_type
        return [] if value is None else [value] if isinstance(value, str) else list(value)

    def fact_list(self) -> list[Fact]:
        return [Fact(text=f) if isinstance(f, str) else f for f in self.facts or ()]


class Metadata(_Strict):
    stage: Stage
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    tags: list[str] = Field(default_factory=list)
    notes: str = ""


class Case(_Strict):
    """One eval case (pydantic-evals' `Case` keys, with typed values)."""

    name: str = Field(min_length=1)
    inputs: Inputs
    expected_output: Expected = Field(default_factory=Expected)
    metadata: Metadata
    evaluators: list[EvaluatorSpec] = Field(default_factory=list)


class Dataset(_Strict):
    """A named list of cases plus the evaluators every case is scored with."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = "dataset"
    cases: list[Case]
    evaluators: list[EvaluatorSpec] = Field(default_factory=list)
    json_schema_path: str | None = Field(default=None, alias="$schema")
    #: where the file was read from (relative database paths resolve against it)
    source: str | None = Field(default=None, exclude=True)

    @classmethod
    def from_file(cls, path: str | Path) -> "Dataset":
        return load_dataset(path)

    def select(self, names: Iterable[str] | None = None, *, stage: str | None = None,
               tags: Iterable[str] | None = None) -> "Dataset":
        """A copy with only the cases named, of `stage`, or carrying one of `tags`."""
        wanted, tagset = set(names or ()), set(tags or ())
        cases = [c for c in self.cases
                 if (not wanted or c.name in wanted)
                 and (stage is None or c.metadata.stage == stage)
                 and (not tagset or tagset & set(c.metadata.tags))]
        return self.model_copy(update={"cases": cases})


def load_dataset(path: str | Path) -> Dataset:
    """Read and validate a dataset file (YAML or JSON); `DatasetError` names what is wrong."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    try:
        data = yaml.safe_load(text) if path.suffix != ".json" else json.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise DatasetError(f"not valid YAML/JSON: {' '.join(str(exc).split())}",
                           path=path) from exc
    return dataset_from_data(data, path=path)


def dataset_from_data(data: Any, *, path: str | Path | None = None) -> Dataset:
    """Validate already-parsed data; errors name `path`, the case and the key."""
    if not isinstance(data, dict):
        raise DatasetError(f"a dataset is a mapping with `cases`, not {type(data).__name__}",
                           path=path)
    try:
        dataset = Dataset.model_validate({**data, "source": str(path) if path else None})
    except ValidationError as exc:
        raise _located(exc, data, path) from None
    seen: set[str] = set()
    for case in dataset.cases:
        if case.name in seen:
            raise DatasetError("a second case with this name (names must be unique)",
                               path=path, case=case.name, key="name")
        seen.add(case.name)
    from .registry import check_specs

    check_specs(dataset.evaluators, path=path, case=None)
    for case in dataset.cases:
        check_specs(case.evaluators, path=path, case=case.name)
    return dataset


def _located(exc: ValidationError, data: dict[str, Any], path: str | Path | None) -> DatasetError:
    """The first validation error as file + case + key (of a union's failed branches, the
    one that got furthest: `{text: x, value: 3}` is a bad Fact, not a bad string)."""
    errors = exc.errors()
    first = errors[0]["loc"][:2]
    error = max((e for e in errors if e["loc"][:2] == first),
                key=lambda e: (len(e["loc"]), e["loc"][-1] not in ("str", "int", "float")))
    loc = [str(p) for p in error["loc"]]
    case: str | None = None
    if len(loc) >= 2 and loc[0] == "cases" and loc[1].isdigit():
        index = int(loc[1])
        raw = data.get("cases") or []
        name = raw[index].get("name") if index < len(raw) and isinstance(raw[index], dict) else None
        case = str(name) if name else f"#{index + 1}"
        loc = loc[2:]
    # union members add their type names to the path; keep only real keys and indexes
    keys = [p for p in loc if not p.startswith(("str", "list[", "dict[", "function-", "Column",
                                                "Fact", "ResultSet"))]
    key = ".".join(keys) or None
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return DatasetError(f"{error['msg']}{more}", path=path, case=case, key=key)


def dataset_json_schema() -> dict[str, Any]:
    """The JSON schema of a dataset file, with the known evaluators and their arguments."""
    from .registry import evaluator_schemas

    schema = Dataset.model_json_schema(by_alias=True)
    schema["properties"].pop("source", None)
    one_of = evaluator_schemas()
    schema.setdefault("$defs", {})["EvaluatorSpec"] = {"anyOf": one_of}
    ref = {"$ref": "#/$defs/EvaluatorSpec"}
    schema["properties"]["evaluators"]["items"] = ref
    schema["$defs"]["Case"]["properties"]["evaluators"]["items"] = ref
    schema["title"] = "stageagent eval dataset"
    return schema


def write_json_schema(path: str | Path = SCHEMA_FILE) -> Path:
    path = Path(path)
    path.write_text(json.dumps(dataset_json_schema(), indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")
    return path


def bundled(name: str) -> Path:
    """The path of a bundled dataset (`sql_demo`, `chart`, ...)."""
    path = BUNDLED / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in BUNDLED.glob("*.yaml")))
        raise DatasetError(f"no bundled dataset {name!r} (bundled: {known})", path=path)
    return path
