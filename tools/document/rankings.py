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
from .mentions import Mention, Sentence, coarser_mention as _coarser

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
                            r"improved|changed|jumped)\s+(?:\w+\s+)?(?:the\s+)?$", re.I)
_NOT_RANK = re.compile(r"^\s+of\b", re.I)  # "most of", "top of"
_COMPARATIVE = re.compile(
    r"\b(?P<the>the\s+)?(?P<word>higher|larger|bigger|stronger|greater|better|more|lower|smaller|"
    r"weaker|worse|fewer|less)\b(?P<than>\s+than\b)?|\b(?P<verb>outs[oe]ll?\w*|outperform\w*|"
    r"exceed(?:ed|s|ing)?|surpass\w*|beat|overtook|trail(?:ed|s|ing)?|lagg?(?:ed|s|ing)?(?:\s+behind)?|"
    r"fell\s+behind)\b", re.I)
_LOW_COMPARATIVE = re.compile(r"lower|smaller|weaker|worse|fewer|less|trail|lag|fell", re.I)
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5}
_TOP_SET = re.compile(
    r"\b(?:(?P<top>top|bottom)\s+(?P<n1>two|three|four|five|[2-9])|(?P<n2>two|three|four|five|[2-9])"
    r"\s+(?P<word>largest|biggest|highest|strongest|best|leading|lowest|smallest|weakest|worst))\b",
    re.I)
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
    #: a "top three" claim: any rank up to `wanted` is right
    within: bool = False

    @property
    def ok(self) -> bool:
        return self.rank <= self.wanted if self.within else self.rank == self.wanted


def _granularity(key: str) -> int:
    """4 year, 6 quarter, 7 month, 10 day ("*-03", a month without its year, is a month)."""
    size = len(key) + 3 if key.startswith("*") else len(key)
    return 6 if "Q" in key else size


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
    cache_key = (measure, dim, tuple(sorted(scope)))
    if cache_key in model.grouped:
        return model.grouped[cache_key]
    groups: dict[str, list[float]] = {}
    for keys, row in model.cells:
        if measure in row and _scoped(model, keys, scope):
            g = _group_of(model, keys, dim)
            if g is not None:
                groups.setdefault(g, []).append(row[measure])
    mean = bool(_AVERAGE.search(measure))
    values = {g: (sum(v) / len(v) if mean else sum(v)) for g, v in groups.items()}
    model.grouped[cache_key] = values
    return values


_UNIT = re.compile(r"^\W*(?:\w+\W+)?(?P<unit>day|week|month|quarter|year)s?\b", re.I)
_COPULA_BEFORE = re.compile(r"\b(?:was|were|is|are|remained|became|ranked|as)\s+"
                            r"(?:the\s+|its\s+|their\s+)?$", re.I)
_COPULA_AFTER = re.compile(r"^\W*(?:\w+\W+){0,2}?(?:was|were|is|are|came)\b", re.I)
_UNIT_WIDTH = {"day": 10, "month": 7, "quarter": 6, "year": 4}


def _subjects(sentence: Sentence, m: re.Match[str], rankable: set[str]) -> list[Mention]:
    """Candidate subjects of a rank word, best first: its clause, its segment, the sentence;
    "the weakest month" prefers a month over the year beside it."""
    at = m.start()
    lo, hi = sentence.clause(at)
    pool = [x for x in sentence.mentions if x.keys & rankable]
    seg_lo, seg_hi = sentence.segment(at)
    near = [x for x in pool if lo <= x.start < hi or seg_lo <= x.start < seg_hi]
    pool = near or pool  # a subject from another clause only when its own has none
    unit = _UNIT.match(sentence.masked[m.end():])
    width = _UNIT_WIDTH.get(unit.group("unit").lower(), 0) if unit else 0

    # "December was the best month" / "the best month was December"
    side = 1 if _COPULA_BEFORE.search(sentence.masked[:at]) else \
        -1 if _COPULA_AFTER.match(sentence.masked[m.end():]) else 0

    def order(x: Mention) -> tuple[int, bool, bool, bool, int]:
        tier = 0 if lo <= x.start < hi else 1 if seg_lo <= x.start < seg_hi else 2
        fits = not width or any(_granularity(k) == width for k in x.keys)
        wrong_side = side == 1 and x.start > at or side == -1 and x.start < at
        return (tier, not fits, _coarser(x, pool), wrong_side, abs(x.start - at))
    return sorted(pool, key=order)


