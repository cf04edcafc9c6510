"""Mentions: which labels and periods a sentence names, and which of them each figure is about.

A figure is about the label or period of its own clause ("rose from 10 in January to 12
in December": 10 is January's, 12 is December's); a clause that names none borrows the
nearest mention before it in the sentence, else the nearest after it. Periods written
without a year ("in March", "Q4") take the year of their sentence, else of the paragraph
so far, else every year of the data that has them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .facts import DataModel, coarser_periods
from .numbers import Quantity, extract_quantities

_CLAUSE = re.compile(
    r"[,;:()](?=\s|$)|\s[-\u2013\u2014]\s|\b(?:and|while|whereas|but|followed by|from|to|than|"
    r"versus|vs\.?|compared (?:with|to)|against|after|before|ahead of|behind|with)\b", re.I)
_SEGMENT = re.compile(r";|\s[\u2013\u2014]\s")
_RESPECTIVELY = re.compile(r"\brespectively\b", re.I)
_RELATIVE = re.compile(
    r"\b(?:(?:a|one)\s+(?P<u1>year|quarter|month)\s+(?:earlier|before|ago)|the\s+(?:previous|prior|"
    r"preceding)\s+(?P<u2>year|quarter|month)|the\s+(?P<u3>year|quarter|month)\s+before|"
    r"(?:last|prior)\s+(?P<u4>year))\b", re.I)
_NUMERIC_LABEL = re.compile(r"^[\d.,\s-]+$")


@dataclass(frozen=True)
class Mention:
    """A label or period named in a sentence: where, and the data keys it may stand for."""

    start: int
    end: int
    text: str
    keys: frozenset[str]
    period: bool = False
    #: for a rank claim: the period it is ranked within (a bare "Q4" -> each year's)
    scope: str = ""


@dataclass
class Sentence:
    """One sentence read against the data: its mentions, figures and clause cuts."""

    text: str
    masked: str
    mentions: list[Mention]
    quantities: list[Quantity]
    cuts: list[int]
    #: figure start -> mention, for "A and B had X and Y respectively"
    respectively: dict[int, Mention] = field(default_factory=dict)

    @property
    def keys(self) -> set[str]:
        return {k for m in self.mentions for k in m.keys}

    def clause(self, at: int) -> tuple[int, int]:
        start = max(c for c in self.cuts if c <= at)
        return start, min((c for c in self.cuts if c > at), default=len(self.masked))

    def segment(self, at: int) -> tuple[int, int]:
        """The part of the sentence between semicolons (or dashes) around `at`."""
        cuts = [0] + [m.end() for m in _SEGMENT.finditer(self.masked)]
        start = max(c for c in cuts if c <= at)
        return start, min((c for c in cuts if c > at), default=len(self.masked))

    def attached(self, start: int) -> Mention | None:
        """The mention a figure (or word) at `start` is about."""
        if start in self.respectively:
            return self.respectively[start]
        lo, hi = self.clause(start)
        inside = [m for m in self.mentions if lo <= m.start < hi]
        if inside:  # the nearest; "March" before the "2024" it lies in
            return min(inside, key=lambda m: (coarser_mention(m, inside), abs(m.start - start),
                                              m.start > start))
        lo, hi = self.segment(start)
        before = [m for m in self.mentions if m.end <= start and m.start >= lo]
        if before:
            return max(before, key=lambda m: m.end)
        after = [m for m in self.mentions if start <= m.start < hi]
        return min(after, key=lambda m: m.start) if after else None


def coarser_mention(m: Mention, others: list[Mention]) -> bool:
    """True when `m` is a period that contains another mentioned period."""
    return m.period and any(o is not m and o.period and any(
        m.keys & coarser_periods(k) for k in o.keys) for o in others)


def _label_mentions(model: DataModel, sentence: str) -> tuple[str, list[Mention]]:
    found: list[Mention] = []
    masked = sentence
    for low in sorted(model.labels, key=len, reverse=True):
        if len(low) < 2 or (_NUMERIC_LABEL.match(low) and not re.fullmatch(r"\d{4}", low)):
            continue  # "1" or "3.5" as a label would swallow every figure
        if model.labels[low] in model.periods:
            continue  # "2024", "2024-Q1": read as dates, so "March 2024" stays one period
        for m in re.finditer(r"(?<![\w.,])" + re.escape(low) + r"(?![\w]|[.,]\d)", masked, re.I):
            label = model.labels[low]
            found.append(Mention(m.start(), m.end(), sentence[m.start():m.end()],
                                 frozenset({label}), label in model.periods))
            masked = masked[:m.start()] + "_" * (m.end() - m.start()) + masked[m.end():]
    return masked, found


def resolve_period(model: DataModel, period: str, years: list[str]) -> frozenset[str]:
    """The data keys a written period stands for: a day falls back to its month when the
    data is monthly; a period without a year takes `years`, else every year that has it."""
    if period.startswith("*"):
        tail = period[1:]
        cands = [y + tail for y in years] or sorted(
            p for p in model.periods if len(p) == len(period) + 3 and p.endswith(tail))
        resolved = [resolve_period(model, c, years) for c in cands]
        return frozenset(k for r in resolved for k in r) or frozenset({period})
    if len(period) == 10 and period not in model.periods and period[:7] in model.periods:
        return frozenset({period[:7]})
    yearless = "*" + period[4:]
    if period not in model.periods and len(period) > 4 and yearless in model.periods:
        return frozenset({yearless})  # "March 2024" against a month-number column
    return frozenset({period})


def read_sentence(model: DataModel, sentence: str, context_years: list[str]) -> Sentence:
    """Mentions, figures and clause cuts of one sentence (labels are blanked before figures
    are read, so "Customer 01" is a name, not a count)."""
    masked, mentions = _label_mentions(model, sentence)
    quantities = extract_quantities(masked)
    dates = [q for q in quantities if q.kind == "date"]
    segments = [0] + [m.end() for m in _SEGMENT.finditer(masked)] + [len(masked) + 1]
    for q in dates:
        mentions.append(Mention(q.start, q.end, q.raw, resolve_period(
            model, q.period, _years_near(q, dates, segments) or context_years), True))
    mentions += _relative_mentions(masked, mentions)
    mentions = [m for m in mentions if m.keys & model.attachable]
    mentions.sort(key=lambda m: m.start)
    cuts = [0] + [m.start() for m in _CLAUSE.finditer(masked)]
    return Sentence(sentence, masked, mentions, quantities, cuts,
                    _respectively(masked, mentions, quantities))


def _years_near(q: Quantity, dates: list[Quantity], segments: list[int]) -> list[str]:
    """The years written in `q`'s own segment of the sentence, else in the whole sentence."""
    seg = next((a, b) for a, b in zip(segments, segments[1:]) if a <= q.start < b)
    for pool in ([d for d in dates if seg[0] <= d.start < seg[1]], dates):
        years = sorted({d.period[:4] for d in pool if not d.period.startswith("*")})
        if years:
            return years
    return []


