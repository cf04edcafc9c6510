"""Other dialects' functions, rewritten into what the target engine really runs.

sqlglot transpiles most syntax, but for SQLite it leaves `YEAR(x)`, `LEFT(x, n)`,
`DATE_TRUNC(...)`, `EXTRACT(...)` as they are, and turns `TO_CHAR(d, 'YYYY-MM')` into
`CAST(d AS TEXT)` - which runs and returns something else. Each rule here maps one
sqlglot node type to the target's own spelling (`strftime`, `substr`, `||`,
`julianday`, `DATE_FORMAT`...). A rule fires only for a function the target's catalogue
lacks, so a query already in the target's dialect is left alone; what has no faithful
equivalent (MEDIAN on SQLite) is left for the validator to report.
"""

from __future__ import annotations

import re
from typing import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from .functions import FunctionCall, function_calls
from .guard import function_name

Rule = Callable[[exp.Expr], exp.Expr | None]
DATE_PARTS = frozenset({"year", "yy", "yyyy", "quarter", "qq", "month", "mm", "week", "wk",
                        "day", "dd", "dayofyear", "dy", "hour", "hh", "minute", "mi", "second",
                        "ss", "weekday", "dw"})
#: dialects a foreign function name is looked up in (for `NOW()`, `DATE_FORMAT()`...)
LOOKUP_DIALECTS = ("mysql", "postgres", "sqlite", "tsql", "bigquery", "snowflake", "duckdb")

_SQLITE_PARTS = {"YEAR": "%Y", "MONTH": "%m", "DAY": "%d", "HOUR": "%H", "MINUTE": "%M",
                 "SECOND": "%S", "DOW": "%w", "DAYOFWEEK": "%w", "DOY": "%j",
                 "DAYOFYEAR": "%j", "WEEK": "%W", "EPOCH": "%s"}
_SQLITE_TRUNC = {"YEAR": "%Y-01-01", "MONTH": "%Y-%m-01", "DAY": "%Y-%m-%d",
                 "HOUR": "%Y-%m-%d %H:00:00", "MINUTE": "%Y-%m-%d %H:%M:00"}
_MYSQL_TRUNC = {"YEAR": "%Y-01-01", "MONTH": "%Y-%m-01", "DAY": "%Y-%m-%d"}
#: PostgreSQL TO_CHAR patterns -> strftime / DATE_FORMAT, longest first
_PG_FORMAT = (("YYYY", "%Y", "%Y"), ("HH24", "%H", "%H"), ("MM", "%m", "%m"),
              ("DD", "%d", "%d"), ("MI", "%M", "%i"), ("SS", "%S", "%s"),
              ("YY", "%y", "%y"), ("DDD", "%j", "%j"))


