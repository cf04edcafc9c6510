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
from .facts import DataModel, Fact, build_model, coarser_periods, measure_name, pair_facts
from .format import format_exact, format_percent
from .mentions import Mention, Sentence, read_sentence, years_of
from .numbers import Quantity, split_sentences
from .rankings import Ranking, rank_claims

_TOP_N = re.compile(r"(\b(top|bottom|first|last|leading|largest|biggest|smallest|no\.?|number)|#)"
                    r"[\s-]*$", re.I)
#: "over 400,000", "nearly 30%": a bound or an approximation, not an exact figure
_BOUND = re.compile(r"\b(?P<w>over|above|more than|exceed(?:ed|ing|s)?|at least|beyond|topp(?:ed|ing)|"
                    r"surpass(?:ed|ing)?|under|below|less than|fewer than|at most|nearly|almost|"
                    r"about|around|roughly|approximately|close to|some|just over|just under)\s*$", re.I)
_RANGE = re.compile(r"\b(?:rang(?:e|ed|es|ing)|var(?:y|ied|ies|ying)|fluctuat(?:e|ed|es|ing)|"
                    r"spann(?:ed|ing)|spans?)\s+(?:from|between)\s*$", re.I)
_RANGE_END = re.compile(r"^\s*(?:to|and|up to)\s*$", re.I)
_BOUND_LOW = re.compile(r"under|below|less|fewer|at most|nearly|almost|just under", re.I)
_BOUND_APPROX = re.compile(r"about|around|roughly|approximately|close to|some", re.I)

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


def _compatible(fact: Fact, attached: Mention | None, allowed: set[str], sentence: str) -> bool:
    """A fact may back a figure when every label it is about is named (in the sentence or,
    for periods, the paragraph) and, if the figure is attached to a mention, it is one of them.
    A figure attached to a label may be a total or an average only if the sentence says so."""
    if fact.cue and not re.search(fact.cue, sentence, re.I):
        return False
    if fact.unattached and attached is not None:
        return False
    if not fact.labels:
        return True
    if not fact.labels <= allowed:
        # a sentence naming no label at all ("grew 32% year over year") may quote a
        # figure of periods it leaves unsaid
        return not allowed and attached is None and all(
            any(c.isdigit() for c in label) for label in fact.labels) and not fact.implied
    if fact.implied and any(len(k) == len(label) and k != label
                            for label in fact.labels for k in allowed):
        return False
    return attached is None or bool(fact.labels & attached.keys)


def _close(fact: Fact, q: Quantity) -> bool:
    if fact.percent != (q.kind == "percent"):
        return False
    return abs(abs(fact.value) - abs(q.value)) <= q.step / 2 + 1e-9 * max(1.0, abs(fact.value))


def _bounded(q: Quantity, word: str, fact: Fact) -> bool:
    if fact.percent != (q.kind == "percent"):
        return False
    v, x = abs(fact.value), abs(q.value)
    if _BOUND_APPROX.match(word):
        return abs(v - x) <= max(q.step / 2, 0.1 * x)
    if _BOUND_LOW.match(word):
        return v <= x and (word.lower() not in ("nearly", "almost") or v >= 0.85 * x)
    return v >= x and (not word.lower().startswith("just") or v <= 1.15 * x)


_RISE = re.compile(r"\b(rose|rise[sn]?|rising|grew|grow(?:s|n|th|ing)?|increas\w*|up|gain\w*|"
                   r"climb\w*|jump\w*|higher|improv\w*|surg\w*|expand\w*)\b", re.I)
_FALL = re.compile(r"\b(fell|fall(?:s|en|ing)?|declin\w*|decreas\w*|drop\w*|down|lower|"
                   r"dipp?\w*|shrank|shrink\w*|contract\w*|slump\w*|los[st]\w*)\b", re.I)


def _direction(s: Sentence, q: Quantity) -> int:
    """+1 when the figure's clause says it rose, -1 when it says it fell, 0 when unclear."""
    lo, hi = s.clause(q.start)
    text = s.masked[max(0, lo - 40):hi] if lo == q.start else s.masked[lo:hi]
    rise, fall = bool(_RISE.search(text)), bool(_FALL.search(text))
    said = 0 if rise == fall else (1 if rise else -1)
    return -(said or 1) if q.value < 0 else said  # "up -3.9%" and "a change of -3.9%" fell


