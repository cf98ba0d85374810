"""Class registries: named collections of classes (service classes, CLI commands)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from types import ModuleType
from typing import Generic, TypeVar

from .exceptions import KaijuError

__all__ = ["ClassRegistry", "close_matches"]

T = TypeVar("T")


def close_matches(word: str, names: object, n: int = 3) -> str:
    """Return ``"did you mean: a, b?"`` for close matches of ``word`` in ``names`` (or ``""``)."""
    import difflib  # only to word an error

    matches = difflib.get_close_matches(word, [str(x) for x in names], n=n, cutoff=0.6)  # type: ignore[attr-defined]
    return f"did you mean: {', '.join(matches)}?" if matches else ""


class ClassRegistry(Generic[T]):
    """A mapping of names to classes of one base type, optionally layered over a default.

    :param base: every registered class must be a subclass of it
    :param kind: what the registry holds, used in error messages ("service class")
    :param default: a registry this one falls back to: a lookup tries this registry's own
        classes first, then ``default``'s; :meth:`register` writes to this registry only.
        An app's runtime layers its own registries over the process-wide ones
        (``SERVICE_CLASS_REGISTRY``, ``COMMANDS``), so that what one app's plugins register
        stays out of another app's lookups.
    """

    def __init__(self, base: type[T], kind: str, default: ClassRegistry[T] | None = None) -> None:
        self._base = base
        self._kind = kind
        self._classes: dict[str, type[T]] = {}
        self.default = default
        """The registry lookups fall back to (``None``: this registry stands alone)."""

    def __repr__(self) -> str:
        kinds = self._kind + ("es" if self._kind.endswith("s") else "s")
        layered = f" over {len(self.default)} default" if self.default is not None else ""
        return f"<{type(self).__name__} of {kinds}: {len(self._classes)}{layered}>"

    def __contains__(self, name: object) -> bool:
        return name in self._classes or (self.default is not None and name in self.default)

    def __getitem__(self, name: str) -> type[T]:
        found = self.get(name)
        if found is None:
            names = self.names()
            hint = close_matches(name, names) or f"registered: {', '.join(sorted(names)) or 'none'}"
            raise LookupError(f"unknown {self._kind} {name!r}; {hint}")
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def get(self, name: str) -> type[T] | None:
        """Return the class registered under ``name`` (own classes first, then the default's) or ``None``."""
        found = self._classes.get(name)
        if found is None and self.default is not None:
            return self.default.get(name)
        return found

    def names(self) -> list[str]:
        """Registered names, in registration order (the default's first, then this layer's own)."""
        if self.default is None:
            return list(self._classes)
        inherited = self.default.names()
        seen = set(inherited)
        return inherited + [n for n in self._classes if n not in seen]

    def own_names(self) -> list[str]:
        """The names registered in this registry itself (not in its default), in registration order."""
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
        """Register a class under its name in this registry; usable as a decorator.

        Re-registering is a no-op. A name that this registry or its default holds for another
        class is refused.
        """
        if not (inspect.isclass(obj) and issubclass(obj, self._base)):
            raise TypeError(
                f"{self._kind} registry: expected a subclass of {self._base.__name__}, got {obj!r}"
            )
        key = self.class_key(obj)
        old = self.get(key)
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