_FIGURE_GAP = r"[\s\d.,%()$€£kKmMbB-]*"
_LIST_GAP = re.compile(rf"^{_FIGURE_GAP}(?:,|\band\b|&){_FIGURE_GAP}$", re.I)
_TO_WORD_GAP = re.compile(rf"^{_FIGURE_GAP}(?:(?:were|are|was|both|together)\s+)*(?:the\s+)?$", re.I)


def _object_follows(sentence: Sentence, m: re.Match[str], rankable: set[str]) -> bool:
    _, hi = sentence.clause(m.end())
    return any(m.end() <= x.start < max(hi, m.end() + 40) and x.keys & rankable
               for x in sentence.mentions)


def _listed_before(sentence: Sentence, m: re.Match[str], rankable: set[str]) -> list[Mention]:
    """The labels listed right before a rank word ("A and B led"), nothing between them
    but figures, commas and "and"."""
    text = sentence.masked
    before = [x for x in sentence.mentions if x.end <= m.start() and x.keys & rankable
              and len(x.keys) == 1]
    if not before or not _TO_WORD_GAP.match(text[before[-1].end:m.start()]):
        return []
    run = [before[-1]]
    for x in reversed(before[:-1]):
        if not _LIST_GAP.match(text[x.end:run[0].start]):
            break
        run.insert(0, x)
    return run


def _group_claim(model: DataModel, sentence: Sentence, m: re.Match[str], group: list[Mention],
                 measure: str) -> list[Ranking]:
    low = bool(LOW.match(m.group("word")))
    out = []
    for subject in group:
        r = _rank(model, sentence, subject, m, measure, low=low, wanted=len(group))
        if r is not None:
            out.append(Ranking(m.group(0), r.subject, measure, r.rank, r.of, len(group),
                               r.leader, r.leader_value, within=True))
    return out


def _each_year(model: DataModel, subject: Mention) -> list[Mention]:
    """A period named without its year ("the fourth quarter", with two years of data)
    stands for each year's: rank each within its own year."""
    if len(subject.keys) == 1 or not all(k in model.periods for k in subject.keys):
        return [subject]
    return [Mention(subject.start, subject.end, subject.text, frozenset({k}), True,
                    scope=k[:4]) for k in sorted(subject.keys)]


def _is_level_claim(sentence: Sentence, start: int, end: int) -> bool:
    after, before = sentence.masked[end:], sentence.masked[:start]
    return not (_CHANGE.match(after) or _CHANGE_BEFORE.search(before) or _NOT_RANK.match(after))


def rank_claims(model: DataModel, sentence: Sentence) -> list[Ranking]:
    """Every rank claim of `sentence` the data can decide, with the data's ranking."""
    out: list[Ranking] = []
    if not model.measures or not sentence.mentions:
        return out
    rankable = set(model.keys)
    low_text = sentence.text.lower()
    named = [ms for ms in model.measures if measure_name(ms) in low_text]
    if not named and len(model.measures) > 1:
        return out  # "the most popular" with units and revenue: by which? not ours to guess
    measure = (named or model.measures)[0]
    sets = list(_TOP_SET.finditer(sentence.masked))
    for t in sets:
        out += _set_claims(model, sentence, t, rankable, measure)
    out += _comparisons(model, sentence, rankable, measure)
    for m in RANK_WORD.finditer(sentence.masked):
        if any(t.start() <= m.start() < t.end() for t in sets) or \
                not _is_level_claim(sentence, m.start(), m.end()):
            continue
        if re.match(r"lagg|trail", m.group("word"), re.I) and _object_follows(sentence, m, rankable):
            continue  # "A trailed B": a comparison (see _comparisons), not "A was the lowest"
        group = _listed_before(sentence, m, rankable)
        if len(group) > 1:  # "A and B led", "A (28.7%) and B (20.8%) were the largest"
            out += _group_claim(model, sentence, m, group, measure)
            continue
        for subject in _subjects(sentence, m, rankable):
            found = [r for r in (_rank(model, sentence, one, m, measure)
                                 for one in _each_year(model, subject)) if r is not None]
            if found:
                out += found
                break
    return out


