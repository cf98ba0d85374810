"""Bounds on configuration input: file size, nesting depth, values after alias expansion.

A settings file is small; one that is not is a mistake or an attack (a few hundred bytes of
YAML aliases expand to gigabytes). The loaders check these limits while they read, and each
violation is a :class:`~kaiju_tools.ConfigError` naming the file and line, the limit and the
environment variable that raises it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .caches import dataclass
from .exceptions import ConfigError, ConfigProblem

__all__ = ["ConfigLimits", "nesting_depth"]

_ENV = {
    "max_bytes": "KAIJU_CONFIG_MAX_BYTES",
    "max_depth": "KAIJU_CONFIG_MAX_DEPTH",
    "max_values": "KAIJU_CONFIG_MAX_VALUES",
}


@dataclass(frozen=True)
class ConfigLimits:
    """Limits every configuration source is read under (one file at a time).

    Each can be changed with an environment variable of the process that loads the config:
    ``KAIJU_CONFIG_MAX_BYTES``, ``KAIJU_CONFIG_MAX_DEPTH``, ``KAIJU_CONFIG_MAX_VALUES``.
    """

    max_bytes: int = 4 * 1024 * 1024
    """Size of one file, in bytes."""
    max_depth: int = 64
    """Nesting of mappings and lists (the top mapping is level 1), aliases expanded."""
    max_values: int = 100_000
    """Values (mappings, lists and scalars) of one file once its aliases are expanded."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ConfigLimits:
        """Defaults, overridden by the ``KAIJU_CONFIG_MAX_*`` variables of ``environ``.

        :raises ConfigError: a variable that is not a positive integer
        """
        environ = os.environ if environ is None else environ
        values: dict[str, int] = {}
        problems = []
        for name, var in _ENV.items():
            text = environ.get(var)
            if text is None:
                continue
            try:
                values[name] = int(text.strip().replace("_", ""))
            except ValueError:
                values[name] = 0
            if values[name] <= 0:
                problems.append(ConfigProblem(
                    f"environment variable {var}", f"expected a positive integer, got {text!r}",
                    f"unset it to use the default ({getattr(cls, name)}), or set a number"))
        if problems:
            raise ConfigError(problems)
        return cls(**values)

    def problem(self, limit: str, where: str, found: str, fix: str) -> ConfigProblem:
        """A problem for a violated limit: where, what was found, the limit and how to raise it."""
        value = getattr(self, limit)
        unit = {"max_bytes": "bytes", "max_depth": "levels", "max_values": "values"}[limit]
        return ConfigProblem(
            where, f"{found}: over the limit of {value} {unit} ({limit})",
            f"{fix}; if it is intended, raise the limit: {_ENV[limit]}={value * 4}")

    def check_size(self, path: Path) -> None:
        """Raise before reading a file larger than :attr:`max_bytes`.

        :raises ConfigError: naming the file, its size and the limit
        """
        try:
            size = path.stat().st_size
        except OSError:
            return  # the reader reports what is wrong with the file
        if size > self.max_bytes:
            raise ConfigError(self.problem(
                "max_bytes", str(path), f"the file is {size} bytes",
                "settings files are small: move data out of the config"))

    def check_value(self, value: Any, where: str) -> ConfigProblem | None:
        """A problem when ``value`` (an env or ``-e`` value) nests deeper than :attr:`max_depth`."""
        depth = nesting_depth(value, self.max_depth + 1)
        if depth > self.max_depth:
            return self.problem("max_depth", where, f"the value nests {depth} levels",
                                "flatten the value")
        return None


def nesting_depth(value: Any, stop: int) -> int:
    """Levels of mappings and lists in ``value`` (a tree; a scalar is 0), counted up to ``stop``."""
    best = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (Mapping, list)):
            depth += 1
            if depth >= stop:
                return depth
            best = max(best, depth)
            stack.extend((child, depth) for child in (item.values() if isinstance(item, Mapping) else item))
    return best
