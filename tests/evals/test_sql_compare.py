"""Execution accuracy on hand-made edge cases: duplicates, NULLs, floats, order, columns."""

from stageagent.evals.sql_compare import has_order_by, match_bird, match_strict, match_test_suite, results_match


def test_duplicates_bird_ignores_test_suite_counts():
    gold, pred = [[1, "a"], [2, "b"]], [[1, "a"], [1, "a"], [2, "b"]]
    assert match_bird(pred, gold)
    assert not match_test_suite(pred, gold, ordered=False)
    assert not match_strict(pred, gold)


def test_nulls_equal_nulls_and_differ_from_zero():
    assert match_bird([[None, 1]], [[None, 1]])
    assert match_test_suite([[None, 1]], [[None, 1]], ordered=True)
    assert not match_bird([[0, 1]], [[None, 1]])


def test_float_noise_is_equal_but_rounding_to_cents_is_not():
    assert match_strict([[0.1 + 0.2]], [[0.3]])
    assert match_strict([[2.0]], [[2]])
    assert not match_strict([[12.35]], [[12.345]])


def test_row_order_matters_only_when_the_gold_is_ordered():
    gold, pred = [[1], [2]], [[2], [1]]
    assert match_test_suite(pred, gold, ordered=False)
    assert not match_test_suite(pred, gold, ordered=True)
    assert match_bird(pred, gold)
    assert not match_strict(pred, gold)


def test_column_permutation_allowed_by_test_suite_only():
    gold, pred = [["a", 1], ["b", 2]], [[1, "a"], [2, "b"]]
    assert match_test_suite(pred, gold, ordered=True)
    assert not match_bird(pred, gold)
    assert not match_strict(pred, gold)


def test_permutation_must_keep_rows_together():
    # each column's values agree, but the pairing differs
    gold, pred = [["a", 1], ["b", 2]], [[2, "a"], [1, "b"]]
    assert not match_test_suite(pred, gold, ordered=False)


def test_column_count_matters():
    assert not results_match("bird", [[1, 1]], [[1]], predicted_columns=2, gold_columns=1)
    assert results_match("bird", [], [], predicted_columns=2, gold_columns=1)


def test_order_by_detection_is_top_level():
    assert has_order_by("SELECT a FROM t ORDER BY a")
    assert not has_order_by("SELECT a FROM (SELECT a FROM t ORDER BY a) AS s")
