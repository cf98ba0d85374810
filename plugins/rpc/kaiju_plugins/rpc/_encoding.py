"""Results as JSON values (by their runtime type), and the public ``from_json`` / ``to_json``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import uuid
from typing import Any

from ._types import Mismatch, decoder

__all__ = ["encode", "from_json", "to_json"]


def encode(value: Any) -> Any:
    """A result as plain JSON values: dataclasses and ``TypedDict``\\ s as objects, enums as their
    values, dates / times as ISO 8601 strings, ``UUID`` / ``Decimal`` as strings, tuples and sets
    as arrays (sets sorted); msgspec structs and pydantic models through their own library."""
    t = type(value)
    if t is str or t is int or t is bool or t is float or value is None:
        return value
    if t is list or t is tuple:
        return [encode(v) for v in value]
    if t is set or t is frozenset:  # sorted when the items allow it: one JSON form per value
        items = [encode(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if t is dict:
        return {(k.value if isinstance(k, enum.Enum) else k): encode(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return encode(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    from ._classes import encode_foreign

    return encode_foreign(value, encode)


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
