"""Numeric consistency: every figure, date and ranking in a text must come from the data.

Each number is matched, within the precision it was written with, against the facts of
the result set (`facts.py`): values, totals, shares, growth, differences, the pairwise
figures between the labels its sentence names. Numbers matched only to *another* label
than the one the sentence is about are attribution errors. Dates must be periods the
data covers; "the largest"/"second highest" claims are re-ranked from the data.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..results import QueryResult
from .facts import DataModel, Fact, build_model, measure_name, pair_facts
from .format import format_exact, format_percent
from .numbers import Quantity, extract_quantities, split_sentences

_TOP_N = re.compile(r"\b(top|bottom|first|last|leading)\s*$", re.I)
_RANK = re.compile(
    r"\b(?:(?P<ord>second|third|fourth|fifth|2nd|3rd|4th|5th)[- ]?)?"
    r"(?P<word>largest|biggest|highest|strongest|best|leading|lowest|smallest|weakest|"
    r"least|worst|fewest|peak|top(?!\s*\d))\b", re.I)
_LOW = {"lowest", "smallest", "weakest", "least", "worst", "fewest"}
_CLAUSE = re.compile(r"[,;:](?=\s)|\b(?:and|while|whereas|but|followed by)\b", re.I)
_ORDINALS = {"second": 2, "third": 3, "fourth": 4, "fifth": 5, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}


@dataclass
class ClaimCheck:
    """One checked claim: a number, a date or a ranking, and what the data says."""

    kind: Literal["number", "date", "ranking"]
    text: str
    sentence: str
    ok: bool
    message: str = ""
    matched: str = ""


@dataclass
class ConsistencyReport:
    checks: list[ClaimCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def score(self) -> float:
        return sum(c.ok for c in self.checks) / len(self.checks) if self.checks else 1.0

    @property
    def critiques(self) -> list[str]:
        return [c.message for c in self.checks if not c.ok]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "score": round(self.score, 4), "critiques": self.critiques,
                "checks": [asdict(c) for c in self.checks]}


def _fmt(fact: Fact) -> str:
    return format_percent(fact.value) if fact.percent else format_exact(round(fact.value, 2))


def _mentions(model: DataModel, sentence: str) -> tuple[str, set[str], list[tuple[int, str]]]:
    """(sentence with labels blanked, labels named, [(position, label)])."""
    found: list[tuple[int, str]] = []
    masked = sentence
    for low in sorted(model.labels, key=len, reverse=True):
        for m in re.finditer(r"(?<!\w)" + re.escape(low) + r"(?!\w)", masked, re.I):
            found.append((m.start(), model.labels[low]))
            masked = masked[:m.start()] + "_" * (m.end() - m.start()) + masked[m.end():]
    return masked, {label for _, label in found}, found


def _compatible(fact: Fact, mentioned: set[str]) -> bool:
    if not fact.labels:
        return True
    return any(lab in mentioned or lab[:4] in mentioned for lab in fact.labels)


def _close(fact: Fact, q: Quantity) -> bool:
    if fact.percent != (q.kind == "percent"):
        return False
    return abs(abs(fact.value) - abs(q.value)) <= q.step / 2 + 1e-9 * max(1.0, abs(fact.value))


def _check_number(model: DataModel, q: Quantity, facts: list[Fact], mentioned: set[str],
                  sentence: str, before: str) -> ClaimCheck:
    matches = [f for f in facts if _close(f, q)]
    where = f' (in: "{sentence}")'
    if not matches and q.kind == "number" and float(q.value).is_integer() \
            and _TOP_N.search(before) and 0 < q.value <= len(model.result.rows):
        return ClaimCheck("number", q.raw, sentence, True, matched="a rank count")
    about = [f for f in matches if not mentioned or _compatible(f, mentioned)]
    if about:
        return ClaimCheck("number", q.raw, sentence, True, matched=about[0].description)
    same_kind = [f for f in facts if f.percent == (q.kind == "percent")]
    labelled = [f for f in same_kind if f.labels and _compatible(f, mentioned)] if mentioned else []
    pool = labelled or same_kind
    if matches:  # the figure exists, but for another label than the sentence names
        best = min(pool, key=lambda f: abs(abs(f.value) - abs(q.value)))
        message = (f"The text says {q.raw} next to {', '.join(sorted(mentioned))}, but {q.raw} "
                   f"is {matches[0].description}; the data gives {_fmt(best)} for "
                   f"{best.description}.{where}")
        return ClaimCheck("number", q.raw, sentence, False, message)
    if not pool:
        return ClaimCheck("number", q.raw, sentence, False,
                          f"The text says {q.raw} but the data has no such figure.{where}")
    best = min(pool, key=lambda f: abs(abs(f.value) - abs(q.value)))
    message = (f"The text says {q.raw} but the data gives {_fmt(best)} for {best.description}."
               f"{where}")
    if not labelled:
        message = (f"The text says {q.raw} but no figure in the data matches it (closest: "
                   f"{_fmt(best)}, {best.description}). Quote only figures from the data.{where}")
    return ClaimCheck("number", q.raw, sentence, False, message)


def _check_date(model: DataModel, q: Quantity, sentence: str) -> ClaimCheck:
    if model.periods:
        if q.period in model.periods:
            return ClaimCheck("date", q.raw, sentence, True, matched=q.period)
        months = sorted(p for p in model.periods if len(p) == 7 and "Q" not in p) or \
            sorted(p for p in model.periods if len(p) == 4)
        span = f"{months[0]} to {months[-1]}" if months else "other periods"
        return ClaimCheck("date", q.raw, sentence, False,
                          f"The text mentions {q.raw} but the data covers {span}: name only "
                          f'periods in the data (in: "{sentence}").')
    if q.period[:4] in model.result.sql:
        return ClaimCheck("date", q.raw, sentence, True, matched="the query's filter")
    return ClaimCheck("date", q.raw, sentence, False,
                      f"The text mentions {q.raw} but the result has no date column and the "
                      f'query does not filter on it: remove the period (in: "{sentence}").')


def _rank_of(values: dict[str, float], label: str, low: bool) -> tuple[int, list[tuple[str, float]]]:
    ranked = sorted(((k, v) for k, v in values.items() if k != "(missing)" or k == label),
                    key=lambda kv: kv[1], reverse=not low)
    return next(i for i, (k, _) in enumerate(ranked, 1) if k == label), ranked


def _clause(masked: str, at: int) -> tuple[int, int]:
    """The (start, end) of the clause around position `at` (labels are blanked in `masked`)."""
    cuts = [0] + [m.start() for m in _CLAUSE.finditer(masked)] + [len(masked)]
    start = max(c for c in cuts if c <= at)
    return start, min(c for c in cuts if c > at) if any(c > at for c in cuts) else len(masked)


def _check_rankings(model: DataModel, sentence: str, masked: str,
                    subjects: list[tuple[int, str]]) -> list[ClaimCheck]:
    checks = []
    for m in _RANK.finditer(masked):
        if not subjects or not model.measures:
            break
        word = m.group("word").lower()
        k = _ORDINALS.get((m.group("ord") or "").lower(), 1)
        named = [ms for ms in model.measures if measure_name(ms) in sentence.lower()]
        for measure in named or model.measures[:1]:
            values = model.values.get(measure, {})
            lo, hi = _clause(masked, m.start())
            candidates = [(abs(pos - m.start()), lab) for pos, lab in subjects
                          if lab in values and lo <= pos < hi] or \
                [(abs(pos - m.start()), lab) for pos, lab in subjects if lab in values]
            if not candidates:
                continue
            label = min(candidates)[1]
            rank, ranked = _rank_of(values, label, word in _LOW)
            claim = f"{m.group(0)} ({label})"
            if rank == k:
                checks.append(ClaimCheck("ranking", claim, sentence, True,
                                         matched=f"rank {rank} by {measure_name(measure)}"))
            else:
                true_label, true_value = ranked[k - 1] if k <= len(ranked) else ranked[-1]
                checks.append(ClaimCheck("ranking", claim, sentence, False,
                    f"The text calls {label} the {m.group(0).lower()}, but by "
                    f"{measure_name(measure)} that is {true_label} ({format_exact(round(true_value, 2))}); "
                    f'{label} ranks {rank} of {len(ranked)} (in: "{sentence}").'))
            break
    return checks


def check_consistency(text: str, result: QueryResult | DataModel) -> ConsistencyReport:
    """Check every number, date and ranking claim of `text` against `result`."""
    model = result if isinstance(result, DataModel) else build_model(result)
    report = ConsistencyReport()
    for _, _, sentence in split_sentences(text):
        masked, mentioned, positions = _mentions(model, sentence)
        quantities = extract_quantities(masked)
        periods = [(q.start, q.period) for q in quantities if q.kind == "date"]
        mentioned |= {p for _, p in periods} | {p[:4] for _, p in periods}
        facts = model.facts + pair_facts(model, mentioned)
        for q in quantities:
            if q.kind == "date":
                report.checks.append(_check_date(model, q, sentence))
            else:
                report.checks.append(_check_number(model, q, facts, mentioned, sentence,
                                                   masked[:q.start]))
        report.checks += _check_rankings(model, sentence, masked, positions + periods)
    return report
