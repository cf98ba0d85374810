"""Read a YAML settings file, keeping the line of every value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from kaiju_tools import ConfigError, ConfigProblem, ConfigSource
from kaiju_tools.config import ConfigLimits

from ._yaml_compat import TooDeep, new_loader

__all__ = ["parse_text"]


def parse_text(path: Path, text: str, limits: ConfigLimits) -> ConfigSource:
    """Parse ``text`` (read from ``path``) as YAML; a mapping at the top (empty: an empty mapping).

    :raises ConfigError: malformed YAML (file:line:column), duplicate keys, non-mapping top,
        a limit exceeded (file:line, the limit, how to raise it)
    """
    origins: dict[tuple[Any, ...], str] = {}
    problems: list[ConfigProblem] = []
    try:
        try:
            data, node = _parse(path, text, limits, origins, problems, None)
        except yaml.YAMLError:  # the C parser refused it: the pure-Python one words the error
            origins.clear()
            problems.clear()
            data, node = _parse(path, text, limits, origins, problems, False)
    except TooDeep as exc:
        raise ConfigError(limits.problem(
            "max_depth", f"{path}:{exc.mark.line + 1}", f"mappings and lists nest {limits.max_depth + 1} "
            "levels here", "flatten the settings")) from None
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
    if data is None:
        data = {}
    if not isinstance(data, dict):
        at = f":{node.start_mark.line + 1}" if node is not None else ""
        raise ConfigError(ConfigProblem(
            f"{path}{at}", f"expected a mapping of settings at the top of the file, got "
            f"{type(data).__name__}", "start the file with keys such as `main:` or `services:`"))
    if problems:
        raise ConfigError(problems)
    return ConfigSource(data, origins, path)


def _parse(path: Path, text: str, limits: ConfigLimits, origins: dict[tuple[Any, ...], str],
           problems: list[ConfigProblem], fast: bool | None) -> tuple[Any, yaml.Node | None]:
    loader = new_loader(text, limits.max_depth, fast)
    try:
        node = loader.get_single_node()
        if node is not None:  # walk before constructing: construction flattens merge keys
            _Walker(str(path), limits, loader.alias_lines, origins, problems).walk(node, (), 0)
        return (loader.construct_document(node) if node is not None else {}), node
    finally:
        loader.dispose()


class _Walker:
    """Records the line of every node and counts values as if aliases were expanded.

    An alias is not walked again: its path gets the alias's line, and the values and depth
    of its anchor (computed once) are added. Memory stays in proportion to the file, not to
    the alias fan-out.
    """

    def __init__(self, name: str, limits: ConfigLimits, alias_lines: dict[tuple[int, Any], int],
                 origins: dict[tuple[Any, ...], str], problems: list[ConfigProblem]) -> None:
        self.name = name
        self.limits = limits
        self.alias_lines = alias_lines
        self.origins = origins
        self.problems = problems
        self.count = 0
        self.sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, levels) below it
        self.open: set[int] = set()

    def walk(self, node: yaml.Node, path: tuple[Any, ...], depth: int, line: int = 0,
             record: bool = True) -> int:
        """Walk ``node`` at ``path`` (``depth`` collections above it); return its levels."""
        done = self.sizes.get(id(node))
        if done is not None or id(node) in self.open:
            return self._alias(node, path, depth, line or node.start_mark.line + 1, done, record)
        if record:
            self.origins[path] = f"{self.name}:{node.start_mark.line + 1}"
        before = self.count
        self._add(1, line or node.start_mark.line + 1)
        levels = 0
        self.open.add(id(node))
        if isinstance(node, yaml.MappingNode):
            levels = 1 + self._mapping(node, path, depth + 1, record)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                below = self.walk(item, (*path, index), depth + 1, self._line(node, index), record)
                levels = max(levels, below)
            levels += 1
        self.open.discard(id(node))
        self.sizes[id(node)] = (self.count - before, levels)
        return levels

    def _mapping(self, node: yaml.MappingNode, path: tuple[Any, ...], depth: int, record: bool) -> int:
        levels = 0
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            alias_line = self._line(node, id(key_node))
            if key_node.tag == "tag:yaml.org,2002:merge":  # its values are counted, not recorded
                levels = max(levels, self.walk(value_node, path, depth - 1, alias_line, False) - 1)
                continue
            key = (key_node.value if isinstance(key_node, yaml.ScalarNode)
                   else f"<{key_node.id} at line {line}>")
            if key in seen and record:
                self.problems.append(ConfigProblem(
                    f"{self.name}:{line}", f"duplicate key {key!r} (first at line {seen[key]})",
                    "remove one of them: YAML would silently keep only the last"))
            seen[key] = line
            levels = max(levels, self.walk(value_node, (*path, key), depth, alias_line, record))
        return levels

    def _line(self, parent: yaml.Node, index: Any) -> int:
        return self.alias_lines.get((id(parent), index), 0)

    def _alias(self, node: yaml.Node, path: tuple[Any, ...], depth: int, line: int,
               done: tuple[int, int] | None, record: bool) -> int:
        anchor = node.start_mark.line + 1
        if done is None:
            raise ConfigError(ConfigProblem(
                f"{self.name}:{line}", f"the alias refers to the node it is part of (anchored at line "
                f"{anchor}): a recursive structure cannot be settings",
                "make the alias refer to a node defined before, outside it"))
        values, levels = done
        if depth + levels > self.limits.max_depth:
            raise ConfigError(self.limits.problem(
                "max_depth", f"{self.name}:{line}", f"with the alias (of line {anchor}) expanded, "
                f"mappings and lists nest {depth + levels} levels", "flatten the settings"))
        self._add(values, line, anchor)
        if record:
            self.origins[path] = f"{self.name}:{line} (alias of line {anchor})"
        return levels

    def _add(self, values: int, line: int, anchor: int = 0) -> None:
        self.count += values
        if self.count > self.limits.max_values:
            found = (f"with the alias (of line {anchor}) expanded, the file has {self.count} values"
                     if anchor else f"the file has {self.count} values")
            raise ConfigError(self.limits.problem(
                "max_values", f"{self.name}:{line}", found,
                "use fewer aliases (or aliases of smaller nodes)"))
