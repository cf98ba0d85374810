"""A cached entry-point scan: the plugins' entry points without importing ``importlib_metadata``.

A live scan (``importlib_metadata.entry_points``) imports ``importlib_metadata`` and reads every
distribution's metadata: a few milliseconds of each start-up. The result of one group's scan is
kept in a small JSON file together with a fingerprint of what it was read from: for each
``sys.path`` entry, the name of each ``*.dist-info`` / ``*.egg-info`` in it and the modification
time of its ``entry_points.txt`` (of a file entry, a zip: its time and size). Installing, upgrading or
removing a distribution changes the fingerprint, and the next scan is live again (and rewrites
the file). Any mismatch or error (no cache directory, an unreadable or corrupt file, a write
that fails) falls back to the live scan: the cache can make start-up faster, never different.

The directory is :func:`kaiju_tools.caches.cache_dir`'s.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .caches import cache_dir, write_atomic

__all__ = ["EntryPointRecord", "cache_file", "entry_points", "fingerprint", "live_scan"]

_KEEP = 32
"""Scan files kept (one per set of installed distributions and search path: a venv each)."""

_FORMAT = 1
_DIST_SUFFIXES = (".dist-info", ".egg-info")


class EntryPointRecord:
    """One entry point as the kernel uses it: name, value, distribution and a ``load()``."""

    __slots__ = ("dist_name", "dist_version", "name", "value")

    def __init__(self, name: str, value: str, dist_name: str, dist_version: str) -> None:
        self.name = name
        self.value = value
        self.dist_name = dist_name
        self.dist_version = dist_version

    def load(self) -> Any:
        """Import the module (``module:attr.path`` resolves the attribute too), as ``EntryPoint.load``."""
        module_name, _, attrs = self.value.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj

    def as_list(self) -> list[str]:
        """The record as stored in the cache file."""
        return [self.name, self.value, self.dist_name, self.dist_version]

    def __repr__(self) -> str:
        return f"EntryPointRecord({self.name!r}, {self.value!r}, {self.dist_name!r}, {self.dist_version!r})"


def cache_file(group: str, path: list[str] | None = None, environ: Any = None) -> Path | None:
    """The cache file of ``group`` for this interpreter and ``path`` (default ``sys.path``)."""
    where = cache_dir(environ)
    if where is None:
        return None
    key = "\0".join([sys.executable, sys.version, group, *(sys.path if path is None else path)])
    return where / f"entry-points-{hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()}.json"


def fingerprint(path: list[str] | None = None) -> list[Any]:
    """What a scan of ``path`` (default ``sys.path``) depends on, as JSON-able data."""
    return list(_fingerprint(sys.path if path is None else path))


def _fingerprint(path: list[str]) -> Iterator[Any]:
    for entry in path:
        where = entry or "."
        try:
            stat = os.stat(where)
        except OSError:
            yield [entry, None]
            continue
        if not os.path.isdir(where):
            yield [entry, stat.st_mtime_ns, stat.st_size]
            continue
        dists = []
        with os.scandir(where) as found:
            for item in found:
                if item.name.endswith(_DIST_SUFFIXES):
                    try:
                        mtime = os.stat(os.path.join(item.path, "entry_points.txt")).st_mtime_ns
                    except OSError:
                        mtime = None
                    dists.append([item.name, mtime])
        dists.sort()
        yield [entry, dists]


def live_scan(group: str) -> list[EntryPointRecord]:
    """The entry points of ``group`` read by ``importlib_metadata`` (no cache)."""
    import importlib_metadata

    records = []
    for ep in importlib_metadata.entry_points(group=group):
        dist = ep.dist
        records.append(EntryPointRecord(ep.name, ep.value, dist.name if dist else "?",
                                        dist.version if dist else "?"))
    return records


def entry_points(group: str, environ: Any = None) -> list[EntryPointRecord]:
    """The entry points of ``group``: from the cache when its fingerprint matches, else a live scan
    (which then refreshes the cache). Same result either way."""
    try:
        target = cache_file(group, environ=environ)
        current = fingerprint() if target is not None else None
    except Exception:  # noqa: BLE001 -- the cache is an optimisation: any failure means a live scan
        target = current = None
    if target is not None:
        cached = _read(target, group, current)
        if cached is not None:
            return cached
    records = live_scan(group)
    if target is not None:
        _write(target, group, current, records)
    return records


def _read(target: Path, group: str, current: Any) -> list[EntryPointRecord] | None:
    try:
        with open(target, encoding="utf-8") as fh:
            data = json.load(fh)
        if data.get("format") != _FORMAT or data.get("group") != group or data.get("fingerprint") != current:
            return None
        return [EntryPointRecord(*(str(part) for part in row)) for row in data["entry_points"]]
    except Exception:  # noqa: BLE001 -- missing, unreadable or corrupt: a live scan
        return None


def _write(target: Path, group: str, current: Any, records: list[EntryPointRecord]) -> None:
    data = {"format": _FORMAT, "group": group, "fingerprint": current,
            "entry_points": [record.as_list() for record in records]}
    write_atomic(target, json.dumps(data).encode(), keep=_KEEP, family="entry-points-*.json")
