"""Results as JSON values (by their runtime type), and the public ``from_json`` / ``to_json``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Callable
from typing import Any

from ._types import Mismatch, decoder

__all__ = ["encode", "from_json", "to_json"]


def encode(value: Any) -> Any:
    """A result as plain JSON values: dataclasses and ``TypedDict``\\ s as objects, enums as their
    values, dates / times as ISO 8601 strings, ``UUID`` / ``Decimal`` as strings, tuples and sets
    as arrays (sets sorted); msgspec structs and pydantic models through their own library.

    The encoder of each runtime class is worked out once and kept (a dataclass's field names...).
    """
    t = type(value)
    if t is str or t is int or t is bool or t is float or value is None:
        return value
    enc = _BY_TYPE.get(t)
    if enc is None:
        enc = _BY_TYPE[t] = _encoder_of(t)
    return enc(value)


_BY_TYPE: dict[type, Callable[[Any], Any]] = {}


_PLAIN = frozenset((str, int, float, bool, type(None)))  # as they are: no call of encode() for them


def _sequence(value: Any) -> list[Any]:
    return [v if type(v) in _PLAIN else encode(v) for v in value]


def _set(value: Any) -> list[Any]:  # sorted when the items allow it: one JSON form per value
    items = [encode(v) for v in value]
    try:
        return sorted(items)
    except TypeError:
        return items


def _mapping(value: Any) -> dict[Any, Any]:
    return {(k.value if isinstance(k, enum.Enum) else k): v if type(v) in _PLAIN else encode(v)
            for k, v in value.items()}


def _encoder_of(t: type) -> Callable[[Any], Any]:
    if issubclass(t, (list, tuple)):
        return _sequence
    if issubclass(t, (set, frozenset)):
        return _set
    if issubclass(t, dict):
        return _mapping
    if issubclass(t, enum.Enum):
        return lambda v: encode(v.value)
    if dataclasses.is_dataclass(t):
        names = tuple(f.name for f in dataclasses.fields(t))
        return lambda o: {n: v if type(v := getattr(o, n)) in _PLAIN else encode(v) for n in names}
    if issubclass(t, (dt.datetime, dt.date, dt.time)):
        return lambda v: v.isoformat()
    if issubclass(t, (uuid.UUID, decimal.Decimal)):
        return str
    if issubclass(t, (str, int, float)):  # str / int / float subclasses (not enums): the plain value
        return lambda v: v
    from ._classes import encode_foreign

    return lambda v: encode_foreign(v, encode)


def from_json(tp: Any, value: Any) -> Any:
    """``value`` (decoded JSON) as a value of annotation ``tp`` -- what a typed route's params get.

    :raises ValueError: it does not fit; the message names the JSON path, e.g.
        ``value.points[3].x: expected integer, got string 'a'``
    """
    try:
        return decoder(tp)(value)
    except Mismatch as exc:
        raise ValueError(f"{exc.where('value')}: expected {exc.expected}, got {exc.found}") from None


def to_json(value: Any) -> Any:
    """``value`` as plain JSON values (what a typed route's result becomes); see :func:`encode`."""
    return encode(value)
