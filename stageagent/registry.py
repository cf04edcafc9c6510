"""Name -> object registries with lazy `"module:attr"` entries.

Stage files name tools, evaluators and output schemas; validating a stage must not import
the heavy modules behind them (SQLAlchemy, sqlglot, vl-convert). A lazy entry is
imported on first `get()`.
"""

from __future__ import annotations

import importlib
from typing import Callable, Generic, Iterator, TypeVar

from .exceptions import RegistryError

T = TypeVar("T")


def import_ref(ref: str) -> object:
    """Import `"package.module:attribute"`."""
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise RegistryError(f"reference {ref!r} is not of the form 'module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RegistryError(f"cannot import module {module_name!r} for {ref!r}: {exc}") from exc
    try:
        obj: object = module
        for name in attr.split("."):
            obj = getattr(obj, name)
    except AttributeError as exc:
        raise RegistryError(f"module {module_name!r} has no attribute {attr!r}") from exc
    return obj


class Registry(Generic[T]):
    """A mapping of names to objects, some of them imported only when first used."""

    def __init__(self, kind: str, *, coerce: Callable[[object], T] | None = None):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = {}
        self._coerce = coerce

    def register(self, name: str, item: object) -> T:
        value = self._coerce(item) if self._coerce else item  # type: ignore[assignment]
        self._items[name] = value  # type: ignore[assignment]
        self._lazy.pop(name, None)
        return value  # type: ignore[return-value]

    def register_lazy(self, name: str, ref: str) -> None:
        if name not in self._items:
            self._lazy[name] = ref

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._lazy

    def names(self) -> list[str]:
        return sorted({*self._items, *self._lazy})

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        item = self._items.get(name)
        if item is not None:
            return item
        ref = self._lazy.get(name)
        if ref is None:
            known = ", ".join(self.names()) or "none"
            raise RegistryError(f"unknown {self.kind} {name!r} (known: {known})")
        return self.register(name, import_ref(ref))

    def copy(self) -> "Registry[T]":
        new: Registry[T] = Registry(self.kind, coerce=self._coerce)
        new._items = dict(self._items)
        new._lazy = dict(self._lazy)
        return new
