"""Decoders of classes: enums, dataclasses, ``TypedDict``, and msgspec / pydantic models."""

from __future__ import annotations

import dataclasses
import enum
import sys
import typing
from collections.abc import Callable
from typing import Any

from ._types import Decoder, Mismatch, decoder, json_name, type_hints

__all__ = ["class_decoder", "encode_foreign", "is_msgspec_struct", "is_pydantic_model", "typeddict_required"]


def is_msgspec_struct(tp: Any) -> bool:
    """True for a ``msgspec.Struct`` subclass (only when msgspec is imported already)."""
    msgspec = sys.modules.get("msgspec")
    return msgspec is not None and isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def is_pydantic_model(tp: Any) -> bool:
    """True for a ``pydantic.BaseModel`` subclass (only when pydantic is imported already)."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def class_decoder(tp: type) -> Decoder:
    """The decoder of a class annotation; classes it does not know are not checked."""
    if issubclass(tp, enum.Enum):
        return _enum(tp)
    if dataclasses.is_dataclass(tp):
        fields = [f for f in dataclasses.fields(tp) if f.init]
        hints = type_hints(tp)
        required = {f.name for f in fields
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        return _object(tp.__name__, {f.name: hints.get(f.name, Any) for f in fields}, required, tp)
    if typing.is_typeddict(tp):
        hints = type_hints(tp)
        return _object(tp.__name__, hints, typeddict_required(tp, hints), None)
    if is_msgspec_struct(tp):
        return _msgspec(tp)
    if is_pydantic_model(tp):
        return _pydantic(tp)
    return lambda value: value


def typeddict_required(tp: Any, hints: dict[str, Any]) -> set[str]:
    """The required keys of a ``TypedDict`` (``Required`` / ``NotRequired`` read from the hints:
    Python 3.11 misses them in ``__required_keys__`` under ``from __future__ import annotations``)."""
    out = set()
    for key, hint in hints.items():
        origin = typing.get_origin(hint)
        if origin is typing.Required or (origin is not typing.NotRequired and key in tp.__required_keys__):
            out.add(key)
    return out


def _enum(tp: type[enum.Enum]) -> Decoder:
    table = {(type(m.value), m.value): m for m in tp}
    expected = f"{tp.__name__}: one of " + ", ".join(repr(m.value) for m in tp)

    def check(value: Any) -> Any:
        try:
            return table[(type(value), value)]
        except (KeyError, TypeError):
            raise Mismatch(expected, json_name(value)) from None

    return check


def _object(name: str, hints: dict[str, Any], required: set[str], make: Callable[..., Any] | None) -> Decoder:
    """An object's decoder: each key by its decoder (``int`` / ``str`` / ``bool`` fields by an
    inline type test), then ``make(**decoded)`` (a dataclass) or the dict itself (``make=None``)."""
    fields: dict[str, tuple[type | None, Decoder | None]] = {}
    pending = dict(hints)
    expected = f"object ({name})"
    need = frozenset(required)
    exact = {int: int, str: str, bool: bool}

    def check(value: Any) -> Any:
        if pending:  # compiled on first use: a class may refer to itself or to a later class
            for key, tp in pending.items():
                kind = exact.get(tp) if isinstance(tp, type) else None
                fields[key] = (kind, None if kind is not None else decoder(tp))
            pending.clear()
        if type(value) is not dict:
            raise Mismatch(expected, json_name(value))
        out = {}
        for key, item in value.items():
            field = fields.get(key)
            if field is None:
                unexpected = Mismatch(f"one of the keys of {name}: {', '.join(fields) or 'none'}",
                                      "an unexpected key")
                unexpected.path.append(str(key))
                raise unexpected
            kind, dec = field
            if kind is not None:
                if type(item) is not kind:
                    wrong = Mismatch(_NAMES[kind], json_name(item))
                    wrong.path.append(key)
                    raise wrong
                out[key] = item
                continue
            try:
                out[key] = dec(item)  # type: ignore[misc]
            except Mismatch as exc:
                exc.path.append(key)
                raise
        if len(out) != len(fields) and not need <= out.keys():  # every field given: nothing missing
            missing = Mismatch(f"a value (required by {name})", "nothing")
            missing.path.append(next(k for k in hints if k in need and k not in out))
            raise missing
        if make is None:
            return out
        try:
            return make(**out)
        except (TypeError, ValueError) as err:  # __post_init__ refused it
            raise Mismatch(f"a valid {name} ({err})", "object") from None

    return check


_NAMES = {int: "integer", str: "string", bool: "boolean"}


def _msgspec(tp: type) -> Decoder:
    import msgspec

    def check(value: Any) -> Any:
        try:
            return msgspec.convert(value, tp)
        except msgspec.ValidationError as err:
            text = str(err)
            message, _, where = text.partition(" - at `$")
            exc = Mismatch(f"{tp.__name__} ({message})", json_name(value))
            parts = [p for p in where.rstrip("`").replace("]", "").replace("[", ".").split(".") if p]
            exc.path.extend(reversed([int(p) if p.isdigit() else p for p in parts]))
            raise exc from None

    return check


def _pydantic(tp: Any) -> Decoder:
    import pydantic

    def check(value: Any) -> Any:
        try:
            return tp.model_validate(value)
        except pydantic.ValidationError as err:
            first = err.errors()[0]
            exc = Mismatch(f"{tp.__name__} ({first.get('msg')})", json_name(first.get("input", value)))
            exc.path.extend(reversed(list(first.get("loc", ()))))
            raise exc from None

    return check


def encode_foreign(value: Any, encode: Callable[[Any], Any]) -> Any:
    """Encode a msgspec struct or a pydantic model; anything else as it is (the codec decides)."""
    if is_msgspec_struct(type(value)):
        import msgspec

        return msgspec.to_builtins(value)
    if is_pydantic_model(type(value)):
        return value.model_dump(mode="json")
    if isinstance(value, dict):  # a dict subclass (defaultdict, OrderedDict)
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v) for v in value]
    return value
