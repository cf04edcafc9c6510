"""Mapping the SDKs' exceptions to stageagent's typed `ModelError` hierarchy.

In-band stream errors arrive as plain `APIStatusError`/`APIError`, anthropic raises bare
transport errors mid-stream, and malformed JSON is a bare `json.JSONDecodeError`
(SDK-NOTES): retry logic keyed on exception classes alone would miss them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..exceptions import (
    ContextTooLongError,
    MalformedResponseError,
    ModelAuthError,
    ModelBadRequestError,
    ModelConnectionError,
    ModelError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from .retry import parse_retry_after

# --- error mapping -------------------------------------------------------------------

_CONTEXT_MARKERS = (
    "prompt is too long", "context length", "context_length", "context window",
    "maximum context", "too many tokens", "input is too long", "reduce the length",
)


def _is_transport_error(exc: BaseException, base: str) -> bool:
    """Whether `exc` is an httpx-family error (`base` is a class name in its MRO).

    Checked by name because the SDKs vendor `httpx2`, which is not our dependency and
    which we must not import; the bare transport errors anthropic raises mid-stream
    would otherwise escape untyped.
    """
    return any(cls.__module__.split(".")[0] in ("httpx2", "httpx") and cls.__name__ == base
               for cls in type(exc).__mro__)


def _error_fields(body: Any) -> tuple[str, str]:
    """(type, message) of an error body: `{"error": {"type", "message"}}` or flat."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            kind = inner.get("type") or inner.get("code") or ""
            return str(kind), str(inner.get("message") or "")
        if isinstance(inner, str):
            return "", inner
    return "", "" if body is None else str(body)


class ErrorMapper:
    """Maps one SDK's exceptions (both SDKs share class names) to `ModelError`s."""

    def __init__(self, sdk: ModuleType, provider: str, model: str):
        self.sdk = sdk
        self.provider = provider
        self.model = model

    def make(self, cls: type[ModelError], message: str, status: int | None = None,
              **extra: Any) -> ModelError:
        return cls(message, provider=self.provider, model=self.model, status=status, **extra)

    def map(self, exc: BaseException) -> ModelError | None:
        """Our error for `exc`, or None when it is not a provider failure (a bug: re-raise)."""
        sdk = self.sdk
        if isinstance(exc, ModelError):
            return exc
        if isinstance(exc, json.JSONDecodeError):
            return self.make(MalformedResponseError,
                              f"response is not valid JSON ({exc.msg} at char {exc.pos}): "
                              f"{exc.doc[:200]!r}")
        if isinstance(exc, sdk.APIResponseValidationError):
            return self.make(MalformedResponseError, f"response does not match the API schema: "
                              f"{exc.message}", exc.status_code)
        if isinstance(exc, sdk.APITimeoutError) or _is_transport_error(exc, "TimeoutException"):
            return self.make(ModelTimeoutError, "request timed out")
        if isinstance(exc, sdk.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = f": {type(cause).__name__}: {cause}" if cause else ""
            return self.make(ModelConnectionError, f"connection failed{detail}")
        if _is_transport_error(exc, "TransportError") or _is_transport_error(exc, "StreamError"):
            return self.make(ModelConnectionError,
                              f"connection lost: {type(exc).__name__}: {exc}")
        if isinstance(exc, sdk.APIStatusError):
            headers = exc.response.headers if exc.response is not None else None
            return self._from_status(exc.status_code, exc.body, exc.message, headers)
        if isinstance(exc, sdk.APIError):  # openai: an in-band error inside a 200 stream
            return self._from_status(None, exc.body, exc.message, None)
        return None

    def _from_status(self, status: int | None, body: Any, fallback: str,
                     headers: Mapping[str, str] | None) -> ModelError:
        kind, message = _error_fields(body)
        message = message or fallback
        lowered = f"{kind} {message}".lower()
        # an in-band error event arrives with the stream's 200 status: classify by its type
        shown = status if status not in (None, 200) else None
        if status == 200 or status is None:
            status = _IN_BAND_STATUS.get(kind, 500)
        if status in (401, 403):
            return self.make(ModelAuthError, message, shown)
        if status == 429 or "rate_limit" in lowered:
            return self.make(ModelRateLimitError, message, shown,
                              retry_after=parse_retry_after(headers))
        if status == 408:
            return self.make(ModelTimeoutError, message, shown)
        if status == 413 or any(marker in lowered for marker in _CONTEXT_MARKERS):
            return self.make(ContextTooLongError, message, shown)
        if status >= 500 or status == 409:
            return self.make(ModelOverloadedError, message, shown)
        return self.make(ModelBadRequestError, message, shown)


_IN_BAND_STATUS = {
    "overloaded_error": 529, "api_error": 500, "server_error": 500,
    "rate_limit_error": 429, "rate_limit_exceeded": 429, "invalid_request_error": 400,
    "authentication_error": 401, "permission_error": 403, "not_found_error": 404,
    "request_too_large": 413, "timeout_error": 408,
}