def _fn(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _int(expression: exp.Expr) -> exp.Cast:
    return exp.cast(expression, "INTEGER")


def _unit(node: exp.Expr) -> str:
    unit = node.args.get("unit")
    if unit is None and isinstance(node, exp.Extract):
        unit = node.this
    return (unit.name if isinstance(unit, exp.Expr) else str(unit or "")).upper()


def _target_of(node: exp.Expr) -> exp.Expr:
    return node.expression if isinstance(node, exp.Extract) else node.this


def _pg_format(fmt: exp.Expr | None, mysql: bool) -> str | None:
    """A TO_CHAR pattern in strftime (or MySQL) terms; None if a part has no equivalent."""
    if not isinstance(fmt, exp.Literal) or not fmt.is_string:
        return None
    text, out = fmt.this, ""
    while text:
        for pg, strf, my in _PG_FORMAT:
            if text.startswith(pg):
                out, text = out + (my if mysql else strf), text[len(pg):]
                break
        else:
            if text[0].isalpha():
                return None  # Mon, Day, Q ...: no faithful equivalent
            out, text = out + text[0], text[1:]
    return out


# -- SQLite -------------------------------------------------------------------------------

def _sqlite_part(node: exp.Expr) -> exp.Expr | None:
    unit = {"Year": "YEAR", "Month": "MONTH", "Day": "DAY", "DayOfWeek": "DOW",
            "DayOfYear": "DOY", "Quarter": "QUARTER"}.get(type(node).__name__) or _unit(node)
    target = _target_of(node)
    if unit == "QUARTER":
        month = _int(_fn("strftime", exp.Literal.string("%m"), target.copy()))
        plus_two = exp.paren(exp.Add(this=month, expression=exp.Literal.number(2)))
        return exp.paren(exp.Div(this=plus_two, expression=exp.Literal.number(3), typed=True))
    part = _SQLITE_PARTS.get(unit)
    return _int(_fn("strftime", exp.Literal.string(part), target.copy())) if part else None


def _sqlite_trunc(node: exp.Expr) -> exp.Expr | None:
    pattern = _SQLITE_TRUNC.get(_unit(node))
    if pattern is None:
        return None
    return _fn("strftime", exp.Literal.string(pattern), node.this.copy())


def _sqlite_stddev(node: exp.Expr) -> exp.Expr:
    x = node.this
    n = exp.Count(this=x.copy())
    sum_sq = exp.Sum(this=exp.Mul(this=x.copy(), expression=x.copy()))
    mean_sq = exp.Div(this=exp.Mul(this=exp.Mul(this=exp.Literal.number("1.0"),
                                                expression=exp.Sum(this=x.copy())),
                                   expression=exp.Sum(this=x.copy())), expression=n.copy())
    pop = isinstance(node, (exp.StddevPop, exp.VariancePop))
    denominator = n if pop else exp.paren(exp.Sub(this=n, expression=exp.Literal.number(1)))
    variance = exp.Div(this=exp.paren(exp.Sub(this=sum_sq, expression=mean_sq)),
                       expression=denominator)
    return variance if isinstance(node, (exp.Variance, exp.VariancePop)) \
        else _fn("sqrt", variance)


def _sqlite_to_char(node: exp.Expr) -> exp.Expr | None:
    fmt = _pg_format(node.args.get("format"), mysql=False)
    return _fn("strftime", exp.Literal.string(fmt), node.this.copy()) if fmt else None


def _sqlite_date_diff(node: exp.Expr) -> exp.Expr | None:
    if _unit(node) not in ("", "DAY", "DAYS"):
        return None
    return _int(exp.paren(exp.Sub(this=_fn("julianday", node.this.copy()),
                                  expression=_fn("julianday", node.expression.copy()))))


def _concat(node: exp.Expr) -> exp.Expr | None:
    args = list(node.expressions)
    if len(args) < 2:
        return None
    out = args[0].copy()
    for arg in args[1:]:
        out = exp.DPipe(this=out, expression=arg.copy())
    return exp.paren(out)


def _sqlite_interval(node: exp.Expr) -> exp.Expr | None:
    """`d + INTERVAL '1 day'` -> `date(d, '+1 day')` (datetime() below a day)."""
    interval = node.expression
    if not isinstance(interval, exp.Interval):
        return None
    amount, unit = interval.this, (interval.unit.name if interval.unit else "").lower()
    text = amount.name if isinstance(amount, exp.Literal) else ""
    if not unit and " " in text:
        text, unit = text.split(" ", 1)
    unit = unit.lower().rstrip("s")
    if not re.match(r"^-?\d+(\.\d+)?$", text.strip()) or unit not in (
            "year", "month", "day", "hour", "minute", "second"):
        return None
    sign = "-" if isinstance(node, exp.Sub) else "+"
    fn = "date" if unit in ("year", "month", "day") else "datetime"
    return _fn(fn, node.this.copy(), exp.Literal.string(f"{sign}{text.strip()} {unit}s"))


#: the conversions SQLite's strftime() knows; others give NULL, silently
_SQLITE_STRFTIME = set("dfHjJmMsSwWY%")


def _sqlite_time_to_str(node: exp.Expr) -> exp.Expr | None:
    """DATE_FORMAT / TO_CHAR as strftime, unless the format needs what strftime lacks
    (month names: `%M` in MySQL would become NULL, not 'January')."""
    try:
        text = node.sql("sqlite", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError:
        return None
    fmt = re.match(r"^STRFTIME\('((?:[^']|'')*)'", text)
    used = set(re.findall(r"%(.)", fmt.group(1))) if fmt else {"?"}
    return node if used <= _SQLITE_STRFTIME else None


SQLITE_RULES: dict[type[exp.Expr], Rule] = {
    exp.Year: _sqlite_part, exp.Month: _sqlite_part, exp.Day: _sqlite_part,
    exp.Quarter: _sqlite_part, exp.DayOfYear: _sqlite_part,  # no DayOfWeek: 0 or 1 = Sunday?
    exp.Extract: _sqlite_part, exp.DateTrunc: _sqlite_trunc,
    exp.TimestampTrunc: _sqlite_trunc, exp.DatetimeTrunc: _sqlite_trunc,
    exp.Left: lambda n: exp.Substring(this=n.this.copy(), start=exp.Literal.number(1),
                                      length=n.expression.copy()),
    exp.Right: lambda n: _fn("substr", n.this.copy(), exp.Neg(this=n.expression.copy())),
    exp.Concat: _concat, exp.ToChar: _sqlite_to_char, exp.DateDiff: _sqlite_date_diff,
    exp.Stddev: _sqlite_stddev, exp.StddevSamp: _sqlite_stddev, exp.StddevPop: _sqlite_stddev,
    exp.Variance: _sqlite_stddev, exp.VariancePop: _sqlite_stddev,
    exp.UnixToTime: lambda n: _fn("datetime", n.this.copy(), exp.Literal.string("unixepoch")),
    exp.TimeToStr: _sqlite_time_to_str,
}


# -- PostgreSQL ---------------------------------------------------------------------------

def _pg_julianday(node: exp.Expr) -> exp.Expr | None:
    if not isinstance(node, exp.Anonymous) or function_name(node) != "julianday":
        return None
    epoch = exp.Extract(this=exp.var("EPOCH"), expression=exp.cast(node.expressions[0].copy(),
                                                                    "TIMESTAMP"))
    return exp.paren(exp.Add(this=exp.Div(this=epoch, expression=exp.Literal.number("86400.0")),
                             expression=exp.Literal.number("2440587.5")))


def _pg_datetime(node: exp.Expr) -> exp.Expr | None:
    mods = node.expressions if isinstance(node, exp.Datetime) else []
    if len(mods) == 1 and isinstance(mods[0], exp.Literal) and mods[0].this == "unixepoch":
        return exp.UnixToTime(this=node.this.copy())
    return None


POSTGRES_RULES: dict[type[exp.Expr], Rule] = {
    exp.Anonymous: _pg_julianday, exp.Datetime: _pg_datetime,
}


# -- MySQL / MariaDB ----------------------------------------------------------------------

def _mysql_trunc(node: exp.Expr) -> exp.Expr | None:
    pattern = _MYSQL_TRUNC.get(_unit(node))
    if pattern is None:
        return None
    return exp.StrToDate(this=exp.TimeToStr(this=node.this.copy(),
                                            format=exp.Literal.string(pattern)),
                         format=exp.Literal.string("%Y-%m-%d"))


def _mysql_extract(node: exp.Expr) -> exp.Expr | None:
    unit = _unit(node)
    if unit in ("DOW", "DAYOFWEEK"):
        return exp.paren(exp.Sub(this=_fn("DAYOFWEEK", node.expression.copy()),
                                 expression=exp.Literal.number(1)))
    if unit == "EPOCH":
        return _fn("UNIX_TIMESTAMP", node.expression.copy())
    if unit in ("DOY", "DAYOFYEAR"):
        return _fn("DAYOFYEAR", node.expression.copy())
    return None


def _mysql_to_char(node: exp.Expr) -> exp.Expr | None:
    fmt = _pg_format(node.args.get("format"), mysql=True)
    return _fn("DATE_FORMAT", node.this.copy(), exp.Literal.string(fmt)) if fmt else None


def _mysql_julianday(node: exp.Expr) -> exp.Expr | None:
    if not isinstance(node, exp.Anonymous) or function_name(node) != "julianday":
        return None
    seconds = _fn("TO_SECONDS", node.expressions[0].copy())
    return exp.paren(exp.Add(this=exp.Div(this=seconds, expression=exp.Literal.number("86400.0")),
                             expression=exp.Literal.number("1721059.5")))


MYSQL_RULES: dict[type[exp.Expr], Rule] = {
    exp.DateTrunc: _mysql_trunc, exp.TimestampTrunc: _mysql_trunc,
    exp.DatetimeTrunc: _mysql_trunc, exp.ToChar: _mysql_to_char,
    exp.Anonymous: _mysql_julianday,
}

RULES = {"sqlite": SQLITE_RULES, "postgres": POSTGRES_RULES, "mysql": MYSQL_RULES}
ALWAYS: dict[str, dict[type[exp.Expr], Rule]] = {
    "mysql": {exp.Extract: _mysql_extract},
    "sqlite": {exp.Add: _sqlite_interval, exp.Sub: _sqlite_interval},
}


def _typed(node: exp.Anonymous, dialect: str) -> exp.Expr | None:
    """A foreign `NOW()` / `DATE_FORMAT()` as the node type some dialect parses it to.

    Only the call is re-read in the other dialect: its non-literal arguments stand in as
    placeholders and are put back as they are, so `"Played At"` stays a column even where
    double quotes mean a string (MySQL). Literals go along - a format string decides the
    node (`DATE_FORMAT(x, '%Y')` becomes a formatted date).
    """
    args = list(node.expressions)
    parts = [a.sql(dialect) if isinstance(a, exp.Literal) or _is_date_part(a) else f"__arg{i}"
             for i, a in enumerate(args)]
    text = f"{node.name}({', '.join(parts)})"
    for read in LOOKUP_DIALECTS:
        if read == dialect:
            continue
        try:
            parsed = sqlglot.parse_one(text, read=read)
        except SqlglotError:
            continue
        if isinstance(parsed, exp.Func) and not isinstance(parsed, exp.Anonymous):
            return parsed.transform(lambda n: _argument(n, args), copy=False)
    return None


def _is_date_part(node: exp.Expr) -> bool:
    """`day` in DATEADD(day, 7, d): a unit word, not a column (T-SQL, Snowflake)."""
    return isinstance(node, exp.Column) and not node.table and \
        node.name.lower() in DATE_PARTS and not node.this.quoted


def _argument(node: exp.Expr, args: list[exp.Expr]) -> exp.Expr:
    node.meta.pop("start", None)  # offsets into the re-read text, not into the query
    node.meta.pop("end", None)
    match = re.match(r"^__arg(\d+)$", node.name) if isinstance(node, exp.Column) else None
    return args[int(match.group(1))].copy() if match else node


def _transpiles(node: exp.Expr, dialect: str, available: frozenset[str] | None) -> bool:
    """Does sqlglot generate `node` as a call the target has (STRING_AGG -> GROUP_CONCAT)?"""
    try:
        text = node.sql(dialect, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError:
        return False  # sqlglot would drop an argument (TO_CHAR's format on SQLite)
    lead = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(", text)
    return bool(lead and available is not None and lead.group(1).lower() in available)


def _equivalent(node: exp.Expr, dialect: str,
                available: frozenset[str] | None) -> exp.Expr | None:
    """The target's spelling of one foreign call, or None when there is none."""
    current = _typed(node, dialect) if isinstance(node, exp.Anonymous) else node
    current = current or node
    rule = RULES.get(dialect, {}).get(type(current))
    if rule is not None:
        return rule(current)  # None: no faithful equivalent, leave it to the validator
    if current is not node or _transpiles(current, dialect, available):
        return current  # sqlglot's own generation already speaks the target
    return None


def _text(node: exp.Expr, dialect: str) -> str:
    """SQL for a change note, without sqlglot's warnings about what it cannot say."""
    return node.sql(dialect, unsupported_level=sqlglot.ErrorLevel.IGNORE)


def _call_node(sql: str, call: FunctionCall, dialect: str
               ) -> tuple[exp.Expr | None, exp.Expr | None]:
    """(the call as the target parses it - to find it in the tree, the call as its own
    dialect means it): `DATEDIFF(day, a, b)` opens with a unit word, so it is T-SQL's."""
    text = sql[call.start: call.end + 1]
    try:
        node = sqlglot.parse_one(text, read=dialect)
    except SqlglotError:
        return None, None
    if not isinstance(node, exp.Func):
        return None, None
    first = next(iter(node.iter_expressions()), None)
    if first is not None and _is_date_part(first) and not isinstance(node, exp.Anonymous):
        try:
            meant = sqlglot.parse_one(text, read="tsql")
        except SqlglotError:
            return node, None
        for part in meant.walk():
            part.meta.pop("start", None)
            part.meta.pop("end", None)
        return node, meant
    return node, node


def _always(tree: exp.Expr, dialect: str, changes: list[str]) -> exp.Expr:
    """Rules for nodes the target has only in part (MySQL's EXTRACT has no DOW)."""
    rules = ALWAYS.get(dialect, {})

    def rewrite(node: exp.Expr) -> exp.Expr:
        rule = rules.get(type(node))
        replaced = rule(node) if rule else None
        if replaced is None:
            return node
        changes.append(f"{_text(node, dialect)[:60]} is not valid in {dialect}: rewritten as "
                       f"{_text(replaced, dialect)[:80]}")
        return replaced

    return tree.transform(rewrite, copy=True) if rules else tree


def translate_functions(tree: exp.Expr, dialect: str, sql: str,
                        available: frozenset[str] | None) -> tuple[exp.Expr, list[str]]:
    """Rewrite the calls `dialect` lacks into its own equivalents; returns (tree, changes).

    The calls are found as written (tokens), so `STRING_AGG` counts as missing on SQLite
    even though sqlglot would call its node GROUP_CONCAT.
    """
    changes: list[str] = []
    tree = _always(tree, dialect, changes)
    if available is None:
        return tree, changes
    tree = tree.copy()
    for call in function_calls(sql, dialect, tree):
        if call.name in available:
            continue
        node, meant = _call_node(sql, call, dialect)
        target = next((n for n in tree.find_all(type(node)) if n == node), None) \
            if node is not None else None
        if target is None or meant is None:
            continue
        replaced = _equivalent(target if meant is node else meant, dialect, available)
        if target is None or replaced is None:
            continue
        target.replace(replaced)
        changes.append(f"{call.written.upper()}() is not a {dialect} function: rewritten as "
                       f"{_text(replaced, dialect)[:80]}")
    return tree, changes
