"""Ranking and extremum claims: "peaked in December", "the weakest month", "second-largest".

The subject is the label or period the rank word is about (its clause, else the nearest
mention); it is ranked among the keys of its own dimension and granularity (months among
months, years by their totals, categories within the year or label the sentence also
names), by the measure the sentence names (else the first one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .facts import DataModel, coarser_periods, measure_name
from .mentions import Mention, Sentence

RANK_WORD = re.compile(
    r"\b(?:(?P<ord>second|third|fourth|fifth|2nd|3rd|4th|5th)[- ]?)?"
    r"(?P<word>largest|biggest|highest|strongest|best|leading|led(?!\s+to\b)|lowest|smallest|"
    r"weakest|least|worst|fewest|slowest|peak(?:ed|s|ing)?|top(?!\s*\d)|most|maximum|minimum|"
    r"bottom(?:ed)?|trough|lagg(?:ed|ing)|trail(?:ed|ing))\b", re.I)
LOW = re.compile(r"lowest|smallest|weakest|least|worst|fewest|slowest|minimum|bottom|trough|"
                 r"lagg|trail", re.I)
#: "the largest increase", "grew the most": a claim about change, not about the level
_CHANGE = re.compile(r"^\W*(?:\w+\W+)?(?:increase|growth|gain|rise|jump|drop|decline|decrease|"
                     r"fall|change|swing|improvement)s?\b", re.I)
_CHANGE_BEFORE = re.compile(r"\b(?:grew|rose|increased|gained|fell|dropped|declined|decreased|"
                            r"improved|changed|jumped)\b[^,;]*$", re.I)
_NOT_RANK = re.compile(r"^\s+of\b", re.I)  # "most of", "top of"
ORDINALS = {"second": 2, "third": 3, "fourth": 4, "fifth": 5, "2nd": 2, "3rd": 3, "4th": 4,
            "5th": 5}
_AVERAGE = re.compile(r"(avg|average|mean|rate|pct|percent|share|ratio|price|margin)", re.I)


@dataclass(frozen=True)
class Ranking:
    """The data's verdict on one rank claim."""

    claim: str
    subject: str
    measure: str
    rank: int
    of: int
    wanted: int
    leader: str
    leader_value: float


def _granularity(key: str) -> int:
    return 4 if len(key) == 4 else 6 if "Q" in key else len(key)


def _dimension(model: DataModel, key: str) -> str:
    return f"period:{_granularity(key)}" if key in model.periods else \
        model.dimension_of.get(key, "label")


def _group_of(model: DataModel, cell_keys: frozenset[str], dim: str) -> str | None:
    for k in cell_keys:
        if dim.startswith("period:") and k in model.periods:
            width = int(dim.split(":")[1])
            for p in {k} | coarser_periods(k):
                if _granularity(p) == width:
                    return p
        elif model.dimension_of.get(k, "label") == dim:
            return k
    return None


def _scoped(model: DataModel, cell_keys: frozenset[str], scope: list[str]) -> bool:
    expanded = set(cell_keys) | {p for k in cell_keys if k in model.periods
                                 for p in coarser_periods(k)}
    return all(s in expanded for s in scope)


def group_values(model: DataModel, measure: str, dim: str, scope: list[str]) -> dict[str, float]:
    """The measure per key of `dim`, over the rows in `scope` (summed, or averaged for rates)."""
    groups: dict[str, list[float]] = {}
    for keys, row in model.cells:
        if measure in row and _scoped(model, keys, scope):
            g = _group_of(model, keys, dim)
            if g is not None:
                groups.setdefault(g, []).append(row[measure])
    mean = bool(_AVERAGE.search(measure))
    return {g: (sum(v) / len(v) if mean else sum(v)) for g, v in groups.items()}


def _subject(sentence: Sentence, at: int, rankable: set[str]) -> Mention | None:
    lo, hi = sentence.clause(at)
    pool = [m for m in sentence.mentions if m.keys & rankable]
    seg_lo, seg_hi = sentence.segment(at)
    candidates = [m for m in pool if lo <= m.start < hi] or \
        [m for m in pool if seg_lo <= m.start < seg_hi] or pool
    return min(candidates, key=lambda m: abs(m.start - at)) if candidates else None


def _is_level_claim(sentence: Sentence, start: int, end: int) -> bool:
    after, before = sentence.masked[end:], sentence.masked[:start]
    return not (_CHANGE.match(after) or _CHANGE_BEFORE.search(before) or _NOT_RANK.match(after))


def rank_claims(model: DataModel, sentence: Sentence) -> list[Ranking]:
    """Every rank claim of `sentence` the data can decide, with the data's ranking."""
    out: list[Ranking] = []
    if not model.measures or not sentence.mentions:
        return out
    rankable = {k for keys, _ in model.cells for k in keys}
    rankable |= {p for k in list(rankable) if k in model.periods for p in coarser_periods(k)}
    low_text = sentence.text.lower()
    named = [ms for ms in model.measures if measure_name(ms) in low_text]
    for m in RANK_WORD.finditer(sentence.masked):
        if not _is_level_claim(sentence, m.start(), m.end()):
            continue
        subject = _subject(sentence, m.start(), rankable)
        if subject is None:
            continue
        ranking = _rank(model, sentence, subject, m, (named or model.measures)[0])
        if ranking is not None:
            out.append(ranking)
    return out


def _rank(model: DataModel, sentence: Sentence, subject: Mention, m: re.Match[str],
          measure: str) -> Ranking | None:
    key = next(iter(sorted(subject.keys & ({k for keys, _ in model.cells for k in keys}
                                           | model.periods))), None)
    if key is None or len(subject.keys) > 1:
        return None  # a bare "March" with two years of data: which March is meant is unclear
    dim = _dimension(model, key)
    scope = [k for other in sentence.mentions if other is not subject for k in other.keys
             if _dimension(model, k) != dim and len(other.keys) == 1
             and (k in model.periods or k in model.dimension_of)
             and not (k in model.periods and key in model.periods
                      and k not in coarser_periods(key))]
    values = {k: v for k, v in group_values(model, measure, dim, scope).items()
              if k != "(missing)" or k == key}  # NULL labels rank only when named
    if key not in values or len(values) < 2:
        return None
    low = bool(LOW.match(m.group("word")))
    ranked = sorted(values.items(), key=lambda kv: kv[1], reverse=not low)
    rank = next(i for i, (k, _) in enumerate(ranked, 1) if k == key)
    wanted = ORDINALS.get((m.group("ord") or "").lower(), 1)
    leader, value = ranked[min(wanted, len(ranked)) - 1]
    return Ranking(m.group(0), key, measure, rank, len(ranked), wanted, leader, value)
