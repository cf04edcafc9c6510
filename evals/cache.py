"""A response cache keyed on the request: an unchanged case is not paid for twice.

`CachedModel(model, directory)` hashes each request the way the cassettes do
(`stageagent.models.record.request_hash`: messages, tools, settings, output schema; not the
transport timeout) plus a salt (the repeat index, so `--repeat 5` still samples five
times), and keeps the reply in `directory/<hash>.json`. A hit costs nothing; it
carries the usage of the original reply, so token and cost figures stay comparable
between a cached and a live run. Errors are never cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from stageagent.messages import AssistantMessage
from stageagent.models import Model, ModelRequest
from stageagent.models.record import request_hash


class CachedModel(Model):
    def __init__(self, model: Model, directory: str | Path, *, salt: str = ""):
        self.model = model
        self.directory = Path(directory)
        self.salt = salt
        self.provider = model.provider
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        return self.model.name

    def key(self, request: ModelRequest) -> str:
        base = f"{self.provider}:{self.name}:{self.salt}:{request_hash(request)}"
        return hashlib.sha256(base.encode()).hexdigest()

    async def request(self, request: ModelRequest) -> AssistantMessage:
        path = self.directory / f"{self.key(request)}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if data is not None:
            self.hits += 1
            return AssistantMessage.model_validate(data)
        self.misses += 1
        message = await self.model.request(request)
        self._store(path, message)
        return message

    def _store(self, path: Path, message: AssistantMessage) -> None:
        """Write atomically: concurrent cases never read half a file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(message.model_dump_json())
        os.replace(tmp, path)

    async def aclose(self) -> None:
        await self.model.aclose()
