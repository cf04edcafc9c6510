"""Schema discovery: what tables and columns exist, how they join, what the data looks like.

SQLAlchemy's inspector reads tables, columns, types, keys and comments for all tables at
once; one `LIMIT` query per table adds a few sample values per column (sample values let
the model write `WHERE status = 'shipped'` instead of guessing the spelling). Row counts
come from `rowcounts.py`: catalogue estimates for big tables, exact counts for small
ones. The result is cached on the `Database` (`Database.schema()`), because schemas rarely
change during a run.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DBAPIError

from stageagent.exceptions import ToolError
from stageagent.function_tools import ToolContext, tool

from .database import DatabaseError, translate_error
from .functions import engine_functions
from .rowcounts import row_counts
from .schema_budget import SCHEMA_TOKEN_BUDGET, fit_schema, quote_name

if TYPE_CHECKING:
    from .database import Database

SAMPLE_ROWS = 50
SAMPLES_PER_COLUMN = 3


class ColumnSchema(BaseModel):
    name: str
    type: str
    nullable: bool = True
    primary_key: bool = False
    comment: str | None = None
    samples: list[Any] = Field(default_factory=list)


class ForeignKey(BaseModel):
    columns: list[str]
    ref_table: str
    ref_columns: list[str]


class TableSchema(BaseModel):
    name: str
    columns: list[ColumnSchema]
    foreign_keys: list[ForeignKey] = Field(default_factory=list)
    row_count: int | None = None
    #: True when `row_count` is the engine's catalogue estimate, not a COUNT(*)
    row_count_estimated: bool = False
    comment: str | None = None

    def column(self, name: str) -> ColumnSchema | None:
        """Case-insensitive lookup (SQL folds unquoted identifiers)."""
        low = name.lower()
        return next((c for c in self.columns if c.name.lower() == low), None)


class Schema(BaseModel):
    """Every table of one database (or one schema of it), as discovered."""

    dialect: str
    tables: dict[str, TableSchema] = Field(default_factory=dict)
    #: function names the database itself reports (None when it cannot list them)
    functions: frozenset[str] | None = None
    #: MySQL/MariaDB with lower_case_table_names = 0: `artist` is not the table `Artist`
    table_names_case_sensitive: bool = False

    def table(self, name: str) -> TableSchema | None:
        if name in self.tables:
            return self.tables[name]
        low = name.lower()
        return next((t for n, t in self.tables.items() if n.lower() == low), None)

    def mapping(self) -> dict[str, dict[str, str]]:
        """`{table: {column: type}}` for sqlglot's `MappingSchema`."""
        return {t.name: {c.name: c.type for c in t.columns} for t in self.tables.values()}

    def render(self, tables: list[str] | None = None, *, samples: bool = True) -> str:
        """Compact text for a prompt: one block per table, FKs and samples inline."""
        blocks = []
        for name in tables if tables is not None else list(self.tables):
            t = self.table(name)
            if t is None:
                continue
            head = f"TABLE {quote_name(t.name, self.dialect)}"
            if t.row_count is not None:
                head += f" (~{t.row_count} rows, estimate)" if t.row_count_estimated \
                    else f" ({t.row_count} rows)"
            if t.comment:
                head += f" -- {t.comment}"
            lines = [head]
            fks = {c: fk for fk in t.foreign_keys for c in fk.columns}
            for c in t.columns:
                line = f"  {quote_name(c.name, self.dialect)} {c.type}"
                if c.primary_key:
                    line += " PK"
                if c.name in fks:
                    fk = fks[c.name]
                    line += f" -> {quote_name(fk.ref_table, self.dialect)}.{quote_name(fk.ref_columns[fk.columns.index(c.name)], self.dialect)}"
                if not c.nullable and not c.primary_key:
                    line += " NOT NULL"
                extras = []
                if c.comment:
                    extras.append(c.comment)
                if samples and c.samples:
                    extras.append("e.g. " + ", ".join(repr(s) for s in c.samples))
                if extras:
                    line += "  -- " + "; ".join(extras)
                lines.append(line)
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


def _sample_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return None
    if isinstance(value, str) and len(value) > 40:
        return value[:37] + "..."
    return value


def _catalogue(insp: Any, schema_name: str | None) -> dict[str, dict[str, Any]]:
    """Columns, primary key, foreign keys and comment of every table, in bulk calls."""
    def by_table(found: dict) -> dict[str, Any]:
        return {key[1]: value for key, value in found.items()}

    columns = by_table(insp.get_multi_columns(schema=schema_name))
    pks = by_table(insp.get_multi_pk_constraint(schema=schema_name))
    fks = by_table(insp.get_multi_foreign_keys(schema=schema_name))
    try:
        comments = by_table(insp.get_multi_table_comment(schema=schema_name))
    except NotImplementedError:
        comments = {}
    return {name: {"columns": cols,
                   "pk": set((pks.get(name) or {}).get("constrained_columns") or []),
                   "fks": fks.get(name) or [],
                   "comment": (comments.get(name) or {}).get("text")}
            for name, cols in columns.items()}


