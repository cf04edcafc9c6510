"""Usage -> cost from the price table; unknown models cost None, never a guess."""

from __future__ import annotations

import pytest

from stageagent.exceptions import StageConfigError
from stageagent.messages import Usage
from stageagent.pricing import ENV_VAR, PriceTable, cost

MILLION = Usage(input_tokens=1_000_000, output_tokens=1_000_000,
                cache_read_tokens=1_000_000, cache_write_tokens=1_000_000)


def test_known_models_and_their_aliases():
    assert cost("claude-sonnet-4-6", MILLION) == pytest.approx(3 + 15 + 0.3 + 3.75)
    assert cost("anthropic:claude-sonnet-4-6", MILLION) == cost("claude-sonnet-4-6", MILLION)
    assert cost("claude-sonnet-4-5-20250929", MILLION) == cost("claude-sonnet-4-5", MILLION)
    assert cost("gpt-4o-2024-08-06", Usage(input_tokens=2_000_000)) == pytest.approx(5.0)
    assert cost("openai:gpt-4o-mini@http://localhost:8000/v1", Usage(output_tokens=1_000_000)) \
        == pytest.approx(0.6)


@pytest.mark.parametrize("name", ["gpt-6", "llama3.1:8b", "claude-sonnet-4-6-turbo", "gpt-4o-x"])
def test_unknown_models_have_no_cost(name):
    assert cost(name, MILLION) is None


def test_override_file_changes_and_adds_prices(tmp_path, monkeypatch):
    override = tmp_path / "prices.toml"
    override.write_text('[models."gpt-4o"]\ninput = 1.0\n\n'
                        '[models."llama3.1:8b"]\ninput = 0.0\noutput = 0.1\n')
    table = PriceTable.load(override, use_env=False)
    assert table.cost("gpt-4o", Usage(input_tokens=1_000_000, output_tokens=1_000_000)) == \
        pytest.approx(1.0 + 10.0)  # output price kept from the bundled table
    assert table.cost("llama3.1:8b", Usage(output_tokens=1_000_000)) == pytest.approx(0.1)
    monkeypatch.setenv(ENV_VAR, str(override))
    assert cost("llama3.1:8b", Usage(output_tokens=2_000_000)) == pytest.approx(0.2)


@pytest.mark.parametrize("text, key", [
    ('[models."m"]\ninput = "cheap"\noutput = 1\n', "models.m.input"),
    ('[models."m"]\ninput = 1\nouput = 1\n', "models.m"),
    ('[models."m"]\ninput = 1\n', "models.m"),
])
def test_bad_override_says_what_and_where(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(StageConfigError) as info:
        PriceTable.load(path, use_env=False)
    assert info.value.key == key and str(path) in str(info.value)


def test_missing_override_file(tmp_path):
    with pytest.raises(StageConfigError, match="not found"):
        PriceTable.load(tmp_path / "nope.toml", use_env=False)