def _check_number(model: DataModel, q: Quantity, facts: list[Fact], s: Sentence,
                  allowed: set[str]) -> ClaimCheck:
    before = s.masked[:q.start]
    sentence = s.text
    where = f' (in: "{sentence}")'
    attached = s.attached(q.start)
    bound = _BOUND.search(before)
    if bound:
        word = bound.group("w")
        fits = [f for f in facts if _bounded(q, word, f) and _compatible(f, attached, allowed, sentence)]
        return ClaimCheck("number", f"{word} {q.raw}", sentence, bool(fits),
                          "" if fits else _bound_message(q, word, facts, attached, allowed, sentence, where),
                          fits[0].description if fits else "")
    extra = facts[len(model.facts):]  # the sentence's pair facts; the model's are indexed
    tolerance = q.step / 2 + 1e-9 * max(1.0, abs(q.value)) + 1e-9
    matches = [f for f in model.facts_near(abs(q.value), tolerance) + extra if _close(f, q)]
    if not matches and q.kind == "number" and float(q.value).is_integer() \
            and _TOP_N.search(before) and 0 < q.value <= len(model.result.rows):
        return ClaimCheck("number", q.raw, sentence, True, matched="a rank count")
    about = [f for f in matches if _compatible(f, attached, allowed, sentence)]
    direction = _direction(s, q)
    if about and direction and all(f.change for f in about):
        agreeing = [f for f in about if (f.value > 0) == (direction > 0) or f.value == 0]
        if not agreeing:
            f = about[0]
            return ClaimCheck("number", q.raw, sentence, False,
                              f"The text says {q.raw} as a {'rise' if direction > 0 else 'fall'}, "
                              f"but {f.description} is {_fmt(f)}: a "
                              f"{'fall' if f.value < 0 else 'rise'}.{where}", f.description)
        about = agreeing
    if about:
        return ClaimCheck("number", q.raw, sentence, True, matched=about[0].description)
    same_kind = [f for f in facts if f.percent == (q.kind == "percent")]
    labelled = [f for f in same_kind if f.labels and _compatible(f, attached, allowed, sentence)]
    pool = labelled or same_kind
    if not pool:
        return ClaimCheck("number", q.raw, sentence, False,
                          f"The text says {q.raw} but the data has no such figure.{where}")
    best = min(pool, key=lambda f: abs(abs(f.value) - abs(q.value)))
    if matches:  # the figure exists, but for another label or period than the one it is given for
        target = attached.text if attached else ", ".join(sorted(s.keys))
        message = (f"The text gives {q.raw} for {target}, but {q.raw} is "
                   f"{matches[0].description}; the data gives {_fmt(best)} for "
                   f"{best.description}.{where}")
    elif labelled:
        message = (f"The text says {q.raw} but the data gives {_fmt(best)} for "
                   f"{best.description}.{where}")
    else:
        message = (f"The text says {q.raw} but no figure in the data matches it (closest: "
                   f"{_fmt(best)}, {best.description}). Quote only figures from the data.{where}")
    return ClaimCheck("number", q.raw, sentence, False, message)


def _bound_message(q: Quantity, word: str, facts: list[Fact], attached: Mention | None,
                   allowed: set[str], sentence: str, where: str) -> str:
    pool = [f for f in facts if f.labels and _compatible(f, attached, allowed, sentence)
            and f.percent == (q.kind == "percent")]
    if not pool:
        return f"The text says {word} {q.raw} but no figure in the data backs it.{where}"
    best = min(pool, key=lambda f: abs(abs(f.value) - abs(q.value)))
    return (f"The text says {word} {q.raw} but the data gives {_fmt(best)} for "
            f"{best.description}.{where}")


def _check_date(model: DataModel, q: Quantity, mention: Mention | None, sentence: str) -> ClaimCheck:
    keys = mention.keys if mention else frozenset({q.period})
    yearless = bool(model.periods) and all(p.startswith("*") for p in model.periods)
    if model.periods:
        if any(k in model.periods or coarser_periods(k) & model.periods and len(k) == 10
               for k in keys):
            return ClaimCheck("date", q.raw, sentence, True, matched=", ".join(sorted(keys)))
        if yearless and q.period[:4] in model.result.sql:
            return ClaimCheck("date", q.raw, sentence, True, matched="the query's filter")
        months = sorted(p for p in model.periods if len(p) in (7, 10) and "Q" not in p) or \
            sorted(p for p in model.periods if len(p) == 4)
        span = f"{months[0]} to {months[-1]}" if months else "other periods"
        return ClaimCheck("date", q.raw, sentence, False,
                          f"The text mentions {q.raw} but the data covers {span}: name only "
                          f'periods in the data (in: "{sentence}").')
    if q.period.startswith("*") or q.period[:4] in model.result.sql:
        return ClaimCheck("date", q.raw, sentence, True, matched="the query's filter")
    return ClaimCheck("date", q.raw, sentence, False,
                      f"The text mentions {q.raw} but the result has no date column and the "
                      f'query does not filter on it: remove the period (in: "{sentence}").')


_NTH = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}


