"""Record any model's calls to a JSONL cassette; replay them offline, deterministically.

`RecordingModel(model, path)` wraps a model and appends one line per call: the request
(canonical JSON), its hash, and the response - a message, the full list of stream events,
or the typed error the call raised (with the events delivered before it). `ReplayModel(path)`
serves those back by request hash, in recorded order when one request was made several
times, and refuses a request it has not seen with `RecordingMismatchError` showing a
unified diff against the nearest recorded request - so an eval replay never silently
talks to a live model or returns an answer to a different question.

The hash covers everything that can change the answer: messages, tools, settings (except
the transport `timeout`) and the output schema.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections import defaultdict, deque
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from .. import exceptions
from ..exceptions import ModelError, RecordingMismatchError
from ..messages import AssistantMessage
from .base import (
    Model,
    ModelRequest,
    StreamComplete,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)
from .test import ScriptedModel

_EVENTS: TypeAdapter[list[StreamEvent]] = TypeAdapter(list[Annotated[
    Union[TextDelta, ThinkingDelta, ToolCallDelta, StreamComplete], Field(discriminator="kind")]])


def canonical_request(request: ModelRequest) -> dict[str, Any]:
    """The JSON form of `request` that is hashed and stored (no transport timeout)."""
    return request.model_dump(mode="json", by_alias=True, exclude={"settings": {"timeout"}})


def _dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(canonical: dict[str, Any]) -> str:
    return hashlib.sha256(_dumps(canonical).encode()).hexdigest()


def request_hash(request: ModelRequest) -> str:
    """sha256 of the canonical JSON (sorted keys, no whitespace) of the request."""
    return _digest(canonical_request(request))


def _error_record(error: ModelError) -> dict[str, Any]:
    return {"type": type(error).__name__, "message": error.message,
            "provider": error.provider, "model": error.model, "status": error.status,
            "retryable": error.retryable, "retry_after": getattr(error, "retry_after", None)}


def _rebuild_error(record: dict[str, Any]) -> ModelError:
    """The recorded error as an instance of the same stageagent class."""
    cls = getattr(exceptions, record["type"], ModelError)
    if not (isinstance(cls, type) and issubclass(cls, ModelError)):
        cls = ModelError
    error = cls.__new__(cls)
    ModelError.__init__(error, record["message"], provider=record["provider"],
                        model=record["model"], status=record["status"])
    error.retryable = record["retryable"]
    if record.get("retry_after") is not None or cls is exceptions.ModelRateLimitError:
        error.retry_after = record.get("retry_after")  # type: ignore[attr-defined]
    return error


class RecordingModel(Model):
    """Passes every call through to `model` and appends it to the JSONL cassette `path`."""

    def __init__(self, model: Model, path: str | Path, *, append: bool = False):
        self.model = model
        self.path = Path(path)
        self.provider = model.provider
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not append:
            self.path.write_text("", encoding="utf-8")

    @property
    def name(self) -> str:
        return self.model.name

    def _write(self, request: ModelRequest, kind: str, **payload: Any) -> None:
        canonical = canonical_request(request)
        entry = {"hash": _digest(canonical), "kind": kind,
                 "provider": self.provider, "model": self.name, "request": canonical, **payload}
        with self.path.open("a", encoding="utf-8") as file:
            file.write(_dumps(entry) + "\n")

    async def request(self, request: ModelRequest) -> AssistantMessage:
        try:
            message = await self.model.request(request)
        except ModelError as error:
            self._write(request, "error", error=_error_record(error), events=[])
            raise
        self._write(request, "response", response=message.model_dump(mode="json"))
        return message

    async def stream(self, request: ModelRequest) -> AsyncGenerator[StreamEvent, None]:
        events: list[dict[str, Any]] = []
        try:
            async for event in self.model.stream(request):
                events.append(event.model_dump(mode="json"))
                yield event
        except ModelError as error:
            self._write(request, "error", error=_error_record(error), events=events)
            raise
        self._write(request, "stream", events=events)

    async def aclose(self) -> None:
        await self.model.aclose()


class ReplayModel(Model):
    """Serves a cassette back; a request it has not recorded is an error, never a guess.

    `allow_repeats=True` serves the last recorded answer again when a request is made
    more often than it was recorded (e.g. one cassette replayed for several runs).
    """

    def __init__(self, path: str | Path, *, name: str | None = None,
                 allow_repeats: bool = False):
        self.path = Path(path)
        self.allow_repeats = allow_repeats
        lines = self.path.read_text(encoding="utf-8").splitlines()
        self.entries: list[dict[str, Any]] = [json.loads(line) for line in lines if line.strip()]
        self._queues: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        for entry in self.entries:
            self._queues[entry["hash"]].append(entry)
        self._served: dict[str, int] = defaultdict(int)
        first = self.entries[0] if self.entries else {}
        self._name = name or first.get("model") or "replay"
        self.provider = first.get("provider") or "replay"

    @property
    def name(self) -> str:
        return self._name

    def _take(self, request: ModelRequest) -> dict[str, Any]:
        digest = request_hash(request)
        queue = self._queues.get(digest)
        if queue:
            entry = queue.popleft() if len(queue) > 1 or not self.allow_repeats else queue[0]
            self._served[digest] += 1
            return entry
        if self._served.get(digest):
            raise RecordingMismatchError(
                f"{self.path}: this request was recorded {self._served[digest]} time(s) and is "
                f"now made once more (hash {digest[:12]}); pass allow_repeats=True to reuse "
                f"the last answer")
        raise RecordingMismatchError(self._mismatch(request, digest))

    def _mismatch(self, request: ModelRequest, digest: str) -> str:
        if not self.entries:
            return f"{self.path}: the cassette is empty; no request can be replayed"
        wanted = json.dumps(canonical_request(request), indent=1, sort_keys=True,
                            ensure_ascii=False).splitlines()
        best, best_lines, best_ratio = 0, [], -1.0
        for number, entry in enumerate(self.entries):
            lines = json.dumps(entry["request"], indent=1, sort_keys=True,
                               ensure_ascii=False).splitlines()
            ratio = difflib.SequenceMatcher(None, lines, wanted, autojunk=False).ratio()
            if ratio > best_ratio:
                best, best_lines, best_ratio = number, lines, ratio
        diff = "\n".join(list(difflib.unified_diff(
            best_lines, wanted, f"recorded (entry {best + 1})", "requested", lineterm=""))[:200])
        return (f"{self.path}: request not recorded (hash {digest[:12]}); nearest of "
                f"{len(self.entries)} recorded requests is entry {best + 1}:\n{diff}")

    async def request(self, request: ModelRequest) -> AssistantMessage:
        entry = self._take(request)
        if entry["kind"] == "error":
            raise _rebuild_error(entry["error"])
        if entry["kind"] == "stream":
            final = _EVENTS.validate_python(entry["events"])[-1]
            return final.message  # type: ignore[union-attr]
        return AssistantMessage.model_validate(entry["response"])

    async def stream(self, request: ModelRequest) -> AsyncGenerator[StreamEvent, None]:
        entry = self._take(request)
        if entry["kind"] == "response":  # recorded by request(): replay as deltas
            message = AssistantMessage.model_validate(entry["response"])
            async for event in ScriptedModel([message], name=self.name).stream(request):
                yield event
            return
        for event in _EVENTS.validate_python(entry["events"]):
            yield event
        if entry["kind"] == "error":
            raise _rebuild_error(entry["error"])
