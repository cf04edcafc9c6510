"""Static validation of model-written SQL against the discovered schema, in the db's dialect.

Catches what would otherwise cost a database round trip and a confusing driver message:
syntax errors (with line/column), tables and columns that do not exist (with the closest
real names), ambiguous columns, unknown functions, and anything the read-only guard
refuses. Identifier case follows the dialect: PostgreSQL folds unquoted names to lower
case, so `SKU` does not match the column `"SKU"` there; MySQL and SQLite ignore case.
"""

from __future__ import annotations

import difflib
from typing import Iterable, Literal

import sqlglot
from pydantic import BaseModel, Field
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from stageagent.exceptions import ToolError
from stageagent.function_tools import ToolContext, tool

from .guard import check_read_only, function_name
from .schema import Schema, TableSchema, database_from

IssueKind = Literal["syntax", "unsafe", "unknown_table", "unknown_column", "ambiguous_column",
                    "unknown_function", "other"]
SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "mysql", "performance_schema", "sys"}
SYSTEM_TABLES = {"sqlite_master", "sqlite_schema", "sqlite_sequence", "dual"}

#: common functions sqlglot leaves untyped; MySQL cannot list its built-ins, so unknown
#: functions are only warnings there
_KNOWN_UNTYPED = {"mysql": {"date_format", "str_to_date", "ifnull", "curdate", "curtime",
                            "monthname", "dayname", "weekofyear", "yearweek", "last_day",
                            "timestampdiff", "timestampadd", "format", "group_concat",
                            "field", "elt", "char_length", "locate", "instr", "lpad", "rpad",
                            "truncate", "json_extract", "json_unquote", "date_add",
                            "date_sub", "datediff", "quarter", "week", "weekday", "now",
                            "uuid", "database", "version", "from_days", "to_days",
                            "period_diff", "makedate", "extract", "sec_to_time",
                            "time_to_sec", "regexp_replace", "regexp_substr",
                            "any_value", "bit_and", "bit_or", "std", "stddev_samp",
                            "var_samp", "greatest", "least", "nullif", "coalesce"}}


class ValidationIssue(BaseModel):
    kind: IssueKind
    message: str
    name: str | None = None
    line: int | None = None
    col: int | None = None
    suggestions: list[str] = Field(default_factory=list)


class ValidationResult(BaseModel):
    """`valid` is True when there are no errors (warnings do not block)."""

    valid: bool
    dialect: str
    errors: list[ValidationIssue] = Field(default_factory=list)
    warnings: list[ValidationIssue] = Field(default_factory=list)
    qualified_sql: str | None = None
    tables: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        if self.valid:
            return "valid" + (f" ({len(self.warnings)} warning(s))" if self.warnings else "")
        return "; ".join(e.message for e in self.errors)


def match_name(name: str, quoted: bool, candidates: Iterable[str], dialect: str) -> str | None:
    """The candidate `name` refers to under the dialect's identifier-case rules."""
    cands = list(candidates)
    if dialect == "postgres":
        wanted = name if quoted else name.lower()
        return wanted if wanted in cands else None
    low = name.lower()
    return next((c for c in cands if c.lower() == low), None)


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Nearest names by difflib ratio, case-insensitive."""
    cands = list(candidates)
    by_low: dict[str, str] = {}
    for c in cands:
        by_low.setdefault(c.lower(), c)
    hits = difflib.get_close_matches(name.lower(), list(by_low), n=n, cutoff=0.6)
    return [by_low[h] for h in hits]


def _pos(node: exp.Expression) -> tuple[int | None, int | None]:
    meta = getattr(node, "meta", None) or {}
    ident = node.this if isinstance(node, (exp.Column, exp.Table)) else node
    meta = getattr(ident, "meta", None) or meta
    return meta.get("line"), meta.get("col")


def _ident(node: exp.Expression) -> exp.Identifier | None:
    this = node.this if isinstance(node, (exp.Column, exp.Table)) else node
    return this if isinstance(this, exp.Identifier) else None


class _Checker:
    def __init__(self, schema: Schema, dialect: str):
        self.schema = schema
        self.dialect = dialect
        self.errors: list[ValidationIssue] = []
        self.warnings: list[ValidationIssue] = []
        self.tables: list[str] = []
        self._sources: dict[int, dict[str, list[str] | None]] = {}

    def issue(self, kind: IssueKind, message: str, node: exp.Expression | None = None,
              name: str | None = None, suggestions: list[str] | None = None,
              warning: bool = False) -> None:
        line, col = _pos(node) if node is not None else (None, None)
        where = f" (line {line}, column {col})" if line else ""
        target = self.warnings if warning else self.errors
        issue = ValidationIssue(kind=kind, message=message + where, name=name, line=line,
                                col=col, suggestions=suggestions or [])
        if issue not in target:
            target.append(issue)

    def table_of(self, node: exp.Table) -> TableSchema | None | Literal[False]:
        """The schema table a Table node names; False = not checkable (system/function)."""
        ident = _ident(node)
        if ident is None:
            return False
        if node.db and node.db.lower() in SYSTEM_SCHEMAS or node.name.lower() in SYSTEM_TABLES:
            return False
        found = match_name(ident.name, ident.quoted, self.schema.tables, self.dialect)
        if found is None:
            return None
        if found not in self.tables:
            self.tables.append(found)
        return self.schema.tables[found]

    def sources_of(self, scope: Scope) -> dict[str, list[str] | None]:
        """alias -> column names of each FROM source of `scope` (None = not checkable)."""
        if id(scope) in self._sources:
            return self._sources[id(scope)]
        columns_of: dict[str, list[str] | None] = {}
        for alias, source in scope.sources.items():
            if isinstance(source, exp.Table):
                table = self.table_of(source)
                if table is None:
                    self.issue("unknown_table", f"unknown table {source.name!r}", source,
                               source.name, closest(source.name, self.schema.tables))
                columns_of[alias] = [c.name for c in table.columns] if table else None
            elif isinstance(source, Scope):
                sel = source.expression
                star = isinstance(sel, exp.Select) and any(
                    isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star)
                    for e in sel.expressions)
                columns_of[alias] = None if star else list(sel.named_selects)
            else:
                columns_of[alias] = None
        self._sources[id(scope)] = columns_of
        return columns_of

    def chain(self, scope: Scope) -> list[dict[str, list[str] | None]]:
        """The sources of `scope`, then of each enclosing scope (correlated subqueries)."""
        out, current = [], scope
        while current is not None:
            out.append(self.sources_of(current))
            current = current.parent
        return out

    def check_scope(self, scope: Scope) -> None:
        chain = self.chain(scope)
        columns_of = chain[0]
        select = scope.expression
        aliases = {e.alias for e in select.expressions if isinstance(e, exp.Alias)} \
            if isinstance(select, exp.Select) else set()
        for column in scope.columns:
            ident = _ident(column)
            if ident is None or column.is_star:
                continue
            if isinstance(select, exp.Select) and column.find_ancestor(exp.Select) is not select:
                continue  # belongs to a nested scope; checked there
            name = ident.name
            if column.table:
                level = next((lv for lv in chain if column.table in lv), None)
                known = level[column.table] if level is not None \
                    else self._missing_alias(column, columns_of)
                if known is not None and match_name(name, ident.quoted, known,
                                                    self.dialect) is None:
                    self.issue("unknown_column", f"unknown column {name!r} in "
                               f"{column.table!r}{self._case_hint(name, known)}", column, name,
                               closest(name, known))
                continue
            for level in chain:
                holders = [a for a, cols in level.items()
                           if cols is not None and match_name(name, ident.quoted, cols,
                                                              self.dialect)]
                if holders or any(cols is None for cols in level.values()):
                    break
            if len(holders) > 1:
                self.issue("ambiguous_column", f"column {name!r} is ambiguous (in "
                           f"{', '.join(holders)}); qualify it", column, name,
                           [f"{h}.{name}" for h in holders])
            elif not holders and all(c is not None for lv in chain for c in lv.values()) \
                    and match_name(name, ident.quoted, aliases, self.dialect) is None:
                every = sorted({c for cols in columns_of.values() for c in cols or []})
                self.issue("unknown_column", f"unknown column {name!r}"
                           f"{self._case_hint(name, every)}", column, name,
                           closest(name, every))

    def _case_hint(self, name: str, candidates: list[str]) -> str:
        same = [c for c in candidates if c.lower() == name.lower() and c != name.lower()]
        if self.dialect == "postgres" and same:
            return f" (PostgreSQL folds unquoted names to lower case; write \"{same[0]}\")"
        return ""

    def _missing_alias(self, column: exp.Column, columns_of: dict) -> None:
        self.issue("unknown_table", f"{column.table!r} (in {column.sql(self.dialect)}) is "
                   "not a table or alias in this FROM clause", column, column.table,
                   closest(column.table, list(columns_of)))
        return None

    def check_functions(self, tree: exp.Expression) -> None:
        known = self.schema.functions
        untyped = _KNOWN_UNTYPED.get(self.dialect, set())
        for node in tree.find_all(exp.Anonymous):
            name = function_name(node)
            if name in untyped or (known is not None and name in known):
                continue
            pool = known if known is not None else untyped
            self.issue("unknown_function", f"unknown function {name}()", node, name,
                       closest(name, pool), warning=known is None)


def validate_sql(sql: str, schema: Schema, dialect: str | None = None) -> ValidationResult:
    """Parse, guard, and check every table, column and function of `sql` against `schema`."""
    dialect = dialect or schema.dialect
    result = ValidationResult(valid=False, dialect=dialect)
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        for err in exc.errors[:3]:
            result.errors.append(ValidationIssue(
                kind="syntax", line=err.get("line"), col=err.get("col"),
                message=f"syntax error at line {err.get('line')}, column {err.get('col')}: "
                        f"{err.get('description')} near {err.get('highlight')!r}"))
        return result
    except SqlglotError as exc:
        result.errors.append(ValidationIssue(kind="syntax", message=f"cannot parse: {exc}"))
        return result
    verdict = check_read_only(sql, dialect)
    if not verdict.allowed:
        result.errors.append(ValidationIssue(kind="unsafe", message=verdict.reason))
        return result
    tree = statements[0]
    checker = _Checker(schema, dialect)
    try:
        for scope in traverse_scope(tree):
            checker.check_scope(scope)
    except OptimizeError as exc:
        checker.issue("other", f"cannot resolve the query's scopes: {exc}")
    checker.check_functions(tree)
    result.errors, result.warnings, result.tables = checker.errors, checker.warnings, \
        checker.tables
    if not result.errors:
        try:
            qualified = qualify(tree.copy(), schema=schema.mapping(), dialect=dialect,
                                quote_identifiers=False, identify=False,
                                validate_qualify_columns=True)
            result.qualified_sql = qualified.sql(dialect)
        except (OptimizeError, SqlglotError) as exc:
            result.warnings.append(ValidationIssue(
                kind="other", message=f"could not fully qualify the query: {exc}"))
    result.valid = not result.errors
    return result


@tool(read_only=True)
def sql_validator(ctx: ToolContext, sql: str) -> dict:
    """Check a SQL query against the database schema without running it.

    Reports syntax errors with line/column, unknown tables, columns and functions (with
    the closest existing names), ambiguous columns, and statements that are not read-only.

    Args:
        sql: one SELECT query in the database's dialect.
    """
    if not sql.strip():
        raise ToolError("sql is empty; pass the SELECT query to validate")
    db = database_from(ctx)
    result = validate_sql(sql, db.schema(), db.dialect)
    return result.model_dump(exclude_none=True)
