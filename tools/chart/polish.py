"""Axis polish: money axes carry their currency, category labels turn only when they must.

Vega-Lite turns the labels of a band x axis 90 degrees by default, so four short labels
("North", "South", ...) read sideways; we keep them level when they fit their band,
slant them when they nearly do, and stand them up only for many or long labels. A money
measure (revenue, price, amount, sales, ... or a `currency` hint) gets a currency format
and the unit in its title: "Revenue (€)", ticks "€400,000".
"""

from __future__ import annotations

import re
from typing import Any

from .analysis import is_number

_MONEY = re.compile(r"(revenue|sales|price|amount|cost|spend|spent|income|profit|budget|"
                    r"salary|salaries|turnover|payment|paid|fee|gmv|earning|value|billing|"
                    r"invoice(?!s|_?id)|total_due|subtotal)", re.I)
_COUNT = re.compile(r"(count|number|num_|qty|quantity|units|orders|invoices|customers|"
                    r"tracks|items|^n_|_n$|pct|percent|share|ratio|rate)", re.I)
_TOTAL = re.compile(r"(^|_|\s)total($|_|\s)", re.I)
CURRENCIES = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹",
              "CHF": "CHF ", "BRL": "R$", "CAD": "CA$", "AUD": "A$"}
_CODE_IN_NAME = re.compile(r"(?:^|[_\s(])(" + "|".join(CURRENCIES) + r")(?:$|[_\s)])", re.I)
_SYMBOL_IN_NAME = re.compile(r"([€$£¥₹])")
DEFAULT_CURRENCY = "$"
#: average label character width at the default 10px axis font
_CHAR_PX = 6.5


def currency_symbol(hint: str | None) -> str | None:
    """"EUR" / "eur" / "€" -> "€"; None for an unknown hint."""
    if not hint:
        return None
    text = hint.strip()
    if text.upper() in CURRENCIES:
        return CURRENCIES[text.upper()]
    return text if text and len(text) <= 4 and not text.isalnum() else None


def money_symbol(column: str, values: list[Any], hint: str | None = None) -> str | None:
    """The currency symbol of a money column, None when it is not money."""
    column = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", column)  # MonthlyTotal -> Monthly_Total
    code = _CODE_IN_NAME.search(column)
    symbol = _SYMBOL_IN_NAME.search(column)
    if code or symbol:
        return CURRENCIES[code.group(1).upper()] if code else symbol.group(1)  # type: ignore[union-attr]
    if _COUNT.search(column):
        return None
    nums = [v for v in values if is_number(v)]
    money = bool(_MONEY.search(column)) or (
        bool(_TOTAL.search(column)) and any(not float(v).is_integer() for v in nums))
    if not money:
        return None
    return currency_symbol(hint) or DEFAULT_CURRENCY


def money_channel(enc: dict[str, Any], symbol: str, values: list[Any], axis: bool) -> None:
    """Currency ticks (on a position axis) and the unit in the title of one channel."""
    nums = [abs(v) for v in values if is_number(v)]
    digits = "2" if nums and max(nums) < 100 else "0"
    if axis:
        enc["axis"] = {**enc.get("axis", {}), "format": f"$,.{digits}f"}
    title = enc.get("title")
    if isinstance(title, str) and "(" not in title:
        enc["title"] = f"{title} ({symbol.strip()})"


def label_angle(labels: list[str], width: float) -> int:
    """0 when every label fits its band, -45 when they nearly do, -90 for many/long ones."""
    if not labels:
        return 0
    band = width / len(labels)
    longest = max(len(s) for s in labels) * _CHAR_PX
    if longest <= band * 0.95:
        return 0
    if longest <= band * 2.5 and len(labels) <= 24:
        return -45
    return -90


def polish(spec: dict[str, Any], hint: str | None = None) -> dict[str, Any]:
    """Apply currency units and label angles to a spec built by `build_spec` (in place)."""
    rows = [r for r in (spec.get("data") or {}).get("values") or [] if isinstance(r, dict)]
    encoding = spec.get("encoding") or {}
    symbols = set()
    for channel in ("x", "y", "theta"):
        enc = encoding.get(channel)
        if not isinstance(enc, dict) or enc.get("type") != "quantitative":
            continue
        values = [r.get(enc.get("field")) for r in rows]
        symbol = money_symbol(str(enc.get("field")), values, hint)
        if symbol:
            money_channel(enc, symbol, values, axis=channel != "theta")
            symbols.add(symbol)
    for tip in encoding.get("tooltip") or []:
        if isinstance(tip, dict) and tip.get("type") == "quantitative":
            symbol = money_symbol(str(tip.get("field")), [r.get(tip.get("field")) for r in rows],
                                  hint)
            if symbol:
                tip["format"] = "$" + str(tip.get("format", ",.2f")).lstrip("$")
    if symbols:
        symbol = sorted(symbols)[0]
        spec.setdefault("config", {})["locale"] = {"number": {
            "decimal": ".", "thousands": ",", "grouping": [3], "currency": [symbol, ""]}}
    x = encoding.get("x")
    if isinstance(x, dict) and x.get("type") in ("nominal", "ordinal") and "timeUnit" not in x:
        labels = list(dict.fromkeys(str(r.get(x.get("field"))) for r in rows))
        width = spec.get("width")
        angle = label_angle(labels, float(width) if isinstance(width, (int, float)) else 400.0)
        x["axis"] = {**x.get("axis", {}), "labelAngle": angle,
                     **({"labelAlign": "right"} if angle == -45 else {})}
    return spec
