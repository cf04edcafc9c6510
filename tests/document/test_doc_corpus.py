"""Recall on planted wrong claims and false alarms on correct text, over the corpus of
`corpus.py` (real query results of the demo database and of the music store schema).

Run `python -m tests.document.test_doc_corpus` for the figures and every miss.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from stageagent.tools.document import check_consistency

from tests.document.corpus import Case, Data, build_corpus


def measure(correct: list[Case], planted: list[Case], data: dict[str, Data]) -> dict:
    false_alarms = [(c, check_consistency(c.text, data[c.dataset].result).critiques)
                    for c in correct]
    false_alarms = [(c, crit) for c, crit in false_alarms if crit]
    missed = [c for c in planted if check_consistency(c.text, data[c.dataset].result).ok]
    return {"correct": len(correct), "false_alarms": false_alarms,
            "false_alarm_rate": len(false_alarms) / len(correct),
            "planted": len(planted), "missed": missed,
            "recall": 1 - len(missed) / len(planted)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def test_corpus_covers_both_schemas_and_every_kind_of_wrong_claim(corpus):
    correct, planted, _ = corpus
    assert {c.dataset.split("_")[0] for c in correct} == {"demo", "music"}
    kinds = Counter(c.planted for c in planted)
    assert set(kinds) == {"attribution", "swap", "same", "off", "rank", "direction"}
    assert len(correct) >= 90 and len(planted) >= 400


def test_no_false_alarm_on_correct_text_and_recall_at_least_95_percent(corpus):
    figures = measure(*corpus)
    assert figures["false_alarms"] == [], figures["false_alarms"][:3]
    assert figures["recall"] >= 0.95, [c.text for c in figures["missed"][:5]]


def test_each_planted_kind_is_caught_on_its_own(corpus):
    _, planted, data = corpus
    by_kind: dict[str, list[bool]] = {}
    for c in planted:
        by_kind.setdefault(c.planted, []).append(
            not check_consistency(c.text, data[c.dataset].result).ok)
    for kind, caught in by_kind.items():
        assert sum(caught) / len(caught) >= 0.95, kind


if __name__ == "__main__":  # figures for the report
    with tempfile.TemporaryDirectory() as tmp:
        built = build_corpus(Path(tmp))
    result = measure(*built)
    print(f"correct texts: {result['correct']}, false alarms: {len(result['false_alarms'])} "
          f"({result['false_alarm_rate']:.1%})")
    print(f"planted wrong claims: {result['planted']}, caught: "
          f"{result['planted'] - len(result['missed'])} (recall {result['recall']:.1%})")
    for case, critiques in result["false_alarms"]:
        print("FALSE ALARM", case.dataset, case.text, critiques, sep="\n  ", file=sys.stderr)
    for case in result["missed"]:
        print("MISSED", case.dataset, case.planted, case.text, sep="\n  ", file=sys.stderr)
