"""Names a query uses, checked against the schema: tables, columns, aliases, functions.

Scope by scope (sqlglot's scopes: each SELECT, CTE, derived table and subquery), every
column is resolved against the sources that SELECT really reads from - including the
column lists a CTE or derived table declares (`WITH RECURSIVE t(n) AS ...`) and, for a
correlated subquery, the enclosing scopes. Messages quote identifiers whole, the way the
dialect writes them, and suggest the closest real names.
"""

from __future__ import annotations

import difflib
from typing import Iterable, Literal, Sequence

from sqlglot import exp
from sqlglot.optimizer.scope import Scope
from sqlglot.tokens import Token

from .functions import MYSQL_FUNCTIONS, function_calls
from .issues import IssueKind, ValidationIssue
from .schema import Schema, TableSchema

SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "mysql", "performance_schema", "sys"}
SYSTEM_TABLES = {"sqlite_master", "sqlite_schema", "sqlite_sequence", "dual"}
DIALECT_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL", "mysql": "MySQL/MariaDB"}


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


class NameChecker:
    """Collects the issues of one query; `check_scope` per scope, then `check_functions`."""

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

    def check_functions(self, sql: str, tree: exp.Expr,
                        tokens: Sequence[Token] | None = None) -> None:
        """Every call as written, against the functions the engine really has."""
        known = self.schema.functions
        if known is None:
            known = MYSQL_FUNCTIONS if self.dialect == "mysql" else None
        if known is None:
            return
        where = DIALECT_NAMES.get(self.dialect, self.dialect)
        for call in function_calls(sql, self.dialect, tree, tokens=tokens):
            if call.name in known:
                continue
            near = [n for n in difflib.get_close_matches(call.name, known, n=2, cutoff=0.75)]
            hint = f" - did you mean {' or '.join(n + '()' for n in near)}?" if near else ""
            self.issue("unknown_function", f"function {call.written}() does not exist in "
                       f"{where}{hint}", name=call.written, suggestions=near,
                       at=(call.line, call.col))
