"""Models: the protocol, the test doubles, and the provider adapters (imported lazily).

`infer_model("anthropic:claude-sonnet-4-6")` resolves a model id string to an adapter:

* `anthropic:<model>` - Anthropic Messages API (`ANTHROPIC_API_KEY`)
* `openai:<model>` - OpenAI Chat Completions (`OPENAI_API_KEY`)
* `openai:<model>@http://host:port/v1` - any OpenAI-compatible server (vLLM, llama.cpp,
  Ollama); the key is optional there (`OPENAI_API_KEY` if set, else a placeholder).
* `local:<model>[@http://host:port/v1]` - the bundled small model behind
  `stageagent local-model serve` (llama-cpp-python's server and its capabilities); the
  URL defaults to `$STAGEAGENT_LOCAL_MODEL_URL`, else http://127.0.0.1:8765/v1.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import UnknownModelError
from .base import (
    Model,
    ModelRequest,
    ModelSettings,
    OutputSchema,
    StreamComplete,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolDefinition,
)
from .test import FunctionModel, ScriptedModel, call

__all__ = [
    "Model", "ModelRequest", "ModelSettings", "OutputSchema", "ToolDefinition", "StreamEvent",
    "TextDelta", "ThinkingDelta", "ToolCallDelta", "StreamComplete", "ScriptedModel",
    "FunctionModel", "call", "infer_model", "KNOWN_PROVIDERS", "AnthropicModel", "OpenAIModel",
    "RecordingModel", "ReplayModel", "RetryPolicy",
]

# name -> submodule; imported on first access so `import stageagent` never pays for the
# SDKs (0.3-0.8 s each)
_LAZY = {
    "AnthropicModel": "anthropic", "OpenAIModel": "openai", "RecordingModel": "record",
    "ReplayModel": "record", "RetryPolicy": "retry",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value

KNOWN_PROVIDERS = ("anthropic", "openai", "local")


def infer_model(model: "Model | str", **options: Any) -> Model:
    """Resolve a model id (`provider:name[@base_url]`) to an adapter; pass models through."""
    if isinstance(model, Model):
        return model
    if not isinstance(model, str) or ":" not in model:
        raise UnknownModelError(
            f"model id {model!r} is not of the form 'provider:model' "
            f"(providers: {', '.join(KNOWN_PROVIDERS)})")
    provider, _, name = model.partition(":")
    base_url = None
    if "@" in name:
        name, _, base_url = name.partition("@")
    if not name:
        raise UnknownModelError(f"model id {model!r} names no model after '{provider}:'")
    if provider == "anthropic":
        from .anthropic import AnthropicModel

        return AnthropicModel(name, base_url=base_url, **options)
    if provider == "openai":
        from .openai import OpenAIModel

        return OpenAIModel(name, base_url=base_url, **options)
    if provider == "local":
        from .local import local_model

        return local_model(name, base_url, **options)
    raise UnknownModelError(
        f"unknown provider {provider!r} in model id {model!r} "
        f"(known: {', '.join(KNOWN_PROVIDERS)})")
