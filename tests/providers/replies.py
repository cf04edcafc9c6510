"""Builders of provider responses in the documented wire formats, for scripted turns.

A turn is a list of items: a string is text, `("tool", id, name, args)` a tool call
(`args` a dict, or a string sent verbatim - e.g. not JSON). The static fixtures show the
formats; these build the same shapes for multi-turn conversations.
"""

from __future__ import annotations

import json
from typing import Any

from .wire_server import Reply

Item = str | tuple[str, str, str, Any]


def _args_text(args: Any) -> str:
    return args if isinstance(args, str) else json.dumps(args)


# --- Anthropic -----------------------------------------------------------------------


def anthropic_message(items: list[Item], *, model: str = "claude-sonnet-4-6",
                      usage: dict[str, int] | None = None) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, str):
            content.append({"type": "text", "text": item})
        else:
            _, id, name, args = item
            content.append({"type": "tool_use", "id": id, "name": name, "input": args})
    stop = "tool_use" if any(not isinstance(i, str) for i in items) else "end_turn"
    return {"id": "msg_test", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": usage or {"input_tokens": 100, "output_tokens": 20,
                               "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def anthropic_stream(items: list[Item], *, model: str = "claude-sonnet-4-6") -> list[str]:
    """SSE events for a turn; tool arguments are streamed in 5-character pieces."""
    message = anthropic_message(items, model=model)
    start = dict(message, content=[], stop_reason=None,
                 usage={"input_tokens": 100, "output_tokens": 1})
    events = [_event("message_start", {"type": "message_start", "message": start})]
    for index, item in enumerate(items):
        if isinstance(item, str):
            block = {"type": "text", "text": ""}
            pieces = [{"type": "text_delta", "text": item[i:i + 8]} for i in range(0, len(item), 8)]
        else:
            _, id, name, args = item
            block = {"type": "tool_use", "id": id, "name": name, "input": {}}
            text = _args_text(args)
            pieces = [{"type": "input_json_delta", "partial_json": text[i:i + 5]}
                      for i in range(0, len(text), 5)]
        events.append(_event("content_block_start", {"type": "content_block_start",
                                                      "index": index, "content_block": block}))
        events += [_event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                   "delta": piece}) for piece in pieces]
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(_event("message_delta", {"type": "message_delta",
                                           "delta": {"stop_reason": message["stop_reason"],
                                                     "stop_sequence": None},
                                           "usage": {"output_tokens": 20}}))
    events.append(_event("message_stop", {"type": "message_stop"}))
    return events


def anthropic_error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


# --- OpenAI --------------------------------------------------------------------------


def openai_completion(items: list[Item], *, model: str = "gpt-4o-mini",
                      usage: dict[str, Any] | None = None) -> dict[str, Any]:
    text = "".join(i for i in items if isinstance(i, str))
    calls = [{"id": i[1], "type": "function", "function": {"name": i[2], "arguments": _args_text(i[3])}}
             for i in items if not isinstance(i, str)]
    message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": 1719000000,
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": usage or {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}


def _chunk(model: str, delta: dict[str, Any] | None, finish: str | None = None,
           usage: dict[str, Any] | None = None) -> str:
    data: dict[str, Any] = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
                            "created": 1719000000, "model": model,
                            "choices": [] if delta is None else
                            [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        data["usage"] = usage
    return f"data: {json.dumps(data)}\n\n"


def openai_stream(items: list[Item], *, model: str = "gpt-4o-mini") -> list[str]:
    """SSE chunks for a turn: text in pieces, each call's arguments split across chunks."""
    events = [_chunk(model, {"role": "assistant", "content": ""})]
    ordinal = 0
    for item in items:
        if isinstance(item, str):
            events += [_chunk(model, {"content": item[i:i + 8]}) for i in range(0, len(item), 8)]
            continue
        _, id, name, args = item
        text = _args_text(args)
        events.append(_chunk(model, {"tool_calls": [{"index": ordinal, "id": id, "type": "function",
                                                     "function": {"name": name, "arguments": ""}}]}))
        events += [_chunk(model, {"tool_calls": [{"index": ordinal,
                                                  "function": {"arguments": text[i:i + 5]}}]})
                   for i in range(0, len(text), 5)]
        ordinal += 1
    events.append(_chunk(model, {}, "tool_calls" if ordinal else "stop"))
    events.append(_chunk(model, None, usage={"prompt_tokens": 100, "completion_tokens": 20,
                                             "total_tokens": 120}))
    events.append("data: [DONE]\n\n")
    return events


def openai_error(kind: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


# --- replies -------------------------------------------------------------------------


def turn_reply(provider: str, items: list[Item], *, stream: bool) -> Reply:
    if provider == "anthropic":
        return Reply.sse(anthropic_stream(items)) if stream else Reply.json(anthropic_message(items))
    return Reply.sse(openai_stream(items)) if stream else Reply.json(openai_completion(items))


def error_body(provider: str, kind: str, message: str) -> dict[str, Any]:
    return anthropic_error(kind, message) if provider == "anthropic" else openai_error(kind, message)
