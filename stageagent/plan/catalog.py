"""What a plan may name: the tools (with their argument JSON schemas) and the stages.

Validation checks steps against a catalog and the generator lists it in its prompt, in
a deterministic order (sorted by name). `Catalog.from_runtime` reads a runtime's
registries; tests and other engines can build one from plain dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: the params of a stage step
STAGE_PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "input": {"type": "string", "description": "the task or question for the stage"},
        "context": {"type": "object", "description": "extra prompt template variables"},
    },
    "required": ["input"],
    "additionalProperties": False,
}


#: what a stage step's output holds when a `RuntimeStepRunner` runs it
STAGE_OUTPUT_KEYS = ("text", "output", "reason", "score", "iterations")


@dataclass
class Catalog:
    """Tools: name -> (description, JSON schema of arguments); stages: name -> description.
    `stage_output_keys`: the keys of a stage step's output, when the runner fixes them
    (references into a stage's output are checked against them)."""

    tools: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)
    stage_output_keys: tuple[str, ...] | None = None
    _validators: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_runtime(cls, runtime: Any, *, tools: list[str] | None = None,
                     stages: list[str] | None = None) -> Catalog:
        """The tools and stages of a `StageAwareRuntime` (or only the named ones)."""
        tool_names = runtime.tools.names() if tools is None else tools
        catalog = cls(stage_output_keys=STAGE_OUTPUT_KEYS)
        for name in tool_names:
            definition = runtime.tools.get(name).definition
            catalog.tools[name] = (definition.description, dict(definition.parameters))
        for name in (runtime.stages.names() if stages is None else stages):
            catalog.stages[name] = runtime.stages.get(name).description or ""
        return catalog

    def params_schema(self, kind: str, target: str) -> dict[str, Any] | None:
        if kind == "stage":
            return STAGE_PARAMS_SCHEMA if target in self.stages else None
        entry = self.tools.get(target)
        return entry[1] if entry is not None else None

    def validator(self, kind: str, target: str) -> Any:
        """A compiled jsonschema validator for the step's params (cached)."""
        key = f"{kind}:{target}"
        validator = self._validators.get(key)
        if validator is None:
            from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

            schema = self.params_schema(kind, target)
            if schema is None:
                return None
            validator = self._validators[key] = Draft202012Validator(schema)
        return validator

    def describe(self) -> dict[str, Any]:
        """Tools and stages sorted by name, for prompts (deterministic)."""
        return {
            "tools": [{"name": n, "description": self.tools[n][0], "parameters": self.tools[n][1]}
                      for n in sorted(self.tools)],
            "stages": [{"name": n, "description": self.stages[n],
                        "parameters": STAGE_PARAMS_SCHEMA} for n in sorted(self.stages)],
        }
