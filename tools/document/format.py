"""Figures written the way a business paragraph writes them - and the way the consistency
validator reads them back (so a generated draft always passes its own check)."""

from __future__ import annotations


def format_amount(value: float) -> str:
    """1234567 -> "1.23 million", 412530.5 -> "412,531", 12.345 -> "12.35"."""
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:.2f} billion"
    if magnitude >= 1e6:
        return f"{value / 1e6:.2f} million"
    if magnitude >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def format_percent(value: float) -> str:
    """Percentages to one decimal: 11.94 -> "11.9%"."""
    return f"{value:.1f}%"


def format_exact(value: float) -> str:
    """A precise figure for critiques: 412530.5 -> "412,530.5"."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"
