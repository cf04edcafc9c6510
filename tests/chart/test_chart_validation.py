"""Chart validation: schema errors that name the bad value, and encodings that render
nonsense although the schema accepts them (numbers as time, sums of text)."""

import copy

import pytest

from stageagent.tools.chart import build_spec, samples, validate_spec

REGION = samples.revenue_by_region()
BAR = build_spec(REGION, "bar", x="region", y="revenue")


def mutated(change):
    spec = copy.deepcopy(BAR)
    change(spec)
    return validate_spec(spec, REGION)


@pytest.mark.parametrize("change, expected", [
    (lambda s: s.update(mark="bars"), ["mark: 'bars' is not allowed", "did you mean 'bar'",
                                        "'line'"]),
    (lambda s: s["encoding"].update(colour={"field": "region", "type": "nominal"}),
     ["encoding: unknown channel 'colour'", "did you mean 'color'"]),
    (lambda s: s["encoding"]["y"].update(type="quantity"),
     ["encoding.y.type: 'quantity' is not allowed", "did you mean 'quantitative'", "'nominal'"]),
    (lambda s: s["encoding"]["y"].update(aggregate="summ"), ["encoding.y.aggregate", "'sum'"]),
    (lambda s: s.update(mark={"type": "bar", "tooltipp": True}),
     ["mark: unknown property 'tooltipp'", "did you mean 'tooltip'"]),
    (lambda s: s.update(width="wide"), ["width: 'wide'", "'container'", "number"]),
    (lambda s: s.update(encodings=s.pop("encoding")), ["unknown property 'encodings'",
                                                        "did you mean 'encoding'"]),
])
def test_schema_errors_name_the_bad_value_its_path_and_the_allowed_values(change, expected):
    report = mutated(change)
    assert not report.valid
    message = report.schema_errors[0]
    assert "Additional properties are not allowed" not in message
    for part in expected:
        assert part in message, message


def test_schema_errors_inside_a_layer_carry_the_layer_path():
    spec = {"data": BAR["data"], "layer": [{"mark": "lines", "encoding": BAR["encoding"]}]}
    (message,) = validate_spec(spec, REGION).schema_errors
    assert message.startswith("layer[0].mark: 'lines'") and "did you mean 'line'" in message


def test_integer_years_as_temporal_are_refused_with_the_fix():
    years = samples.yearly_orders()
    spec = {"data": {"values": years.records()}, "mark": "bar",
            "encoding": {"x": {"field": "year", "type": "temporal"},
                         "y": {"field": "orders", "type": "quantitative"}}}
    (error,) = validate_spec(spec, years).errors
    assert "epoch milliseconds" in error and "'ordinal'" in error and "encoding.x" in error
    spec["encoding"]["x"]["type"] = "ordinal"
    assert validate_spec(spec, years).valid
    spec["encoding"]["x"] = {"field": "orders", "type": "temporal"}  # a count as time
    assert not validate_spec(spec, years).valid


def test_year_strings_and_iso_dates_are_fine_as_temporal():
    rows = [{"year": "2023", "n": 1}, {"year": "2024", "n": 2}]
    spec = {"data": {"values": rows}, "mark": "line",
            "encoding": {"x": {"field": "year", "type": "temporal"},
                         "y": {"field": "n", "type": "quantitative"}}}
    assert validate_spec(spec).valid


def test_sum_of_a_text_column_and_a_summed_measure_typed_nominal_are_refused():
    category = samples.revenue_by_category()
    base = {"data": {"values": category.records()}, "mark": "bar",
            "encoding": {"x": {"field": "category", "type": "nominal"}}}

    def check(y):
        spec = copy.deepcopy(base)
        spec["encoding"]["y"] = y
        return validate_spec(spec, category)

    (error,) = check({"field": "category", "aggregate": "sum", "type": "quantitative"}).errors
    assert "'sum' of field 'category'" in error and "count" in error
    (error,) = check({"field": "revenue", "aggregate": "sum", "type": "nominal"}).errors
    assert "typed 'nominal'" in error and "'quantitative'" in error
    assert not check({"field": "revenue", "type": "nominal"}).valid
    assert check({"field": "revenue", "aggregate": "sum", "type": "quantitative"}).valid
    assert check({"field": "category", "aggregate": "count", "type": "quantitative"}).valid


def test_valid_encodings_the_new_checks_must_not_refuse():
    rows = [{"d": "2024-01-03", "t": 1704240000000, "s": "12.5", "c": "A", "q": 3},
            {"d": "2024-02-01", "t": 1706745600000, "s": "3", "c": "B", "q": 5}]

    def valid(encoding, mark="bar"):
        return validate_spec({"data": {"values": rows}, "mark": mark, "encoding": encoding}).valid

    # epoch milliseconds are real times; numeric strings sum; the latest date is a max
    assert valid({"x": {"field": "t", "type": "temporal"},
                  "y": {"field": "s", "aggregate": "sum", "type": "quantitative"}}, "line")
    assert valid({"x": {"field": "c", "type": "nominal"},
                  "y": {"field": "d", "aggregate": "max", "type": "temporal"}})
    # a small number used as a category beside a measure (a histogram of quantities)
    assert valid({"x": {"field": "q", "type": "ordinal"},
                  "y": {"aggregate": "count", "type": "quantitative"}})
    # a heatmap: measures on colour, categories on both axes
    assert valid({"x": {"field": "c", "type": "nominal"}, "y": {"field": "q", "type": "ordinal"},
                  "color": {"field": "s", "type": "quantitative"}}, "rect")
    assert not valid({"x": {"field": "c", "type": "nominal"},
                      "y": {"field": "c", "aggregate": "max", "type": "quantitative"}})
