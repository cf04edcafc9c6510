"""A deterministic SQL auto-fixer: small, explainable repairs, each one reported.

It fixes what has one obvious answer - a misspelt table or column (nearest real name by
difflib, quoted the way the dialect needs), SQL written in another dialect (transpiled
with sqlglot), functions the target engine lacks (rewritten into its own equivalents by
`translate.py`), a dangling comma - and leaves everything else to the model, with the
validator's errors. The result is validated like any query, with the engine's compile
check when a `Database` is given: `valid: true` means the engine accepted the fixed SQL.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import sqlglot
from pydantic import BaseModel, Field
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError, UnsupportedError

from stageagent.exceptions import ToolError
from stageagent.function_tools import ToolContext, tool

from .functions import tokenize
from .schema import Schema, database_from
from .syntax import dangling_commas
from .translate import translate_functions
from .issues import ValidationIssue
from .name_check import node_position
from .validate import validate_sql

if TYPE_CHECKING:
    from .database import Database

#: dialects tried, in order, when the SQL does not parse in the database's own dialect
FALLBACK_DIALECTS = ("postgres", "mysql", "sqlite", "tsql", "duckdb", "bigquery", "snowflake")
_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")


class FixResult(BaseModel):
    """The repaired SQL, what was changed, and what is still wrong."""

    sql: str
    changed: bool
    changes: list[str] = Field(default_factory=list)
    valid: bool
    remaining: list[ValidationIssue] = Field(default_factory=list)


def _identifier(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=not _PLAIN.match(name))


def _parse(sql: str, dialect: str, source_dialect: str | None,
           changes: list[str]) -> exp.Expr | None:
    order = [source_dialect] if source_dialect else []
    order += [dialect] + [d for d in FALLBACK_DIALECTS if d not in (dialect, source_dialect)]
    for read in order:
        try:
            trees = [t for t in sqlglot.parse(sql, read=read) if t is not None]
        except SqlglotError:
            continue
        if len(trees) != 1:
            return None
        if read != dialect:
            changes.append(f"transpiled from {read} to {dialect}")
        return trees[0]
    return None


def _rename(tree: exp.Expr, issue: ValidationIssue, new: str,
            kind: type[exp.Expr]) -> int:
    count = 0
    for node in list(tree.find_all(kind)):
        ident = node.this
        if isinstance(ident, exp.Identifier) and ident.name == issue.name:
            at = node_position(node)
            if issue.line is None or at == (issue.line, issue.col) or kind is exp.Table:
                node.set("this", _identifier(new))
                count += 1
    return count


def _generate(tree: exp.Expr, dialect: str) -> str | None:
    """`tree` as `dialect` SQL, or None where sqlglot could only say part of it."""
    try:
        return tree.sql(dialect, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError:
        return None


def _repair_names(current: str, schema: Schema, dialect: str, changes: list[str],
                  max_rounds: int) -> str:
    """Rename misspelt tables/columns to their nearest real names, a few rounds deep."""
    for _ in range(max_rounds):
        check = validate_sql(current, schema, dialect)
        fixable = [e for e in check.errors if e.suggestions and e.name
                   and e.kind in ("unknown_table", "unknown_column")]
        if check.valid or not fixable:
            break
        tree = sqlglot.parse_one(current, read=dialect)
        for issue in fixable:
            new = issue.suggestions[0]
            kind = exp.Table if issue.kind == "unknown_table" else exp.Column
            if _rename(tree, issue, new, kind):
                what = "table" if kind is exp.Table else "column"
                same = new.lower() == (issue.name or "").lower()
                why = "quoted: the name is case-sensitive" if same else "closest existing name"
                changes.append(f"{what} {issue.name!r} -> {_identifier(new).sql(dialect)} "
                               f"({why})")
        current = _generate(tree, dialect) or current
    return current


def auto_fix_sql(sql: str, schema: Schema, dialect: str | None = None, *,
                 source_dialect: str | None = None, max_rounds: int = 3,
                 database: "Database | None" = None) -> FixResult:
    """Repair `sql` for `schema`'s database; never invents joins or semantics.

    With `database`, the fixed SQL is compiled by the engine before `valid` is reported.
    """
    dialect = dialect or schema.dialect
    changes: list[str] = []
    try:
        tree = _parse(sql, dialect, source_dialect, changes)
    except RecursionError:
        tree = None
    if tree is None:
        check = validate_sql(sql, schema, dialect, database=database)
        return FixResult(sql=sql, changed=False, valid=False, remaining=check.errors)
    if dangling_commas(tokenize(sql, source_dialect or dialect)):
        changes.append("removed a dangling comma")
    tree, rewritten = translate_functions(tree, dialect, sql, schema.functions)
    changes.extend(rewritten)
    generated = _generate(tree, dialect)
    if generated is None:  # sqlglot would drop part of the query (TO_CHAR's format ...)
        check = validate_sql(sql, schema, dialect, database=database)
        return FixResult(sql=sql, changed=False, valid=check.valid, remaining=check.errors)
    current = _repair_names(generated, schema, dialect, changes, max_rounds)
    if not changes and current != sql.strip() and \
            not validate_sql(sql, schema, dialect, database=database).valid and \
            validate_sql(current, schema, dialect, database=database).valid:
        changes.append(f"rewritten in {dialect} syntax by sqlglot")  # e.g. ILIKE on SQLite
    out = current if changes else sql
    final = validate_sql(out, schema, dialect, database=database)
    return FixResult(sql=out, changed=bool(changes), changes=changes, valid=final.valid,
                     remaining=final.errors)


@tool(read_only=True)
def sql_auto_fixer(ctx: ToolContext, sql: str, source_dialect: str | None = None) -> dict:
    """Repair misspelt names and rewrite other dialects' SQL and functions for this database.

    Returns the fixed SQL, the list of changes made, whether the database accepts it
    (`valid`), and any errors it could not fix.

    Args:
        sql: the query to repair.
        source_dialect: the dialect the query was written in, if not the database's own
            (e.g. "tsql", "postgres", "mysql", "sqlite").
    """
    if not sql.strip():
        raise ToolError("sql is empty; pass the query to repair")
    if source_dialect is not None and source_dialect not in sqlglot.Dialect.classes:
        raise ToolError(f"unknown source_dialect {source_dialect!r}; use one of "
                        f"{', '.join(sorted(sqlglot.Dialect.classes))}")
    db = database_from(ctx)
    return auto_fix_sql(sql, db.schema(), db.dialect, source_dialect=source_dialect,
                        database=db).model_dump(exclude_none=True)
