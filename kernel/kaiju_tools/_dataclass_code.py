"""``dataclass`` with the generated methods compiled once per installation, not at every import.

``dataclasses.dataclass`` writes a class's ``__init__``, ``__repr__``, ``__eq__`` (and more for
``frozen`` / ``order``) as source text and runs it through ``exec``, which parses and compiles it:
about 2.8 M instructions for a class of six fields, against 0.07 M for the plain class, and
≈ 40 M of an app's start-up with every first-party plugin. :func:`dataclass` is the standard
decorator with one difference: its ``exec`` runs the code object compiled from the same text at
an earlier start. The text is the key (and the Python version is in the file's name), so the
methods are exactly the ones ``dataclasses`` makes; they are only not compiled again. A text
never seen is compiled as usual and kept; :func:`save_dataclass_code` writes the file
(``run_server`` calls it once the app is built; it also runs at exit). No cache directory, an
unreadable or corrupt file: every class is compiled, as without the cache.
"""

from __future__ import annotations

import atexit
import dataclasses
import marshal
import sys
from pathlib import Path
from types import CodeType
from typing import Any

__all__ = ["dataclass", "save_dataclass_code"]

_MAX_ENTRIES = 4096  # beyond it, a save keeps only the texts this process used
_codes: dict[str, CodeType] | None = None
_used: set[str] = set()
_dirty = False


def _file() -> Path | None:
    from .caches import cache_dir  # caches imports this module

    where = cache_dir()
    if where is None:
        return None
    return where / f"dataclass-code-{sys.implementation.cache_tag}-{sys.hexversion:x}.marshal"


def _load() -> dict[str, CodeType]:
    global _codes
    if _codes is None:
        _codes = {}
        path = _file()
        if path is not None:
            try:
                loaded = marshal.loads(path.read_bytes())
            except (OSError, EOFError, ValueError, TypeError):
                loaded = None
            if isinstance(loaded, dict):
                _codes = {k: v for k, v in loaded.items() if type(k) is str and type(v) is CodeType}
    return _codes


def _exec(source: Any, globals: Any = None, locals: Any = None) -> None:
    """``exec`` for ``dataclasses``: the text's code object from the cache, compiled on a miss."""
    global _dirty
    if type(source) is not str:
        exec(source, globals, locals)
        return
    codes = _load()
    code = codes.get(source)
    if code is None:
        code = compile(source, "<string>", "exec", dont_inherit=True)  # not this module's __future__
        codes[source] = code
        if not _dirty:
            _dirty = True
            atexit.register(save_dataclass_code)
    _used.add(source)
    exec(code, globals, locals)


def dataclass(cls: Any = None, /, **options: Any) -> Any:
    """:func:`dataclasses.dataclass` (same arguments, same class), its methods' code cached.

    Type checkers see :func:`dataclasses.dataclass` itself (``kaiju_tools.caches`` re-exports it
    under ``TYPE_CHECKING``).
    """

    def wrap(klass: type) -> type:
        namespace = vars(dataclasses)
        namespace["exec"] = _exec  # a module global: shadows the builtin for dataclasses' own calls
        try:
            return dataclasses.dataclass(**options)(klass)
        finally:
            namespace.pop("exec", None)

    return wrap if cls is None else wrap(cls)


def save_dataclass_code() -> bool:
    """Write the compiled methods seen so far to the cache, if any are new; ``True`` when written."""
    global _dirty
    path = _file()
    if not _dirty or _codes is None or path is None:
        return False
    _dirty = False
    keep = _codes if len(_codes) <= _MAX_ENTRIES else {k: _codes[k] for k in _used}
    from .caches import write_atomic

    return write_atomic(path, marshal.dumps(keep))
