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
import sys
import threading
import typing
from typing import Any, Callable, ClassVar, Literal, TypeVar, dataclass_transform

from .exceptions import ConstructionError
from .jsontext import dumps_escaped, loads_escaped

T = TypeVar("T")
P = TypeVar("P", bound="PlainClass")

_new = object.__new__
_set = object.__setattr__  # also for frozen classes, whose __setattr__ refuses
_MISSING: Any = object()


class _Factory:
    """A field default built fresh for every instance (`field(default_factory=...)`)."""

    __slots__ = ("factory",)

    def __init__(self, factory: Callable[[], Any]):
        self.factory = factory


class _Spec:
    """What `field()` declares beyond the default: constraints and validators."""

    __slots__ = ("default", "constraints", "before", "after")

    def __init__(self, default: Any, constraints: dict[str, Any],
                 before: Callable[[Any], Any] | None,
                 after: Callable[[Any, dict[str, Any]], Any] | None):
        self.default = default
        self.constraints = constraints
        self.before = before
        self.after = after


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None,
          before: Callable[[Any], Any] | None = None,
          after: Callable[[Any, dict[str, Any]], Any] | None = None,
          **constraints: Any) -> Any:
    """A field with a default built per instance (`default_factory`), pydantic constraints
    (`ge`, `gt`, `le`, `lt`, `min_length`, `max_length`, `pattern`), or validators.

    `before(value)` runs on the raw input; `after(value, earlier)` on the validated value,
    with the fields declared before it (already validated) in `earlier`. A validator
    raising `ValueError` is reported by pydantic at the field's location.
    """
    if default_factory is not None:
        if default is not _MISSING:
            raise ConstructionError("field(): give default or default_factory, not both")
        default = _Factory(default_factory)
    if not constraints and before is None and after is None:
        return default
    return _Spec(default, constraints, before, after)


