"""Which functions the target engine really provides, and which ones a query calls.

sqlglot knows hundreds of functions from every dialect and parses `YEAR(x)` or `MEDIAN(x)`
happily in SQLite mode - then the engine refuses them, or sqlglot rewrites them on the way
and the query silently computes something else. So a query's calls are read from its
*tokens* (the names as written, with their positions), and checked against the engine's
own catalogue: SQLite `pragma_function_list` + `pragma_module_list` (table-valued
functions), PostgreSQL `pg_proc`, MySQL/MariaDB a curated list of built-ins plus
`mysql.help_topic` and the stored routines of the database. Words that look like calls but
are grammar (`IN (`, `OVER (`, `CAST(`, PostgreSQL's `COALESCE(`) are never checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import sqlglot
from sqlalchemy.exc import DBAPIError
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

#: words followed by "(" that are SQL grammar, not function calls, in every dialect
SYNTAX_WORDS = frozenset("""
all and any array as between by case cast collate distinct else escape except exists filter
from glob group having in index intersect interval is join key lateral like limit not offset
on or order over partition primary range recursive references returning rows select set
some table then union unique using values when where window with within rollup cube sets
""".split())

#: grammar that only some engines accept as a call: checked as a name elsewhere
DIALECT_SYNTAX: dict[str, frozenset[str]] = {
    "sqlite": frozenset({"raise"}),
    "postgres": frozenset({"extract", "coalesce", "nullif", "greatest", "least", "trim",
                           "row", "grouping", "normalize", "xmlelement", "xmlforest",
                           "xmlconcat", "xmlparse", "xmlpi", "xmlroot", "xmlserialize",
                           "xmlexists", "treat", "current_time", "current_timestamp",
                           "localtime", "localtimestamp"}),
    "mysql": frozenset({"extract", "convert", "char", "position", "trim", "substring",
                        "interval", "match", "row"}),
}

#: MySQL 8 / MariaDB 10.x built-in functions (MySQL has no catalogue of them)
MYSQL_FUNCTIONS = frozenset("""
abs acos adddate addtime aes_decrypt aes_encrypt any_value ascii asin atan atan2 avg
benchmark bin bin_to_uuid bit_and bit_count bit_length bit_or bit_xor cast ceil ceiling
char char_length character_length charset coalesce coercibility collation compress concat
concat_ws connection_id conv convert convert_tz cos cot count crc32 cume_dist curdate
current_date current_role current_time current_timestamp current_user curtime database
date date_add date_format date_sub datediff day dayname dayofmonth dayofweek dayofyear
decode default degrees dense_rank des_decrypt des_encrypt elt encode encrypt exp
export_set extract extractvalue field find_in_set first_value floor format found_rows
from_base64 from_days from_unixtime get_format get_lock greatest group_concat hex hour if
ifnull in inet6_aton inet6_ntoa inet_aton inet_ntoa insert instr interval is_free_lock
is_ipv4 is_ipv6 is_used_lock isnull json_array json_arrayagg json_array_append
json_array_insert json_compact json_contains json_contains_path json_depth json_detailed
json_exists json_extract json_insert json_keys json_length json_loose json_merge
json_merge_patch json_merge_preserve json_object json_objectagg json_overlaps json_query
json_quote json_remove json_replace json_search json_set json_table json_type json_unquote
json_valid json_value lag last_day last_insert_id last_value lcase lead least left length
ln load_file localtime localtimestamp locate log log10 log2 lower lpad ltrim make_set
makedate maketime master_pos_wait match max md5 median microsecond mid min minute mod
month monthname name_const now nth_value ntile nullif oct octet_length old_password ord
percent_rank percentile_cont percentile_disc period_add period_diff pi position pow power
quarter quote radians rand random_bytes rank regexp_instr regexp_like regexp_replace
regexp_substr release_all_locks release_lock repeat replace reverse right round row_count
row_number rpad rtrim schema sec_to_time second session_user sha sha1 sha2 sign sin sleep
soundex space sqrt std stddev stddev_pop stddev_samp str_to_date strcmp subdate substr
substring substring_index subtime sum sysdate system_user tan time time_format
time_to_sec timediff timestamp timestampadd timestampdiff to_base64 to_days to_seconds
trim truncate ucase uncompress uncompressed_length unhex unix_timestamp upper user
utc_date utc_time utc_timestamp uuid uuid_short uuid_to_bin values var_pop var_samp
variance version week weekday weekofyear weight_string year yearweek
""".split())


@dataclass(frozen=True)
class FunctionCall:
    """One call as written: `name` lower case, position of its first character."""

    name: str
    written: str
    line: int
    col: int
    #: character offsets of the whole call, name to closing parenthesis
    start: int = 0
    end: int = 0


def tokenize(sql: str, dialect: str) -> list[Token]:
    """The dialect's tokens of `sql` ([] when even the tokenizer gives up). Not cached:
    a check that has a `ParsedSQL` passes its tokens on instead."""
    try:
        return sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    except SqlglotError:
        return []


def start_col(token: Token) -> int:
    """1-based column of a token's first character (sqlglot stores the last one)."""
    return max(1, token.col - len(token.text) + 1)


