"""Style checks for a report paragraph: length, register, voice, hedging, superlatives.

A superlative ("record-breaking", "best ever") is a claim: it passes only when its
sentence names the label or period the data ranks first; "unprecedented" and friends
claim history the result set cannot show, so they never pass.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..results import QueryResult
from .facts import build_model
from .numbers import extract_quantities, split_sentences

Register = Literal["formal", "neutral"]
MIN_WORDS, MAX_WORDS, MAX_SENTENCE_WORDS = 40, 220, 40

# case-insensitive except "us" (so "the US" is not a first person)
FIRST_PERSON = re.compile(r"\b((?i:I|I'm|I've|me|my|mine|we|we're|we've|our|ours)|us)\b")
HEDGES = re.compile(r"\b(maybe|perhaps|possibly|probably|might|arguably|somewhat|kind of|"
                    r"sort of|seems?|seemingly|apparently|it appears|I think|I believe|"
                    r"we believe|more or less|roughly speaking)\b", re.I)
INFORMAL = re.compile(r"\b(awesome|huge|tons? of|lots of|a lot|pretty good|super|gonna|"
                      r"wanna|kinda|crazy|cool|stuff|things|basically|totally)\b|!", re.I)
CONTRACTION = re.compile(r"\b\w+(n't|'re|'ll|'ve|'d)\b|\b(it's|that's|there's|what's)\b", re.I)
SUPERLATIVES = re.compile(r"\b(record[- ]breaking|record[- ]high|all[- ]time high|best[- ]ever|"
                          r"ever|record|historic|skyrocket\w*|explosive|stellar|"
                          r"phenomenal|massive)\b", re.I)
NEVER_BACKED = re.compile(r"\b(unprecedented|unparalleled|never before|in history)\b", re.I)


@dataclass
class StyleIssue:
    rule: str
    message: str


@dataclass
class StyleReport:
    issues: list[StyleIssue] = field(default_factory=list)
    words: int = 0
    register: str = "formal"

    @property
    def ok(self) -> bool:
        return not self.issues

    def failed_rules(self) -> set[str]:
        return {i.rule for i in self.issues}

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "words": self.words, "register": self.register,
                "issues": [asdict(i) for i in self.issues]}


def _top_labels(result: QueryResult | None) -> set[str]:
    """Lower-cased label and period of the largest value of each measure."""
    if result is None or not result.rows:
        return set()
    model = build_model(result)
    tops = set()
    for values in model.values.values():
        if values:
            top = max(values, key=values.__getitem__)
            tops |= {top.lower(), top[:4]}
    return tops


def _backed(sentence: str, tops: set[str]) -> bool:
    low = sentence.lower()
    periods = {q.period for q in extract_quantities(sentence) if q.kind == "date"}
    return any(re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", low) for t in tops if len(t) > 4) \
        or bool(periods & tops)


def check_style(text: str, *, register: Register = "formal", min_words: int = MIN_WORDS,
                max_words: int = MAX_WORDS, result: QueryResult | None = None) -> StyleReport:
    """Style issues of `text`, each phrased as an instruction the writer can follow."""
    words = len(re.findall(r"\b[\w'.,%$€£-]+\b", text))
    report = StyleReport(words=words, register=register)
    add = report.issues.append
    if words < min_words:
        add(StyleIssue("length", f"The paragraph has {words} words; write at least {min_words} "
                                 "(state the answer, the key figures and the trend)."))
    elif words > max_words:
        add(StyleIssue("length", f"The paragraph has {words} words; cut it to at most {max_words}."))
    sentences = [s for _, _, s in split_sentences(text)]
    for s in sentences:
        n = len(s.split())
        if n > MAX_SENTENCE_WORDS:
            add(StyleIssue("sentence_length", f"Split this {n}-word sentence: \"{s[:80]}...\""))
    for m in FIRST_PERSON.finditer(text):
        add(StyleIssue("first_person", f"Remove the first person ({m.group(0)!r}): report the "
                                       "data impersonally (\"Revenue rose\", not \"we saw\")."))
        break
    hedges = sorted({m.group(0).lower() for m in HEDGES.finditer(text)})
    if hedges:
        add(StyleIssue("hedging", f"Remove hedging ({', '.join(hedges)}): the figures are "
                                  "exact, state them plainly."))
    if register == "formal":
        informal = sorted({m.group(0).lower() for m in INFORMAL.finditer(text)})
        contractions = sorted({m.group(0) for m in CONTRACTION.finditer(text)})
        if informal or contractions:
            add(StyleIssue("register", "Use a formal business register: replace "
                                       f"{', '.join(repr(w) for w in informal + contractions)}."))
    tops = _top_labels(result)
    for s in sentences:
        for m in NEVER_BACKED.finditer(s):
            add(StyleIssue("superlative", f"Remove {m.group(0)!r}: one result set cannot show "
                                          f"that (in: \"{s}\")."))
        for m in SUPERLATIVES.finditer(s):
            if not _backed(s, tops):
                add(StyleIssue("superlative", f"Remove {m.group(0)!r} or name the period or "
                                              "label that the data ranks first; unsupported "
                                              f"superlatives overstate the data (in: \"{s}\")."))
    return report
