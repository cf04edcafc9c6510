from stageagent.tools.chart import samples
from stageagent.tools.document import check_style

GOOD = ("Total revenue across the eight categories reached 1.44 million in the period. "
        "Electronics led with 412,531, which is 28.7% of the total, followed by Home & Garden "
        "with 298,110. Grocery contributed the least. Revenue is concentrated in the three "
        "largest categories, which together account for 67% of the total.")


def rules(text, **kw):
    return check_style(text, **kw).failed_rules()


def test_good_paragraph_passes():
    assert check_style(GOOD).ok


def test_length_bounds():
    assert "length" in rules("Revenue rose.")
    assert "length" in rules(GOOD * 6)


def test_first_person_hedging_and_register():
    assert "first_person" in rules(GOOD + " We saw strong demand.")
    assert "hedging" in rules(GOOD + " Demand might perhaps continue.")
    assert "register" in rules(GOOD + " That's a huge result!")
    assert "register" not in rules(GOOD + " That's a good result.", register="neutral")
    assert "first_person" not in rules(GOOD + " Sales in the US grew.")


def test_superlatives_need_data_backing():
    monthly = samples.monthly_revenue()
    # December 2024 is the data's maximum: a record claim about it is backed
    assert "superlative" not in rules(GOOD + " December 2024 set a record.", result=monthly)
    assert "superlative" in rules(GOOD + " March 2024 set a record.", result=monthly)
    assert "superlative" in rules(GOOD + " Sales were record-breaking.")
    assert "superlative" in rules(GOOD + " Electronics saw unprecedented growth.",
                                  result=samples.revenue_by_category())
