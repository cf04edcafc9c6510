import pytest

from stageagent.tools.document import extract_quantities, split_sentences


@pytest.mark.parametrize("text, value, kind, step", [
    ("sales of 1,234.5 units", 1234.5, "number", 0.1),
    ("about 1.2k orders", 1200.0, "number", 100.0),
    ("revenue of 1.2 million", 1_200_000.0, "number", 100_000.0),
    ("revenue of 1.23 million", 1_230_000.0, "number", 10_000.0),
    ("a budget of $3.4M", 3_400_000.0, "money", 100_000.0),
    ("€12,000 spent", 12_000.0, "money", 1.0),
    ("up 12% on the year", 12.0, "percent", 1.0),
    ("down -3.5 percent", -3.5, "percent", 0.1),
    ("a gap of 7.5 percentage points", 7.5, "percent", 0.1),
])
def test_numbers(text, value, kind, step):
    (q,) = extract_quantities(text)
    assert (q.value, q.kind, q.step) == (pytest.approx(value), kind, pytest.approx(step))


@pytest.mark.parametrize("text, period", [
    ("in 2024-03", "2024-03"), ("in March 2024", "2024-03"), ("in Q4 2023", "2023-Q4"),
    ("in 2024 Q1", "2024-Q1"), ("on 2024-03-15", "2024-03-15"), ("during 2023", "2023"),
    ("Sept 2024", "2024-09"),
])
def test_dates(text, period):
    (q,) = extract_quantities(text)
    assert q.kind == "date" and q.period == period


def test_ordinals_ranges_and_words_are_not_misread():
    qs = extract_quantities("the 2nd best month; growth over 2023-2024 across 12 months")
    assert [(q.kind, q.period or q.value) for q in qs] == [("date", "2023"), ("date", "2024"),
                                                           ("number", 12.0)]


def test_sentences_do_not_split_on_decimals():
    spans = split_sentences("Revenue was 1.5 million. It rose 3.2% in Q4 2023. Done.")
    assert [s for _, _, s in spans] == ["Revenue was 1.5 million.", "It rose 3.2% in Q4 2023.", "Done."]


def test_abbreviations_do_not_end_a_sentence():
    from stageagent.tools.document import split_sentences

    text = "Electronics was the No. 1 category. Acme Inc. earned approx. 12% more. Sales rose."
    assert [s for _, _, s in split_sentences(text)] == [
        "Electronics was the No. 1 category.", "Acme Inc. earned approx. 12% more.", "Sales rose."]
