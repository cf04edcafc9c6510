import pytest

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
    # largest, second largest, lowest - and "more than" (Electronics above Home & Garden)
    assert len([c for c in report.checks if c.kind == "ranking"]) == 4


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


# -- each figure is checked against the label and period of its own clause -----------------

MONTHLY = samples.monthly_revenue()
M = {row[0]: row[1] for row in MONTHLY.rows}
Q4_2024 = sum(M[f"2024-{m}"] for m in ("10", "11", "12"))


def test_a_quarter_figure_must_be_that_quarters_not_any_month_of_the_year():
    assert not failures(f"Revenue in Q4 2024 was {Q4_2024:,.0f}.", MONTHLY)
    (bad,) = failures(f"Revenue in Q4 2024 was {M['2024-03']:,.0f}.", MONTHLY)
    assert "2024-03" in bad.message and "2024-Q4" in bad.message


def test_a_figure_of_another_month_is_an_attribution_error():
    assert not failures(f"In March 2024 revenue was {M['2024-03']:,.0f}.", MONTHLY)
    (bad,) = failures(f"In March 2024 revenue was {M['2024-04']:,.0f}.", MONTHLY)
    assert "revenue of 2024-04" in bad.message


def test_swapped_figures_of_two_labels_are_caught():
    right = f"Revenue rose from {M['2024-01']:,.0f} in January to {M['2024-12']:,.0f} in December 2024."
    swapped = f"Revenue rose from {M['2024-12']:,.0f} in January to {M['2024-01']:,.0f} in December 2024."
    assert not failures(right, MONTHLY)
    bad = failures(swapped, MONTHLY)
    assert [c.kind for c in bad] == ["number", "number", "ranking"]  # both figures, and "rose"
    assert "that is a fall, not a rise" in bad[2].message


def test_two_labels_given_the_same_figure_are_caught():
    assert not failures("Electronics earned 412,531 and Home & Garden 298,110.")
    (bad,) = failures("Electronics earned 412,531 and Home & Garden 412,531.")
    assert "Home & Garden" in bad.message
    assert failures("Electronics and Home & Garden earned 298,110 and 298,110 respectively.")
    assert not failures("Electronics and Home & Garden earned 412,531 and 298,110 respectively.")


def test_bare_months_take_the_year_of_the_paragraph():
    text = (f"December 2024 brought {M['2024-12']:,.0f}. November had brought "
            f"{M['2024-11']:,.0f}.")
    assert not failures(text, MONTHLY)
    # with two years of data, November without a year follows the paragraph's 2024
    assert failures(f"December 2024 brought {M['2024-12']:,.0f}. November had brought "
                    f"{M['2023-11']:,.0f}.", MONTHLY)


@pytest.mark.parametrize("sentence, ok", [
    ("Revenue peaked in December 2024.", True),
    ("Revenue peaked in June 2024.", False),
    ("In 2023, the weakest month was {low23}.", True),
    ("In 2023, the weakest month was December.", False),
    ("December 2023 was the strongest month of 2023.", True),
    ("2024 was the stronger year.", True),
    ("The largest month was January 2023.", False),
    ("Revenue in December 2024 was higher than in November 2024.", True),
    ("Revenue in June 2024 was larger than in December 2024.", False),
])
def test_extremum_words_are_ranked_within_their_scope(sentence, ok):
    low23 = min((k for k in M if k.startswith("2023")), key=M.__getitem__)
    month = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"][int(low23[5:]) - 1]
    checks = check_consistency(sentence.format(low23=month), MONTHLY).checks
    rankings = [c for c in checks if c.kind == "ranking"]
    assert rankings and all(c.ok for c in rankings) == ok, checks


@pytest.mark.parametrize("sentence, ok", [
    ("Books earned more than Toys.", True), ("Toys earned more than Books.", False),
    ("Electronics outsold Clothing.", True), ("Clothing outsold Electronics.", False),
    ("Toys trailed Books.", True), ("Books trailed Toys.", False),
    ("Grocery trailed the other categories.", True), ("Sports trailed the other categories.", False),
])
def test_comparisons_between_two_labels(sentence, ok):
    report = check_consistency(sentence, CATEGORY)
    assert [c.kind for c in report.checks] == ["ranking"] and report.ok == ok


def test_top_n_set_claims_and_ranges():
    assert not failures("Electronics and Home & Garden were the two largest categories.")
    assert failures("Electronics and Sports were the two largest categories.")
    assert not failures("Revenue per category ranged from 40,120 to 412,531.")
    assert failures("Revenue per category ranged from 412,531 to 40,120.")


def test_day_level_dates_raise_no_false_alarm_against_monthly_periods():
    text = f"The first order arrived on February 11, 2024, and February 2024 closed at {M['2024-02']:,.0f}."
    assert not failures(text, MONTHLY)
    assert failures("The first order arrived on February 11, 2026.", MONTHLY)


