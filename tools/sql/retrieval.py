"""Relevant-schema retrieval: the few tables a question needs, not the whole catalogue.

A lexical scorer, deliberately simple and explainable: question words (light stemming,
a small synonym table for report vocabulary) are matched against table names, column
names, comments and sample values; the best tables plus the tables that join them
(foreign keys) are returned. On big schemas two more things matter: a word found in many
tables (`id`, `status`) counts less than a rare one (inverse document frequency), and
copies of a table (`orders_history`, `stg_orders`, `orders_audit`) rank below the table
itself unless the question asks for history, staging or audit data. The text returned
stays within the schema token budget (`schema_budget.py`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from stageagent.exceptions import ToolError
from stageagent.function_tools import ToolContext, tool

from .schema import Schema, TableSchema, database_from
from .schema_budget import SCHEMA_TOKEN_BUDGET, fit_schema

#: report vocabulary -> words that appear in schemas
SYNONYMS: dict[str, set[str]] = {
    "revenue": {"price", "amount", "total", "sale", "order", "quantity", "item"},
    "sale": {"order", "revenue", "item", "price"},
    "turnover": {"revenue", "price", "order", "quantity"},
    "income": {"revenue", "price", "amount"},
    "client": {"customer"},
    "buyer": {"customer"},
    "account": {"customer"},
    "staff": {"employee"},
    "worker": {"employee"},
    "rep": {"employee"},
    "salesperson": {"employee"},
    "team": {"department"},
    "division": {"department"},
    "item": {"product", "order_item"},
    "article": {"product"},
    "goods": {"product"},
    "sku": {"product"},
    "purchase": {"order"},
    "month": {"date"},
    "year": {"date"},
    "quarter": {"date"},
    "monthly": {"date"},
    "trend": {"date"},
    "pay": {"salary"},
    "wage": {"salary"},
    "country": {"country", "city"},
    "region": {"country", "city"},
    "category": {"category"},
    "discount": {"discount"},
}
_STOP = {"the", "a", "an", "of", "by", "per", "for", "in", "on", "and", "or", "to", "what",
         "which", "who", "how", "many", "much", "is", "are", "was", "were", "show", "me",
         "list", "give", "top", "each", "with", "from", "all", "their", "our", "last", "most",
         "between", "over", "did", "do", "does", "has", "have", "that", "this"}


def stem(word: str) -> str:
    """Stemming-lite: plural and verb endings off (`categories` -> `category`)."""
    w = word.lower()
    if len(w) <= 3:
        return w
    if w.endswith("ies"):
        return w[:-3] + "y"
    if re.search(r"(ss|x|z|ch|sh)es$", w):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)]
    return w


def terms(text: str) -> set[str]:
    """Stemmed words of `text`, split on non-letters, camelCase and underscores."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return {stem(w) for w in re.findall(r"[^\W\d_]+", text.lower()) if len(w) > 1}


def question_terms(question: str) -> dict[str, float]:
    """Question words with weights: 1.0 as written, 0.5 via a synonym."""
    weights: dict[str, float] = {}
    for word in terms(question) - {stem(s) for s in _STOP}:
        weights[word] = 1.0
        for syn in SYNONYMS.get(word, ()):
            weights.setdefault(stem(syn), 0.5)
    return weights


@dataclass
class TableScore:
    table: str
    score: float
    reasons: list[str]


def _score(table: TableSchema, wanted: dict[str, float]) -> TableScore:
    score, reasons = 0.0, []

    def hit(found: set[str], weight: float, why: str) -> None:
        nonlocal score
        matched = [w for w in wanted if w in found]
        for w in matched:
            score += weight * wanted[w]
        if matched:
            reasons.append(f"{why}: {', '.join(sorted(matched))}")

    hit(terms(table.name), 3.0, "table name")
    hit(terms(table.comment or ""), 1.0, "table comment")
    for col in table.columns:
        hit(terms(col.name), 2.0, f"column {col.name}")
        hit(terms(col.comment or ""), 0.75, f"comment of {col.name}")
        hit(terms(" ".join(str(s) for s in col.samples)), 1.5, f"values of {col.name}")
    return TableScore(table.name, round(score, 3), reasons)


