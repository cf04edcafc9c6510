"""Plain record classes: slotted instances on the hot path, pydantic at the boundaries.

A pydantic model costs ~4.5k instructions to build even without validation (four slot
writes through descriptors), and reading one of its fields ~5x a plain attribute (its
`__getattr__` keeps CPython from specialising the read). Values the runtime builds from
what it already trusts, many times per iteration, and that every consumer reads - the
events, a turn's messages, the model request - need neither cost. A `PlainClass` declares typed fields like a dataclass
(`name: type = default`, `field(default_factory=...)`); its instances keep them in
`__slots__`, so building one by plain attribute stores is a few hundred instructions.

Everything that comes from outside is still validated by pydantic, from a schema derived
from the annotations on first use (`__get_pydantic_core_schema__`, pydantic's public hook):

* `Cls(**fields)`, `Cls.model_validate(data)`, `Cls.model_validate_json(text)` validate
  (pydantic's `ValidationError`); a `PlainClass` is a valid field type of pydantic models
  and `TypeAdapter`s, discriminated unions included;
* `Cls.model_construct(**fields)` trusts its values (defaults filled, nothing checked);
* `model_dump`, `model_dump_json` (the same JSON pydantic writes for the same fields) and
  `model_copy` behave as pydantic's do.

Instances are not frozen - assigning is what makes building them cheap - but they are
facts once made: copy with `model_copy(update=...)` rather than change one.
"""

from __future__ import annotations

import dataclasses
import threading
import typing
from typing import Any, Callable, ClassVar, TypeVar, dataclass_transform

from .exceptions import ConstructionError
from .jsontext import dumps_escaped, loads_escaped

T = TypeVar("T")
P = TypeVar("P", bound="PlainClass")

_new = object.__new__


class _Factory:
    """A field default built fresh for every instance (`field(default_factory=...)`)."""

    __slots__ = ("factory",)

    def __init__(self, factory: Callable[[], Any]):
        self.factory = factory


def field(*, default_factory: Callable[[], T]) -> T:
    """A field whose default is `default_factory()`, called for every instance."""
    return _Factory(default_factory)  # type: ignore[return-value]


