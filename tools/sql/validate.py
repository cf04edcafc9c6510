"""Validation of model-written SQL: the schema, the engine's functions, then the engine.

Catches what would otherwise cost a failed run and a confusing driver message: syntax
errors named by their token (`SELEC`, a trailing comma before FROM), tables and columns
that do not exist (with the closest real names, quoted as they must be written),
ambiguous columns, functions the target engine does not have (even when sqlglot knows
them from another dialect), and anything the read-only guard refuses. Then, given a
`Database`, the engine itself compiles the statement without running it (`EXPLAIN`,
read-only, within the statement timeout): it is the final judge, and its message is
passed on verbatim. Identifier case follows the dialect: PostgreSQL folds unquoted names
to lower case, so `SKU` does not match the column `"SKU"` there; MySQL and SQLite ignore
case.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Iterable, Literal

import sqlglot
from pydantic import BaseModel, Field
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from stageagent.exceptions import ToolError
from stageagent.function_tools import ToolContext, tool

from .functions import MYSQL_FUNCTIONS, function_calls, tokenize
from .guard import check_read_only
from .schema import Schema, TableSchema, database_from
from .syntax import dangling_commas, misspelt_keywords, syntax_problems
from .translate import translate_functions

if TYPE_CHECKING:
    from .database import Database

IssueKind = Literal["syntax", "unsafe", "unknown_table", "unknown_column", "ambiguous_column",
                    "unknown_function", "engine", "other"]
SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "mysql", "performance_schema", "sys"}
SYSTEM_TABLES = {"sqlite_master", "sqlite_schema", "sqlite_sequence", "dual"}
DIALECT_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL", "mysql": "MySQL/MariaDB"}


class ValidationIssue(BaseModel):
    kind: IssueKind
    message: str
    name: str | None = None
    line: int | None = None
    col: int | None = None
    suggestions: list[str] = Field(default_factory=list)


class ValidationResult(BaseModel):
    """`valid` is True when there are no errors (warnings do not block).

    `engine_checked` says whether the database itself compiled the statement.
    """

    valid: bool
    dialect: str
    errors: list[ValidationIssue] = Field(default_factory=list)
    warnings: list[ValidationIssue] = Field(default_factory=list)
    qualified_sql: str | None = None
    tables: list[str] = Field(default_factory=list)
    engine_checked: bool = False

    def summary(self) -> str:
        if self.valid:
            return "valid" + (f" ({len(self.warnings)} warning(s))" if self.warnings else "")
        return "; ".join(e.message for e in self.errors)


def quote_ident(name: str, dialect: str) -> str:
    """`name` quoted whole in the dialect's quotes (`"Unit Price"`, `` `Unit Price` ``)."""
    return exp.to_identifier(name, quoted=True).sql(dialect)


