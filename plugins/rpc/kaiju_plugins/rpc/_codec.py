"""JSON codecs: ``ujson`` (default), ``orjson`` (optional, faster), ``json`` (stdlib).

Each codec is a ``(loads, dumps)`` pair: ``loads(bytes) -> object`` raises ``ValueError``
(or ``RecursionError``) on bad input; ``dumps(object) -> bytes`` raises ``TypeError`` /
``ValueError`` / ``OverflowError`` on values JSON cannot carry (NaN, infinities, objects).

Every ``loads`` reads standard JSON (RFC 8259) only, alike in the three codecs:

- ``NaN``, ``Infinity``, ``-Infinity`` are errors (ujson and json accept them by default:
  here a body that spells one is read again by the strict decoder, which refuses them).
- A lone surrogate escape (``"\\ud800"`` without its pair) is an error: such a string cannot be
  written back as UTF-8 (orjson refuses it by itself; for ujson and json a body that spells
  ``\\ud`` / ``\\uD`` has its strings checked).
- Duplicate keys in an object: the last one wins (what all three do; RFC 8259 leaves it open
  and rejecting them would cost a hook per object on the hot path).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

__all__ = ["CODECS", "get_codec"]

Loads = Callable[[bytes], Any]
Dumps = Callable[[Any], bytes]

_as_text = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or infinities)")


_strict_decode = json.JSONDecoder(parse_constant=_refuse_constant).decode


def _strict(data: bytes | str) -> Any:
    """The stdlib decoder without NaN / Infinity (what ``json.loads`` does with bytes first)."""
    text = data if isinstance(data, str) else data.decode(json.detect_encoding(data), "surrogatepass")
    value = _strict_decode(text)
    if "\\ud" in text or "\\uD" in text:
        _no_lone_surrogates(value)
    return value


def _no_lone_surrogates(value: Any) -> None:
    try:
        _as_text(value).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate "
                         "(a \\ud800-\\udfff escape without its pair)") from None


def _ujson() -> tuple[Loads, Dumps]:
    import ujson

    strict = partial(ujson.dumps, allow_nan=False)

    def dumps(obj: Any, _encode: Callable[[Any], str] = ujson.dumps) -> bytes:
        # ujson's allow_nan=False costs ~0.5 µs per call in argument parsing; NaN and
        # infinities are rare, so look for their spelling and only then encode strictly
        text = _encode(obj)
        if "NaN" in text or "Infinity" in text:
            text = strict(obj)
        return text.encode()

    def careful(data: bytes | str) -> Any:
        text = data.decode() if type(data) is bytes else data
        if "NaN" in text or "Infinity" in text:
            return _strict(text)
        value = ujson.loads(data)
        if "\\ud" in text or "\\uD" in text:
            _no_lone_surrogates(value)
        return value

    def loads(data: bytes, _decode: Callable[[bytes], Any] = ujson.loads) -> Any:
        # ujson reads NaN / Infinity and lone surrogates: only a body holding an N, an I or a
        # backslash can spell them, and `int in bytes` is a memchr; the exact searches run then.
        # (Not `b"NaN" in data`: a bytes needle is first tried as an int, raising and
        # formatting a TypeError inside, every time; and bytes.find parses its arguments slowly)
        if type(data) is not bytes or 78 in data or 73 in data or 92 in data:  # N, I, backslash
            return careful(data)
        return _decode(data)

    return loads, dumps


def _orjson() -> tuple[Loads, Dumps]:
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

    return orjson.loads, dumps


def _json() -> tuple[Loads, Dumps]:
    encode = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode

    def dumps(obj: Any) -> bytes:
        return encode(obj).encode()

    return _strict, dumps


CODECS: dict[str, Callable[[], tuple[Loads, Dumps]]] = {"ujson": _ujson, "orjson": _orjson, "json": _json}
"""Codec name -> factory of its ``(loads, dumps)``."""


def get_codec(name: str) -> tuple[Loads, Dumps]:
    """Return the ``(loads, dumps)`` pair of codec ``name``.

    :raises ValueError: unknown codec, or its package is not installed (says what to install)
    """
    factory = CODECS.get(name)
    if factory is None:
        raise ValueError(f"expected a codec name ({', '.join(CODECS)}), got {name!r}")
    try:
        return factory()
    except ImportError as exc:
        raise ValueError(f"codec {name!r} needs the package {exc.name!r}, which is not installed: "
                         f"pip install {exc.name} (or kaiju-plugin-rpc[speed])") from None
