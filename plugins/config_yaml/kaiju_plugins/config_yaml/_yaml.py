"""Read a YAML settings file, keeping the line of every value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from kaiju_tools import ConfigError, ConfigProblem, ConfigSource

__all__ = ["load_yaml"]


class _Loader(yaml.SafeLoader):
    """Safe loader (no Python tags: nothing is ever constructed from code)."""


def load_yaml(path: Path) -> ConfigSource:
    """Parse ``path`` as YAML; a mapping at the top (an empty file is an empty mapping).

    :raises ConfigError: malformed YAML (file:line:column), duplicate keys, non-mapping top
    """
    text = _read(path)
    origins: dict[tuple[Any, ...], str] = {}
    problems: list[ConfigProblem] = []
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is not None:  # walk before constructing: construction flattens merge keys
            _walk(node, (), origins, problems, str(path))
        data = loader.construct_document(node) if node is not None else {}
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(ConfigProblem(
            f"{path}:{line}", f"malformed YAML: character {exc.character!r} is not allowed in YAML text",
            "remove the control character (or write it escaped inside a double-quoted string)")) from None
    except yaml.MarkedYAMLError as exc:
        start, stop = exc.context_mark, exc.problem_mark
        mark = stop or start
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or "cannot parse"
        if start is not None and exc.context:
            problem = f"{exc.context} started at {path}:{start.line + 1}: {problem}"
        raise ConfigError(ConfigProblem(where, f"malformed YAML: {problem}",
                                        "fix the YAML syntax at that line (indentation, quotes, "
                                        "colons, closing brackets)")) from None
    except yaml.YAMLError as exc:
        raise ConfigError(ConfigProblem(str(path), f"malformed YAML: {exc}")) from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        raise ConfigError(ConfigProblem(
            f"{path}{line}", f"expected a mapping of settings at the top of the file, got "
            f"{type(data).__name__}", "start the file with keys such as `main:` or `services:`"))
    if problems:
        raise ConfigError(problems)
    return ConfigSource(data, origins, path)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(ConfigProblem(str(path), f"not UTF-8 text: {exc}")) from None
    except OSError as exc:
        raise ConfigError(ConfigProblem(str(path), f"cannot read: {exc.strerror}")) from None


def _walk(node: yaml.Node, path: tuple[Any, ...], origins: dict[tuple[Any, ...], str],
          problems: list[ConfigProblem], name: str) -> None:
    origins[path] = f"{name}:{node.start_mark.line + 1}"
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(ConfigProblem(
                    f"{name}:{line}", f"duplicate key {key!r} (first at line {seen[key]})",
                    "remove one of them: YAML would silently keep only the last"))
            seen[key] = line
            _walk(value_node, (*path, key), origins, problems, name)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), origins, problems, name)
