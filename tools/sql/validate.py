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

from typing import TYPE_CHECKING, Iterable, Sequence

from sqlglot import exp
from sqlglot.errors import ErrorLevel, OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope
from sqlglot.tokens import Token

from stageagent.exceptions import ToolError
from stageagent.function_tools import ToolContext, tool

from .functions import tokenize
from .guard import check_read_only
from .issues import IssueKind, ValidationIssue, ValidationResult
from .name_check import NameChecker, closest, match_name, node_position, quote_ident
from .parsed import ParsedSQL, parsed_for
from .schema import Schema, database_from
from .syntax import dangling_commas, misspelt_keywords, syntax_problems
from .translate import translate_functions

if TYPE_CHECKING:
    from .database import Database

__all__ = ["IssueKind", "ValidationIssue", "ValidationResult", "validate_sql", "sql_validator",
           "closest", "match_name", "node_position", "quote_ident"]


def _parse_error_issues(sql: str, dialect: str, exc: ParseError, names: Iterable[str],
                        tokens: Sequence[Token]) -> list[ValidationIssue]:
    """Name the token that is wrong; fall back to sqlglot's position and description."""
    problems = syntax_problems(sql, dialect, names, tokens)
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


def _engine_issues(database: "Database", parsed: ParsedSQL, tree: exp.Expr,
                   schema: Schema) -> tuple[list[ValidationIssue], list[ValidationIssue]]:
    """(errors, warnings) from having the engine compile the query."""
    from .compile_check import compile_check

    sql = parsed.sql
    verdict = compile_check(database, sql, parsed=parsed)
    if verdict.ok:
        warn = [ValidationIssue(kind="engine", message=f"the engine could not check the "
                                f"query: {verdict.message}")] if verdict.timed_out else []
        return [], warn
    where = f" (line {verdict.line}, column {verdict.col})" if verdict.line else ""
    names = _schema_names(schema) | _declared(tree)
    tokens = parsed.tokens if parsed.dialect == schema.dialect else tokenize(sql, schema.dialect)
    hints = [p.message for p in misspelt_keywords(list(tokens), names)]
    message = f"the database refused the query{where}: {verdict.message}"
    if hints:
        message += " - " + "; ".join(hints[:2])
    return [ValidationIssue(kind="engine", message=message, line=verdict.line,
                            col=verdict.col)], []


def _parse(parsed: ParsedSQL, schema: Schema, result: ValidationResult) -> exp.Expr | None:
    """The one query of `parsed`, or None with the syntax or guard errors in `result`."""
    sql, dialect = parsed.sql, parsed.dialect
    if isinstance(parsed.error, ParseError):
        result.errors.extend(_parse_error_issues(sql, dialect, parsed.error,
                                                 _schema_names(schema), parsed.tokens))
        return None
    if parsed.statements is None:
        result.errors.append(ValidationIssue(kind="syntax",
                                             message=f"cannot parse: {parsed.error}"))
        return None
    statements = [s for s in parsed.statements if s is not None]
    verdict = check_read_only(sql, dialect, parsed=parsed)
    if not verdict.allowed or not statements:
        result.errors.append(ValidationIssue(kind="unsafe", message=verdict.reason))
        return None
    return statements[0]


def _sqlite_date_casts(tree: exp.Expr, checker: NameChecker) -> None:
    """SQLite has no date types: CAST('2024-03-05' AS DATE) is the number 2024."""
    for cast in tree.find_all(exp.Cast):
        kind = cast.to.this.name if isinstance(cast.to, exp.DataType) else ""
        if kind in ("DATE", "DATETIME", "TIMESTAMP", "TIME"):
            fn = {"DATE": "date", "TIME": "time"}.get(kind, "datetime")
            checker.issue("unknown_function", f"CAST(... AS {kind}) in SQLite yields a number "
                          f"(the year), not a {kind.lower()}: use {fn}(x) instead",
                          cast.this, name="CAST", suggestions=[f"{fn}()"])


def _ast_checks(parsed: ParsedSQL, tree: exp.Expr, schema: Schema,
                result: ValidationResult) -> None:
    sql, dialect = parsed.sql, parsed.dialect
    checker = NameChecker(schema, dialect)
    for problem in dangling_commas(list(parsed.tokens)):
        checker.issue("syntax", f"syntax error: {problem.message}", name=problem.token,
                      at=(problem.line, problem.col))
    try:
        for scope in traverse_scope(tree):
            checker.check_scope(scope)
    except OptimizeError as exc:
        checker.issue("other", f"cannot resolve the query's scopes: {exc}")
    checker.check_functions(sql, tree, parsed.tokens)
    if dialect == "sqlite":
        _sqlite_date_casts(tree, checker)
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


TOO_DEEP = ("the query nests too deeply for the parser (too many levels of parentheses or "
            "subqueries); flatten it")


def validate_sql(sql: str, schema: Schema, dialect: str | None = None, *,
                 database: "Database | None" = None, parsed: ParsedSQL | None = None,
                 qualify_columns: bool = True) -> ValidationResult:
    """Parse, guard, check every table, column and function, then (given `database`)
    have the engine compile the statement without running it.

    `parsed`: the caller's reading of `sql` (not parsed again when it is in `dialect`).
    `qualify_columns=False` leaves out `qualified_sql` - the fully qualified text, one
    more optimizer pass that can only add a warning, never change `valid`."""
    dialect = dialect or schema.dialect
    try:
        return _validate(parsed_for(parsed, sql, dialect), schema, database, qualify_columns)
    except RecursionError:
        return ValidationResult(valid=False, dialect=dialect, errors=[
            ValidationIssue(kind="syntax", message=TOO_DEEP)])


def _validate(parsed: ParsedSQL, schema: Schema, database: "Database | None",
              qualify_columns: bool) -> ValidationResult:
    dialect = parsed.dialect
    result = ValidationResult(valid=False, dialect=dialect)
    tree = _parse(parsed, schema, result)
    if tree is None:
        return result
    _ast_checks(parsed, tree, schema, result)
    if not result.errors and database is not None:
        errors, warnings = _engine_issues(database, parsed, tree, schema)
        result.errors.extend(errors)
        result.warnings.extend(warnings)
        result.engine_checked = not warnings
    if not result.errors and qualify_columns:
        _qualify(tree, schema, result)
    result.valid = not result.errors
    return result


def _qualify(tree: exp.Expr, schema: Schema, result: ValidationResult) -> None:
    """`result.qualified_sql`: every column with its table (a warning when impossible)."""
    dialect = result.dialect
    try:
        mapping: dict[str, object] = dict(schema.mapping())
        qualified = qualify(tree.copy(), schema=mapping, dialect=dialect,
                            quote_identifiers=False, identify=False,
                            validate_qualify_columns=True)
        result.qualified_sql = qualified.sql(dialect, unsupported_level=ErrorLevel.IGNORE)
    except (OptimizeError, SqlglotError) as exc:
        result.warnings.append(ValidationIssue(
            kind="other", message=f"could not fully qualify the query: {exc}"))


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
