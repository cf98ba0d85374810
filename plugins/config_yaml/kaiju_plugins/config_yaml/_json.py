"""Read a ``.env.json`` file: a flat mapping of template values."""

from __future__ import annotations

import json
import re
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
    origins: dict[tuple[Any, ...], str] = {}
    for key in data:
        match = re.search(r'"' + re.escape(json.dumps(key)[1:-1]) + r'"\s*:', text)
        line = text.count("\n", 0, match.start()) + 1 if match else 1
        origins[(key,)] = f"env file {path}:{line}"
    return ConfigSource(data, origins, path)