def match_name(name: str, quoted: bool, candidates: Iterable[str], dialect: str) -> str | None:
    """The candidate `name` refers to under the dialect's identifier-case rules."""
    cands = list(candidates)
    if dialect == "postgres":
        wanted = name if quoted else name.lower()
        return wanted if wanted in cands else None
    low = name.lower()
    return next((c for c in cands if c.lower() == low), None)


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Nearest names by difflib ratio, case-insensitive; then ignoring `_` and spaces too
    (`CustomerId` finds `customer_id`, `unit_price` finds `Unit Price`)."""
    cands = list(candidates)
    for squash in (False, True):
        by_key: dict[str, str] = {}
        for c in cands:
            by_key.setdefault(_key(c, squash), c)
        hits = difflib.get_close_matches(_key(name, squash), list(by_key), n=n, cutoff=0.6)
        if hits:
            return [by_key[h] for h in hits]
    return []


def _key(name: str, squash: bool) -> str:
    low = name.lower()
    return low.replace("_", "").replace(" ", "") if squash else low


def node_position(node: exp.Expr) -> tuple[int | None, int | None]:
    """(line, first column) of a column/table/identifier node, as the query spelt it."""
    meta = getattr(node, "meta", None) or {}
    ident = node.this if isinstance(node, (exp.Column, exp.Table)) else node
    meta = getattr(ident, "meta", None) or meta
    line, col, name = meta.get("line"), meta.get("col"), getattr(ident, "name", "")
    if col is not None and isinstance(name, str) and name:  # sqlglot keeps the last column
        quoted = 2 if getattr(ident, "quoted", False) else 0
        col = max(1, col - len(name) - quoted + 1)
    return line, col


def _ident(node: exp.Expr) -> exp.Identifier | None:
    this = node.this if isinstance(node, (exp.Column, exp.Table)) else node
    return this if isinstance(this, exp.Identifier) else None


def _alias_columns(scope: Scope) -> list[str] | None:
    """Column names a CTE or derived table declares (`WITH t(a, b) AS ...`, `AS x(a)`)."""
    node: exp.Expr | None = scope.expression
    while node is not None and isinstance(node.parent, (exp.SetOperation, exp.Subquery,
                                                        exp.CTE)):
        node = node.parent
        alias = node.args.get("alias") if isinstance(node, (exp.CTE, exp.Subquery)) else None
        if isinstance(alias, exp.TableAlias) and alias.columns:
            return [c.name for c in alias.columns]
        if isinstance(node, exp.CTE):
            break
    return None


class _Checker:
    def __init__(self, schema: Schema, dialect: str):
        self.schema = schema
        self.dialect = dialect
        self.errors: list[ValidationIssue] = []
        self.warnings: list[ValidationIssue] = []
        self.tables: list[str] = []
        self._sources: dict[int, dict[str, list[str] | None]] = {}

    def q(self, name: str) -> str:
        return quote_ident(name, self.dialect)

    def hint(self, names: list[str]) -> str:
        return f" - did you mean {' or '.join(self.q(n) for n in names[:3])}?" if names else ""

    def issue(self, kind: IssueKind, message: str, node: exp.Expr | None = None,
              name: str | None = None, suggestions: list[str] | None = None,
              warning: bool = False, at: tuple[int | None, int | None] | None = None) -> None:
        line, col = at if at else (node_position(node) if node is not None else (None, None))
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
        if self.schema.table_names_case_sensitive:
            found = ident.name if ident.name in self.schema.tables else None
        else:
            found = match_name(ident.name, ident.quoted, self.schema.tables, self.dialect)
        if found is None:
            return None
        if found not in self.tables:
            self.tables.append(found)
        return self.schema.tables[found]

    def sources_of(self, scope: Scope) -> dict[str, list[str] | None]:
        """alias -> column names of each selected source of `scope` (None = not checkable)."""
        if id(scope) in self._sources:
            return self._sources[id(scope)]
        columns_of: dict[str, list[str] | None] = {}
        for alias, (_node, source) in scope.selected_sources.items():
            if isinstance(source, exp.Table):
                table = self.table_of(source)
                if table is None:
                    near = closest(source.name, self.schema.tables)
                    self.issue("unknown_table", f"unknown table {self.q(source.name)}"
                               f"{self.hint(near)}", source, source.name, near)
                columns_of[alias] = [c.name for c in table.columns] if table else None
            elif isinstance(source, Scope):
                columns_of[alias] = _alias_columns(source) or self._select_names(source)
            else:
                columns_of[alias] = None
        self._sources[id(scope)] = columns_of
        return columns_of

    @staticmethod
    def _select_names(source: Scope) -> list[str] | None:
        sel = source.expression
        while isinstance(sel, exp.SetOperation):
            sel = sel.this  # a UNION's columns are named by its first branch
        if not isinstance(sel, exp.Select):
            return None
        star = any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star)
                   for e in sel.expressions)
        return None if star else list(sel.named_selects)

    def chain(self, scope: Scope) -> list[dict[str, list[str] | None]]:
        """The sources of `scope`, then of each enclosing scope (correlated subqueries)."""
        out: list[dict[str, list[str] | None]] = []
        current: Scope | None = scope
        while current is not None:
            out.append(self.sources_of(current))
            current = current.parent
        return out

    def check_scope(self, scope: Scope) -> None:
        chain = self.chain(scope)
        select = scope.expression
        aliases = {e.alias for e in select.expressions if isinstance(e, exp.Alias)} \
            if isinstance(select, exp.Select) else set()
        if isinstance(select, exp.SetOperation):
            self._check_set_operation(scope, select)
            return
        for column in scope.columns:
            ident = _ident(column)
            if ident is None or column.is_star:
                continue
            if isinstance(select, exp.Select) and column.find_ancestor(exp.Select) is not select:
                continue  # belongs to a nested scope; checked there
            if column.table:
                self._check_qualified(column, ident, chain)
            else:
                self._check_bare(column, ident, chain, aliases)

    def _check_set_operation(self, scope: Scope, union: exp.SetOperation) -> None:
        """A UNION's ORDER BY names the output columns of its first branch."""
        names = self._select_names(scope)
        for column in scope.columns:
            ident = _ident(column)
            if names is None or ident is None or column.table or column.is_star:
                continue
            if match_name(ident.name, ident.quoted, names, self.dialect) is None:
                near = closest(ident.name, names)
                self.issue("unknown_column", f"unknown column {self.q(ident.name)} in the "
                           f"ORDER BY of a {union.key.upper()} (its columns: "
                           f"{', '.join(self.q(n) for n in names)})", column, ident.name, near)

    def _check_qualified(self, column: exp.Column, ident: exp.Identifier,
                         chain: list[dict[str, list[str] | None]]) -> None:
        level = next((lv for lv in chain if column.table in lv), None)
        if level is None:
            near = closest(column.table, list(chain[0]))
            self.issue("unknown_table", f"{self.q(column.table)} (in "
                       f"{column.sql(self.dialect)}) is not a table or alias in this FROM "
                       f"clause{self.hint(near)}", column, column.table, near)
            return
        known = level[column.table]
        if known is not None and match_name(ident.name, ident.quoted, known,
                                            self.dialect) is None:
            near = closest(ident.name, known)
            self.issue("unknown_column", f"unknown column {self.q(ident.name)} in "
                       f"{self.q(column.table)}{self._case_hint(ident.name, known)}"
                       f"{self.hint(near)}", column, ident.name, near)

    def _check_bare(self, column: exp.Column, ident: exp.Identifier,
                    chain: list[dict[str, list[str] | None]], aliases: set[str]) -> None:
        name, holders = ident.name, []
        for level in chain:
            holders = [a for a, cols in level.items()
                       if cols is not None and match_name(name, ident.quoted, cols, self.dialect)]
            if holders or any(cols is None for cols in level.values()):
                break
        if len(holders) > 1:
            self.issue("ambiguous_column", f"column {self.q(name)} is ambiguous (in "
                       f"{', '.join(holders)}); qualify it", column, name,
                       [f"{h}.{name}" for h in holders])
        elif not holders and all(c is not None for lv in chain for c in lv.values()) \
                and match_name(name, ident.quoted, aliases, self.dialect) is None:
            every = sorted({c for cols in chain[0].values() for c in cols or []})
            near = closest(name, every)
            self.issue("unknown_column", f"unknown column {self.q(name)}"
                       f"{self._case_hint(name, every)}{self.hint(near)}", column, name, near)

    def _case_hint(self, name: str, candidates: list[str]) -> str:
        same = [c for c in candidates if c.lower() == name.lower() and c != name.lower()]
        if self.dialect == "postgres" and same:
            return f" (PostgreSQL folds unquoted names to lower case; write \"{same[0]}\")"
        return ""

    def check_functions(self, sql: str, tree: exp.Expr) -> None:
        """Every call as written, against the functions the engine really has."""
        known = self.schema.functions
        if known is None:
            known = MYSQL_FUNCTIONS if self.dialect == "mysql" else None
        if known is None:
            return
        where = DIALECT_NAMES.get(self.dialect, self.dialect)
        for call in function_calls(sql, self.dialect, tree):
            if call.name in known:
                continue
            near = [n for n in difflib.get_close_matches(call.name, known, n=2, cutoff=0.75)]
            hint = f" - did you mean {' or '.join(n + '()' for n in near)}?" if near else ""
            self.issue("unknown_function", f"function {call.written}() does not exist in "
                       f"{where}{hint}", name=call.written, suggestions=near,
                       at=(call.line, call.col))


