"""Name -> object registries with lazy `"module:attr"` entries.

Stage files name tools, evaluators and output schemas; validating a stage must not import
the heavy modules behind them (SQLAlchemy, sqlglot, vl-convert). A lazy entry is
imported on first `get()`.

A `Toolkit` is what a set of stages needs: its tools and evaluators. The framework knows no
toolkit of its own: a runtime knows the tools it is given, and a stage file may name the
toolkit its tools come from (`toolkit = "stageagent.tools:TOOLKIT"` in the bundled stages,
which is how the report pipeline hands its tools to the runtime).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Generic, Iterable, Iterator, Mapping, TypeVar

from .exceptions import RegistryError
from .function_tools import Tool

T = TypeVar("T")


def import_ref(ref: str) -> object:
    """Import `"package.module:attribute"`."""
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise RegistryError(f"reference {ref!r} is not of the form 'module:attribute'")
    if module_name.startswith("."):
        raise RegistryError(f"reference {ref!r} is relative; give the absolute module path "
                            "(e.g. 'mypackage.schemas:Output')")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or whatever the module raises while importing
        raise RegistryError(f"cannot import module {module_name!r} for {ref!r}: "
                            f"{type(exc).__name__}: {exc}") from exc
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
        value: T = self._coerce(item) if self._coerce else item  # type: ignore[assignment]
        self._items[name] = value
        self._lazy.pop(name, None)
        return value

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

    def union(self, fallback: "Registry[T]") -> "Registry[T]":
        """A copy holding this registry's entries plus those of `fallback` it lacks."""
        new = fallback.copy()
        new._coerce = self._coerce
        for name, ref in self._lazy.items():
            new._items.pop(name, None)
            new._lazy[name] = ref
        for name, item in self._items.items():
            new._lazy.pop(name, None)
            new._items[name] = item
        return new

    def copy(self) -> "Registry[T]":
        new: Registry[T] = Registry(self.kind, coerce=self._coerce)
        new._items = dict(self._items)
        new._lazy = dict(self._lazy)
        return new


def _as_tool(obj: object) -> Tool:
    if isinstance(obj, Tool):
        return obj
    if callable(obj):
        return Tool(obj)
    raise RegistryError(f"{obj!r} is not a tool (a Tool or a typed function)")


def tool_registry(tools: Iterable[Any] | Mapping[str, Any] = ()) -> Registry[Tool]:
    """A tool registry holding `tools` (Tool objects or typed functions, or a name mapping)."""
    registry: Registry[Tool] = Registry("tool", coerce=_as_tool)
    items: Iterable[tuple[str | None, Any]] = (
        tools.items() if isinstance(tools, Mapping) else ((None, t) for t in tools))
    for name, item in items:
        t = _as_tool(item)
        registry.register(name or t.name, t)
    return registry


def evaluator_registry(evaluators: Mapping[str, Any] | None = None) -> Registry[Any]:
    """An evaluator registry holding `evaluators` (name -> evaluator)."""
    registry: Registry[Any] = Registry("evaluator")
    for name, item in (evaluators or {}).items():
        registry.register(name, item)
    return registry


class Toolkit:
    """The tools and evaluators a set of stages names, as lazy `"module:attr"` entries."""

    def __init__(self, tools: Mapping[str, str] | None = None,
                 evaluators: Mapping[str, str] | None = None):
        self.tools = tool_registry()
        self.evaluators = evaluator_registry()
        for name, ref in (tools or {}).items():
            self.tools.register_lazy(name, ref)
        for name, ref in (evaluators or {}).items():
            self.evaluators.register_lazy(name, ref)


_toolkits: dict[str, Toolkit] = {}


def toolkit_at(ref: str) -> Toolkit:
    """The `Toolkit` at `"module:attr"` (imported once); RegistryError if it is none."""
    kit = _toolkits.get(ref)
    if kit is None:
        obj = import_ref(ref)
        if not isinstance(obj, Toolkit):
            raise RegistryError(f"{ref!r} is a {type(obj).__name__}, not a stageagent Toolkit")
        kit = _toolkits[ref] = obj
    return kit


def with_toolkit(ref: str | None, tools: Registry[Tool],
                 evaluators: Registry[Any]) -> tuple[Registry[Tool], Registry[Any]]:
    """`tools` and `evaluators`, plus those of the toolkit at `ref` they lack (given win)."""
    if not ref:
        return tools, evaluators
    kit = toolkit_at(ref)
    return tools.union(kit.tools), evaluators.union(kit.evaluators)
