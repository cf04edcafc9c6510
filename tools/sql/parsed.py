"""One SQL text read once: its tokens and its statements, handed from check to check.

The guard, the validator, the engine's compile check, the executor and the quality gate
each read the query they are given; reading it is most of their cost (sqlglot's tokenizer
and parser are pure Python). Before, one gated query was tokenized and parsed six times.
`parse_sql` reads it once and the checks take the `ParsedSQL` along. It belongs to one
call: nothing here is cached, so the same text in another call is read again.

The trees are shared: a check must not modify them (copy first, as `with_row_limit` and
`qualify` do).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import Dialect, exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token


@dataclass(frozen=True)
class ParsedSQL:
    """`sql` as `dialect` reads it. `tokens` is empty when even the tokenizer gave up;
    `statements` is None when parsing failed, and `error` says why."""

    sql: str
    dialect: str
    tokens: tuple[Token, ...]
    statements: tuple[exp.Expr | None, ...] | None
    error: SqlglotError | None = None

    def is_for(self, sql: str, dialect: str) -> bool:
        return self.sql == sql and self.dialect == dialect


def parse_sql(sql: str, dialect: str) -> ParsedSQL:
    """Tokenize and parse `sql` once - exactly what `sqlglot.parse(sql, read=dialect)`
    does, keeping the tokens. A RecursionError (absurd nesting) propagates."""
    reader = Dialect.get_or_raise(dialect)
    try:
        tokens = tuple(reader.tokenize(sql))
    except SqlglotError as exc:
        return ParsedSQL(sql, dialect, (), None, exc)
    try:
        statements = tuple(reader.parser().parse(list(tokens), sql))
    except SqlglotError as exc:
        return ParsedSQL(sql, dialect, tokens, None, exc)
    return ParsedSQL(sql, dialect, tokens, statements)


def parsed_for(parsed: ParsedSQL | None, sql: str, dialect: str) -> ParsedSQL:
    """`parsed` when it is a reading of `sql` in `dialect`, else a fresh reading."""
    return parsed if parsed is not None and parsed.is_for(sql, dialect) \
        else parse_sql(sql, dialect)
