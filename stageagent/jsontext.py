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
    try:
        return json.dumps(data, ensure_ascii=True, indent=indent, separators=separators)
    except ValueError:  # an integer past str()'s digit limit (4,300 by default)
        pass
    # such integers go in as marked strings and come out as their digits, written by
    # `decimal`, which has no such limit; the marker is random, so no text can forge it
    import uuid

    marker = f"stageagent-integer-{uuid.uuid4().hex}-"
    digits: list[str] = []
    text = json.dumps(_mark_big_integers(data, marker, digits), ensure_ascii=True,
                      indent=indent, separators=separators)
    for i, number in enumerate(digits):
        text = text.replace(f'"{marker}{i}"', number, 1)
    return text


#: bits above which an integer may pass str()'s digit limit (10**4300 has 14,284 bits)
_BIG_INTEGER_BITS = 14_000


def _mark_big_integers(data: Any, marker: str, digits: list[str]) -> Any:
    if type(data) is int and data.bit_length() > _BIG_INTEGER_BITS:
        import decimal

        digits.append(str(decimal.Decimal(data)))
        return f"{marker}{len(digits) - 1}"
    if isinstance(data, dict):
        return {key: _mark_big_integers(value, marker, digits) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_mark_big_integers(value, marker, digits) for value in data]
    return data


def loads(text: str | bytes) -> Any:
    """Parse JSON text, including `\\udXXX` escapes of lone surrogates."""
    try:
        return from_json(text)
    except ValueError:
        return loads_escaped(text)


def loads_escaped(text: str | bytes) -> Any:
    """Parse what `dumps_escaped` writes - `\\udXXX` escapes of lone surrogates, integers
    of any length - which pydantic's parser refuses; raises `ValueError` on bad JSON."""
    return json.loads(text, parse_int=_integer)


def _integer(digits: str) -> int:
    # int() refuses more than 4,300 digits by default; decimal has no such limit
    if len(digits) < 4000:
        return int(digits)
    import decimal

    return int(decimal.Decimal(digits))
