"""JSON encoding that never raises: orjson (when installed) or ujson first, a sanitising fallback.

The formatter's hot path encodes with :data:`ENCODER`: ``orjson`` when it is installed (about
four times faster than ujson on a log record), else ``ujson`` (the design card's codec).
Whatever the first encoder refuses (lone surrogates, integers beyond 64 bits, non-string keys,
NaN for ujson, cycles) goes through :func:`dumps`, which never raises.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import ujson

try:
    import orjson as orjson  # re-exported: the formatters read it
except ImportError:  # pragma: no cover -- orjson is optional
    orjson = None  # type: ignore[assignment]

__all__ = ["ENCODER", "ENCODERS", "ORJSON_OPTIONS", "UJSON_OPTIONS", "dumps", "safe_repr", "sanitize"]

ENCODERS = ("orjson", "ujson") if orjson is not None else ("ujson",)
"""Encoders available here, the default first."""
ENCODER = ENCODERS[0]
"""The default encoder of :class:`~kaiju_plugins.logging.DataFormatter`: ``orjson`` when installed."""
ORJSON_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS) if orjson else 0
"""orjson options: datetimes and dataclasses go to ``default`` (their ``repr``), as with ujson."""

_MAX_DEPTH = 32
_ujson_dumps = ujson.dumps
_SCALARS = (str, int, bool, type(None))


def safe_repr(value: object) -> str:
    """``repr(value)``, or a placeholder naming the type when ``repr`` itself raises."""
    try:
        return repr(value)
    except Exception as exc:  # noqa: BLE001 -- a log line must never raise
        return f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"


def _key(key: object) -> str:
    return key if isinstance(key, str) else safe_repr(key)


UJSON_OPTIONS: tuple[Any, ...] = (False, False, False, False, 0, False, True, safe_repr)
"""Positional options of ``ujson.dumps(obj, ensure_ascii, encode_html_chars,
escape_forward_slashes, sort_keys, indent, allow_nan, reject_bytes, default)``: UTF-8 output,
``/`` unescaped, NaN refused, bytes and unknown objects as their ``repr``. Given by position
because keyword parsing costs more than encoding a small record."""


def sanitize(value: Any, depth: int = 0, seen: frozenset[int] = frozenset()) -> Any:
    """Return ``value`` as plain JSON types; anything else becomes its ``repr``.

    Non-finite floats, cycles, non-string keys and nesting deeper than 32 levels are
    rendered as strings instead of failing.
    """
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if depth >= _MAX_DEPTH:
        return "<too deep>"
    if id(value) in seen:
        return "<cycle>"
    if isinstance(value, Mapping):
        inner = seen | {id(value)}
        try:
            return {_key(k): sanitize(v, depth + 1, inner) for k, v in value.items()}
        except Exception:  # noqa: BLE001 -- a broken mapping is still logged, as its repr
            return safe_repr(value)
    if isinstance(value, (list, tuple)):
        inner = seen | {id(value)}
        return [sanitize(v, depth + 1, inner) for v in value]
    return safe_repr(value)


def dumps(obj: Any) -> str:
    """Encode ``obj`` as one line of compact JSON; never raises.

    Values JSON cannot hold (objects, sets, bytes, NaN, cycles) are written as their
    ``repr`` strings.
    """
    try:
        return _ujson_dumps(obj, *UJSON_OPTIONS)
    except Exception:  # noqa: BLE001 -- fall back to the slow, total path
        return _ujson_dumps(sanitize(obj), *UJSON_OPTIONS)