def _parse_error_issues(sql: str, dialect: str, exc: ParseError,
                        names: Iterable[str]) -> list[ValidationIssue]:
    """Name the token that is wrong; fall back to sqlglot's position and description."""
    problems = syntax_problems(sql, dialect, names)
    if problems:
        return [ValidationIssue(kind="syntax", message=f"syntax error: {p.message} (line "
                                f"{p.line}, column {p.col})",
                                name=p.token, line=p.line, col=p.col,
                                suggestions=[p.suggestion] if p.suggestion else [])
                for p in problems[:3]]
    out = []
    for err in exc.errors[:3]:
        token = (err.get("highlight") or "").strip()
        out.append(ValidationIssue(
            kind="syntax", line=err.get("line"), col=err.get("col"), name=token or None,
            message=f"syntax error at line {err.get('line')}, column {err.get('col')}: "
                    f"unexpected {token!r} ({err.get('description')}) after "
                    f"{(err.get('start_context') or '').strip()[-40:]!r}"))
    return out


def _schema_names(schema: Schema) -> set[str]:
    names = set(schema.tables)
    for table in schema.tables.values():
        names.update(c.name for c in table.columns)
    return names


def _declared(tree: exp.Expr) -> set[str]:
    """Aliases and CTE names the query itself introduces."""
    names = {a.alias for a in tree.find_all(exp.Alias)}
    return names | {t.alias for t in tree.find_all(exp.Table) if t.alias} | \
        {c.alias for c in tree.find_all(exp.CTE)}


