"""Errors, retries and stream safety - the same behaviour through both SDKs."""

from __future__ import annotations

import asyncio
import time

import pytest

from stageagent.exceptions import (
    ContextTooLongError,
    MalformedResponseError,
    ModelAuthError,
    ModelBadRequestError,
    ModelConnectionError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelTimeoutError,
    StreamInterruptedError,
)
from stageagent.messages import UserMessage
from stageagent.models.base import ModelRequest, StreamComplete
from stageagent.models.provider import tool_call_part
from stageagent.models.retry import RetryPolicy, parse_retry_after

from .conftest import collect, within
from .replies import error_body, turn_reply
from .wire_server import Reply, fixture_json, fixture_text

REQUEST = ModelRequest(messages=[UserMessage(content="Hi")])
PROVIDERS = ["anthropic", "openai"]
CALL = ("tool", "call_1", "add", {"a": 1, "b": 2})


@pytest.fixture(params=PROVIDERS)
def provider(request) -> str:
    return request.param


def ok(provider: str, stream: bool = False) -> Reply:
    return turn_reply(provider, ["fine"], stream=stream)


# --- pure policy ---------------------------------------------------------------------


def test_backoff_is_exponential_jittered_and_capped():
    policy = RetryPolicy(base_delay=0.5, max_delay=30)
    for attempt in range(10):
        ceiling = min(30, 0.5 * 2 ** attempt)
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 100  # full jitter: spread, not one value
    assert RetryPolicy(jitter=False, base_delay=0.5).backoff(3) == 4.0


def test_delay_honours_retry_after_and_limits():
    policy = RetryPolicy(max_retries=2, max_retry_after=10)
    limited = ModelRateLimitError("slow down", retry_after=3.0)
    assert policy.delay(0, limited) == 3.0
    assert policy.delay(0, ModelRateLimitError("x", retry_after=600)) is None  # not waited
    assert policy.delay(2, limited) is None  # out of attempts
    assert policy.delay(0, ModelAuthError("no")) is None  # not retryable


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after-ms": "250"}, 0.25),
    ({"retry-after": "7"}, 7.0),
    ({"retry-after": "0"}, 0.0),
    ({"retry-after": "soon"}, None),
    ({}, None),
])
def test_parse_retry_after(headers, expected):
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date():
    from email.utils import formatdate

    value = parse_retry_after({"retry-after": formatdate(time.time() + 30, usegmt=True)})
    assert 28 <= value <= 31


@pytest.mark.parametrize("raw, arguments, kept", [
    ('{"a": 1}', {"a": 1}, None),
    ("", {}, None),
    ("[1, 2]", {}, "[1, 2]"),
    ("{'a': 1", {}, "{'a': 1"),
    ({"a": 1}, {"a": 1}, None),
])
def test_tool_call_arguments(raw, arguments, kept):
    part = tool_call_part("id", "f", raw)
    assert (part.arguments, part.raw_arguments) == (arguments, kept)


# --- through the SDKs ----------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503, 529])
async def test_transient_statuses_are_retried(provider, make_model, wire, status):
    wire.queue(Reply.json(error_body(provider, "overloaded_error", "busy"), status=status),
               ok(provider))
    message = await within(make_model(provider).request(REQUEST))
    assert message.text == "fine" and len(wire.received) == 2


async def test_retry_after_ms_is_honoured(provider, make_model, wire):
    wire.queue(Reply.json(error_body(provider, "rate_limit_error", "slow"), status=429,
                          **{"retry-after-ms": "300"}), ok(provider))
    started = time.monotonic()
    await within(make_model(provider).request(REQUEST))
    assert time.monotonic() - started >= 0.3


async def test_long_retry_after_raises_at_once_with_the_value(provider, make_model, wire):
    wire.queue(Reply.json(error_body(provider, "rate_limit_error", "quota"), status=429,
                          **{"retry-after": "3600"}))
    with pytest.raises(ModelRateLimitError) as info:
        await within(make_model(provider).request(REQUEST))
    assert info.value.retry_after == 3600 and info.value.status == 429
    assert info.value.provider == provider and len(wire.received) == 1


async def test_retries_are_bounded(provider, make_model, wire):
    wire.queue(*[Reply.json(error_body(provider, "overloaded_error", "busy"), status=529)] * 4)
    with pytest.raises(ModelOverloadedError) as info:
        await within(make_model(provider).request(REQUEST))
    assert info.value.status == 529 and len(wire.received) == 4  # 1 + max_retries


@pytest.mark.parametrize("status, kind, message, error", [
    (401, "authentication_error", "invalid x-api-key", ModelAuthError),
    (400, "invalid_request_error", "prompt is too long: 215332 tokens > 200000 maximum",
     ContextTooLongError),
    (400, "invalid_request_error", "This model's maximum context length is 128000 tokens.",
     ContextTooLongError),
    (400, "invalid_request_error", "messages.1: tool_use without tool_result",
     ModelBadRequestError),
])
async def test_permanent_errors_are_typed_and_not_retried(provider, make_model, wire, status,
                                                          kind, message, error):
    wire.queue(Reply.json(error_body(provider, kind, message), status=status))
    with pytest.raises(error) as info:
        await within(make_model(provider).request(REQUEST))
    assert info.value.status == status and info.value.model and len(wire.received) == 1
    assert message in str(info.value)


