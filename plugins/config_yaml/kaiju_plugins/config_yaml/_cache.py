"""``load_yaml`` through a cache of parsed files: a file read before (same text, path and limits)
is not parsed again, and PyYAML is not even imported.

The key is a hash of the file's text, its path as given, the limits and the Python version;
the entry holds the data and the line of every value (``marshal``: no code runs on load). Only
files that parse cleanly are kept, and only when every value is one ``marshal`` keeps as is
(a date or timestamp value: not kept), so errors, data and provenance are those of a parse.
Any failure to read or write the cache means a parse. The directory is the kernel's cache
directory (``KAIJU_CACHE_DIR``, ``-`` for none), below ``config/``.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from pathlib import Path
from typing import Any

from kaiju_tools import ConfigError, ConfigProblem, ConfigSource
from kaiju_tools.caches import cache_dir, write_atomic
from kaiju_tools.config import ConfigLimits

__all__ = ["cache_path", "load_yaml", "read_text"]

_KEEP = 256
"""Parsed files kept (one per file path, text and limits: a changed file makes a new one)."""

_FORMAT = b"kaiju-config-yaml/1"
_MARSHAL_VERSION = 4


def read_text(path: Path) -> str:
    """The file's text; a :class:`ConfigError` when it is not UTF-8 or cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(ConfigProblem(str(path), f"not UTF-8 text: {exc}")) from None
    except OSError as exc:
        raise ConfigError(ConfigProblem(str(path), f"cannot read: {exc.strerror}")) from None


def cache_path(path: Path, text: str, limits: ConfigLimits) -> Path | None:
    """Where the parse of ``text`` (read from ``path`` under ``limits``) is kept (``None``: no cache)."""
    where = cache_dir()
    if where is None:
        return None
    digest = hashlib.sha256(_FORMAT)
    for part in (sys.version, str(path), repr(limits), text):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return where / "config" / f"{digest.hexdigest()}.marshal"


def load_yaml(path: Path, limits: ConfigLimits | None = None) -> ConfigSource:
    """Parse ``path`` as YAML; a mapping at the top (an empty file is an empty mapping).

    :param limits: size, nesting and values after alias expansion (default :class:`ConfigLimits`)
    :raises ConfigError: malformed YAML (file:line:column), duplicate keys, non-mapping top,
        a limit exceeded (file:line, the limit, how to raise it)
    """
    limits = limits or ConfigLimits()
    limits.check_size(path)
    text = read_text(path)
    try:
        target = cache_path(path, text, limits)
    except Exception:  # noqa: BLE001 -- the cache is an optimisation: any failure means a parse
        target = None
    if target is not None:
        hit = _read(target)
        if hit is not None:
            return ConfigSource(hit[0], hit[1], path)
    from ._yaml import parse_text  # PyYAML only when a file is parsed

    source = parse_text(path, text, limits)
    if target is not None:
        _write(target, source)
    return source


def _read(target: Path) -> tuple[Any, Any] | None:
    try:
        with open(target, "rb") as fh:
            data, origins = marshal.loads(fh.read())
    except Exception:  # noqa: BLE001 -- missing, unreadable or corrupt: a parse
        return None
    if not isinstance(data, dict) or not isinstance(origins, dict):
        return None
    return data, origins


def _write(target: Path, source: ConfigSource) -> None:
    payload: Any = (source.data, source.origins)
    try:
        blob = marshal.dumps(payload, _MARSHAL_VERSION)
    except ValueError:  # a value marshal does not keep (a date): not cached
        return
    write_atomic(target, blob, keep=_KEEP, family="*.marshal")
