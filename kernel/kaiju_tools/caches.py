"""Where the kernel and plugins keep start-up caches, and how a cache file is written.

The caches (the entry-point scan, parsed settings files, the dataclasses' compiled methods) only
make a start faster: a reader that finds no file, an unreadable one or one that does not match
does the work again. The directory is ``KAIJU_CACHE_DIR`` when set (``-`` turns every cache off),
else the user's cache directory (``$XDG_CACHE_HOME/kaiju`` or ``~/.cache/kaiju``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ._dataclass_code import save_dataclass_code

if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:
    from ._dataclass_code import dataclass

__all__ = ["CACHE_ENV", "cache_dir", "dataclass", "prune", "save_dataclass_code", "write_atomic"]

CACHE_ENV = "KAIJU_CACHE_DIR"
"""The environment variable naming the cache directory (``-``: no caches)."""


def cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """The cache directory (``None``: caching is off); ``environ`` defaults to ``os.environ``."""
    env = os.environ if environ is None else environ
    chosen = env.get(CACHE_ENV)
    if chosen == "-":
        return None
    if chosen:
        return Path(chosen)
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kaiju"


def write_atomic(target: Path, blob: bytes, keep: int | None = None, family: str = "*") -> bool:
    """Write ``blob`` to ``target`` through a temporary file and a rename, so a reader never sees
    half a file; ``False`` when it could not be written (a read-only or missing directory): a
    cache that cannot be written is no cache, never an error.

    :param keep: after a write, keep at most this many files of the ``family`` glob in the
        target's directory, the most recently used (see :func:`prune`); ``None``: no limit
    """
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, target)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    if keep is not None:
        prune(target.parent, family, keep)
    return True


def prune(directory: Path, family: str, keep: int) -> int:
    """Delete the files of the glob ``family`` in ``directory`` beyond the ``keep`` most recently
    modified (a hit rewrites nothing, so "modified" is "written": an entry still read is one a
    start wrote again after a change); return how many were deleted. A cache keyed by content
    (a config file's text, a set of installed distributions) gets a new file per change: without
    a bound it grows for ever. Errors (a file already gone, no permission) are ignored."""
    try:
        files = [(entry.stat().st_mtime, entry) for entry in directory.glob(family)
                 if not entry.name.endswith(".tmp")]
    except OSError:
        return 0
    if len(files) <= keep:
        return 0
    files.sort(key=lambda pair: pair[0], reverse=True)
    deleted = 0
    for _, path in files[keep:]:
        try:
            path.unlink()
            deleted += 1
        except OSError:
            pass
    return deleted
