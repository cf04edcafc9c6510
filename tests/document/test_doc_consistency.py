from stageagent.tools.chart import samples
from stageagent.tools.document import check_consistency
from stageagent.tools.results import ColumnInfo, QueryResult

CATEGORY = samples.revenue_by_category()
TOTAL = sum(r[1] for r in CATEGORY.rows)  # 1,436,491.5


def failures(text, result=CATEGORY):
    return [c for c in check_consistency(text, result).checks if not c.ok]


def test_correct_paragraph_with_rounded_numbers_passes():
    text = ("Total revenue across the 8 categories reached 1.44 million. Electronics was the "
            "largest category at $412.5k, or 28.7% of the total, and Home & Garden was the "
            "second largest with 298,110. Electronics earned 114,420 more than Home & Garden. "
            "The top 3 categories accounted for 67% of revenue. Grocery had the lowest revenue, "
            "40,120.")
    report = check_consistency(text, CATEGORY)
    assert report.ok, report.critiques
    assert len([c for c in report.checks if c.kind == "number"]) == 9
    assert len([c for c in report.checks if c.kind == "ranking"]) == 3


def test_million_rounding_tolerance_is_the_written_precision():
    result = QueryResult(sql="q", columns=[ColumnInfo(name="region", kind="string"),
                                           ColumnInfo(name="revenue", kind="number")],
                         rows=[["North", 1_234_567.0], ["South", 500_000.0]])
    assert not failures("North brought 1.23 million in revenue.", result)
    assert not failures("North brought 1.2 million in revenue.", result)
    assert failures("North brought 1.24 million in revenue.", result)  # 1.2346 -> 1.23


def test_wrong_share_is_caught_and_critique_gives_the_right_figure():
    (bad,) = failures("Books accounted for 12.5% of total revenue.")
    assert "12.5%" in bad.message and "6.7%" in bad.message and "share of Books" in bad.message
    assert "Books accounted" in bad.message  # names the sentence


def test_number_of_another_label_is_an_attribution_error():
    (bad,) = failures("Books earned 412,531 in revenue.")
    assert "revenue of Electronics" in bad.message and "96,215.75" in bad.message


def test_invented_number_and_percent_to_one_decimal():
    assert failures("Revenue totalled 1.5 million.")  # 1.436 -> 1.4
    assert failures("Electronics held 28.8% of revenue.")  # 28.72 -> 28.7
    assert not failures("Electronics held 28.7% of revenue.")


def test_wrong_ranking_is_caught():
    (bad,) = failures("Sports was the largest category.")
    assert "Electronics" in bad.message and "ranks 4 of 8" in bad.message
    (bad,) = failures("Books had the second-highest revenue.")
    assert "Home & Garden" in bad.message
    assert not failures("Grocery had the smallest revenue.")


def test_growth_and_yearly_totals_are_recomputed():
    monthly = samples.monthly_revenue()
    first, last = monthly.rows[0][1], monthly.rows[-1][1]
    growth = (last - first) / first * 100
    y23 = sum(r[1] for r in monthly.rows[:12])
    y24 = sum(r[1] for r in monthly.rows[12:])
    yoy = (y24 - y23) / y23 * 100
    text = (f"Revenue grew {growth:.1f}% from January 2023 to December 2024. Total revenue was "
            f"{y23 / 1e6:.2f} million in 2023 and {y24 / 1e6:.2f} million in 2024, an increase "
            f"of {yoy:.1f}%. December 2024 was the highest month at {last:,.0f}.")
    assert check_consistency(text, monthly).ok, check_consistency(text, monthly).critiques
    wrong = check_consistency(f"Revenue grew {growth + 5:.1f}% from January 2023 to December 2024.",
                              monthly)
    assert not wrong.ok and f"{growth:.1f}%" in wrong.critiques[0]


def test_dates_must_be_in_the_data():
    monthly = samples.monthly_revenue()
    (bad,) = [c for c in check_consistency("Revenue peaked in March 2025.", monthly).checks if not c.ok]
    assert "March 2025" in bad.message and "2023-01 to 2024-12" in bad.message
    assert check_consistency("Revenue rose in Q4 2023.", monthly).ok
    # no date column: a year is grounded only by the query's own filter
    assert not check_consistency("In 2024, Books had 96,216.", CATEGORY).ok


def test_pairwise_difference_ratio_and_counts():
    assert not failures("North earned 210,500 more than South, 1.7 times as much.",
                        samples.revenue_by_region())
    assert not failures("The top 5 customers lead the 40 customers.", samples.customer_revenue())
    assert failures("North earned 250,000 more than South.", samples.revenue_by_region())


def test_numbers_inside_labels_are_not_claims():
    report = check_consistency("Customer 01 Holdings Ltd was the largest customer.",
                               samples.customer_revenue())
    assert report.ok and [c.kind for c in report.checks] == ["ranking"]


def test_period_counts_per_year_are_facts():
    monthly = samples.monthly_revenue()
    y24 = sum(r[1] for r in monthly.rows[12:])
    assert check_consistency(f"In the 12 months of 2024, revenue was {y24 / 1e6:.2f} million.",
                             monthly).ok
    assert not check_consistency("In the 13 months of 2024, revenue rose.", monthly).ok
