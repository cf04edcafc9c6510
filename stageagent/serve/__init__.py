"""`stageagent serve`: the report pipeline and single stages as an HTTP/SSE service.

`create_app(load_config("serve.toml"))` is a Starlette app (run it with uvicorn, or mount
it into your own); `stageagent serve` runs it. See `stageagent.serve.app` for the routes.
Names resolve lazily: `import stageagent.serve.cli` does not need Starlette installed.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "create_app": "app", "ServeConfig": "config", "ServeConfigError": "config",
    "load_config": "config", "RunStore": "store", "StoreError": "store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stageagent.serve' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
