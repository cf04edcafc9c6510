"""Execution accuracy: do two queries' results match? Three definitions from the field.

* `bird` - BIRD (Li et al., 2023; its `evaluation.py`): `set(predicted) == set(gold)` over
  row tuples. Row order and duplicate rows are ignored; column order counts.
* `test_suite` - the test-suite accuracy of Zhong et al. (2020; `exec_eval.result_eq`):
  the rows compared as multisets (duplicates count), as lists when the gold query has a
  top-level ORDER BY; the predicted columns may be a permutation of the gold's.
* `strict` - the same rows in the same order with the same columns.

Values are normalised first, as a result set reaches Python through different drivers:
decimals to floats, whole floats to ints (`2.0 == 2`), floats rounded to `FLOAT_DIGITS`
places (summation order changes the last bits), NULL equals NULL.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

Method = Literal["bird", "test_suite", "strict"]
METHODS: tuple[Method, ...] = ("bird", "test_suite", "strict")
FLOAT_DIGITS = 6
#: beyond this many candidate column permutations test_suite gives up (and says False)
MAX_PERMUTATIONS = 5040

Row = tuple[Any, ...]


def normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if value != value:  # NaN: equal to itself here
            return "NaN"
        rounded = round(value, FLOAT_DIGITS)
        return int(rounded) if rounded.is_integer() and abs(rounded) < 2 ** 53 else rounded
    if isinstance(value, list):
        return tuple(normalise(v) for v in value)
    return value


def rows_of(rows: Sequence[Sequence[Any]]) -> list[Row]:
    return [tuple(normalise(v) for v in row) for row in rows]


def match_bird(predicted: Sequence[Sequence[Any]], gold: Sequence[Sequence[Any]]) -> bool:
    return set(rows_of(predicted)) == set(rows_of(gold))


def match_strict(predicted: Sequence[Sequence[Any]], gold: Sequence[Sequence[Any]]) -> bool:
    return rows_of(predicted) == rows_of(gold)


def match_test_suite(predicted: Sequence[Sequence[Any]], gold: Sequence[Sequence[Any]], *,
                     ordered: bool) -> bool:
    """Multiset (or list, when `ordered`) equality up to a permutation of the columns."""
    pred, want = rows_of(predicted), rows_of(gold)
    if len(pred) != len(want):
        return False
    if not want:
        return True
    width = len(want[0])
    if any(len(r) != width for r in pred):
        return False
    target: Counter[Row] | list[Row] = want if ordered else Counter(want)
    for perm in column_permutations(pred, want):
        permuted = [tuple(r[i] for i in perm) for r in pred]
        if (permuted if ordered else Counter(permuted)) == target:
            return True
    return False


def column_permutations(pred: list[Row], gold: list[Row]) -> list[tuple[int, ...]]:
    """Assignments gold column j <- predicted column perm[j] whose value multisets agree
    (the pruning test-suite does), capped at MAX_PERMUTATIONS."""
    width = len(gold[0])
    pred_cols = [Counter(r[i] for r in pred) for i in range(width)]
    gold_cols = [Counter(r[j] for r in gold) for j in range(width)]
    options = [[i for i in range(width) if pred_cols[i] == gold_cols[j]] for j in range(width)]
    if any(not o for o in options):
        return []
    found: list[tuple[int, ...]] = []
    for combo in itertools.product(*options):
        if len(set(combo)) == width:
            found.append(combo)
            if len(found) >= MAX_PERMUTATIONS:
                break
    return found


def results_match(method: Method, predicted: Sequence[Sequence[Any]],
                  gold: Sequence[Sequence[Any]], *, gold_ordered: bool = False,
                  predicted_columns: int | None = None, gold_columns: int | None = None) -> bool:
    """Compare row lists by `method`; column counts matter to all three."""
    if predicted_columns is not None and gold_columns is not None \
            and predicted_columns != gold_columns and (predicted or gold):
        return False
    if method == "bird":
        return match_bird(predicted, gold)
    if method == "strict":
        return match_strict(predicted, gold)
    if method == "test_suite":
        return match_test_suite(predicted, gold, ordered=gold_ordered)
    raise ValueError(f"unknown execution-accuracy method {method!r} (use one of {METHODS})")


@lru_cache(maxsize=4096)
def has_order_by(sql: str, dialect: str | None = None) -> bool:
    """True when the outermost query has an ORDER BY (test-suite's rule for ordered gold)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read=dialect or None)
    except sqlglot.errors.ParseError:
        return "order by" in sql.lower()
    return isinstance(tree, exp.Query) and tree.args.get("order") is not None
