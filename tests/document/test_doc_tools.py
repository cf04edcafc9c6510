import pytest

from stageagent.exceptions import ToolError
from stageagent.quality import Candidate
from stageagent.function_tools import ToolContext
from stageagent.tools.chart import samples
from stageagent.tools.document import (analyze_paragraph, check_consistency, consistency_validator,
                                       document_quality, draft_generator, generate_draft,
                                       paragraph_analyzer, style_checker)
from stageagent.tools.results import STATE_SQL_RESULT

ALL_SAMPLES = [samples.monthly_revenue, samples.revenue_by_category, samples.revenue_by_region,
               samples.product_measures, samples.customer_revenue, samples.customer_directory,
               samples.empty_result, samples.revenue_with_nulls, samples.yearly_orders]


def ctx_for(result):
    return ToolContext(stage="document", state={STATE_SQL_RESULT: result})


def candidate(text, result, output=None):
    state = {STATE_SQL_RESULT: result} if result is not None else {}
    return Candidate(stage="document", input="How is revenue split by category?", text=text,
                     output=output, state=state)


def test_paragraph_analysis_key_figures():
    a = analyze_paragraph(samples.revenue_by_category(), "How is revenue split by category?")
    figures = {f["name"]: f for f in a["key_figures"]}
    assert figures["max"]["label"] == "Electronics" and figures["min"]["label"] == "Grocery"
    assert figures["top_share"]["text"] == "28.7%" and figures["total"]["text"] == "1.44 million"
    assert a["register"] == "formal business"
    growth = {f["name"]: f for f in analyze_paragraph(samples.monthly_revenue())["key_figures"]}
    assert growth["growth"]["label"] == "2023-01..2024-12" and growth["growth"]["value"] > 100


def test_no_measure_and_empty_analysis():
    a = analyze_paragraph(samples.customer_directory())
    assert a["key_figures"] == [] and "no figures" in a["must_say"][-1]
    assert "no rows" in analyze_paragraph(samples.empty_result())["must_say"][-1]


@pytest.mark.parametrize("make", ALL_SAMPLES, ids=lambda f: f.__name__)
def test_generated_draft_passes_its_own_gate(make):
    result = make()
    draft = generate_draft(result, "How did revenue develop?")
    assert check_consistency(draft, result).ok
    report = document_quality.evaluate(candidate(draft, result))
    assert report.score == 1.0, report.critiques


async def test_tools_round_trip():
    ctx = ctx_for(samples.revenue_by_category())
    analysis = await paragraph_analyzer.call({"question": "Revenue by category?"}, ctx)
    assert analysis["measure"] == "revenue"
    draft = (await draft_generator.call({}, ctx))["draft"]
    assert (await consistency_validator.call({"text": draft}, ctx))["ok"] is True
    style = await style_checker.call({"text": "We think revenue maybe grew a lot!"}, ctx)
    assert style["ok"] is False and {i["rule"] for i in style["issues"]} >= {
        "first_person", "hedging", "register", "length"}
    bad = await consistency_validator.call({"text": "Books accounted for 12.5% of revenue."}, ctx)
    assert bad["ok"] is False and "6.7%" in bad["critiques"][0]
    with pytest.raises(ToolError, match="sql_executor"):
        await consistency_validator.call({"text": "x"}, ToolContext())


def test_document_quality_catches_wrong_number_and_caps_score():
    result = samples.revenue_by_category()
    draft = generate_draft(result)
    wrong = draft.replace("28.7%", "12.5%")
    report = document_quality.evaluate(candidate(wrong, result))
    assert report.score <= 0.5
    assert any("The text says 12.5% but the data gives 28.7% for the share of Electronics" in c
               for c in report.critiques)


def test_document_quality_reads_output_and_handles_missing_inputs():
    result = samples.revenue_by_category()
    draft = generate_draft(result)

    class Out:
        markdown = draft

    assert document_quality.evaluate(candidate("", result, output=Out())).score == 1.0
    assert document_quality.evaluate(candidate("", result)).score == 0.0
    no_data = document_quality.evaluate(candidate(draft, None))
    assert no_data.score <= 0.5 and "SQL" in no_data.critiques[0]
    vague = document_quality.evaluate(candidate(
        "Revenue is spread across several product categories, with a clear leader and a long "
        "tail of smaller ones. The distribution shows that a few categories drive the business "
        "and that the smaller categories contribute comparatively little to the overall total.",
        result))
    assert vague.score < 1.0 and any("Quote the key figures" in c for c in vague.critiques)
