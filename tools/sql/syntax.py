"""Syntax problems told the way a reviewer would: the offending token, by name and place.

sqlglot notices a typo late (`SELEC name FROM t` fails "near FROM") and forgives what
engines refuse (a trailing comma before FROM). These checks read the token stream: a
misspelt keyword is named where it stands (`SELEC` -> SELECT), a dangling comma is found
before the clause it runs into.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Sequence

from sqlglot.tokens import Token, TokenType

from .functions import start_col, tokenize

KEYWORDS = ("SELECT", "FROM", "WHERE", "GROUP", "ORDER", "HAVING", "JOIN", "INNER", "LEFT",
            "RIGHT", "OUTER", "CROSS", "LIMIT", "OFFSET", "UNION", "DISTINCT", "BETWEEN",
            "CASE", "WHEN", "THEN", "ELSE", "WITH", "RECURSIVE", "EXISTS", "PARTITION",
            "OVER", "DESC", "LIKE", "NULL", "AND", "NOT", "INTERSECT", "EXCEPT")
#: tokens a select list (or argument list) cannot end with a comma before
_CLAUSE_TYPES = {TokenType.FROM, TokenType.WHERE, TokenType.GROUP_BY, TokenType.ORDER_BY,
                 TokenType.HAVING, TokenType.LIMIT, TokenType.UNION, TokenType.R_PAREN,
                 TokenType.SEMICOLON, TokenType.EXCEPT, TokenType.INTERSECT}
_STARTERS = {TokenType.SELECT, TokenType.WITH, TokenType.L_PAREN, TokenType.VALUES}


@dataclass(frozen=True)
class SyntaxProblem:
    message: str
    token: str
    line: int
    col: int
    suggestion: str | None = None


def misspelt_keywords(tokens: list[Token], names: Iterable[str]) -> list[SyntaxProblem]:
    """Bare words that are no table/column/alias name but nearly a keyword (`FORM`)."""
    known = {n.lower() for n in names}
    out = []
    for i, token in enumerate(tokens):
        if token.token_type != TokenType.VAR or len(token.text) < 3:
            continue
        word = token.text.upper()
        if word in KEYWORDS or token.text.lower() in known:
            continue
        if i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.L_PAREN:
            continue  # a call: the function check names it
        hits = difflib.get_close_matches(word, KEYWORDS, n=1, cutoff=0.74)
        if hits:
            out.append(SyntaxProblem(
                f"{token.text!r} is not a SQL keyword or a known name - did you mean "
                f"{hits[0]}?", token.text,
                token.line, start_col(token), hits[0]))
    return out


def first_word_problem(tokens: list[Token]) -> SyntaxProblem | None:
    """A statement must start with SELECT / WITH / ( / VALUES: name what it starts with."""
    if not tokens or tokens[0].token_type in _STARTERS:
        return None
    token = tokens[0]
    hits = difflib.get_close_matches(token.text.upper(), ("SELECT", "WITH"), n=1, cutoff=0.6)
    hint = f" - did you mean {hits[0]}?" if hits else " - a query starts with SELECT or WITH"
    return SyntaxProblem(f"the statement starts with {token.text!r}{hint}", token.text,
                         token.line,
                         start_col(token), hits[0] if hits else None)


def dangling_commas(tokens: list[Token]) -> list[SyntaxProblem]:
    """A comma directly before FROM, WHERE, `)`, the end ... : `SELECT a, b, FROM t`."""
    out = []
    for i, token in enumerate(tokens):
        if token.token_type != TokenType.COMMA:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is None or nxt.token_type in _CLAUSE_TYPES or nxt.token_type == TokenType.COMMA:
            before = tokens[i - 1].text if i else ""
            where = f"before {nxt.text.upper()!r}" if nxt is not None else "at the end"
            out.append(SyntaxProblem(
                f"trailing comma after {before!r} {where}: remove it or add the missing "
                "expression", ",",
                token.line, start_col(token)))
    return out


def syntax_problems(sql: str, dialect: str, names: Iterable[str],
                    tokens: Sequence[Token] | None = None) -> list[SyntaxProblem]:
    """Every token-level problem of `sql`: first word, misspelt keywords, dangling commas
    (`tokens`: the caller's tokens of `sql`)."""
    tokens = tokenize(sql, dialect) if tokens is None else list(tokens)
    first = first_word_problem(tokens)
    return ([first] if first else []) + misspelt_keywords(tokens[1 if first else 0:], names) \
        + dangling_commas(tokens)