def _ranking_check(r: Ranking, sentence: str) -> ClaimCheck:
    claim = f"{r.claim} ({r.subject})"
    by = measure_name(r.measure)
    where = f'(in: "{sentence}")'
    if r.ok:
        return ClaimCheck("ranking", claim, sentence, True, matched=f"rank {r.rank} by {by}")
    leader = f"{r.leader} ({format_exact(round(r.leader_value, 2))})"
    if r.claim.lower().endswith("than"):
        message = (f'The text says {r.subject} is "{r.claim}" {r.leader}, but by {by} it is '
                   f"the other way round: {leader} comes first {where}.")
    elif r.within:
        message = (f'The text puts {r.subject} among the "{r.claim}", but by {by} it ranks '
                   f"{r.rank} of {r.of} {where}.")
    else:
        message = (f'The text ranks {r.subject} {_NTH.get(r.wanted, str(r.wanted))} ("{r.claim}"), '
                   f"but by {by} that is {leader}; {r.subject} ranks {r.rank} of {r.of} {where}.")
    return ClaimCheck("ranking", claim, sentence, False, message)


def _range_checks(model: DataModel, s: Sentence) -> tuple[list[ClaimCheck], set[int]]:
    """"ranged from X to Y": X must be the smallest and Y the largest value in scope
    (returns the checks and the figures they decided)."""
    figures = [q for q in s.quantities if q.kind != "date"]
    out: list[ClaimCheck] = []
    done: set[int] = set()
    for low, high in zip(figures, figures[1:]):
        if not (_RANGE.search(s.masked[:low.start]) and _RANGE_END.match(s.masked[low.end:high.start])):
            continue
        scope = {k for m in s.mentions if m.period for k in m.keys}
        for measure in model.measures[:1]:
            values = [v for k, v in model.values.get(measure, {}).items()
                      if not scope or k in scope or coarser_periods(k) & scope]
            if not values:
                continue
            lo, hi = min(values), max(values)
            done |= {low.start, high.start}
            ok = _near(low, lo) and _near(high, hi)
            out.append(ClaimCheck(
                "ranking", f"from {low.raw} to {high.raw}", s.text, ok,
                "" if ok else f"The text gives the range {low.raw} to {high.raw}, but the "
                f"{measure_name(measure)} runs from {format_exact(round(lo, 2))} to "
                f'{format_exact(round(hi, 2))} (in: "{s.text}").', "the range of values"))
    return out, done


_MOVE_FROM = re.compile(r"(?P<words>(?:\w+\s+){1,3})from\s*$", re.I)
_MOVE_TO = re.compile(r"^[^;]*?\bto\s*$", re.I)


def _movement_checks(s: Sentence) -> list[ClaimCheck]:
    """"rose from X to Y" needs Y above X; "fell from X to Y" needs Y below X."""
    figures = [q for q in s.quantities if q.kind != "date"]
    out = []
    for a, b in zip(figures, figures[1:]):
        verb = _MOVE_FROM.search(s.masked[:a.start])
        if not verb or a.kind != b.kind or not _MOVE_TO.match(s.masked[a.end:b.start]):
            continue
        words = verb.group("words").split()
        said_by = [(1 if _RISE.fullmatch(w) else -1, w) for w in words
                   if _RISE.fullmatch(w) or _FALL.fullmatch(w)]
        if len({d for d, _ in said_by}) != 1 or a.value == b.value:
            continue
        said, word = said_by[-1]
        ok = (b.value > a.value) == (said > 0)
        out.append(ClaimCheck(
            "ranking", f"{word} from {a.raw} to {b.raw}", s.text, ok,
            "" if ok else f"The text says it {word} from {a.raw} to {b.raw}: that is a "
            f"{'fall' if b.value < a.value else 'rise'}, not a {'rise' if said > 0 else 'fall'} "
            f'(in: "{s.text}").', "the direction of the change"))
    return out


def _near(q: Quantity, value: float) -> bool:
    return abs(abs(q.value) - abs(value)) <= q.step / 2 + 1e-9 * max(1.0, abs(value))


def check_consistency(text: str, result: QueryResult | DataModel) -> ConsistencyReport:
    """Check every number, date and ranking claim of `text` against `result`."""
    model = result if isinstance(result, DataModel) else build_model(result)
    report = ConsistencyReport()
    context: list[str] = []
    context_periods: set[str] = set()
    for _, _, raw in split_sentences(text):
        s = read_sentence(model, raw, context)
        allowed = s.keys | context_periods
        facts = model.facts + pair_facts(model, s.keys)
        by_start = {m.start: m for m in s.mentions if m.period}
        ranges, decided = _range_checks(model, s)
        for q in s.quantities:
            if q.start in decided:
                continue
            if q.kind == "date":
                report.checks.append(_check_date(model, q, by_start.get(q.start), raw))
            else:
                report.checks.append(_check_number(model, q, facts, s, allowed))
        report.checks += [_ranking_check(r, raw) for r in rank_claims(model, s)]
        report.checks += ranges + _movement_checks(s)
        periods = {k for m in s.mentions if m.period for k in m.keys}
        if periods:
            context, context_periods = years_of(s) or context, periods
    return report
