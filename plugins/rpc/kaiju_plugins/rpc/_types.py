"""Typed params and results: annotation -> decoder (JSON value -> typed value), and encoding.

A decoder is compiled once per annotation (a closure per type, cached), at start-up. It checks
and converts a decoded JSON value: dataclasses and ``TypedDict`` from objects, ``Enum`` members
from their values, ``Literal`` values, ``datetime`` / ``date`` / ``time`` / ``UUID`` /
``Decimal`` from strings, ``list`` / ``tuple`` / ``set`` / ``dict`` generics item by item,
unions, ``Annotated`` constraints (:class:`Constraint`, or any object with the same attribute
names: ``annotated_types``, ``msgspec.Meta``). ``msgspec.Struct`` and ``pydantic.BaseModel``
classes are decoded by their own library when installed. A mismatch raises :class:`Mismatch`
with the JSON path inside the value. Results are encoded by their runtime type
(:func:`._encoding.encode`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import types
import typing
import uuid
from collections import abc
from collections.abc import Callable
from typing import Any

from kaiju_tools.caches import dataclass

__all__ = ["Constraint", "Mismatch", "decoder", "is_builtin", "json_name", "needs_encoding", "type_hints"]

Decoder = Callable[[Any], Any]
_NONE = type(None)
_JSON_NAMES = {int: "integer", float: "number", str: "string", bool: "boolean", list: "array", dict: "object",
               _NONE: "null"}
_BUILTINS = frozenset((int, float, str, bool, list, dict, tuple, set, frozenset, _NONE, None, Any, object,
                       abc.Sequence, abc.MutableSequence, abc.Mapping, abc.MutableMapping, abc.Iterable,
                       abc.Collection))
_ARRAYS = {list: list, tuple: tuple, set: set, frozenset: frozenset, abc.Sequence: list,
           abc.MutableSequence: list, abc.Iterable: list, abc.Collection: list, abc.Set: set,
           abc.MutableSet: set}
_MAPPINGS = frozenset((dict, abc.Mapping, abc.MutableMapping))
_STRINGS: dict[type, tuple[str, Callable[[str], Any]]] = {
    dt.datetime: ("date-time", dt.datetime.fromisoformat), dt.date: ("date", dt.date.fromisoformat),
    dt.time: ("time", dt.time.fromisoformat), uuid.UUID: ("uuid", uuid.UUID),
    decimal.Decimal: ("decimal", decimal.Decimal),
}


@dataclass(frozen=True)
class Constraint:
    """Simple constraints for ``Annotated[T, Constraint(...)]`` (checked, and shown in the schema).

    Numbers: ``gt`` / ``ge`` / ``lt`` / ``le``; strings, arrays and objects: ``min_length`` /
    ``max_length``; strings: ``pattern`` (a regular expression searched in the value). Objects
    of ``annotated_types`` (``Gt``, ``Ge``, ``Len``, ...) and ``msgspec.Meta`` work the same.
    """

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    description: str | None = None


class Mismatch(Exception):
    """A value does not fit its type: ``path`` (innermost last, built on the way out), what was expected,
    found."""

    def __init__(self, expected: str, found: str) -> None:
        super().__init__(expected, found)
        self.expected, self.found = expected, found
        self.path: list[str | int] = []  # innermost first while it propagates

    def where(self, root: str) -> str:
        """The JSON path below ``root``: ``params.points[3].x``."""
        out = root
        for part in reversed(self.path):
            out += f"[{part}]" if isinstance(part, int) else f".{part}"
        return out


def json_name(value: Any) -> str:
    """What a JSON value is, for messages: ``string "abc"``, ``integer 5``, ``object``."""
    name = _JSON_NAMES.get(type(value), type(value).__name__)
    if type(value) in (int, float, bool, str, _NONE):
        text = (repr(value) if type(value) is str
                else str(value).lower() if type(value) is bool else str(value))
        return f"{name} {text[:40]}" if value is not None else "null"
    return name


def type_hints(obj: Any) -> dict[str, Any]:
    """``typing.get_type_hints`` with extras; ``{}`` when forward references do not resolve."""
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except Exception:  # noqa: BLE001 -- unresolvable forward references: what is there
        return dict(getattr(obj, "__annotations__", {}) or {})


def _strip(tp: Any) -> Any:
    """Drop ``Required`` / ``NotRequired`` / ``ReadOnly`` wrappers."""
    while typing.get_origin(tp) in (typing.Required, typing.NotRequired):
        tp = typing.get_args(tp)[0]
    return tp


def is_builtin(tp: Any) -> bool:
    """True for what the untyped fast path checks fully: bare JSON builtins, ``Any``, unions of them."""
    tp = _strip(tp)
    if tp is typing.Any or (isinstance(tp, typing.Hashable) and tp in _BUILTINS) or tp is typing.Any:
        return True
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return all(is_builtin(a) for a in typing.get_args(tp))
    if origin in _ARRAYS or origin in _MAPPINGS:  # list[Any], dict[str, Any]
        return all(a in (Any, str, Ellipsis) for a in typing.get_args(tp)) and origin is not tuple
    return False


def needs_encoding(tp: Any) -> bool:
    """True when a result of this type may hold values JSON codecs do not know (dataclasses, enums...)."""
    tp = _strip(tp)
    if tp is Any or tp is object or tp in (int, float, str, bool, list, dict, _NONE, None):
        return tp is object
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return needs_encoding(typing.get_args(tp)[0])
    if origin is typing.Literal:
        return any(isinstance(a, enum.Enum) for a in typing.get_args(tp))
    if origin is not None:
        return any(needs_encoding(a) for a in typing.get_args(tp) if a is not Ellipsis) or origin in (
            tuple, set, frozenset, abc.Set)
    return True


def _fail(expected: str, value: Any) -> Mismatch:
    return Mismatch(expected, json_name(value))


_cache: dict[Any, Decoder] = {}


def decoder(tp: Any) -> Decoder:
    """The decoder of annotation ``tp`` (compiled once, cached): JSON value in, typed value out.

    :raises Mismatch: the value does not fit
    """
    try:
        return _cache[tp]
    except (KeyError, TypeError):
        pass
    cell: list[Decoder] = []

    def late(value: Any) -> Any:  # recursion (a dataclass holding a list of itself)
        return cell[0](value)

    try:
        _cache[tp] = late
    except TypeError:  # unhashable annotation
        return _compile(tp)
    try:
        cell.append(_compile(tp))
    except BaseException:
        del _cache[tp]
        raise
    _cache[tp] = cell[0]
    return cell[0]


def _scalar(kind: type, expected: str) -> Decoder:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise _fail(expected, value)
        return value

    return check


def _identity(value: Any) -> Any:
    return value


def _float(value: Any) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise _fail("number", value)


def _none(value: Any) -> None:
    if value is not None:
        raise _fail("null", value)


def _compile(tp: Any) -> Decoder:
    tp = _strip(tp)
    if tp is Any or tp is object or tp is typing.Any:
        return _identity
    if tp is None or tp is _NONE:
        return _none
    if tp is bool:
        return _scalar(bool, "boolean")
    if tp is int:
        return _scalar(int, "integer")
    if tp is str:
        return _scalar(str, "string")
    if tp is float:
        return _float
    if tp in _STRINGS:
        return _string_type(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        from ._constraints import constrained

        return constrained(decoder(args[0]), args[1:])
    if origin is typing.Union or origin is types.UnionType:
        return _union(args)
    if origin is typing.Literal:
        return _literal(args)
    if tp in _ARRAYS or origin in _ARRAYS:
        return _array(_ARRAYS[origin or tp], args)
    if tp in _MAPPINGS or origin in _MAPPINGS:
        return _mapping(args)
    if isinstance(tp, type):
        from ._classes import class_decoder

        return class_decoder(tp)
    return _identity  # a TypeVar, a NewType... not checked (as the untyped path does)


def _string_type(tp: type) -> Decoder:
    fmt, parse = _STRINGS[tp]

    def check(value: Any) -> Any:
        if type(value) is not str:
            raise _fail(f"string ({fmt})", value)
        try:
            out = parse(value)
        except (ValueError, decimal.InvalidOperation):
            raise _fail(f"string ({fmt})", value) from None
        if tp is dt.date and type(out) is not dt.date:  # pragma: no cover -- fromisoformat of date
            raise _fail(f"string ({fmt})", value)
        return out

    return check


def _union(args: tuple[Any, ...]) -> Decoder:
    members = [a for a in args if a not in (None, _NONE)]
    nullable = len(members) < len(args)
    if len(members) == 1:
        inner = decoder(members[0])

        def optional(value: Any) -> Any:
            return None if value is None else inner(value)

        return optional if nullable else inner
    decoders = [decoder(a) for a in members]
    expected = " | ".join(_describe(a) for a in args)

    def either(value: Any) -> Any:
        if value is None and nullable:
            return None
        for dec in decoders:
            try:
                return dec(value)
            except Mismatch:
                continue
        raise _fail(expected, value)

    return either


def _literal(args: tuple[Any, ...]) -> Decoder:
    plain = [a.value if isinstance(a, enum.Enum) else a for a in args]
    table = {(type(v), v): a for v, a in zip(plain, args, strict=True)}
    expected = "one of " + ", ".join(repr(v) for v in plain)

    def check(value: Any) -> Any:
        try:
            return table[(type(value), value)]
        except (KeyError, TypeError):
            raise _fail(expected, value) from None

    return check


_EXACT = {int: int, str: str, bool: bool}


def _array(kind: type, args: tuple[Any, ...]) -> Decoder:
    if kind is tuple and args and (len(args) != 2 or args[1] is not Ellipsis):
        decs = [decoder(a) for a in args] if args != ((),) else []
        n = len(decs)

        def fixed(value: Any) -> Any:
            if type(value) is not list or len(value) != n:
                raise _fail(f"array of {n} items", value)
            out = []
            for i, (dec, item) in enumerate(zip(decs, value, strict=True)):
                try:
                    out.append(dec(item))
                except Mismatch as exc:
                    exc.path.append(i)
                    raise
            return tuple(out)

        return fixed
    item = decoder(args[0]) if args else _identity
    exact = _EXACT.get(args[0]) if args and isinstance(args[0], type) else None
    if exact is not None:  # list[int], list[str], list[bool]: one type test per item, no call
        expected = _JSON_NAMES[exact]

        def plain(value: Any) -> Any:
            if type(value) is not list:
                raise _fail("array", value)
            for i, v in enumerate(value):
                if type(v) is not exact:
                    exc = _fail(expected, v)
                    exc.path.append(i)
                    raise exc
            return value if kind is list else kind(value)

        return plain

    def array(value: Any) -> Any:
        if type(value) is not list:
            raise _fail("array", value)
        if item is _identity:
            return value if kind is list else kind(value)
        out = []
        for i, v in enumerate(value):
            try:
                out.append(item(v))
            except Mismatch as exc:
                exc.path.append(i)
                raise
        return out if kind is list else kind(out)

    return array


def _mapping(args: tuple[Any, ...]) -> Decoder:
    key = decoder(args[0]) if args else _identity
    val = decoder(args[1]) if len(args) > 1 else _identity

    def mapping(value: Any) -> Any:
        if type(value) is not dict:
            raise _fail("object", value)
        if key is _identity and val is _identity:
            return value
        out = {}
        for k, v in value.items():
            try:
                out[key(k)] = val(v)
            except Mismatch as exc:
                exc.path.append(str(k))
                raise
        return out

    return mapping


def _describe(tp: Any) -> str:
    """A short name of a type for messages."""
    if tp is None or tp is _NONE:
        return "null"
    if tp in _JSON_NAMES:
        return _JSON_NAMES[tp]
    if tp in _STRINGS:
        return f"string ({_STRINGS[tp][0]})"
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")
