"""The `local:` model id: the bundled small model behind `stageagent local-model serve`.

It is an `OpenAIModel` pointed at a llama-cpp-python server, with that server's
capabilities (constrained JSON via its `json_object` schema, named tool choices, no null
content). The URL comes from the id (`local:smollm2@http://host:port/v1`), else from
`$STAGEAGENT_LOCAL_MODEL_URL`, else the server command's default address.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .openai import OpenAIModel

URL_ENV = "STAGEAGENT_LOCAL_MODEL_URL"
DEFAULT_PORT = 8765
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}/v1"


def local_model(name: str, base_url: str | None = None, **options: Any) -> "OpenAIModel":
    """An adapter for the local server; `options` go to `OpenAIModel`."""
    from .openai import OpenAIModel

    url = base_url or os.environ.get(URL_ENV) or DEFAULT_URL
    options.setdefault("server", "llama-cpp-python")
    options.setdefault("api_key", "local")
    return OpenAIModel(name, base_url=url, **options)
