"""Numbers, percentages, money and dates as written in business prose.

Every quantity keeps the precision it was written with (`step`): "1.23 million" claims
1,230,000 +/- 5,000, "12%" claims 11.5-12.5 - that is the tolerance the consistency
validator grants, no more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["number", "percent", "money", "date"]

MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_MONTH_WORD = (r"(?P<mname>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|"
               r"Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_QUARTER_WORD = r"(?P<qword>first|second|third|fourth|final|1st|2nd|3rd|4th)\s+quarter"
_QUARTER_WORDS = {"first": "1", "second": "2", "third": "3", "fourth": "4", "final": "4",
                  "1st": "1", "2nd": "2", "3rd": "3", "4th": "4"}
_DATE_PATTERNS = [
    re.compile(r"(?<![\w.])(?P<y>\d{4})-(?P<m>0[1-9]|1[0-2])(?:-(?P<d>0[1-9]|[12]\d|3[01]))?(?![\w.]*\d)"),
    re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_WORD + r",?\s+(?P<y>\d{4})\b"),
    re.compile(_MONTH_WORD + r"\.?\s+(?:(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+)?(?P<y>\d{4})\b"),
    re.compile(r"\bQ(?P<q>[1-4])(?:\s+of)?[\s-]*(?P<y>\d{4})\b"),
    re.compile(r"\b(?P<y>\d{4})[\s-]?Q(?P<q>[1-4])\b"),
    re.compile(r"\b" + _QUARTER_WORD + r"(?:\s+of)?\s+(?P<y>\d{4})\b", re.I),
    # no year: resolved against the sentence, the paragraph and the data ("*-03", "*-Q4")
    re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_WORD + r"\b"),
    re.compile(r"\b" + _MONTH_WORD + r"\b(?:\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?![,.]?\d))?"),
    re.compile(r"\bQ(?P<q>[1-4])\b"),
    re.compile(r"\b" + _QUARTER_WORD + r"\b", re.I),
]
_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "millions": 1e6,
           "b": 1e9, "bn": 1e9, "billion": 1e9, "billions": 1e9}
_NUMBER = re.compile(
    r"(?P<cur>[$€£])?\s?(?P<sign>(?<![\w\-–])[-−])?(?<![\w.,])"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w,]\d)"
    r"(?:\s?(?P<scale>thousand|millions?|billions?|mn|bn|[kKmMbB])\b)?"
    r"(?P<ordinal>st|nd|rd|th)?\b"
    r"\s*(?P<pct>%|percent\b|per cent\b|percentage points?\b|pp\b)?")


_ABBREVIATIONS = {"no", "nos", "vs", "approx", "ca", "inc", "ltd", "co", "corp", "st", "mr", "mrs",
                  "ms", "dr", "jr", "sr", "e.g", "i.e", "eg", "ie", "etc", "fig", "est"}


@dataclass(frozen=True)
class Quantity:
    """One figure found in a text: value in plain units (percent as 12.5), and precision."""

    raw: str
    value: float
    kind: Kind
    step: float
    start: int
    end: int
    #: for dates: "2024", "2024-03", "2024-03-15" or "2024-Q4"; "*" for a year not written
    period: str = ""


def split_sentences(text: str) -> list[tuple[int, int, str]]:
    """(start, end, sentence) spans; a period inside a number ("1.5") does not split."""
    spans = []
    start = 0
    for m in re.finditer(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9$€£\"(])|\n\s*\n", text):
        word = re.search(r"(\w+)\.$", text[start:m.start()])
        if word and word.group(1).lower() in _ABBREVIATIONS:
            continue  # "No. 1", "Acme Inc. earned", "approx. 12%"
        spans.append((start, m.start(), text[start:m.start()].strip()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text), text[start:].strip()))
    return [s for s in spans if s[2]]


def _period(y: str | None, m: str | None = None, d: str | None = None,
            q: str | None = None) -> str:
    y = y or "*"
    if q:
        return f"{y}-Q{q}"
    if m and d:
        return f"{y}-{int(m):02d}-{int(d):02d}"
    return f"{y}-{int(m):02d}" if m else y


def _dates(text: str) -> list[Quantity]:
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            g = m.groupdict()
            month = g.get("m") or (str(MONTHS[g["mname"][:3].lower()]) if g.get("mname") else None)
            quarter = g.get("q") or (_QUARTER_WORDS[g["qword"].lower()] if g.get("qword") else None)
            period = _period(g.get("y"), month, g.get("d"), quarter)
            year = float(g["y"]) if g.get("y") else 0.0
            found.append(Quantity(m.group(0), year, "date", 1.0, m.start(), m.end(), period))
            taken.append((m.start(), m.end()))
    return found


def extract_quantities(text: str) -> list[Quantity]:
    """Every number, percentage, amount of money and date in `text`, in order.

    Handles 1,234.5 / 1.2k / 1.2 million / $3.4M / 12% / 12 percent / 2024-03 /
    March 2024 / Q4 2023; a bare integer 1900-2100 is a year. Ordinals (1st, 2nd) are
    rank words, not figures, and are skipped.
    """
    found = _dates(text)
    taken = [(q.start, q.end) for q in found]
    for m in _NUMBER.finditer(text):
        start, end = m.start("num"), m.end()
        if any(a < end and start < b for a, b in taken) or m.group("ordinal"):
            continue
        num = m.group("num")
        decimals = len(num.split(".")[1]) if "." in num else 0
        value = float(num.replace(",", ""))
        scale_word = (m.group("scale") or "").lower()
        if scale_word == "m" and m.group("scale") == "m" and not m.group("cur") \
                and m.start("scale") > m.end("num"):
            scale_word = ""  # "5 m" is metres more often than millions; "1.2m" is millions
        scale = _SCALES.get(scale_word, 1.0)
        sign = -1.0 if m.group("sign") else 1.0
        raw_start = m.start("cur") if m.group("cur") else (m.start("sign") if m.group("sign") else start)
        raw = text[raw_start:end].strip()
        if m.group("pct"):
            kind: Kind = "percent"
        elif m.group("cur"):
            kind = "money"
        elif (not decimals and "," not in num and scale == 1.0 and 1900 <= value <= 2100
              and len(num) == 4):
            found.append(Quantity(raw, value, "date", 1.0, raw_start, end, num))
            continue
        else:
            kind = "number"
        if not m.group("scale") or scale_word == "":
            end_num = m.end("num")
            if not m.group("pct"):
                raw = text[raw_start:end_num].strip()
                end = end_num
        found.append(Quantity(raw, sign * value * scale, kind, 10.0 ** -decimals * scale,
                              raw_start, end))
    return sorted(found, key=lambda q: q.start)