def shift(key: str, unit: str, by: int) -> str | None:
    """`key` moved by `by` years / quarters / months ("2024-12", "year", -1 -> "2023-12")."""
    m = re.fullmatch(r"(\d{4})(?:-(Q)?(\d{1,2}))?(-\d{2})?", key)
    if not m:
        return None
    year, quarter, part, day = int(m.group(1)), m.group(2), m.group(3), m.group(4) or ""
    if unit == "year":
        return f"{year + by}" + key[4:]
    if part is None:
        return None
    size = 4 if quarter else 12
    if unit == ("quarter" if quarter else "month"):
        index = year * size + int(part) - 1 + by
        return f"{index // size}-{'Q' if quarter else ''}{index % size + 1:0{1 if quarter else 2}d}" + day
    return None


def _relative_mentions(masked: str, mentions: list[Mention]) -> list[Mention]:
    """"a year earlier", "the previous month": the period before the one named before it."""
    out = []
    for r in _RELATIVE.finditer(masked):
        unit = next(u for u in r.group("u1", "u2", "u3", "u4") if u).lower()
        named = [m for m in mentions if m.period and m.end <= r.start() and len(m.keys) == 1]
        if not named:
            continue
        key = shift(next(iter(named[-1].keys)), unit, -1)
        if key:
            out.append(Mention(r.start(), r.end(), r.group(0), frozenset({key}), True))
    return out


def _respectively(masked: str, mentions: list[Mention],
                  quantities: list[Quantity]) -> dict[int, Mention]:
    """Pair the figures of a "respectively" list with the mentions before them, in order."""
    word = _RESPECTIVELY.search(masked)
    if not word:
        return {}
    figures = [q for q in quantities if q.kind != "date" and q.start < word.start()]
    if not figures:
        return {}
    named = [m for m in mentions if m.end <= figures[0].start]
    if len(named) < len(figures):
        return {}
    return {q.start: m for q, m in zip(figures, named[-len(figures):])}


def years_of(sentence: Sentence) -> list[str]:
    """The years a sentence names (the context for the next sentences' bare months)."""
    return sorted({k[:4] for m in sentence.mentions if m.period for k in m.keys
                   if not k.startswith("*")})