#: affixes that mark a copy of another table: (prefix or suffix, question words that want it)
VARIANT_AFFIXES = {"stg": {"staging", "stage", "stg", "load", "loaded"},
                   "staging": {"staging", "stage"}, "tmp": {"temporary", "tmp"},
                   "raw": {"raw"}, "history": {"history", "historical", "valid", "change"},
                   "audit": {"audit", "change", "changed"}, "archive": {"archive", "archived"},
                   "backup": {"backup"}, "bak": {"backup"}, "old": {"old"}, "log": {"log"},
                   "snapshot": {"snapshot"}, "copy": {"copy"}}
VARIANT_WEIGHT = 0.3


def variant_of(name: str, tables: set[str]) -> tuple[str, str] | None:
    """(base table, affix) when `name` is a decorated copy of another table."""
    low = name.lower()
    for affix in VARIANT_AFFIXES:
        for base in (low.removeprefix(affix + "_"), low.removesuffix("_" + affix)):
            if base != low and base in tables:
                return base, affix
    return None


def _idf(schema: Schema) -> dict[str, float]:
    """Term weight by rarity across tables: log(1 + N / tables containing the term)."""
    df: dict[str, int] = {}
    for table in schema.tables.values():
        found = terms(table.name) | {w for c in table.columns for w in terms(c.name)}
        for word in found:
            df[word] = df.get(word, 0) + 1
    n = max(1, len(schema.tables))
    return {w: math.log(1 + n / d) / math.log(1 + n) for w, d in df.items()}


def rank_tables(schema: Schema, question: str) -> list[TableScore]:
    """Every table with its score for `question`, best first."""
    wanted = question_terms(question)
    if len(schema.tables) > 20:  # rarity only means something across many tables
        idf = _idf(schema)
        wanted = {w: v * idf.get(w, 1.0) for w, v in wanted.items()}
    names = {n.lower() for n in schema.tables}
    asked = set(question_terms(question))
    scores = []
    for table in schema.tables.values():
        score = _score(table, wanted)
        variant = variant_of(table.name, names)
        if variant and not (VARIANT_AFFIXES[variant[1]] & asked):
            score.score = round(score.score * VARIANT_WEIGHT, 3)
            score.reasons.append(f"a copy of {variant[0]} ({variant[1]})")
        scores.append(score)
    return sorted(scores, key=lambda s: (-s.score, s.table))


def relevant_tables(schema: Schema, question: str, max_tables: int = 5) -> list[str]:
    """The best tables for `question` plus the tables joining them (FK neighbours)."""
    ranked = [s for s in rank_tables(schema, question) if s.score > 0]
    chosen = [s.table for s in ranked[:max_tables]]
    for name in list(chosen):
        for fk in schema.tables[name].foreign_keys:
            # a join path between two chosen tables, or the parent of a chosen child
            if fk.ref_table not in chosen and len(chosen) < max_tables + 2:
                if any(s.table == fk.ref_table for s in ranked):
                    chosen.append(fk.ref_table)
    return chosen or list(schema.tables)[:max_tables]


def retrieve_schema(schema: Schema, question: str, max_tables: int = 5,
                    budget: int = SCHEMA_TOKEN_BUDGET) -> str:
    """The relevant part of the schema as prompt text, with why each table was chosen,
    within `budget` tokens."""
    chosen = relevant_tables(schema, question, max_tables)
    why = {s.table: s for s in rank_tables(schema, question)}
    lines = [f"Relevant tables for: {question!r} ({len(chosen)} of {len(schema.tables)})"]
    for name in chosen:
        reasons = why[name].reasons[:3]
        lines.append(f"- {name}: score {why[name].score}"
                     + (f" ({'; '.join(reasons)})" if reasons else " (join path)"))
    return fit_schema(schema, chosen, "\n".join(lines), budget)


@tool(read_only=True)
def schema_retrieval(ctx: ToolContext, question: str, max_tables: int = 5) -> str:
    """Find the tables and columns relevant to a question (use before writing SQL).

    Args:
        question: the user's question in plain words.
        max_tables: how many top-scoring tables to return (their join partners are added).
    """
    if not question.strip():
        raise ToolError("question is empty; pass the user's question")
    if max_tables < 1:
        raise ToolError("max_tables must be at least 1")
    return retrieve_schema(database_from(ctx).schema(), question, max_tables)
