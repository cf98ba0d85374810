"""``Annotated`` constraints: ``gt`` / ``ge`` / ``lt`` / ``le``, ``min_length`` / ``max_length``, ``pattern``.

Read by attribute name from each metadata object of ``Annotated[T, ...]``, so
:class:`~._types.Constraint`, ``annotated_types`` (``Gt(0)``, ``Len(1, 5)``, ``Interval``...)
and ``msgspec.Meta`` all work; other metadata is ignored.
"""

from __future__ import annotations

import re
from typing import Any

from ._types import Decoder, Mismatch, json_name

__all__ = ["KEYS", "collect", "constrained"]

KEYS = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern")


def collect(metadata: tuple[Any, ...]) -> dict[str, Any]:
    """The constraints the metadata objects of an ``Annotated`` carry (later ones win)."""
    out: dict[str, Any] = {}
    for meta in metadata:
        for key in KEYS:
            value = getattr(meta, key, None)
            if value is not None and not callable(value):
                out[key] = value
        # annotated_types
        if type(meta).__name__ == "MaxLen" and getattr(meta, "max_length", None) is not None:
            out["max_length"] = meta.max_length
    return out


def constrained(inner: Decoder, metadata: tuple[Any, ...]) -> Decoder:
    """``inner`` followed by the checks of the constraints in ``metadata`` (``inner`` alone when none)."""
    rules = collect(metadata)
    if not rules:
        return inner
    gt, ge, lt, le = (rules.get(k) for k in ("gt", "ge", "lt", "le"))
    min_len, max_len = rules.get("min_length"), rules.get("max_length")
    pattern = re.compile(rules["pattern"]) if "pattern" in rules else None

    def check(value: Any) -> Any:
        out = inner(value)
        if gt is not None and not out > gt:
            raise Mismatch(f"a value > {gt}", json_name(value))
        if ge is not None and not out >= ge:
            raise Mismatch(f"a value >= {ge}", json_name(value))
        if lt is not None and not out < lt:
            raise Mismatch(f"a value < {lt}", json_name(value))
        if le is not None and not out <= le:
            raise Mismatch(f"a value <= {le}", json_name(value))
        if min_len is not None and len(out) < min_len:
            raise Mismatch(f"a length >= {min_len}", f"length {len(out)}")
        if max_len is not None and len(out) > max_len:
            raise Mismatch(f"a length <= {max_len}", f"length {len(out)}")
        if pattern is not None and not pattern.search(out):
            raise Mismatch(f"a string matching {pattern.pattern!r}", json_name(value))
        return out

    return check
