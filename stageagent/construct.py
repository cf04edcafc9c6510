"""Trusted construction of pydantic models on the runtime's hot path.

`Model.model_construct` skips validation but still costs microseconds per call (pydantic
inspects the signature of every `default_factory` on every call). Values the runtime built
itself need neither validation nor that; `construct` fills defaults from a per-class
table computed once. Everything that comes from outside is still validated.

A `default_factory` that builds a frozen model (e.g. `Usage`) is called once per class:
the instance is immutable, so sharing it is safe. Mutable defaults (lists, dicts) are
built fresh for every instance.

Writing pydantic's instance slots directly skips everything validation would run, so a
class built this way may have nothing that runs there: no private attributes, no
`model_post_init`, no validators, no aliases, no shared mutable defaults, no extra fields.
`@constructible` (and the first `spec_of` / `every_field` of a class) refuses such a class
with a `ConstructionError` when it is defined; pydantic is pinned below 3 for the slots.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from .exceptions import ConstructionError

M = TypeVar("M", bound=BaseModel)
C = TypeVar("C", bound=type[BaseModel])

_new = object.__new__
# BaseModel's slot descriptors, called directly: cheaper than object.__setattr__ by name
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def construction_problems(cls: type[BaseModel]) -> list[str]:
    """What in `cls` trusted construction would silently skip or share (empty: safe)."""
    problems = []
    # pydantic's own flag, not issubclass(cls, RootModel): importing RootModel pulls in
    # importlib.metadata (~15 ms of `import stageagent`)
    if getattr(cls, "__pydantic_root_model__", False):
        problems.append("it is a RootModel")
    if cls.__private_attributes__:
        problems.append(f"private attributes ({', '.join(sorted(cls.__private_attributes__))})")
    if cls.model_post_init is not BaseModel.model_post_init:
        problems.append("a model_post_init hook")
    decorators = cls.__pydantic_decorators__
    validators = [*decorators.validators, *decorators.field_validators,
                  *decorators.root_validators, *decorators.model_validators]
    if validators:
        problems.append(f"validators ({', '.join(sorted(validators))})")
    if cls.model_config.get("extra") == "allow":
        problems.append("extra='allow'")
    for name, info in cls.model_fields.items():
        if info.alias or info.validation_alias or info.serialization_alias:
            problems.append(f"an alias on field {name!r}")
        if info.default_factory is None:
            try:
                hash(info.default)
            except TypeError:
                problems.append(f"a mutable plain default on field {name!r} "
                                "(use default_factory)")
    return problems


_CHECKED: set[type] = set()


def constructible(cls: C) -> C:
    """Mark `cls` as built by trusted construction; refuses what construction cannot do."""
    if cls not in _CHECKED:
        problems = construction_problems(cls)
        if problems:
            raise ConstructionError(f"{cls.__module__}.{cls.__qualname__} cannot be built by "
                                    f"stageagent.construct: it has {'; '.join(problems)}")
        _CHECKED.add(cls)
    return cls


def constructible_classes() -> list[type[BaseModel]]:
    """Every class checked for trusted construction so far (for tests)."""
    return sorted(_CHECKED, key=lambda c: f"{c.__module__}.{c.__qualname__}")


class Spec:
    """Per-class construction table: every field with its default, and the factories.

    `template` has every field in declaration order (a factory field holds None until
    its factory runs): copying it is a flat memory copy, and filling it in place never
    resizes it - cheaper than merging dictionaries.
    """

    __slots__ = ("template", "factories")

    def __init__(self, cls: type[BaseModel]):
        constructible(cls)
        template: dict[str, Any] = {}
        factories: list[tuple[str, Any]] = []
        for name, info in cls.model_fields.items():
            factory = info.default_factory
            if factory is None:
                template[name] = info.default
            elif isinstance(factory, type) and issubclass(factory, BaseModel) \
                    and factory.model_config.get("frozen"):
                template[name] = factory()  # immutable: one shared instance
            else:
                template[name] = None
                factories.append((name, factory))
        self.template = template
        self.factories = tuple(factories)


_SPECS: dict[type, Spec] = {}


def spec_of(cls: type[BaseModel]) -> Spec:
    spec = _SPECS.get(cls)
    if spec is None:
        spec = _SPECS[cls] = Spec(cls)
    return spec


def construct(cls: type[M], fields: dict[str, Any]) -> M:
    """An instance of `cls` with `fields` (trusted) and the declared defaults."""
    spec = _SPECS.get(cls) or spec_of(cls)
    data = spec.template.copy()
    data.update(fields)
    for name, factory in spec.factories:
        if name not in fields:
            data[name] = factory()
    return trusted(cls, data, set(fields))


_EVERY: dict[type, set[str]] = {}


def every_field(cls: type[BaseModel]) -> set[str]:
    """One shared set naming every field of `cls`, for `trusted` instances whose fields
    the runtime set in full. Sharing it is safe: assigning a field adds a name that is
    already there. It saves a set per object - and per message kept in a long history,
    work for the garbage collector."""
    names = _EVERY.get(cls)
    if names is None:
        constructible(cls)
        names = _EVERY[cls] = set(cls.model_fields)
    return names


def trusted(cls: type[M], data: dict[str, Any], fields_set: set[str]) -> M:
    """An instance of `cls` whose `__dict__` is `data`, complete and trusted."""
    obj = _new(cls)
    _set_dict(obj, data)
    _set_fields(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj
