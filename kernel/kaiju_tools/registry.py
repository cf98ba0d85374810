"""Class registries: named collections of classes (service classes, CLI commands)."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterator
from types import ModuleType
from typing import Generic, TypeVar

from .exceptions import KaijuError

__all__ = ["ClassRegistry", "close_matches"]

T = TypeVar("T")


def close_matches(word: str, names: object, n: int = 3) -> str:
    """Return ``"did you mean: a, b?"`` for close matches of ``word`` in ``names`` (or ``""``)."""
    matches = difflib.get_close_matches(word, [str(x) for x in names], n=n, cutoff=0.6)  # type: ignore[attr-defined]
    return f"did you mean: {', '.join(matches)}?" if matches else ""


class ClassRegistry(Generic[T]):
    """A mapping of names to classes of one base type.

    :param base: every registered class must be a subclass of it
    :param kind: what the registry holds, used in error messages ("service class")
    """

    def __init__(self, base: type[T], kind: str) -> None:
        self._base = base
        self._kind = kind
        self._classes: dict[str, type[T]] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._kind}es: {len(self._classes)}>"

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def __getitem__(self, name: str) -> type[T]:
        try:
            return self._classes[name]
        except KeyError:
            hint = close_matches(name, self._classes) or (
                f"registered: {', '.join(sorted(self._classes)) or 'none'}"
            )
            raise LookupError(f"unknown {self._kind} {name!r}; {hint}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def get(self, name: str) -> type[T] | None:
        """Return the class registered under ``name`` or ``None``."""
        return self._classes.get(name)

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._classes)

    def class_key(self, obj: type[T]) -> str:
        """The name a class is registered under (its ``__name__``)."""
        return obj.__name__

    def can_register(self, obj: object) -> bool:
        """Whether ``obj`` is a concrete subclass of the registry's base.

        A class that sets ``__abstract__ = True`` in its own body is a base, never registered.
        """
        return (
            inspect.isclass(obj)
            and issubclass(obj, self._base)
            and obj is not self._base
            and not inspect.isabstract(obj)
            and not vars(obj).get("__abstract__", False)
        )

    def register(self, obj: type[T]) -> type[T]:
        """Register a class under its name; usable as a decorator. Re-registering is a no-op."""
        if not (inspect.isclass(obj) and issubclass(obj, self._base)):
            raise TypeError(
                f"{self._kind} registry: expected a subclass of {self._base.__name__}, got {obj!r}"
            )
        key = self.class_key(obj)
        old = self._classes.get(key)
        if old is not None and old is not obj:
            where_old = f"{old.__module__}.{old.__qualname__}"
            where_new = f"{obj.__module__}.{obj.__qualname__}"
            if where_old != where_new:
                raise KaijuError(
                    f"{self._kind} name {key!r} is taken: {where_old} is registered already and "
                    f"{where_new} has the same name; rename one of the classes"
                )
        self._classes[key] = obj
        return obj

    def register_from_module(self, module: ModuleType) -> list[type[T]]:
        """Register every suitable class found in a module's namespace; return them."""
        found = []
        for value in list(vars(module).values()):
            if self.can_register(value):
                self.register(value)
                found.append(value)
        return found