@dataclass_transform(kw_only_default=True, field_specifiers=(field,))
class _PlainMeta(type):
    """Turns annotated class attributes into slots, keeping their defaults aside."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                **kwargs: Any) -> _PlainMeta:
        inherited: tuple[str, ...] = ()
        defaults: dict[str, Any] = {}
        for base in reversed(bases):
            inherited = (*inherited, *getattr(base, "__plain_fields__", ()))
            defaults.update(getattr(base, "__plain_defaults__", {}))
        own = [n for n, annotation in namespace.get("__annotations__", {}).items()
               if not n.startswith("_") and "ClassVar" not in str(annotation)]
        for n in own:
            if n in namespace:
                defaults[n] = _checked_default(name, n, namespace.pop(n))
        namespace["__slots__"] = tuple(n for n in own if n not in inherited)
        # dataclasses would write a missing docstring from inspect.signature: slow
        namespace.setdefault("__doc__", f"{name}: a plain record class.")
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        cls.__plain_fields__ = tuple(dict.fromkeys([*inherited, *own]))  # type: ignore[attr-defined]
        cls.__plain_defaults__ = defaults  # type: ignore[attr-defined]
        # a dataclass too, with no method generated: pydantic serialises it inside any
        # model, list or `Any` field (its serialiser asks for `__dataclass_fields__`), and
        # `dataclasses.fields` / `asdict` / `replace` work on it
        dataclasses.dataclass(init=False, repr=False, eq=False,  # in place: no slots=True
                              match_args=False)(cls)  # type: ignore[arg-type]
        return cls


def _checked_default(cls: str, name: str, value: Any) -> Any:
    if isinstance(value, (list, dict, set, bytearray)):
        raise ConstructionError(f"{cls}.{name}: a mutable default would be shared by every "
                                "instance; use field(default_factory=...)")
    if type(value) is _Factory and not callable(value.factory):
        raise ConstructionError(f"{cls}.{name}: default_factory must be callable, not "
                                f"{type(value.factory).__name__}")
    return value


def field_names(cls: type[PlainClass]) -> tuple[str, ...]:
    """The fields of a `PlainClass`, in declaration order (inherited ones first)."""
    return cls.__plain_fields__


_MISSING = object()


def default_of(cls: type[PlainClass], name: str, missing: Any = None) -> Any:
    """The default of field `name` (a fresh one for a `field(default_factory=...)`), or
    `missing` when the field is required."""
    default = cls.__plain_defaults__.get(name, _MISSING)
    if default is _MISSING:
        return missing
    return default.factory() if type(default) is _Factory else default


class PlainClass(metaclass=_PlainMeta):
    """Base of plain record classes (see the module docstring)."""

    __slots__ = ()
    #: set by the metaclass: every field in order, and the defaults (`_Factory` for fresh)
    __plain_fields__: ClassVar[tuple[str, ...]] = ()
    __plain_defaults__: ClassVar[dict[str, Any]] = {}

    def __init__(self, **data: Any):
        validated = _adapter(type(self)).validate_python(data)
        for name in field_names(type(self)):
            setattr(self, name, getattr(validated, name))

    @classmethod
    def model_construct(cls: type[P], **values: Any) -> P:
        """An instance from trusted values, defaults filled in; nothing is validated."""
        obj = _new(cls)
        for name in field_names(cls):
            value = values.get(name, _MISSING)
            if value is _MISSING:
                value = default_of(cls, name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{cls.__name__}: the required field {name!r} is missing")
            setattr(obj, name, value)
        return obj

    @classmethod
    def model_validate(cls: type[P], data: Any) -> P:
        return _adapter(cls).validate_python(data)

    @classmethod
    def model_validate_json(cls: type[P], text: str | bytes) -> P:
        """Validate JSON text, `\\udXXX` escapes of lone surrogates included."""
        return validate_json(_adapter(cls), text)

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        """The fields as a dict; pydantic's `mode`, `include`, `exclude`... apply."""
        return _adapter(type(self)).dump_python(self, **kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:
        """JSON text, as pydantic writes it (`indent`, `include`, `exclude`... apply);
        always succeeds, lone surrogates included.

        Text with lone surrogates (which UTF-8 cannot encode) is written as ASCII JSON with
        `\\udXXX` escapes; `model_validate_json` reads it back unchanged.
        """
        from pydantic_core import PydanticSerializationError

        adapter = _adapter(type(self))
        try:
            return adapter.dump_json(self, **kwargs).decode()
        except PydanticSerializationError:
            indent = kwargs.pop("indent", None)
            kwargs.pop("ensure_ascii", None)  # the escaped text is ASCII anyway
            data = adapter.dump_python(self, mode="json", **kwargs)
            return dumps_escaped(data, indent=indent)

    def model_copy(self: P, *, update: dict[str, Any] | None = None) -> P:
        """A shallow copy, with `update`'s values (trusted, as pydantic's is)."""
        copy = _new(type(self))
        for name in field_names(type(self)):
            setattr(copy, name, getattr(self, name))
        for name, value in (update or {}).items():
            if name not in field_names(type(self)):
                raise TypeError(f"{type(self).__name__} has no field {name!r}")
            setattr(copy, name, value)
        return copy

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in field_names(type(self)))

    __hash__ = None  # type: ignore[assignment]  # equal by value and mutable, like a dataclass

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n, '<unset>')!r}"
                           for n in field_names(type(self)))
        return f"{type(self).__name__}({fields})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """pydantic's schema for the class: a slotted dataclass schema of its fields.

        A class met again while its own schema is being built (a field whose type
        includes the class, as `StepEvent.event` does) is a reference to it."""
        from pydantic_core import core_schema

        ref = f"{cls.__module__}.{cls.__qualname__}"
        building = _building()
        if cls in building:
            return core_schema.definition_reference_schema(ref)
        building.add(cls)
        try:
            return _schema(cls, handler, ref)
        finally:
            building.discard(cls)


_local = threading.local()


def _building() -> set[type]:
    """The classes whose schema this thread is building now."""
    try:
        return _local.building
    except AttributeError:
        _local.building = set()
        return _local.building


def validate_json(adapter: Any, text: str | bytes) -> Any:
    """`adapter.validate_json(text)`, also for what `jsontext.dumps_escaped` writes: lone
    surrogates as `\\udXXX` escapes and integers of any length, which pydantic's JSON
    parser refuses (they are parsed by `json`, then validated)."""
    from pydantic import ValidationError

    try:
        return adapter.validate_json(text)
    except ValidationError as exc:
        if exc.errors()[0]["type"] != "json_invalid":
            raise
        try:
            data = loads_escaped(text)
        except ValueError:
            raise exc from None
    return adapter.validate_python(data)


def _schema(cls: type[PlainClass], handler: Any, ref: str) -> Any:
    from pydantic_core import core_schema

    try:  # each base's annotations in its own module
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:  # noqa: BLE001 - a name that is not defined, a bad expression
        raise ConstructionError(f"{cls.__module__}.{cls.__qualname__}: cannot resolve the "
                                f"types of its fields: {type(exc).__name__}: {exc}") from exc
    defaults = cls.__plain_defaults__
    fields = []
    for name in field_names(cls):
        schema = handler.generate_schema(hints[name])
        default = defaults.get(name, _MISSING)
        if type(default) is _Factory:
            schema = core_schema.with_default_schema(schema, default_factory=default.factory)
        elif default is not _MISSING:
            schema = core_schema.with_default_schema(schema, default=default)
        fields.append(core_schema.dataclass_field(name, schema, kw_only=True))
    args = core_schema.dataclass_args_schema(cls.__name__, fields)
    return core_schema.dataclass_schema(cls, args, list(field_names(cls)), slots=True, ref=ref)


_ADAPTERS: dict[type, Any] = {}


def _adapter(cls: type[PlainClass]) -> Any:
    """The class's pydantic TypeAdapter, built on first use."""
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter
