"""Ask the engine: compile a query without running it, and keep the engine's own words.

The AST checks know the schema; only the engine knows everything else it refuses (a
function with the wrong argument types, a column missing from GROUP BY, grammar sqlglot
is lenient about). `EXPLAIN <query>` makes SQLite, PostgreSQL and MySQL/MariaDB parse,
resolve and plan the statement without executing it. It runs only after the read-only
guard accepted the query (checked here again), on the read-only connection, inside a
READ ONLY transaction with the statement timeout, and only one statement can reach the
server: Python's sqlite3
refuses two, PostgreSQL gets a server-side prepared statement (which cannot hold two),
PyMySQL sends no multi-statement flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from sqlglot.tokens import Token

from .database import DatabaseError, QueryTimeoutError, translate_error
from .execute import read_only_cursor
from .functions import tokenize
from .guard import check_read_only
from .parsed import ParsedSQL, parsed_for

if TYPE_CHECKING:
    from .database import Database

_DRIVER_PREFIX = re.compile(r"^\w+(\.\w+)*(Error|Exception|Warning)\w*:\s*")
_MYSQL_CODE = re.compile(r"^\((\d+), ['\"](.*)['\"]\)$", re.S)


@dataclass
class EngineVerdict:
    """What the engine said: `ok`, else its message (and the position when it gave one)."""

    ok: bool
    message: str = ""
    timed_out: bool = False
    line: int | None = None
    col: int | None = None


def statement_text(sql: str, dialect: str, tokens: Sequence[Token] | None = None) -> str:
    """`sql` without trailing semicolons and comments (the engine compiles one statement)."""
    tokens = tokenize(sql, dialect) if tokens is None else list(tokens)
    while tokens and tokens[-1].text == ";":
        tokens.pop()
    return sql[: tokens[-1].end + 1] if tokens else sql.strip()


def engine_message(exc: BaseException) -> str:
    """The driver error as the engine worded it, without driver class names."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    mysql = _MYSQL_CODE.match(text)
    if mysql:
        text = f"ERROR {mysql.group(1)}: {mysql.group(2)}"
    lines = [ln for ln in text.splitlines() if ln.strip()]
    keep = [lines[0]] + [ln.strip() for ln in lines[1:] if ln.lstrip().startswith(
        ("HINT", "DETAIL"))] if lines else [type(orig).__name__]
    return _DRIVER_PREFIX.sub("", " ".join(keep))


def _position(exc: BaseException, sql: str, offset: int) -> tuple[int | None, int | None]:
    """(line, col) in `sql` of PostgreSQL's error position (it counts from 1, in chars)."""
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    pos = getattr(diag, "statement_position", None) if diag is not None else None
    if not pos:
        return None, None
    index = max(0, int(pos) - 1 - offset)
    before = sql[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _explain(db: "Database", cursor: Any, statement: str) -> None:
    if db.backend == "postgresql":
        cursor.execute("EXPLAIN " + statement, prepare=True)
    else:
        cursor.execute("EXPLAIN " + statement)
    if cursor.description:
        cursor.fetchall()


def compile_check(db: "Database", sql: str, *, timeout: float | None = None,
                  parsed: ParsedSQL | None = None) -> EngineVerdict:
    """Have `db`'s engine compile `sql` without running it (the guard decides first;
    `parsed`: the caller's reading of `sql`, used when it is in `db`'s dialect)."""
    parsed = parsed_for(parsed, sql, db.dialect)
    guard = check_read_only(sql, db.dialect, parsed=parsed)
    if not guard.allowed:
        return EngineVerdict(ok=False, message=guard.reason)
    statement = statement_text(sql, db.dialect, parsed.tokens)
    timeout = db.timeout if timeout is None else float(timeout)
    dbapi_error = db.engine.dialect.loaded_dbapi.Error
    try:
        with read_only_cursor(db, timeout) as (_raw, cursor):
            _explain(db, cursor, statement)
    except DatabaseError as exc:  # no connection: no verdict, and say why
        return EngineVerdict(ok=True, timed_out=True, message=f"engine not reachable: {exc}")
    except dbapi_error as exc:
        if isinstance(translate_error(exc, db.url), QueryTimeoutError):
            return EngineVerdict(ok=True, timed_out=True, message=engine_message(exc))
        line, col = _position(exc, statement, len("EXPLAIN "))
        return EngineVerdict(ok=False, message=engine_message(exc), line=line, col=col)
    return EngineVerdict(ok=True)
