"""Frozen records for the start-up path, where dataclasses cannot go.

``import dataclasses`` brings in inspect, ast, dis, tokenize and enum, and each frozen
dataclass compiles its methods when its module loads: together about 9 ms of the 30 that
``anya-ext --json list`` may add to Python's own start-up. A :class:`Frozen` subclass
declares its fields as annotations and behaves as a frozen dataclass does: fields
read-only, equality and hash by value, a repr listing the fields, and ``cli.render`` writes
its fields as a JSON object; :meth:`Frozen.replace` copies one with changes.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Self


class Frozen:
    """Base of a frozen record: every annotation of the subclass is a field, in order (a
    subclass of a record adds its own after its base's).

    A subclass's ``__init__`` passes every field's value to :meth:`_init`, in that order.
    The values are set in one call (setting each through ``object.__setattr__`` would cost
    ``anya-ext list`` ~4 ms at a thousand extensions).
    """

    _fields: tuple[str, ...] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 (no inspect here)
        cls._fields = (*cls._fields, *annotations)  # a subclass adds to its base's

    def _init(self, *values: object) -> None:
        self.__dict__.update(zip(self._fields, values, strict=True))

    def fields(self) -> dict[str, object]:
        """The fields and their values, in declaration order."""
        return dict(self.__dict__)

    def replace(self, **changes: object) -> Self:
        """A copy with ``changes`` (by field name) set, as ``dataclasses.replace`` makes one."""
        unknown = sorted(changes.keys() - set(self._fields))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(unknown)}")
        rebuild: Callable[..., Self] = type(self)
        return rebuild(**{**self.__dict__, **changes})

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Frozen) and other.__class__ is self.__class__:
            return self.__dict__ == other.__dict__
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"{type(self).__qualname__}({fields})"

    def __reduce__(self) -> tuple[type[Frozen], tuple[object, ...]]:
        """Copied and pickled through ``__init__`` (the fields cannot be set afterwards)."""
        return type(self), tuple(self.__dict__.values())
