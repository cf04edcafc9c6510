"""Record data to JSON and back, for stores that write text (SQLite, PostgreSQL).

Step outputs can be anything a tool returns; pydantic models, dataclasses, dates and
the like become their JSON form, and what has none becomes its `str()` - a stored output
is for resume and display, never re-executed.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import to_jsonable_python


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(to_jsonable_python(data, fallback=str, serialize_unknown=True),
                      ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"a stored record is not a JSON object: {text[:80]!r}")
    return value
