"""JSON text for any Python string, lone surrogates included - written and read back.

Model output can carry lone UTF-16 surrogates (a stream cut inside a pair, a provider's
bug, hostile input). Python strings hold them; UTF-8 cannot, so pydantic's fast serialiser
refuses them and its JSON parser refuses their escapes. The slow path here writes them as
`\\udXXX` escapes (valid JSON; JavaScript's `JSON.parse` and Python's `json` read them back
unchanged) and reads such text with `json`, so nothing raises and nothing is lost. Text
without surrogates never leaves the fast path.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import PydanticSerializationError, from_json, to_json, to_jsonable_python


def dumps(value: Any, *, indent: int | None = None) -> str:
    """`value` as JSON text (pydantic's rules: models, dates...; `str()` for the rest)."""
    try:
        return to_json(value, indent=indent, fallback=str).decode()
    except PydanticSerializationError:
        return dumps_escaped(to_jsonable_python(value, fallback=str), indent=indent)


def dumps_escaped(data: Any, *, indent: int | None = None) -> str:
    """Plain JSON data as ASCII JSON text, every non-ASCII character (surrogates too) escaped."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(data, ensure_ascii=True, indent=indent, separators=separators)


def loads(text: str | bytes) -> Any:
    """Parse JSON text, including `\\udXXX` escapes of lone surrogates."""
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)