async def test_fixture_error_bodies(make_model, wire):
    wire.queue(Reply.json(fixture_json("anthropic/error_context_too_long.json"), status=400),
               Reply.json(fixture_json("openai/error_context_length.json"), status=400),
               Reply.json(fixture_json("openai/error_invalid_api_key.json"), status=401))
    with pytest.raises(ContextTooLongError):
        await within(make_model("anthropic").request(REQUEST))
    openai_model = make_model("openai")
    with pytest.raises(ContextTooLongError):
        await within(openai_model.request(REQUEST))
    with pytest.raises(ModelAuthError):
        await within(openai_model.request(REQUEST))


@pytest.mark.parametrize("stream", [False, True])
async def test_garbage_200_is_malformed_and_not_retried(provider, make_model, wire, stream):
    reply = Reply.sse(["data: {not json\n\n"] if provider == "openai" else
                      ["event: message_start\ndata: {not json\n\n"]) if stream else \
        Reply(status=200, body="<html>gateway</html>")
    wire.queue(reply)
    model = make_model(provider)
    with pytest.raises(MalformedResponseError) as info:
        if stream:
            await collect(model.stream(REQUEST))
        else:
            await within(model.request(REQUEST))
    assert "JSON" in str(info.value) and provider in str(info.value)
    assert len(wire.received) == 1


async def test_json_of_the_wrong_shape_is_malformed(provider, make_model, wire):
    wire.queue(Reply.json({"hello": "world"}))
    with pytest.raises(MalformedResponseError, match="unexpected response shape"):
        await within(make_model(provider).request(REQUEST))


async def test_connection_refused_is_a_connection_error(provider, make_model, wire):
    model = make_model(provider)
    wire.stop()
    with pytest.raises(ModelConnectionError):
        await within(model.request(REQUEST))


async def test_stream_dropped_before_any_delta_is_retried(provider, make_model, wire):
    first = turn_reply(provider, ["fine"], stream=True)
    first.drop_after = 1  # only message_start / the role chunk: nothing for the consumer
    if provider == "openai":
        first.drop_after = 0
    wire.queue(first, ok(provider, stream=True))
    events = await collect(make_model(provider).stream(REQUEST))
    assert events[-1].message.text == "fine" and len(wire.received) == 2


async def test_stream_dropped_after_deltas_fails_typed_never_half_a_call(provider, make_model,
                                                                         wire):
    reply = turn_reply(provider, ["Let me add.", CALL], stream=True)
    reply.drop_after = len(reply.events) - 4  # inside the tool call's argument deltas
    wire.queue(reply)
    seen = []
    with pytest.raises(StreamInterruptedError) as info:
        async with asyncio.timeout(5):
            async for event in make_model(provider).stream(REQUEST):
                seen.append(event)
    assert seen and not any(isinstance(e, StreamComplete) for e in seen)
    assert not info.value.retryable and len(wire.received) == 1


async def test_in_band_stream_error_before_deltas_is_retried(provider, make_model, wire):
    fixture = "anthropic/stream_error_overloaded.sse" if provider == "anthropic" \
        else "openai/stream_error_in_band.sse"
    wire.queue(Reply.sse(fixture_text(fixture)), ok(provider, stream=True))
    events = await collect(make_model(provider).stream(REQUEST))
    assert events[-1].message.text == "fine" and len(wire.received) == 2


async def test_in_band_error_without_retries_is_overloaded(provider, make_model, wire):
    fixture = "anthropic/stream_error_overloaded.sse" if provider == "anthropic" \
        else "openai/stream_error_in_band.sse"
    wire.queue(Reply.sse(fixture_text(fixture)))
    with pytest.raises(ModelOverloadedError):
        await collect(make_model(provider, retry_policy=RetryPolicy(max_retries=0)).stream(REQUEST))


async def test_stream_that_never_ends_times_out(provider, make_model, wire):
    wire.queue(hanging(provider, deltas=1))
    model = make_model(provider, idle_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ModelTimeoutError, match="stalled") as info:
        await collect(model.stream(REQUEST), seconds=5)
    assert time.monotonic() - started < 3
    assert not info.value.retryable  # the consumer already saw part of the answer
    await model.aclose()
    assert wire.wait_idle() == 0


async def test_stream_stalled_before_any_delta_is_retried(provider, make_model, wire):
    wire.queue(hanging(provider, deltas=0), ok(provider, stream=True))
    events = await collect(make_model(provider, idle_timeout=0.2).stream(REQUEST))
    assert events[-1].message.text == "fine" and len(wire.received) == 2


def hanging(provider: str, deltas: int) -> Reply:
    """A stream that sends `deltas` text deltas, then only keep-alive pings, forever."""
    reply = turn_reply(provider, ["still thinking"], stream=True)
    reply.events = reply.events[:(2 if provider == "anthropic" else 1) + deltas]
    reply.hang = True  # only an idle timeout can end this
    if provider == "anthropic":
        reply.ping = 'event: ping\ndata: {"type": "ping"}\n\n'
    return reply


async def test_slow_response_times_out(provider, make_model, wire):
    def slow(received):
        time.sleep(0.6)
        return ok(provider)
    wire.queue(slow)
    model = make_model(provider, timeout=0.2, retry_policy=RetryPolicy(max_retries=0))
    with pytest.raises(ModelTimeoutError):
        await within(model.request(REQUEST))


async def test_aclose_closes_the_client_and_its_connections(provider, make_model, wire):
    wire.queue(ok(provider), ok(provider, stream=True))
    model = make_model(provider)
    await within(model.request(REQUEST))
    await collect(model.stream(REQUEST))
    assert not model.client.is_closed()
    await model.aclose()
    assert model.client.is_closed()
    assert wire.wait_idle() == 0
