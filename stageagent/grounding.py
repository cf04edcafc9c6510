"""Grounding check for structured output: were its values really observed?

After the format phase, every id, number and name in the output model is looked up in
what the tools returned during the stage. A value that never appeared in any observation
was invented by the model (the failure the seed's two-phase planner was built against).

Which values are checked:

* numbers (int/float fields, not bools): matched against every number in the observations,
  allowing the rounding the output shows (12.3 matches 12.345);
* short strings that look like ids or names (at most 80 characters and 8 words);
* prose (longer strings) is skipped, as is any field declared with
  `Field(json_schema_extra={"grounded": False})`; `{"grounded": True}` forces a check.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from .plainclass import is_pydantic_model

_NUMBER_RE = re.compile(r"-?\d[\d,_]*(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+")


@dataclass
class GroundingReport:
    checked: int = 0
    ungrounded: list[str] = field(default_factory=list)

    @property
    def grounded(self) -> bool:
        return not self.ungrounded

    @property
    def fraction(self) -> float:
        if not self.checked:
            return 1.0
        return (self.checked - len(self.ungrounded)) / self.checked


def _numbers_in(text: str) -> list[float]:
    out = []
    for token in _NUMBER_RE.findall(text):
        try:
            out.append(float(token.replace(",", "").replace("_", "")))
        except ValueError:
            continue
    return out


def _decimals(value: float) -> int:
    text = repr(value)
    if "e" in text or "E" in text:
        return 6
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


class _Corpus:
    def __init__(self, observations: Iterable[str]):
        texts = list(observations)
        self.text = "\n".join(texts).lower()
        self.numbers = sorted(set(_numbers_in(self.text)))

    def has_number(self, value: float) -> bool:
        if math.isnan(value) or math.isinf(value):
            return False
        places = _decimals(value)
        tolerance = 0.5 * 10 ** -places if places < 6 else abs(value) * 1e-6
        tolerance = max(tolerance, abs(value) * 1e-9)
        import bisect

        i = bisect.bisect_left(self.numbers, value - tolerance)
        return i < len(self.numbers) and self.numbers[i] <= value + tolerance

    def has_string(self, value: str) -> bool:
        needle = value.strip().lower()
        return not needle or needle in self.text


def _walk(value: Any, path: str, forced: bool | None) -> Iterable[tuple[str, Any]]:
    if is_pydantic_model(value):
        for name, info in type(value).model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            flag = extra.get("grounded")
            if flag is False:
                continue
            yield from _walk(getattr(value, name), f"{path}.{name}" if path else name,
                             True if flag is True else forced)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}", forced)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]", forced)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, (int, float)):
        yield path, value
    elif isinstance(value, str):
        if forced or (len(value) <= 80 and len(value.split()) <= 8):
            yield path, value


def check_grounding(output: Any, observations: Iterable[str]) -> GroundingReport:
    """Report the output's values that appear in no observation."""
    corpus = _Corpus(observations)
    report = GroundingReport()
    for path, value in _walk(output, "", None):
        report.checked += 1
        ok = corpus.has_number(float(value)) if not isinstance(value, str) else corpus.has_string(value)
        if not ok:
            report.ungrounded.append(f"{path}={value!r}")
    return report