def _comparisons(model: DataModel, sentence: Sentence, rankable: set[str],
                 measure: str) -> list[Ranking]:
    """"2024 was the stronger year" (first of all), "A was larger than B" (A above B)."""
    out = []
    for m in _COMPARATIVE.finditer(sentence.masked):
        verb = m.group("verb")
        if not (m.group("the") or m.group("than") or verb) or \
                not _is_level_claim(sentence, m.start(), m.end()):
            continue
        low = bool(_LOW_COMPARATIVE.match(verb or m.group("word")))
        if m.group("the") and not verb:
            for subject in _subjects(sentence, m, rankable):
                r = _rank(model, sentence, subject, m, measure, low=low, wanted=1)
                if r is not None:
                    out.append(r)
                    break
            continue
        lo, _ = sentence.segment(m.start())
        before = [x for x in sentence.mentions if lo <= x.start < m.start() and x.keys & rankable]
        c_lo, c_hi = sentence.clause(m.end())
        after = [x for x in sentence.mentions if m.end() <= x.start and x.keys & rankable
                 and (not verb or x.start < max(c_hi, m.end() + 40))]
        if before and after:
            r = _rank(model, sentence, before[-1], m, measure, low=low, wanted=1,
                      among=after[0].keys)
            if r is not None:
                out.append(r)
    return out


def _set_claims(model: DataModel, sentence: Sentence, t: re.Match[str], rankable: set[str],
                measure: str) -> list[Ranking]:
    """"A and B were the two largest": every label of that dimension must rank in the set."""
    n_text = (t.group("n1") or t.group("n2")).lower()
    n = _COUNTS.get(n_text) or int(n_text)
    low = bool(LOW.match(t.group("word") or "")) or (t.group("top") or "").lower() == "bottom"
    out: list[Ranking] = []
    for subject in _subjects(sentence, t, rankable):
        r = _rank(model, sentence, subject, t, measure, low=low, wanted=n)
        if r is not None and (not out or _dimension(model, r.subject) ==
                              _dimension(model, out[0].subject)):
            out.append(Ranking(f"{t.group(0)}", r.subject, measure, r.rank, r.of, n,
                               r.leader, r.leader_value, within=True))
    return out


def _rank(model: DataModel, sentence: Sentence, subject: Mention, m: re.Match[str],
          measure: str, low: bool | None = None, wanted: int | None = None,
          among: frozenset[str] | None = None) -> Ranking | None:
    key = next(iter(sorted(subject.keys & ({k for keys, _ in model.cells for k in keys}
                                           | model.periods))), None)
    if key is None or len(subject.keys) > 1:
        return None  # a bare "March" with two years of data: which March is meant is unclear
    dim = _dimension(model, key)
    scope = [subject.scope] if subject.scope else \
        [k for other in sentence.mentions if other is not subject for k in other.keys
         if _dimension(model, k) != dim and len(other.keys) == 1
         and (k in model.periods or k in model.dimension_of)
         and not (k in model.periods and key in model.periods
                  and k not in coarser_periods(key))]
    values = {k: v for k, v in group_values(model, measure, dim, scope).items()
              if k != "(missing)" or k == key}  # NULL labels rank only when named
    if among is not None:
        values = {k: v for k, v in values.items() if k == key or k in among}
    if key not in values or len(values) < 2:
        return None
    if low is None:
        low = bool(LOW.match(m.group("word")))
    ranked = sorted(values.items(), key=lambda kv: kv[1], reverse=not low)
    rank = next(i for i, (k, _) in enumerate(ranked, 1) if k == key)
    if wanted is None:
        wanted = ORDINALS.get((m.groupdict().get("ord") or "").lower(), 1)
    leader, value = ranked[min(wanted, len(ranked)) - 1]
    return Ranking(m.group(0), key, measure, rank, len(ranked), wanted, leader, value)
