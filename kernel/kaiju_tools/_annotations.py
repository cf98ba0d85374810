"""Service settings against the constructor's annotations: the rpc plugin's params rules.

Each annotated parameter becomes the tuple of exact settings types it accepts (``int`` ->
``(int,)``, so ``true`` is not an ``int``; ``float`` -> ``(float, int)``; ``list[str]`` ->
``(list,)``; ``X | None`` adds ``NoneType``). Unannotated, ``Any``, ``object`` and every
other class (a ``Service`` subclass given as a name, ``timedelta``, ...) are not checked, nor
is a union with such a member. The rpc plugin checks builtin-annotated params by the same
rules: it reads them through :mod:`kaiju_tools.settings` (``allowed_types``, ``type_name``,
``value_name``), so the two cannot drift apart.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
import weakref
from typing import Any

__all__ = ["Expected", "allowed_types", "expected_types", "parameter_hints", "type_name", "value_name"]

Expected = tuple[type, ...]

_NONE = type(None)
_SIMPLE: dict[Any, Expected] = {
    int: (int,), float: (float, int), str: (str,), bool: (bool,), list: (list,), tuple: (list,),
    dict: (dict,), _NONE: (_NONE,), None: (_NONE,), set: (list,), frozenset: (list,),
    collections.abc.Sequence: (list,), collections.abc.MutableSequence: (list,),
    collections.abc.Mapping: (dict,), collections.abc.MutableMapping: (dict,),
    collections.abc.Iterable: (list,), collections.abc.Collection: (list,),
}
_NAMES = {int: "int", float: "float", str: "str", bool: "bool", list: "list", dict: "dict", _NONE: "null"}


def allowed_types(annotation: Any) -> Expected | None:
    """The exact JSON / settings types an annotation accepts (``float`` -> ``(float, int)``), or
    ``None`` for "not checked" (unannotated, ``Any``, ``object``, any other class)."""
    if annotation is inspect.Parameter.empty or annotation is Any or annotation is object:
        return None
    simple = _SIMPLE.get(annotation) if isinstance(annotation, typing.Hashable) else None
    if simple is not None:
        return simple
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        out: list[type] = []
        for member in typing.get_args(annotation):
            allowed = allowed_types(member)
            if allowed is None:
                return None
            out.extend(t for t in allowed if t not in out)
        return tuple(out)
    if origin is typing.Annotated:
        return allowed_types(typing.get_args(annotation)[0])
    if origin is not None:
        return _SIMPLE.get(origin)
    return None


def parameter_hints(func: Any) -> dict[str, Any]:
    """Resolved annotation of each parameter of ``func`` (``inspect.Parameter.empty`` for none).

    String annotations (``from __future__ import annotations``) are resolved in the function's
    module one at a time, so that one unresolvable annotation (a ``TYPE_CHECKING`` import)
    leaves only itself unresolved.
    The result is kept per function (the settings check and the service container both ask
    for each constructor at start-up); a copy is returned.
    """
    try:
        return dict(_HINTS[func])
    except (KeyError, TypeError):  # not seen yet, or not weak-referenceable (a slot wrapper)
        pass
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return {}
    module = inspect.getmodule(func)
    namespace = dict(vars(module)) if module is not None else {}
    hints = {name: _hint(param.annotation, namespace) for name, param in params.items()}
    try:
        _HINTS[func] = hints
    except TypeError:
        pass
    return dict(hints)


_HINTS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _hint(annotation: Any, namespace: dict[str, Any]) -> Any:
    if not isinstance(annotation, str):
        return annotation

    def probe() -> None: ...

    probe.__annotations__ = {"x": annotation}
    try:
        return typing.get_type_hints(probe, globalns=namespace, include_extras=True)["x"]
    except Exception:  # noqa: BLE001 -- NameError of a TYPE_CHECKING import, an unknown syntax, ...
        return inspect.Parameter.empty


def expected_types(cls: type) -> tuple[dict[str, Expected], Expected | None]:
    """Per keyword parameter of ``cls``'s constructor, the settings types it accepts (checked
    parameters only), and those of ``**kwargs`` (``None``: not checked)."""
    init = cls.__init__  # type: ignore[misc]
    try:
        params = inspect.signature(init).parameters
    except (TypeError, ValueError):
        return {}, None
    hints = parameter_hints(init)
    by_name: dict[str, Expected] = {}
    var_kw: Expected | None = None
    for name, param in params.items():
        if param.kind is inspect.Parameter.VAR_POSITIONAL or param.kind is inspect.Parameter.POSITIONAL_ONLY:
            continue
        allowed = allowed_types(hints.get(name, inspect.Parameter.empty))
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            var_kw = allowed
        elif allowed is not None:
            by_name[name] = allowed
    return by_name, var_kw


def type_name(allowed: Expected) -> str:
    """``(float, int, NoneType)`` -> ``"float | null"``."""
    if float in allowed:
        allowed = tuple(t for t in allowed if t is not int)
    return " | ".join(_NAMES.get(t, t.__name__) for t in allowed)


def value_name(value: Any) -> str:
    """The settings type of a value as the messages name it (``null``, ``int``, ``str``, ...)."""
    return _NAMES.get(type(value), type(value).__name__)