def _table(name: str, info: dict[str, Any], sample: list[Any],
           count: tuple[int | None, bool]) -> TableSchema:
    columns = []
    for index, c in enumerate(info["columns"]):
        values: list[Any] = []
        for row in sample:
            v = _sample_value(row[index])
            if v is not None and v not in values:
                values.append(v)
            if len(values) == SAMPLES_PER_COLUMN:
                break
        columns.append(ColumnSchema(
            name=c["name"], type=str(c["type"]), nullable=bool(c.get("nullable", True)),
            primary_key=c["name"] in info["pk"], comment=c.get("comment"), samples=values))
    return TableSchema(
        name=name, columns=columns, row_count=count[0], row_count_estimated=count[1],
        comment=info["comment"],
        foreign_keys=[ForeignKey(columns=fk["constrained_columns"], ref_table=fk["referred_table"],
                                 ref_columns=fk["referred_columns"]) for fk in info["fks"]])


def _case_sensitive_tables(conn: Any, backend: str) -> bool:
    if backend != "mysql":
        return False
    try:
        return int(conn.exec_driver_sql("SELECT @@lower_case_table_names").scalar() or 0) == 0
    except DBAPIError:
        conn.rollback()
        return False


def discover_schema(db: "Database") -> Schema:
    """Read the whole schema of `db` (tables, keys, comments, row counts, samples)."""
    schema_name = db.schema_name
    conn = db.connect()
    try:
        insp = sa_inspect(conn)
        preparer = conn.dialect.identifier_preparer
        catalogue = _catalogue(insp, schema_name)
        counts = row_counts(conn, db.backend, schema_name, list(catalogue))
        tables: dict[str, TableSchema] = {}
        for name in sorted(catalogue):
            qualified = preparer.quote(name)
            if schema_name:
                qualified = f"{preparer.quote_schema(schema_name)}.{qualified}"
            sample = conn.exec_driver_sql(
                f"SELECT * FROM {qualified} LIMIT {SAMPLE_ROWS}").fetchall()
            tables[name] = _table(name, catalogue[name], sample, counts[name])
        functions = engine_functions(conn, db.backend)
        case_sensitive = _case_sensitive_tables(conn, db.backend)
    except DBAPIError as exc:
        raise translate_error(exc, db.url) from exc
    finally:
        conn.rollback()
        conn.close()
    return Schema(dialect=db.dialect, tables=tables, functions=functions,
                  table_names_case_sensitive=case_sensitive)


def describe_schema(db: "Database", tables: list[str] | None = None, *,
                    refresh: bool = False, budget: int | None = None) -> str:
    """The schema (or the named tables) as prompt text within a token budget; unknown
    names raise ToolError. A big schema comes back as one short line per table."""
    schema = db.schema(refresh=refresh)
    if tables:
        unknown = [t for t in tables if schema.table(t) is None]
        if unknown:
            raise ToolError(f"unknown table(s) {', '.join(unknown)}; available: "
                            f"{', '.join(_first(schema.tables, 40))}")
        tables = [schema.table(t).name for t in tables]  # type: ignore[union-attr]
    header = f"Dialect: {db.dialect}. {len(schema.tables)} table(s)."
    return fit_schema(schema, tables or list(schema.tables), header,
                      budget or SCHEMA_TOKEN_BUDGET, detail_first=bool(tables))


def _first(names: Any, n: int) -> list[str]:
    names = list(names)
    return names[:n] + ([f"... ({len(names) - n} more)"] if len(names) > n else [])


def database_from(ctx: ToolContext) -> "Database":
    """The run's `Database` (`ctx.deps.database`), or a ToolError saying it is missing."""
    db = getattr(ctx.deps, "database", None)
    if db is None:
        raise ToolError("no database configured for this run (ctx.deps.database is missing)")
    return db


@tool(read_only=True)
def schema_discovery(ctx: ToolContext, tables: list[str] | None = None,
                     refresh: bool = False) -> str:
    """List the database's tables with columns, types, keys, row counts and sample values.

    A schema too big to show in full comes back as one line per table; then ask for the
    tables you need (or use schema_retrieval with the question).

    Args:
        tables: only these tables (default: all). Use schema_retrieval first on big schemas.
        refresh: re-read the schema instead of using the cached copy.
    """
    try:
        return describe_schema(database_from(ctx), tables, refresh=refresh)
    except DatabaseError as exc:
        raise ToolError(str(exc)) from exc
