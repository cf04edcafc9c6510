"""Token usage -> USD, from a price table that is data (`stageagent/data/prices.toml`).

Prices are per million tokens for four kinds of tokens: uncached input, output, cache
reads and cache writes (the adapters report `Usage.input_tokens` without cached tokens, so
the four never overlap). A model the table does not know costs `None` - tokens are still
reported, but a price is never guessed from a similar name. Dated snapshots
(`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`) match their undated entry.

Override or extend the bundled prices with a TOML file of the same shape, named by the
`STAGEAGENT_PRICES` environment variable or passed to `PriceTable.load` / `cost`.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .exceptions import StageConfigError
from .messages import Usage

ENV_VAR = "STAGEAGENT_PRICES"
_DATE_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$")


@dataclass(frozen=True)
class Price:
    """USD per million tokens of each kind."""

    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float = 0.0

    def cost(self, usage: Usage) -> float:
        return (usage.input_tokens * self.input + usage.output_tokens * self.output
                + usage.cache_read_tokens * self.cache_read
                + usage.cache_write_tokens * self.cache_write) / 1_000_000


_PRICE_KEYS = {f.name for f in fields(Price)}


def _parse(data: dict[str, Any], path: str, base: "PriceTable | None") -> "PriceTable":
    prices = dict(base.prices) if base else {}
    aliases = dict(base.aliases) if base else {}
    for model, entry in (data.get("models") or {}).items():
        key = f"models.{model}"
        if not isinstance(entry, dict):
            raise StageConfigError("a price entry must be a table", path=path, key=key)
        unknown = set(entry) - _PRICE_KEYS
        if unknown:
            raise StageConfigError(f"unknown price field(s) {sorted(unknown)} "
                                   f"(known: {sorted(_PRICE_KEYS)})", path=path, key=key)
        for name, value in entry.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise StageConfigError(f"{name} must be a non-negative number, not {value!r}",
                                       path=path, key=f"{key}.{name}")
        values = {k: float(v) for k, v in entry.items()}
        if model in prices:  # an override may change single fields of a known model
            prices[model] = replace(prices[model], **values)
        elif {"input", "output"} <= set(values):
            prices[model] = Price(**values)
        else:
            raise StageConfigError("a new model needs at least `input` and `output`",
                                   path=path, key=key)
    for alias, target in (data.get("aliases") or {}).items():
        aliases[alias] = str(target)
    return PriceTable(prices, aliases)


_UNKNOWN = Price(-1.0, -1.0)  # a lookup that found nothing, as a cache entry


@dataclass(frozen=True)
class PriceTable:
    prices: dict[str, Price]
    aliases: dict[str, str]
    #: lookups by model id, found or not (a run prices every turn of the same model)
    _found: dict[str, Price] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, *overrides: str | Path, use_env: bool = True) -> "PriceTable":
        """The bundled table, then `$STAGEAGENT_PRICES`, then `overrides`, later wins."""
        bundled = resources.files("stageagent").joinpath("data/prices.toml")
        table = _parse(tomllib.loads(bundled.read_text("utf-8")), str(bundled), None)
        paths = list(overrides)
        if use_env and os.environ.get(ENV_VAR):
            paths.insert(0, os.environ[ENV_VAR])
        for path in paths:
            try:
                data = tomllib.loads(Path(path).read_text("utf-8"))
            except FileNotFoundError:
                raise StageConfigError("price file not found", path=path) from None
            except tomllib.TOMLDecodeError as exc:
                raise StageConfigError(f"not valid TOML: {exc}", path=path) from None
            table = _parse(data, str(path), table)
        return table

    def lookup(self, model: str) -> Price | None:
        """The price of `model` (`provider:` prefix, `@url` and date suffix ignored)."""
        price = self._found.get(model)
        if price is None:
            if len(self._found) > 1024:  # model ids come from configs: few, but bounded
                self._found.clear()
            price = self._found[model] = self._resolve(model) or _UNKNOWN
        return None if price is _UNKNOWN else price

    def _resolve(self, model: str) -> Price | None:
        provider, _, rest = model.partition(":")
        name = (rest if provider in ("anthropic", "openai") else model).split("@")[0]
        for candidate in (name, _DATE_SUFFIX.sub("", name)):
            candidate = self.aliases.get(candidate, candidate)
            if candidate in self.prices:
                return self.prices[candidate]
        return None

    def cost(self, model: str, usage: Usage) -> float | None:
        """USD for `usage` of `model`; None when its price is unknown. Called every turn:
        a model looked up before costs one dictionary read."""
        price = self._found.get(model) or self.lookup(model)
        return None if price is None or price is _UNKNOWN else price.cost(usage)


@lru_cache(maxsize=8)
def _default_table(env_value: str | None) -> PriceTable:
    return PriceTable.load()


def default_prices() -> PriceTable:
    """The bundled table plus `$STAGEAGENT_PRICES`, loaded once per distinct env value."""
    return _default_table(os.environ.get(ENV_VAR))


def cost(model_name: str, usage: Usage, prices: PriceTable | str | Path | None = None
         ) -> float | None:
    """USD for `usage` of `model_name`; None when the model has no known price."""
    if prices is None:
        table = default_prices()
    elif isinstance(prices, PriceTable):
        table = prices
    else:
        table = PriceTable.load(prices)
    return table.cost(model_name, usage)
