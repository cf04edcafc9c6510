"""The `local:` model id: the bundled small model behind `stageagent local-model serve`.

It is an `OpenAIModel` pointed at a llama-cpp-python server, with that server's
capabilities (constrained JSON via its `json_object` schema, named tool choices, no null
content). The URL comes from the id (`local:smollm2@http://host:port/v1`), else from
`$STAGEAGENT_LOCAL_MODEL_URL`, else the server command's default address. Every answer is
capped at 512 tokens (`$STAGEAGENT_LOCAL_MAX_TOKENS`), whatever a stage file asks for: the
server keeps generating after a client gave up, so a runaway answer would block the next.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .openai import OpenAIModel

URL_ENV = "STAGEAGENT_LOCAL_MODEL_URL"
MAX_TOKENS_ENV = "STAGEAGENT_LOCAL_MAX_TOKENS"
#: a 135M model at ~45 tokens/s on one core: an answer of 4,096 tokens would take 90 s
DEFAULT_MAX_TOKENS = 512
DEFAULT_PORT = 8765
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}/v1"


def local_model(name: str, base_url: str | None = None, **options: Any) -> "OpenAIModel":
    """An adapter for the local server; `options` go to `OpenAIModel`."""
    from .openai import OpenAIModel

    url = base_url or os.environ.get(URL_ENV) or DEFAULT_URL
    options.setdefault("server", "llama-cpp-python")
    options.setdefault("api_key", "local")
    options.setdefault("max_output_tokens",
                       int(os.environ.get(MAX_TOKENS_ENV) or DEFAULT_MAX_TOKENS))
    return OpenAIModel(name, base_url=url, **options)
