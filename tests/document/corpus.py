"""A corpus for the consistency validator: correct paragraphs and paragraphs with one planted
wrong claim, over real query results of two schemas (the demo database and the music store).

Paragraphs are templates whose slots are filled *from the rows themselves* (computed here,
independently of the validator): `{v:KEY|style}` a value, `{s:KEY}` a share, `{g:A,B}` a
growth, `{k:KEY}` a label, ... Keys are literal (`2024-03`, `Rock`) or relative: `@1` the
largest, `@-1` the smallest, `^` / `$` the first / last period, `^+2` the third period.
Each correct paragraph yields planted variants, one wrong claim each:

* attribution - a value given for another label or period (its neighbour in the ranking)
* swap - two labels' values exchanged ("rose from X in January to Y in December")
* same - the second label given the first label's value
* off - a value 9% off (no such figure in the data)
* rank - the subject of a rank word replaced by its neighbour ("the weakest month")
* direction - "rose" written for a fall, or "fell" for a rise

`build_corpus(tmp_dir)` returns (correct, planted) lists of `Case`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stageagent.tools.demo_db import create_demo_database
from stageagent.tools.results import QueryResult
from stageagent.tools.sql.database import Database
from stageagent.tools.sql.execute import execute_query

from .music_store import create_music_store

_REVENUE = "SUM(oi.quantity * oi.unit_price * (1 - COALESCE(oi.discount, 0)))"
_DEMO_JOIN = "FROM orders o JOIN order_items oi ON oi.order_id = o.id"

#: name -> (database, sql, label column, measure column[, second measure])
QUERIES: dict[str, tuple[str, str, str, str, str | None]] = {
    "demo_monthly_2024": ("demo", f"SELECT strftime('%Y-%m', o.order_date) AS month, "
                          f"ROUND({_REVENUE}, 2) AS revenue {_DEMO_JOIN} WHERE o.order_date >= "
                          "'2024-01-01' AND o.status <> 'cancelled' GROUP BY 1 ORDER BY 1",
                          "month", "revenue", None),
    "demo_monthly_orders": ("demo", "SELECT strftime('%Y-%m', order_date) AS month, COUNT(*) AS "
                            "orders FROM orders GROUP BY 1 ORDER BY 1", "month", "orders", None),
    "demo_category": ("demo", f"SELECT p.category, ROUND({_REVENUE}, 2) AS revenue, "
                      f"SUM(oi.quantity) AS units {_DEMO_JOIN} JOIN products p ON p.id = "
                      "oi.product_id WHERE o.order_date >= '2024-01-01' AND p.category IS NOT "
                      "NULL GROUP BY 1 ORDER BY 2 DESC", "category", "revenue", "units"),
    "demo_country": ("demo", f"SELECT c.country, ROUND({_REVENUE}, 2) AS revenue {_DEMO_JOIN} "
                     "JOIN customers c ON c.id = o.customer_id GROUP BY 1 ORDER BY 2 DESC",
                     "country", "revenue", None),
    "demo_yearly_orders": ("demo", "SELECT CAST(strftime('%Y', order_date) AS INTEGER) AS year, "
                           "COUNT(*) AS orders FROM orders GROUP BY 1", "year", "orders", None),
    "demo_quarterly": ("demo", f"SELECT strftime('%Y', o.order_date) || '-Q' || "
                       "((CAST(strftime('%m', o.order_date) AS INTEGER) + 2) / 3) AS quarter, "
                       f"ROUND({_REVENUE}, 2) AS revenue {_DEMO_JOIN} GROUP BY 1 ORDER BY 1",
                       "quarter", "revenue", None),
    "demo_segment": ("demo", f"SELECT c.segment, ROUND({_REVENUE}, 2) AS revenue, "
                     f"COUNT(DISTINCT o.id) AS orders {_DEMO_JOIN} JOIN customers c ON c.id = "
                     "o.customer_id WHERE o.order_date >= '2024-01-01' GROUP BY 1 ORDER BY 2 DESC",
                     "segment", "revenue", "orders"),
    "music_country": ("music", "SELECT BillingCountry, SUM(Total) AS TotalSales FROM Invoice "
                      "GROUP BY BillingCountry ORDER BY TotalSales DESC", "BillingCountry",
                      "TotalSales", None),
    "music_monthly": ("music", 'SELECT strftime(\'%Y-%m\', InvoiceDate) AS "Month", '
                      'ROUND(SUM(Total), 2) AS "Sales" FROM Invoice WHERE InvoiceDate >= '
                      "'2022-01-01' GROUP BY 1 ORDER BY 1", "Month", "Sales", None),
    "music_genre": ("music", 'SELECT g.Name AS Genre, SUM(il.Quantity) AS "Tracks Sold", '
                    "ROUND(SUM(il.UnitPrice * il.Quantity), 2) AS Revenue FROM InvoiceLine il "
                    "JOIN Track t ON t.TrackId = il.TrackId JOIN Genre g ON g.GenreId = t.GenreId "
                    "GROUP BY g.Name ORDER BY Revenue DESC", "Genre", "Revenue", "Tracks Sold"),
    "music_daily": ("music", 'SELECT date(InvoiceDate) AS "Day", ROUND(SUM(Total), 2) AS Sales, '
                    "COUNT(*) AS Invoices FROM Invoice WHERE InvoiceDate >= '2022-11-01' AND "
                    "InvoiceDate < '2022-11-16' GROUP BY 1 ORDER BY 1", "Day", "Sales", "Invoices"),
    "music_yearly": ("music", 'SELECT strftime(\'%Y\', InvoiceDate) AS "Year", ROUND(SUM(Total), 2) '
                     'AS "Total Sales" FROM Invoice GROUP BY 1 ORDER BY 1', "Year", "Total Sales",
                     None),
    "music_month_start": ("music", "SELECT strftime('%Y-%m-01 00:00:00', InvoiceDate) AS "
                          "InvoiceMonth, ROUND(SUM(Total), 2) AS MonthlyTotal FROM Invoice WHERE "
                          "InvoiceDate >= '2022-07-01' GROUP BY 1 ORDER BY 1", "InvoiceMonth",
                          "MonthlyTotal", None),
    "music_year_month": ("music", 'SELECT CAST(strftime(\'%Y\', InvoiceDate) AS INTEGER) AS "Year", '
                         'CAST(strftime(\'%m\', InvoiceDate) AS INTEGER) AS "Month", '
                         'ROUND(SUM(Total), 2) AS Sales FROM Invoice GROUP BY 1, 2 ORDER BY 1, 2',
                         "Year+Month", "Sales", None),
    "music_avg_invoice": ("music", 'SELECT BillingCountry AS "Country", ROUND(AVG(Total), 2) AS '
                          '"Average Invoice", COUNT(*) AS "Invoice Count" FROM Invoice GROUP BY 1 '
                          "HAVING COUNT(*) >= 20 ORDER BY 2 DESC", "Country", "Average Invoice",
                          "Invoice Count"),
}

#: name -> paragraph templates (each a correct text once its slots are filled)
TEMPLATES: dict[str, list[str]] = {
    "demo_monthly_2024": [
        "Revenue {dir:2024-06,2024-07} from {v:2024-06|n} in June to {v:2024-07|n} in July 2024.",
        "Monthly revenue in 2024 ranged from {v:@-1|k} to {v:@1|k}. The year ended on a high "
        "note: December, at {v:2024-12|n}, was the best month, and November followed with "
        "{v:2024-11|n}.",
        "Revenue dipped to {v:2024-02|n} in February before recovering to {v:2024-03|n} in "
        "March 2024.",
        "Q4 2024 was the strongest quarter, and October alone contributed {v:2024-10|m}.",
        "Revenue climbed through 2024. It was {v:2024-09|n} in September, {v:2024-10|n} in "
        "October and {v:2024-11|n} in November.",
        "December, the peak month, brought {v:2024-12|m}.",
        "At {v:@1|k}, {k:@1} topped every other month.",
        "{km:@-1} revenue of {v:@-1|n} was the lowest of 2024.",
        "Revenue in the fourth quarter of 2024 was {q:2024-Q4|m}, with December alone at "
        "{v:2024-12|m}.",
        "Compared with {km:@2}, {km:@1} revenue was higher by {d:@2,@1|n}.",
        "The first orders of 2024 arrived on January 2, 2024, and January closed at "
        "{v:2024-01|n}.",
        "{k:@3} ranked third, at {v:@3|n}.",
        "Revenue rose from {v:^|n} in January to {v:$|n} in December 2024.",
        "In 2024, revenue peaked in {km:@1} at {v:@1|n}, while {km:@-1} was the weakest month "
        "with {v:@-1|n}.",
        "{k:@1} was the strongest month of the year, with revenue of {v:@1|m}.",
        "Revenue reached {v:^+2|n} in {km:^+2} 2024, compared with {v:^+1|n} in {km:^+1}.",
        "Total revenue for 2024 was {t|m}, an average of {a|n} per month.",
        "The lowest monthly revenue, {v:@-1|n}, came in {k:@-1}; the highest, {v:@1|n}, in {k:@1}.",
        "Between January and December 2024 revenue changed by {g:^,$|1}.",
        "Sales in Q4 2024 amounted to {q:2024-Q4|m}, against {q:2024-Q1|m} in Q1 2024.",
        "{k:@2} was the second-highest month at {v:@2|k}.",
        "March 2024 brought {v:2024-03|n} and April 2024 {v:2024-04|n}.",
        "Monthly revenue stood at {v:2024-06|c} in June and {v:2024-07|c} in July 2024.",
    ],
    "demo_monthly_orders": [
        "Orders {dir:2024-01,2024-02} {g:2024-01,2024-02|1} from January to February 2024.",
        "In 2024, orders peaked in {km:@y2024} at {v:@y2024|i}.",
        "December 2024 saw {v:2024-12|i} orders. That was up from {v:2024-11|i} in November.",
        "Orders in Q4 2023 came to {q:2023-Q4|i}, and in Q4 2024 to {q:2024-Q4|i}.",
        "Orders grew from {v:^|i} in January 2023 to {v:$|i} in December 2024.",
        "In 2023 the busiest month was {km:@y2023} with {v:@y2023|i} orders.",
        "The year 2024 saw {y:2024|i} orders against {y:2023|i} in 2023.",
        "The fewest orders, {v:@-1|i}, were placed in {k:@-1}.",
        "In November 2024 customers placed {v:2024-11|i} orders, up from {v:2024-10|i} in "
        "October.",
        "Orders peaked in {k:@1}, at {v:@1|i}.",
    ],
    "demo_category": [
        "{k:@1} ({v:@1|k}) and {k:@2} ({v:@2|k}) were the two largest categories.",
        "Revenue was concentrated: {k:@1} alone made up {s:@1|1}.",
        "The weakest category, {k:@-1}, earned {v:@-1|n}.",
        "{k:@1} was the largest category with {v:@1|k} in revenue, {s:@1|1} of the total.",
        "{k:@1} led with {v:@1|n}, followed by {k:@2} with {v:@2|n}.",
        "{k:@-1} brought the smallest revenue, {v:@-1|n}.",
        "The categories together earned {t|m} in 2024.",
        "{k:@2} accounted for {s:@2|0} of revenue and {k:@3} for {s:@3|0}.",
        "{k:@1} sold {w:@1|i} units, and {k:@2} sold {w:@2|i}.",
        "{k:@1} earned {d:@2,@1|n} more than {k:@2}.",
        "With {v:@3|k}, {k:@3} ranked third.",
    ],
    "demo_country": [
        "Germany-based and other customers aside, {k:@1} dominated with {v:@1|m}; {k:@-1} "
        "trailed at {v:@-1|k}.",
        "The second-largest market was {k:@2} ({v:@2|k}), ahead of {k:@3} ({v:@3|k}).",
        "{k:@1} was the top market at {v:@1|c}, ahead of {k:@2} at {v:@2|c}.",
        "Customers in {k:@3} spent {v:@3|k}, while {k:@-1} was the smallest market with "
        "{v:@-1|k}.",
        "{k:@1} alone brought {s:@1|1} of all revenue.",
        "Revenue across the {n} countries totalled {t|m}.",
        "{k:@2} generated {v:@2|m} in revenue.",
    ],
    "demo_yearly_orders": [
        "Orders rose from {v:2023|i} in 2023 to {v:2024|i} in 2024, an increase of {g:2023,2024|1}.",
        "2024 was the stronger year, with {v:2024|i} orders.",
        "In 2023, customers placed {v:2023|i} orders.",
    ],
    "demo_quarterly": [
        "Revenue {dir:2024-Q2,2024-Q3} {g:2024-Q2,2024-Q3|1} from Q2 2024 to Q3 2024.",
        "Every fourth quarter stood out: {v:2023-Q4|m} in Q4 2023 and {v:2024-Q4|m} in Q4 2024, "
        "the two highest quarters.",
        "Revenue peaked in {k:@1} at {v:@1|m}.",
        "Q4 2024 revenue was {v:2024-Q4|k}, up from {v:2023-Q4|k} in Q4 2023.",
        "The weakest quarter was {k:@-1}, with {v:@-1|n}.",
        "In the third quarter of 2024 revenue was {v:2024-Q3|n}, while the second quarter of "
        "2024 brought {v:2024-Q2|n}.",
        "Revenue {dir:2023-Q1,2024-Q4} {g:2023-Q1,2024-Q4|1} from Q1 2023 to Q4 2024.",
    ],
    "demo_segment": [
        "By segment, {k:@1} led with {s:@1|1} of 2024 revenue, while {k:@-1} contributed "
        "{s:@-1|1}.",
        "The {k:@1} segment generated {v:@1|k} from {w:@1|i} orders.",
        "{k:@2} customers brought {v:@2|n}, {s:@2|1} of the total.",
        "{k:@-1} was the smallest segment, with {v:@-1|n} in revenue.",
        "{k:@1} and {k:@2} earned {v:@1|n} and {v:@2|n} respectively.",
    ],
    "music_country": [
        "The {k:@1} generated the highest sales at {v:@1|c}; {k:@2} was second at {v:@2|c}.",
        "The {k:@1} was the largest market with sales of {v:@1|c}, followed by {k:@2} at {v:@2|c}.",
        "{k:@3} ranked third with {v:@3|c}.",
        "Customers from {k:@-1} spent the least, {v:@-1|c}.",
        "{k:@1} accounted for {s:@1|1} of total sales of {t|c}.",
        "Sales in {k:@4} reached {v:@4|c}, against {v:@5|c} in {k:@5}.",
    ],
    "music_monthly": [
        "Sales {dir:2022-03,2022-04} from {v:2022-03|c} in March to {v:2022-04|c} in April 2022.",
        "Sales were {v:2022-03|c} in March and {v:2022-04|c} in April 2022.",
        "In 2022 the store's weakest month was {km:@-1}.",
        "Sales {dir:^,$} from {v:^|c} in January to {v:$|c} in December 2022.",
        "The best month of 2022 was {km:@1}, with sales of {v:@1|c}.",
        "{k:@-1} was the weakest month at {v:@-1|c}.",
        "Total 2022 sales were {t|c}.",
        "In {km:^+4} 2022 sales came to {v:^+4|c}, while {km:^+5} brought {v:^+5|c}.",
        "Sales {dir:^,$} {g:^,$|1} between January and December 2022.",
    ],
    "music_genre": [
        "Revenue by genre was led by {k:@1} ({v:@1|c}), with {k:@2} second ({v:@2|c}) and "
        "{k:@3} third ({v:@3|c}).",
        "{k:@1} was the best-selling genre with {w:@1|i} tracks sold and revenue of {v:@1|c}.",
        "{k:@2} came second with {v:@2|c}, while {k:@-1} brought the lowest revenue, {v:@-1|c}.",
        "{k:@1} generated {s:@1|1} of all revenue.",
        "{k:@3} sold {w:@3|i} tracks.",
        "Revenue from {k:@2} was {v:@2|c} and from {k:@3} {v:@3|c}.",
    ],
    "music_daily": [
        "On November {dd:@1}, 2022 sales reached {v:@1|c2}, the highest of any day.",
        "The first day, November 1, 2022, brought {v:^|c2} in sales and the last, "
        "{kd:$}, {v:$|c2}.",
        "Sales over the {n} days totalled {t|c2}.",
        "On {kd:@-1} sales were only {v:@-1|c2}.",
    ],
    "music_yearly": [
        "Sales more than doubled: {v:2022|c} in 2022 against {v:2021|c} a year earlier.",
        "Total sales rose from {v:2021|c} in 2021 to {v:2022|c} in 2022.",
        "2022 was the stronger year with {v:2022|c} in sales, an increase of {g:2021,2022|1}.",
        "Sales in 2021 came to {v:2021|c}.",
    ],
    "music_month_start": [
        "Monthly sales went from {v:^|c} in July 2022 to {v:$|c} in December 2022.",
        "{k:@1} was the best month, at {v:@1|c}.",
        "In {km:^+1} 2022 sales were {v:^+1|c}, and in {km:^+2} they were {v:^+2|c}.",
    ],
    "music_year_month": [
        "Sales {dir:2022-11,2022-12} from {v:2022-11|c} in November 2022 to {v:2022-12|c} in "
        "December 2022.",
        "Sales were {v:2022-03|c} in March 2022 and {v:2021-03|c} in March 2021.",
        "In 2022, sales peaked in {km:@y2022} at {v:@y2022|c}.",
        "Across 2021 the store sold {y:2021|c}, against {y:2022|c} in 2022.",
        "December 2022 brought {v:2022-12|c}, up from {v:2022-11|c} in November.",
    ],
    "music_avg_invoice": [
        "At {v:@2|c2}, {k:@2} had the second-highest average invoice.",
        "The average invoice was highest in {k:@1}, at {v:@1|c2}.",
        "Customers in {k:@-1} had the smallest average invoice, {v:@-1|c2}.",
        "{k:@1} had {w:@1|i} invoices averaging {v:@1|c2}.",
    ],
}

_SLOT = re.compile(r"\{(?P<op>[a-z]+)(?::(?P<key>[^|}]+))?(?:\|(?P<style>\w+))?\}")
_VALUE_OPS = {"v", "w", "s", "g", "d", "t", "a", "y", "q"}
_LABEL_OPS = {"k", "km", "kd", "dd"}


@dataclass(frozen=True)
class Case:
    dataset: str
    text: str
    planted: str = ""  # "" for a correct text, else the kind of wrong claim planted


@dataclass
class Data:
    result: QueryResult
    keys: list[str]  # label or period key per row, in row order
    values: dict[str, float]
    second: dict[str, float]

    def ranked(self) -> list[str]:
        return sorted(self.values, key=lambda k: self.values[k], reverse=True)

    def ordered(self) -> list[str]:
        return sorted(self.values)


def _key_of(cell: Any) -> str:
    text = str(cell)
    return text[:7] if re.match(r"^\d{4}-\d{2}-01 00:00:00$", text) else text


def load(result: QueryResult, label: str, measure: str, second: str | None) -> Data:
    rows = result.records()
    if "+" in label:  # separate year and month number columns
        year, month = label.split("+")
        keys = [f"{r[year]}-{int(r[month]):02d}" for r in rows]
    else:
        keys = [_key_of(r[label]) for r in rows]
    return Data(result, keys, {k: float(r[measure]) for k, r in zip(keys, rows)},
                {k: float(r[second]) for k, r in zip(keys, rows)} if second else {})


def resolve(data: Data, key: str) -> str:
    """A relative key (`@1`, `@-1`, `@y2023`, `^`, `$`, `^+2`, `$-1`) -> a row key."""
    if key.startswith("@y"):  # the largest within one year
        year = key[2:]
        return max((k for k in data.values if k.startswith(year)), key=data.values.__getitem__)
    if key.startswith("@"):
        i = int(key[1:])
        return data.ranked()[i - 1] if i > 0 else data.ranked()[i]
    m = re.fullmatch(r"([\^$])([+-]\d+)?", key)
    if m:
        base = 0 if m.group(1) == "^" else len(data.values) - 1
        return data.ordered()[base + int(m.group(2) or 0)]
    return key


def neighbour(data: Data, key: str) -> str:
    """The key next to `key` in the ranking: a plausible, wrong, attribution."""
    ranked = data.ranked()
    i = ranked.index(resolve(data, key))
    return ranked[i + 1] if i + 1 < len(ranked) else ranked[i - 1]


def money(value: float, style: str) -> str:
    if style == "k":
        return f"${value / 1e3:,.1f}k"
    if style == "m":
        return f"{value / 1e6:.2f} million" if value >= 1e6 else f"{value / 1e3:,.1f} thousand"
    if style == "c":
        return f"${value:,.0f}" if value >= 1000 else f"${value:,.2f}"
    if style == "c2":
        return f"${value:,.2f}"
    if style == "i":
        return f"{value:,.0f}"
    if style == "1":
        return f"{value:.1f}"
    if style == "0":
        return f"{value:.0f}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"


def display(key: str, form: str) -> str:
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", key)
    q = re.fullmatch(r"(\d{4})-Q([1-4])", key)
    if q:
        return f"Q{q.group(2)} {q.group(1)}"
    if not m:
        return key
    name = calendar.month_name[int(m.group(2))]
    if form == "dd":
        return str(int(m.group(3)))
    if m.group(3):
        return f"{name} {int(m.group(3))}, {m.group(1)}"
    return name if form == "km" else f"{name} {m.group(1)}"


def _value(data: Data, op: str, key: str | None, factor: float) -> float:
    vals = data.values
    if op in ("v", "w"):
        return (vals if op == "v" else data.second)[resolve(data, key or "")] * factor
    if op == "s":
        return vals[resolve(data, key or "")] / sum(vals.values()) * 100 * factor
    if op in ("g", "d"):
        a, b = (resolve(data, k) for k in (key or "").split(","))
        change = vals[b] - vals[a]
        return (abs(change / vals[a] * 100) if op == "g" else abs(change)) * factor
    if op == "t":
        return sum(vals.values()) * factor
    if op == "a":
        return sum(vals.values()) / len(vals) * factor
    if op in ("y", "q"):
        if op == "y":
            return sum(v for k, v in vals.items() if k.startswith(key or "")) * factor
        year, quarter = (key or "").split("-Q")
        span = {f"{year}-{m:02d}" for m in range(3 * int(quarter) - 2, 3 * int(quarter) + 1)}
        return sum(v for k, v in vals.items() if k in span) * factor
    raise ValueError(op)


def render(data: Data, template: str, edits: dict[int, tuple[str | None, float]] | None = None
           ) -> str:
    """Fill `template`; `edits` maps slot index -> (replacement key, factor)."""
    edits = edits or {}
    out, last = [], 0
    for i, m in enumerate(_SLOT.finditer(template)):
        op, key, style = m.group("op"), m.group("key"), m.group("style") or "n"
        new_key, factor = edits.get(i, (None, 1.0))
        key = new_key or key
        if op == "n":
            text = str(len(data.values))
        elif op == "dir":  # "rose" / "fell", from the data (factor -1 plants the opposite)
            a, b = (resolve(data, k) for k in (key or "").split(","))
            text = "rose" if (data.values[b] - data.values[a]) * factor >= 0 else "fell"
        elif op in _LABEL_OPS:
            text = display(resolve(data, key or ""), op)
        else:
            value = _value(data, op, key, factor)
            text = (money(value, style) + "%") if op in ("s", "g") else money(value, style)
        out += [template[last:m.start()], text]
        last = m.end()
    return "".join(out + [template[last:]])


def plant(data: Data, template: str) -> list[tuple[str, str]]:
    """(kind, text) for every wrong claim that can be planted in `template`."""
    slots = list(_SLOT.finditer(template))
    correct = render(data, template)
    variants: list[tuple[str, dict[int, tuple[str | None, float]]]] = []
    value_slots = [i for i, m in enumerate(slots) if m.group("op") in ("v", "w", "s")]
    for i, m in enumerate(slots):
        op, key = m.group("op"), m.group("key")
        if op in ("v", "w", "s", "k", "km"):
            variants.append(("attribution" if op in ("v", "w", "s") else "rank",
                             {i: (neighbour(data, key or ""), 1.0)}))
        if op == "q":  # another quarter's total for this quarter
            year, quarter = (key or "").split("-Q")
            other = f"{year}-Q{int(quarter) % 4 + 1}"
            variants.append(("attribution", {i: (other, 1.0)}))
        if op in _VALUE_OPS:
            variants.append(("off", {i: (None, 1.09)}))
        if op == "dir":
            variants.append(("direction", {i: (None, -1.0)}))
    same_op = [i for i in value_slots if slots[i].group("op") == "v"]
    if len(same_op) >= 2:
        a, b = same_op[:2]
        ka, kb = slots[a].group("key"), slots[b].group("key")
        variants.append(("swap", {a: (kb, 1.0), b: (ka, 1.0)}))
        variants.append(("same", {b: (ka, 1.0)}))
    out = []
    for kind, edits in variants:
        text = render(data, template, edits)
        if text != correct:
            out.append((kind, text))
    return out


def build_corpus(tmp: Path) -> tuple[list[Case], list[Case], dict[str, Data]]:
    """(correct cases, planted cases, data per dataset) over fresh copies of both databases."""
    demo, music = tmp / "demo.sqlite", tmp / "music.sqlite"
    create_demo_database(demo)
    create_music_store(music)
    dbs = {"demo": Database(demo), "music": Database(music)}
    datasets: dict[str, Data] = {}
    correct: list[Case] = []
    planted: list[Case] = []
    try:
        for name, (db, sql, label, measure, second) in QUERIES.items():
            data = load(execute_query(dbs[db], sql), label, measure, second)
            datasets[name] = data
            for template in TEMPLATES[name]:
                correct.append(Case(name, render(data, template)))
                planted += [Case(name, text, kind) for kind, text in plant(data, template)]
    finally:
        for db in dbs.values():
            db.engine.dispose()
    return correct, planted, datasets