def test_bounds_and_approximations_are_checked_not_flagged():
    assert not failures("Electronics brought over 400,000 and nearly 30% of revenue.")
    assert failures("Electronics brought over 500,000.")
    assert failures("Books brought about 150,000.")


def test_a_total_is_no_figure_of_one_label_unless_the_sentence_says_so():
    assert failures(f"Electronics earned {TOTAL:,.0f}.")
    assert not failures(f"Electronics led a total of {TOTAL:,.0f}.")


Y23 = sum(v for k, v in M.items() if k < "2024")
Y24 = sum(v for k, v in M.items() if k >= "2024")


def test_year_over_year_change_with_the_years_left_unsaid_or_implied():
    yoy = (Y24 / Y23 - 1) * 100
    assert not failures(f"Revenue grew {yoy:.1f}% year over year.", MONTHLY)
    assert not failures(f"In 2024, revenue rose {yoy:.0f}% to {Y24 / 1e6:.2f} million.", MONTHLY)
    assert failures(f"In 2024, revenue rose {yoy + 4:.0f}% to {Y24 / 1e6:.2f} million.", MONTHLY)


def test_percentage_points_per_unit_ratios_and_counts_of_rises():
    pp = (412_530.5 - 298_110.0) / TOTAL * 100
    assert not failures(f"Electronics' share was {pp:.1f} percentage points above Home & Garden's.")
    assert failures(f"Electronics' share was {pp + 2:.1f} percentage points above Home & Garden's.")
    products = samples.product_measures()
    name, units, revenue = products.rows[0]
    assert not failures(f"{name} sold {units} units at an average of {revenue / units:,.2f} per unit.",
                        products)
    assert failures(f"{name} sold {units} units at an average of {revenue / units + 9:,.2f} per unit.",
                    products)
    values = [r[1] for r in MONTHLY.rows]
    rises = sum(b > a for a, b in zip(values, values[1:]))
    assert not failures(f"Revenue rose in {rises} of the 23 months.", MONTHLY)
    assert failures(f"Revenue rose in {rises + 3} of the 23 months.", MONTHLY)


def test_labels_listed_before_a_rank_word_form_a_set_claim():
    assert not failures("Electronics (28.7%) and Home & Garden (20.8%) led.")
    assert failures("Electronics and Books led.")
    assert not failures("Clothing grew and Electronics was the largest.")  # the change is not ranked
    assert failures("Clothing grew and Sports was the largest.")


def test_month_number_columns_are_periods_with_or_without_a_year_column():
    yearless = QueryResult(
        sql="SELECT CAST(strftime('%m', d) AS INTEGER) AS month, SUM(x) AS revenue FROM t "
            "WHERE d LIKE '2024%' GROUP BY 1",
        columns=[ColumnInfo(name="month", kind="integer"), ColumnInfo(name="revenue", kind="number")],
        rows=[[m, 1000.0 * m + 5] for m in range(1, 13)])
    assert not failures("Revenue in March 2024 was 3,005; in 2024 it peaked in December.", yearless)
    assert failures("March brought 4,005.", yearless)
    assert failures("Revenue peaked in June.", yearless)
    dated = QueryResult(
        sql="q", columns=[ColumnInfo(name="year", kind="integer"),
                          ColumnInfo(name="month", kind="integer"),
                          ColumnInfo(name="revenue", kind="number")],
        rows=[[y, m, 1000.0 * m + y] for y in (2023, 2024) for m in range(1, 13)])
    assert not failures("Revenue in March 2024 was 5,024; in 2023 it peaked in December.", dated)
    assert failures("Revenue in March 2024 was 5,023.", dated)  # March 2023's
    assert failures("In 2023 revenue peaked in March.", dated)


def test_the_direction_word_must_match_the_sign_of_the_change():
    g = (M["2024-12"] / M["2023-01"] - 1) * 100
    assert not failures(f"Revenue rose {g:.1f}% from January 2023 to December 2024.", MONTHLY)
    (bad,) = failures(f"Revenue fell {g:.1f}% from January 2023 to December 2024.", MONTHLY)
    assert "a rise" in bad.message
    assert failures(f"Revenue fell from {M['2023-01']:,.0f} in January 2023 to "
                    f"{M['2024-12']:,.0f} in December 2024.", MONTHLY)


def test_a_draft_over_month_numbers_names_months_and_passes_its_own_check():
    from stageagent.tools.document import generate_draft

    result = QueryResult(sql="SELECT month, SUM(x) AS revenue FROM t GROUP BY 1",
                         columns=[ColumnInfo(name="month", kind="integer"),
                                  ColumnInfo(name="revenue", kind="number")],
                         rows=[[m, 1000.0 * m + 5] for m in range(1, 13)])
    draft = generate_draft(result, "How did revenue develop?")
    assert "*" not in draft and "from January to December" in draft
    assert check_consistency(draft, result).ok
