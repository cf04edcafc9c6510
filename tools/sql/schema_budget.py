"""Schema text that fits a token budget, however many tables the database has.

What the SQL stage shows the model about the schema must stay small per turn (a 200-table
warehouse renders to ~27,000 tokens). The text degrades in steps until it fits: full
blocks with sample values; without samples; full blocks for the first (most relevant)
tables and one compact line each (`name (rows): col, col, ...`) for the rest; names only;
and last a count of what was left out - always with a pointer to the call that shows more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from stageagent.tokens import TokenCounter

if TYPE_CHECKING:  # schema.py renders with quote_name: types only, no import cycle
    from .schema import Schema, TableSchema

#: the most tokens one schema tool result may take (the stage's ceiling is 4,000 per turn)
SCHEMA_TOKEN_BUDGET = 3500
_counter = TokenCounter()


def quote_name(name: str, dialect: str) -> str:
    """Quote an identifier in the rendering only when SQL would need it."""
    plain = name.isidentifier() and name.islower()
    return exp.to_identifier(name, quoted=not plain).sql(dialect)


def count_tokens(text: str) -> int:
    return _counter.count(text)


def _rows(table: "TableSchema") -> str:
    if table.row_count is None:
        return ""
    return f" (~{table.row_count} rows)" if table.row_count_estimated else \
        f" ({table.row_count} rows)"


def compact_line(schema: "Schema", table: "TableSchema") -> str:
    """One line per table: its quoted name, rows, and column names."""
    columns = ", ".join(quote_name(c.name, schema.dialect) for c in table.columns)
    return f"- {quote_name(table.name, schema.dialect)}{_rows(table)}: {columns}"


def _fit_lines(lines: list[str], budget: int) -> tuple[list[str], int]:
    """As many of `lines` as fit in `budget` tokens: (kept, left out)."""
    kept: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        cost = count_tokens(line) + 1
        if used + cost > budget:
            return kept, len(lines) - i
        kept.append(line)
        used += cost
    return kept, 0


def fit_schema(schema: "Schema", tables: list[str], header: str,
               budget: int = SCHEMA_TOKEN_BUDGET, *, detail_first: bool = True) -> str:
    """`header` plus the named tables, degraded step by step until within `budget`.

    `detail_first`: the tables are in order of relevance, so the first ones keep their
    full blocks; otherwise (an overview of everything) all go to short lines at once.
    """
    head_cost = count_tokens(header) + 60  # room for the closing note
    for samples in (True, False):
        text = header + "\n\n" + schema.render(tables, samples=samples)
        if count_tokens(text) <= budget:
            return text
    found = [t for t in (schema.table(n) for n in tables) if t is not None]
    blocks, used = [], head_cost
    for i, table in enumerate(found if detail_first else []):
        block = schema.render([table.name], samples=False)
        rest = sum(count_tokens(compact_line(schema, t)) + 1 for t in found[i + 1:])
        if used + count_tokens(block) + rest > budget:
            break
        blocks.append(block)
        used += count_tokens(block) + 2
    remaining = found[len(blocks):]
    lines, left_out = _fit_lines([compact_line(schema, t) for t in remaining], budget - used)
    if left_out:  # not even one line per table fits: names only
        lines, left_out = _fit_lines([f"- {quote_name(t.name, schema.dialect)}{_rows(t)}"
                                      for t in remaining], budget - used)
    parts = [header] + (["\n\n".join(blocks)] if blocks else [])
    if not detail_first:
        parts.append("Too many tables to show in full: call schema_retrieval with the "
                     "question to find the relevant ones.")
    if lines:
        parts.append("Shown in short (call schema_discovery with tables=[...] for their "
                     "types, keys and sample values):\n" + "\n".join(lines))
    if left_out:
        parts.append(f"... and {left_out} more table(s) not shown; call schema_retrieval "
                     "with the question to find the relevant ones.")
    return "\n\n".join(parts)
