"""Read a ``.env.json`` file: a flat mapping of template values."""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # the decoder's own (C) string scanner
from pathlib import Path
from typing import Any

from kaiju_tools import ConfigError, ConfigProblem, ConfigSource
from kaiju_tools.config import ConfigLimits

__all__ = ["load_json"]

_TOKENS = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')
"""A JSON string (skipped) or a bracket (counted) for the nesting check."""


def load_json(path: Path, limits: ConfigLimits | None = None) -> ConfigSource:
    """Parse ``path`` as a JSON object; every key's line is recorded.

    :param limits: size and nesting (default :class:`ConfigLimits`)
    :raises ConfigError: malformed JSON (file:line:column), a top level that is not an object,
        a limit exceeded (file:line, the limit, how to raise it)
    """
    limits = limits or ConfigLimits()
    limits.check_size(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(ConfigProblem(str(path), f"cannot read: {exc}")) from None
    _check_depth(text, path, limits)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(ConfigProblem(f"{path}:{exc.lineno}:{exc.colno}", f"malformed JSON: {exc.msg}",
                                        "check commas and double quotes around keys and strings")) from None
    except RecursionError:
        raise ConfigError(ConfigProblem(str(path), "malformed JSON: nested too deeply")) from None
    if not isinstance(data, dict):
        raise ConfigError(ConfigProblem(
            str(path), f"expected a JSON object (a flat map of env values), got {type(data).__name__}",
            'write it as {"key": value, ...}'))
    lines = _top_level_key_lines(text)
    origins: dict[tuple[Any, ...], str] = {(key,): f"env file {path}:{lines.get(key, 1)}" for key in data}
    return ConfigSource(data, origins, path)


def _check_depth(text: str, path: Path, limits: ConfigLimits) -> None:
    """Raise at the first bracket nested deeper than ``limits.max_depth`` (before ``json.loads``,
    which would recurse into it)."""
    depth = 0
    for match in _TOKENS.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > limits.max_depth:
                line = text.count("\n", 0, match.start()) + 1
                raise ConfigError(limits.problem(
                    "max_depth", f"{path}:{line}", f"objects and arrays nest {depth} levels here",
                    "an env file is a flat map of values: flatten it"))
        elif char in "]}":
            depth -= 1


def _top_level_key_lines(text: str) -> dict[str, int]:
    """Line of each top-level key of a JSON object (the last one wins, as in ``json.loads``)."""
    decoder = json.JSONDecoder()
    space = re.compile(r"[ \t\n\r]*")
    lines: dict[str, int] = {}
    pos = space.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith("{", pos):
        return lines
    pos += 1
    while True:
        pos = space.match(text, pos).end()  # type: ignore[union-attr]
        if not text.startswith('"', pos):
            return lines
        key, end = scanstring(text, pos + 1)
        lines[key] = text.count("\n", 0, pos) + 1
        pos = space.match(text, end).end()  # type: ignore[union-attr]
        if not text.startswith(":", pos):
            return lines
        pos = space.match(text, pos + 1).end()  # type: ignore[union-attr]
        _, pos = decoder.raw_decode(text, pos)
        pos = space.match(text, pos).end()  # type: ignore[union-attr]
        if not text.startswith(",", pos):
            return lines
        pos += 1
