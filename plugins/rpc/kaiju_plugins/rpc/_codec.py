"""JSON codecs: ``ujson`` (default), ``orjson`` (optional, faster), ``json`` (stdlib).

Each codec is a ``(loads, dumps)`` pair: ``loads(bytes) -> object`` raises ``ValueError``
(or ``RecursionError``) on bad input; ``dumps(object) -> bytes`` raises ``TypeError`` /
``ValueError`` / ``OverflowError`` on values JSON cannot carry (NaN, infinities, objects).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

__all__ = ["CODECS", "get_codec"]

Loads = Callable[[bytes], Any]
Dumps = Callable[[Any], bytes]


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

    return ujson.loads, dumps


def _orjson() -> tuple[Loads, Dumps]:
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

    return orjson.loads, dumps


def _json() -> tuple[Loads, Dumps]:
    encode = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode

    def dumps(obj: Any) -> bytes:
        return encode(obj).encode()

    return json.loads, dumps


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
