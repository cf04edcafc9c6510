"""Trusted construction of pydantic models on the runtime's hot path.

`Model.model_construct` skips validation but still costs microseconds per call (pydantic
inspects the signature of every `default_factory` on every call). Values the runtime built
itself need neither validation nor that; `construct` fills defaults from a per-class
table computed once. Everything that comes from outside is still validated.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_SPECS: dict[type, tuple[dict[str, Any], tuple[tuple[str, Any], ...]]] = {}
_set = object.__setattr__


def _spec(cls: type) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...]]:
    plain = {n: i.default for n, i in cls.model_fields.items() if i.default_factory is None}
    factories = tuple((n, i.default_factory) for n, i in cls.model_fields.items()
                      if i.default_factory is not None)
    spec = _SPECS[cls] = (plain, factories)
    return spec


def construct(cls: type[M], fields: dict[str, Any]) -> M:
    """An instance of `cls` with `fields` (trusted) and the declared defaults."""
    spec = _SPECS.get(cls) or _spec(cls)
    data = spec[0].copy()
    data.update(fields)
    for name, factory in spec[1]:
        if name not in fields:
            data[name] = factory()
    obj = cls.__new__(cls)
    _set(obj, "__dict__", data)
    _set(obj, "__pydantic_fields_set__", set(fields))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj
