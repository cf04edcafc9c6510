"""What the two SDK adapters share: error mapping, backoff, retries, stream safety.

Both SDKs' own retries are switched off (`max_retries=0`) and done here instead, because
the SDKs differ (SDK-NOTES): they ignore `retry-after: 0`, openai gives up on long
`retry-after` values, in-band stream errors arrive as plain `APIStatusError`/`APIError`,
anthropic raises bare transport errors mid-stream, and malformed JSON is a bare
`json.JSONDecodeError`. One policy here makes both providers behave the same.

`ProviderModel` is the common base of `AnthropicModel` and `OpenAIModel`: API key
resolution, client ownership, the retry loop for requests and streams, the idle timeout
of streams, and the rule that a stream which already delivered deltas is never retried.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from loguru import logger

from ..exceptions import (
    ContextTooLongError,
    MalformedResponseError,
    MissingAPIKeyError,
    ModelAuthError,
    ModelBadRequestError,
    ModelConnectionError,
    ModelError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelTimeoutError,
    StreamInterruptedError,
)
from ..messages import AssistantMessage, ToolCallPart
from .base import Model, ModelRequest, OutputSchema, StreamComplete, StreamEvent

T = TypeVar("T")

# --- backoff -------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring the server's `retry-after`.

    A `retry-after` longer than `max_retry_after` is not waited for: the error is raised
    at once (with `retry_after` set) so the caller can decide, instead of a silent sleep.
    """

    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 60.0
    jitter: bool = True

    def backoff(self, attempt: int) -> float:
        """Delay before retry number `attempt` (0-based) when the server gave no hint."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** attempt))
        return random.uniform(0, ceiling) if self.jitter else ceiling

    def delay(self, attempt: int, error: ModelError) -> float | None:
        """Seconds to wait before retrying `error`, or None when it must be raised."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after > 0:
            return None if retry_after > self.max_retry_after else retry_after
        return self.backoff(attempt)


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from `retry-after-ms`, `retry-after` (seconds or HTTP date); None if absent."""
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if "," in value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


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


# --- response hygiene ----------------------------------------------------------------


def tool_call_part(id: str, name: str, arguments: Any) -> ToolCallPart:
    """A tool call from whatever the model sent: a JSON object (text or parsed) is the
    arguments; anything else is kept verbatim in `raw_arguments` for the runtime to
    answer with an error observation - never an exception here."""
    if isinstance(arguments, str):
        text = arguments
        try:
            arguments = json.loads(text) if text.strip() else {}
        except ValueError:
            return ToolCallPart(id=id, name=name, arguments={}, raw_arguments=text)
        if isinstance(arguments, dict):
            return ToolCallPart(id=id, name=name, arguments=arguments)
        return ToolCallPart(id=id, name=name, arguments={}, raw_arguments=text)
    if isinstance(arguments, dict):
        return ToolCallPart(id=id, name=name, arguments=arguments)
    return ToolCallPart(id=id, name=name, arguments={}, raw_arguments=json.dumps(arguments))


def json_only_instruction(schema: OutputSchema) -> str:
    """System-prompt instruction for the format phase where the API cannot enforce a
    schema (Anthropic; OpenAI-compatible servers without json_schema)."""
    about = f" ({schema.description})" if schema.description else ""
    return (f"Answer with one JSON object only - no prose, no code fences - that matches "
            f"the JSON schema `{schema.name}`{about}:\n"
            f"{json.dumps(schema.schema_, ensure_ascii=False, sort_keys=True)}")


def tool_arguments_text(part: ToolCallPart) -> str:
    """The arguments as the model sent them: raw text if they were not JSON."""
    if part.raw_arguments is not None:
        return part.raw_arguments
    return json.dumps(part.arguments, ensure_ascii=False)


# --- the shared adapter base ---------------------------------------------------------


class ProviderModel(Model):
    """Base of the SDK adapters: keys, client lifecycle, retries, stream safety.

    Subclasses set `provider`, `api_key_env`, `sdk` (the imported SDK module) and
    `client_class`, and implement `_request_once` and `_stream_once`; they raise SDK
    errors freely - this class maps them and decides about retries.
    """

    api_key_env: str = ""
    sdk: ModuleType
    #: the SDK's async client class (`AsyncAnthropic`, `AsyncOpenAI`)
    client_class: type

    def __init__(self, name: str, *, api_key: str | None = None, base_url: str | None = None,
                 max_retries: int = 3, timeout: float | None = None,
                 idle_timeout: float | None = None, client: Any = None,
                 retry_policy: RetryPolicy | None = None, key_required: bool = True) -> None:
        self._name = name
        self.base_url = base_url
        self.timeout = timeout
        #: seconds without a stream event (SSE pings do not count) before giving up
        self.idle_timeout = idle_timeout if idle_timeout is not None else (timeout or 300.0)
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.errors = ErrorMapper(self.sdk, self.provider, name)
        self._owns_client = client is None
        if client is None:
            api_key = api_key or os.environ.get(self.api_key_env)
            if not api_key:
                if key_required:
                    raise MissingAPIKeyError(self.api_key_env, provider=self.provider, model=name)
                api_key = "not-needed"
            client = self._make_client(api_key=api_key, base_url=base_url, timeout=timeout)
        self.client = client

    @property
    def name(self) -> str:
        return self._name

    def _make_client(self, *, api_key: str, base_url: str | None, timeout: float | None) -> Any:
        """The SDK's async client, with the SDK's own retries off (`max_retries=0`)."""
        options: dict[str, Any] = {"api_key": api_key, "max_retries": 0}
        if base_url:
            options["base_url"] = base_url
        if timeout is not None:
            options["timeout"] = timeout
        return self.client_class(**options)

    @abstractmethod
    async def _request_once(self, request: ModelRequest) -> AssistantMessage:
        """One non-streamed call, no retries."""

    @abstractmethod
    def _stream_once(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """One streamed call, no retries; must end with `StreamComplete` or raise."""

    async def _assemble(self, stream: Any, assembler: Any) -> AsyncIterator[StreamEvent]:
        """Feed an SDK stream to a provider's assembler: its deltas, then the final
        message (the assembler raises if the stream was cut short). Always closes the
        stream, so an abandoned or failed stream never holds a connection."""
        try:
            async for item in stream:
                for delta in self.parsed(assembler.feed, item):
                    yield delta
                if assembler.done:
                    break
        finally:
            await stream.close()
        yield StreamComplete(message=self.parsed(assembler.finish, self.errors))

    def _call_options(self, request: ModelRequest) -> dict[str, Any]:
        """SDK keyword options common to both providers: timeout and extra body."""
        settings = request.settings
        options: dict[str, Any] = {}
        if settings.timeout is not None:
            options["timeout"] = settings.timeout
        if settings.extra:
            options["extra_body"] = dict(settings.extra)
        return options

    def parsed(self, parse: Callable[..., T], *args: Any) -> T:
        """`parse(*args)`, with a response of the wrong shape (the SDKs construct models
        without validating) turned into `MalformedResponseError` instead of a crash."""
        try:
            return parse(*args)
        except ModelError:
            raise
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
            raise self.errors.make(
                MalformedResponseError,
                f"unexpected response shape: {type(exc).__name__}: {exc}") from exc

    def _map(self, exc: BaseException) -> ModelError | None:
        return self.errors.map(exc)

    async def _retry_wait(self, attempt: int, error: ModelError, exc: BaseException) -> None:
        """Sleep before the next attempt, or raise `error` when it must not be retried."""
        delay = self.retry_policy.delay(attempt, error)
        if delay is None:
            raise error from (None if error is exc else exc)
        logger.debug("{}:{} retry {} in {:.2f}s after {}", self.provider, self.name,
                     attempt + 1, delay, error)
        await asyncio.sleep(delay)

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                return await call()
            except Exception as exc:
                error = self._map(exc)
                if error is None:
                    raise
                await self._retry_wait(attempt, error, exc)
                attempt += 1

    async def request(self, request: ModelRequest) -> AssistantMessage:
        return await self._retrying(lambda: self._request_once(request))

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """Deltas then `StreamComplete`; retried only while nothing was yielded yet."""
        attempt = 0
        delivered = 0
        while True:
            events = self._stream_once(request)
            try:
                while True:
                    try:
                        async with asyncio.timeout(self.idle_timeout):
                            event = await anext(events)
                    except StopAsyncIteration:
                        raise self.errors.make(
                            MalformedResponseError, "stream ended without a final message"
                        ) from None
                    except TimeoutError:
                        raise self.errors.make(
                            ModelTimeoutError,
                            f"stream stalled: no event for {self.idle_timeout:g}s "
                            f"after {delivered} delivered deltas") from None
                    delivered += 1
                    yield event
                    if isinstance(event, StreamComplete):
                        return
            except Exception as exc:
                error = self._map(exc)
                if error is None:
                    raise
                if delivered:
                    raise self._interrupted(error, delivered) from exc
                await self._retry_wait(attempt, error, exc)
                attempt += 1
            finally:
                await events.aclose()  # type: ignore[attr-defined]

    def _interrupted(self, error: ModelError, delivered: int) -> ModelError:
        """The error for a stream that failed after `delivered` deltas reached the consumer."""
        if not error.retryable:
            return error
        if isinstance(error, ModelTimeoutError):
            error.retryable = False  # the consumer already saw part of this answer
            return error
        return StreamInterruptedError(
            f"stream interrupted after {delivered} delivered deltas: {error.message}",
            provider=self.provider, model=self.name, status=error.status)

    async def aclose(self) -> None:
        """Close the SDK client if this model created it (a client passed in is the
        caller's to close)."""
        if self._owns_client:
            await self.client.close()

    @property
    def is_closed(self) -> bool:
        return bool(self.client.is_closed())