def _engine_issues(database: "Database", sql: str, tree: exp.Expr,
                   schema: Schema) -> tuple[list[ValidationIssue], list[ValidationIssue]]:
    """(errors, warnings) from having the engine compile `sql`."""
    from .compile_check import compile_check

    verdict = compile_check(database, sql)
    if verdict.ok:
        warn = [ValidationIssue(kind="engine", message=f"the engine could not check the "
                                f"query: {verdict.message}")] if verdict.timed_out else []
        return [], warn
    where = f" (line {verdict.line}, column {verdict.col})" if verdict.line else ""
    names = _schema_names(schema) | _declared(tree)
    hints = [p.message for p in misspelt_keywords(tokenize(sql, schema.dialect), names)]
    message = f"the database refused the query{where}: {verdict.message}"
    if hints:
        message += " - " + "; ".join(hints[:2])
    return [ValidationIssue(kind="engine", message=message, line=verdict.line,
                            col=verdict.col)], []


def _parse(sql: str, dialect: str, schema: Schema,
           result: ValidationResult) -> exp.Expr | None:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        result.errors.extend(_parse_error_issues(sql, dialect, exc, _schema_names(schema)))
        return None
    except SqlglotError as exc:
        result.errors.append(ValidationIssue(kind="syntax", message=f"cannot parse: {exc}"))
        return None
    verdict = check_read_only(sql, dialect)
    if not verdict.allowed or not statements:
        result.errors.append(ValidationIssue(kind="unsafe", message=verdict.reason))
        return None
    return statements[0]


def _ast_checks(sql: str, tree: exp.Expr, schema: Schema, dialect: str,
                result: ValidationResult) -> None:
    checker = _Checker(schema, dialect)
    for problem in dangling_commas(tokenize(sql, dialect)):
        checker.issue("syntax", f"syntax error: {problem.message}", name=problem.token,
                      at=(problem.line, problem.col))
    try:
        for scope in traverse_scope(tree):
            checker.check_scope(scope)
    except OptimizeError as exc:
        checker.issue("other", f"cannot resolve the query's scopes: {exc}")
    checker.check_functions(sql, tree)
    unknown = [e for e in checker.errors if e.kind == "unknown_function"]
    if unknown:
        _, changes = translate_functions(tree, dialect, sql, schema.functions)
        for issue in unknown:
            rewrites = [c for c in changes if c.startswith(f"{(issue.name or '').upper()}()")]
            if rewrites:
                issue.suggestions = rewrites
                issue.message += f"; sql_auto_fixer can rewrite it ({rewrites[0]})"
    result.errors, result.warnings, result.tables = checker.errors, checker.warnings, \
        checker.tables


def validate_sql(sql: str, schema: Schema, dialect: str | None = None, *,
                 database: "Database | None" = None) -> ValidationResult:
    """Parse, guard, check every table, column and function, then (given `database`)
    have the engine compile the statement without running it."""
    dialect = dialect or schema.dialect
    result = ValidationResult(valid=False, dialect=dialect)
    tree = _parse(sql, dialect, schema, result)
    if tree is None:
        return result
    _ast_checks(sql, tree, schema, dialect, result)
    if not result.errors and database is not None:
        errors, warnings = _engine_issues(database, sql, tree, schema)
        result.errors.extend(errors)
        result.warnings.extend(warnings)
        result.engine_checked = not warnings
    if not result.errors:
        try:
            mapping: dict[str, object] = dict(schema.mapping())
            qualified = qualify(tree.copy(), schema=mapping, dialect=dialect,
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
    """Check a SQL query against the database schema and engine without running it.

    Reports syntax errors naming the offending token, unknown tables, columns and
    functions (with the closest existing names, and a translation for functions of
    another dialect), ambiguous columns, statements that are not read-only - and then
    the database's own verdict when it compiles the query (EXPLAIN, nothing is run).

    Args:
        sql: one SELECT query in the database's dialect.
    """
    if not sql.strip():
        raise ToolError("sql is empty; pass the SELECT query to validate")
    db = database_from(ctx)
    result = validate_sql(sql, db.schema(), db.dialect, database=db)
    return result.model_dump(exclude_none=True)
