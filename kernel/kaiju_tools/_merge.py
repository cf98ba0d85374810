"""Deep merge of settings mappings that keeps track of where every value came from."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["CONCAT_KEYS", "Origins", "Path", "format_key", "merge_into", "walk"]

Path = tuple[Any, ...]
Origins = dict[Path, str]

CONCAT_KEYS = frozenset({"services", "packages"})
"""Top-level lists that later files extend instead of replacing."""


def format_key(path: Path) -> str:
    """``("services", 0, "settings", "x")`` -> ``"services[0].settings.x"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


def walk(data: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Yield ``(path, value)`` for every leaf and container below ``data`` (pre-order)."""
    yield path, data
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from walk(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk(value, (*path, index))


def _shift(origins: Origins, prefix: Path, offset: int) -> Origins:
    out: Origins = {}
    n = len(prefix)
    for path, where in origins.items():
        if path[:n] == prefix and len(path) > n and isinstance(path[n], int):
            path = (*prefix, path[n] + offset, *path[n + 1 :])
        out[path] = where
    return out


def merge_into(
    base: dict[str, Any], base_origins: Origins, new: Mapping[str, Any], new_origins: Origins,
    _path: Path = (),
) -> None:
    """Merge ``new`` into ``base`` in place (and ``new_origins`` into ``base_origins``).

    Mappings merge key by key; the top-level ``services`` and ``packages`` lists are
    extended; any other value of ``new`` replaces the one in ``base``.
    """
    for key, value in new.items():
        path = (*_path, key)
        old = base.get(key)
        if not _path and key in CONCAT_KEYS and value is None:
            continue  # an empty `services:` in a later file adds nothing, it does not erase
        if isinstance(old, dict) and isinstance(value, Mapping):
            merge_into(old, base_origins, value, new_origins, path)
            if path in new_origins:
                base_origins.setdefault(path, new_origins[path])
            continue
        if not _path and key in CONCAT_KEYS and isinstance(old, list) and isinstance(value, list):
            offset = len(old)
            old.extend(value)
            shifted = _shift({p: w for p, w in new_origins.items() if p[:1] == (key,)}, (key,), offset)
            for p, w in shifted.items():
                if p != (key,):
                    base_origins[p] = w
            continue
        for stale in [p for p in base_origins if p[: len(path)] == path]:
            del base_origins[stale]
        base[key] = _copy(value)
        for p, w in new_origins.items():
            if p[: len(path)] == path:
                base_origins[p] = w


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
