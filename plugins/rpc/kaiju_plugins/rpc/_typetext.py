"""Readable annotations for ``rpc.api`` listings (``list[Point]``, ``Color | null``)."""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

from ._types import _ARRAYS, _BUILTINS, _MAPPINGS, _NONE, _strip

__all__ = ["is_plain", "type_text"]


def is_plain(tp: Any) -> bool:
    """True when ``tp`` names JSON builtins only, at any depth (``list[int]``, ``dict[str, Any] | None``)."""
    tp = _strip(tp)
    if tp is Any or tp is Ellipsis or (isinstance(tp, typing.Hashable) and tp in _BUILTINS):
        return True
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return is_plain(typing.get_args(tp)[0])
    return origin is not None and origin is not typing.Literal and (
        origin in (typing.Union, types.UnionType) or origin in _ARRAYS or origin in _MAPPINGS) and all(
        is_plain(a) for a in typing.get_args(tp))


def type_text(tp: Any) -> str:
    """A short readable annotation for listings: ``list[Point]``, ``Color | null``, ``datetime``."""
    tp = _strip(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is None or tp is _NONE:
        return "null"
    if origin is typing.Annotated:
        return type_text(args[0])
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(type_text(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a.value if isinstance(a, enum.Enum) else a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        if not args:
            return name
        return f"{name}[{', '.join('...' if a is Ellipsis else type_text(a) for a in args)}]"
    if tp is Any:
        return "any"
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")