@dataclass_transform(kw_only_default=True, field_specifiers=(field,))
class _PlainMeta(type):
    """Turns annotated class attributes into slots, keeping their defaults aside."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                frozen: bool | None = None, extra: str | None = None,
                **kwargs: Any) -> _PlainMeta:
        inherited: tuple[str, ...] = ()
        defaults: dict[str, Any] = {}
        specs: dict[str, _Spec] = {}
        for base in reversed(bases):
            inherited = (*inherited, *getattr(base, "__plain_fields__", ()))
            defaults.update(getattr(base, "__plain_defaults__", {}))
            specs.update(getattr(base, "__plain_specs__", {}))
            frozen = getattr(base, "__plain_frozen__", False) if frozen is None else frozen
            extra = extra or getattr(base, "__plain_extra__", None)
        if extra not in (None, "ignore", "forbid"):
            raise ConstructionError(f"{name}: extra must be 'ignore' or 'forbid', not {extra!r}")
        own = [n for n, annotation in namespace.get("__annotations__", {}).items()
               if not n.startswith("_") and "ClassVar" not in str(annotation)]
        for n in own:
            value = namespace.pop(n, _MISSING)
            if type(value) is _Spec:
                specs[n], value = value, value.default
            if value is not _MISSING:
                defaults[n] = _checked_default(name, n, value)
        slots = tuple(n for n in own if n not in inherited)
        if frozen and not any(hasattr(base, "__weakref__") for base in bases):
            slots += ("__weakref__",)  # settings are cache keys (held weakly)
        namespace["__slots__"] = slots
        # dataclasses would write a missing docstring from inspect.signature: slow
        namespace.setdefault("__doc__", f"{name}: a plain record class.")
        if frozen:
            namespace.setdefault("__setattr__", _refuse_assignment)
            namespace.setdefault("__delattr__", _refuse_assignment)
            namespace.setdefault("__hash__", _hash_fields)
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        cls.__plain_fields__ = tuple(dict.fromkeys([*inherited, *own]))  # type: ignore[attr-defined]
        cls.__plain_defaults__ = defaults  # type: ignore[attr-defined]
        cls.__plain_specs__ = specs  # type: ignore[attr-defined]
        cls.__plain_frozen__ = bool(frozen)  # type: ignore[attr-defined]
        cls.__plain_extra__ = extra  # type: ignore[attr-defined]
        if extra:  # pydantic before 2.12 reads a dataclass's JSON-schema config from here
            cls.__pydantic_config__ = {"extra": extra}  # type: ignore[attr-defined]
        # a dataclass too, with no method generated: pydantic serialises it inside any
        # model, list or `Any` field (its serialiser asks for `__dataclass_fields__`), and
        # `dataclasses.fields` / `asdict` / `replace` work on it
        dataclasses.dataclass(init=False, repr=False, eq=False,  # in place: no slots=True
                              match_args=False)(cls)  # type: ignore[arg-type]
        return cls


def _refuse_assignment(self: Any, name: str, *value: Any) -> None:
    """A frozen class's `__setattr__`/`__delattr__`: pydantic's error for a frozen model."""
    from pydantic_core import ValidationError

    raise ValidationError.from_exception_data(type(self).__name__, [
        {"type": "frozen_instance", "loc": (name,), "input": value[0] if value else None}])


def _hash_fields(self: Any) -> int:
    return hash((type(self), *(getattr(self, n) for n in field_names(type(self)))))


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
    #: and the fields' constraints and validators, frozen, and what extra keys do
    __plain_specs__: ClassVar[dict[str, _Spec]] = {}
    __plain_frozen__: ClassVar[bool] = False
    __plain_extra__: ClassVar[Literal["ignore", "forbid"] | None] = None

    def __init__(self, **data: Any):
        validate = _VALIDATORS.get(type(self)) or _validator(type(self))
        validate(data, self_instance=self)  # pydantic fills this very instance

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
            _set(obj, name, value)
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
            _set(copy, name, getattr(self, name))
        for name, value in (update or {}).items():
            if name not in field_names(type(self)):
                raise TypeError(f"{type(self).__name__} has no field {name!r}")
            _set(copy, name, value)
        return copy

    def __getstate__(self) -> dict[str, Any]:  # pickle, copy, deepcopy
        return {name: getattr(self, name) for name in field_names(type(self))}

    def __setstate__(self, state: dict[str, Any]) -> None:  # stores past a frozen class's refusal
        for name, value in state.items():
            _set(self, name, value)

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


def is_pydantic_model(value: Any) -> bool:
    """True for an instance of a pydantic `BaseModel`, without importing pydantic's model
    module: while it is not loaded, no such instance exists."""
    main = sys.modules.get("pydantic.main")
    return main is not None and isinstance(value, main.BaseModel)


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
    defaults, specs = cls.__plain_defaults__, cls.__plain_specs__
    fields = []
    for name in field_names(cls):
        spec = specs.get(name)
        schema = _field_schema(hints[name], spec, handler)
        default = defaults.get(name, _MISSING)
        if type(default) is _Factory:
            schema = core_schema.with_default_schema(schema, default_factory=default.factory)
        elif default is not _MISSING:
            schema = core_schema.with_default_schema(schema, default=default)
        fields.append(core_schema.dataclass_field(name, schema, kw_only=True))
    args = core_schema.dataclass_args_schema(cls.__name__, fields,
                                             extra_behavior=cls.__plain_extra__)
    config = core_schema.CoreConfig(extra_fields_behavior=cls.__plain_extra__) \
        if cls.__plain_extra__ else None  # for JSON schema: additionalProperties false
    return core_schema.dataclass_schema(cls, args, list(field_names(cls)), slots=True, ref=ref,
                                        config=config)


def _field_schema(hint: Any, spec: _Spec | None, handler: Any) -> Any:
    """One field's schema: its type, its constraints (as pydantic's `Field` has them), then
    its validators."""
    if spec is None:
        return handler.generate_schema(hint)
    from pydantic import Field
    from pydantic_core import core_schema

    if spec.constraints:
        hint = typing.Annotated[hint, Field(**spec.constraints)]
    schema = handler.generate_schema(hint)
    if spec.before is not None:
        schema = core_schema.no_info_before_validator_function(spec.before, schema)
    after = spec.after
    if after is not None:
        schema = core_schema.with_info_after_validator_function(
            lambda value, info: after(value, info.data), schema)
    return schema


class Tagged:
    """`Annotated` metadata for a union told apart by the field `tag`: pydantic's
    `Field(discriminator=tag)`, resolved when the schema is built (not at import)."""

    __slots__ = ("tag",)

    def __init__(self, tag: str):
        self.tag = tag

    def __repr__(self) -> str:
        return f"Tagged({self.tag!r})"

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic import Field

        return handler.generate_schema(typing.Annotated[source, Field(discriminator=self.tag)])


_ADAPTERS: dict[Any, Any] = {}


def adapter_for(tp: Any) -> Any:
    """pydantic's `TypeAdapter` for a type, built on first use and kept: pydantic's schema
    machinery is loaded by the first validation, not by importing stageagent."""
    adapter = _ADAPTERS.get(tp)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[tp] = TypeAdapter(tp)
    return adapter


_adapter = adapter_for
_VALIDATORS: dict[type, Any] = {}


def _validator(cls: type[PlainClass]) -> Any:
    """The class's pydantic-core `validate_python` (its TypeAdapter's, without the
    adapter's own Python layer: validated construction is common for settings)."""
    validate = _VALIDATORS[cls] = adapter_for(cls).validator.validate_python
    return validate
