"""Schema linking: which tables and columns a query really uses, from the qualified AST.

`sqlglot`'s `qualify` resolves every column to its source against the database schema
(aliases, `USING`, unqualified names, `*` expanded); walking each scope then maps a
column's table alias to the real table. Comparing the predicted query's set of
`table` and `table.column` items with the gold's gives schema-linking precision and
recall, the measure text-to-SQL papers (RESDSQL, DIN-SQL, CHESS) report for retrieval.
Names are compared case-insensitively, as SQL folds unquoted identifiers.
"""

from __future__ import annotations

from stageagent.tools.sql import Schema


def schema_mapping(schema: Schema) -> dict[str, dict[str, str]]:
    """`{table: {column: type}}` for sqlglot's qualifier."""
    return {name: {c.name: c.type or "TEXT" for c in table.columns}
            for name, table in schema.tables.items()}


def linked_items(sql: str, mapping: dict[str, dict[str, str]], dialect: str) -> frozenset[str]:
    """`table` and `table.column` names `sql` reads (lower case); raises on unparsable SQL.
    Not cached here: an eval run's `Resources.linked` keeps one answer per query."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import traverse_scope

    schema: dict[str, object] = {table: dict(sorted(cols.items()))  # a stable order
                                 for table, cols in sorted(mapping.items())}
    tree = sqlglot.parse_one(sql, read=dialect or None)
    tree = qualify(tree, schema=schema, dialect=dialect or None, validate_qualify_columns=False,
                   identify=False)
    items: set[str] = set()
    for scope in traverse_scope(tree):
        for source in scope.sources.values():
            if isinstance(source, exp.Table) and source.name:
                items.add(source.name.lower())
        for column in scope.columns:
            origin = scope.sources.get(column.table)
            if isinstance(origin, exp.Table) and column.name:
                items.add(f"{origin.name.lower()}.{column.name.lower()}")
    return frozenset(items)


def precision_recall(predicted: frozenset[str], gold: frozenset[str]) -> tuple[float, float]:
    """Share of predicted items that are gold; share of gold items predicted."""
    hits = len(predicted & gold)
    precision = hits / len(predicted) if predicted else (1.0 if not gold else 0.0)
    recall = hits / len(gold) if gold else 1.0
    return precision, recall