def _declared_names(tree: exp.Expr | None) -> set[str]:
    """CTE and table-alias names: `cnt(n)` in `WITH cnt(n) AS` is not a call."""
    if tree is None:
        return set()
    names = set()
    for node in tree.find_all(exp.TableAlias, exp.CTE):  # one walk for both
        name = node.name if isinstance(node, exp.TableAlias) else node.alias
        if name:
            names.add(name.lower())
    return names


def function_calls(sql: str, dialect: str, tree: exp.Expr | None = None, *,
                   tokens: Sequence[Token] | None = None) -> list[FunctionCall]:
    """Every `name(` in `sql` that is a function call rather than grammar (`tokens`: the
    caller's tokens of `sql`, so it is not tokenized again)."""
    tokens = tokenize(sql, dialect) if tokens is None else tokens
    declared = _declared_names(tree)
    grammar = SYNTAX_WORDS | DIALECT_SYNTAX.get(dialect, frozenset())
    calls = []
    for i, token in enumerate(tokens[:-1]):
        if tokens[i + 1].token_type != TokenType.L_PAREN:
            continue
        if token.token_type in (TokenType.IDENTIFIER, TokenType.STRING, TokenType.NUMBER) or \
                not re.match(r"^[A-Za-z_][A-Za-z0-9_$]*$", token.text):
            continue
        previous = tokens[i - 1].token_type if i > 0 else None
        if previous == TokenType.DOT:
            continue  # schema-qualified or method call: the engine check judges it
        if previous in (TokenType.ALIAS, TokenType.DCOLON):
            continue  # a type with modifiers: CAST(x AS NUMERIC(10, 2)), x::varchar(20)
        name = token.text.lower()
        if name in grammar or name in declared:
            continue
        calls.append(FunctionCall(name, token.text, token.line, start_col(token), token.start,
                                  _closing(tokens, i + 1)))
    return calls


def _closing(tokens: Sequence[Token], open_index: int) -> int:
    """End offset of the parenthesis that closes `tokens[open_index]`."""
    depth = 0
    for token in tokens[open_index:]:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return token.end
    return tokens[-1].end


def _mysql_catalogue(conn: Any) -> set[str]:
    names: set[str] = set()
    for query in ("SELECT name FROM mysql.help_topic",
                  "SELECT routine_name FROM information_schema.routines "
                  "WHERE routine_schema = DATABASE()"):
        try:
            rows = conn.exec_driver_sql(query).fetchall()
        except DBAPIError:
            conn.rollback()
            continue
        for (name,) in rows:
            text = str(name).replace("\\_", "_").lower()
            if re.match(r"^[a-z_][a-z0-9_]*$", text):
                names.add(text)
    return names


def engine_functions(conn: Any, backend: str) -> frozenset[str] | None:
    """Lower-case names of every function the engine behind `conn` can call."""
    try:
        if backend == "postgresql":
            rows = conn.exec_driver_sql("SELECT DISTINCT lower(proname) FROM pg_proc")
            return frozenset(r[0] for r in rows)
        if backend == "sqlite":
            names = {r[0] for r in conn.exec_driver_sql(
                "SELECT DISTINCT lower(name) FROM pragma_function_list")}
            try:
                names |= {r[0] for r in conn.exec_driver_sql(
                    "SELECT DISTINCT lower(name) FROM pragma_module_list")}
            except DBAPIError:
                conn.rollback()
            return frozenset(names)
    except DBAPIError:
        conn.rollback()
        return None
    return MYSQL_FUNCTIONS | frozenset(_mysql_catalogue(conn))
