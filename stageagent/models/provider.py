"""`ProviderModel`: the common base of `AnthropicModel` and `OpenAIModel`.

API key resolution, client ownership, the retry loop for requests and streams, the idle
timeout of streams, and the rule that a stream which already delivered deltas is never
retried - plus the response hygiene both adapters need.
"""

from __future__ import annotations

import asyncio
import json
import os
from abc import abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from types import ModuleType
from typing import Any, TypeVar

from ..exceptions import (
    MalformedResponseError,
    MissingAPIKeyError,
    ModelError,
    ModelTimeoutError,
    StreamInterruptedError,
)
from ..log import run_logger
from ..messages import AssistantMessage, ToolCallPart
from .base import Model, ModelRequest, OutputSchema, StreamComplete, StreamEvent
from .errors import ErrorMapper
from .retry import RetryPolicy

T = TypeVar("T")

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
        run_logger().debug("{}:{} retry {} in {:.2f}s after {}", self.provider, self.name,
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

    async def stream(self, request: ModelRequest) -> AsyncGenerator[StreamEvent, None]:
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
