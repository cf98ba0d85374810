"""Read a ``.env.json`` file: a flat mapping of template values."""

from __future__ import annotations

import json
import re
from json.decoder import scanstring
from pathlib import Path
from typing import Any

from kaiju_tools import ConfigError, ConfigProblem, ConfigSource

__all__ = ["load_json"]


def load_json(path: Path) -> ConfigSource:
    """Parse ``path`` as a JSON object; every key's line is recorded.

    :raises ConfigError: malformed JSON (file:line:column) or a top level that is not an object
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(ConfigProblem(str(path), f"cannot read: {exc}")) from None
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
