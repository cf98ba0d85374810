"""The YAML loaders: libyaml's C parser when PyYAML has it, else PyYAML's pure-Python one.

Both compose nodes in Python (PyYAML's ``Composer``, with the depth bound and the alias lines
below) on the parser's events, so the node graph, the values, the lines and the limits are the
same; only scanning and parsing run in C. A file the C parser refuses, and a file with a
character PyYAML's reader refuses or one of the few characters where the two part
(``_DIVERGES``: tabs, tags, block scalars, directives, complex keys), is read by the
pure-Python loader, so every error message comes from one place and reads the same either way.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

__all__ = ["HAS_C", "Loader", "PyLoader", "TooDeep", "new_loader", "use_c"]

_CParser: Any
try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml
    _CParser = None

_DIVERGES = re.compile("[\t!|>%?]")
"""Where libyaml and PyYAML part (found by comparing both on generated text): tabs (libyaml accepts
them as separators), tags (a bare ``!``), block scalars (``|``, ``>``: their indicators), directives
(``%``) and complex keys (``?``: the line of an empty key). A text with one goes to PyYAML."""
HAS_C = _CParser is not None
"""Whether libyaml's parser is available."""
_state = {"use_c": HAS_C}


def use_c(enabled: bool) -> bool:
    """Choose the C parser (when available) or the pure-Python one; return the previous choice."""
    previous = _state["use_c"]
    _state["use_c"] = enabled and HAS_C
    return previous


class TooDeep(Exception):
    """Composing stopped at the depth bound; ``mark`` is where."""

    def __init__(self, mark: Any) -> None:
        self.mark = mark


class _Bounded:
    """Stops composing at ``max_depth`` nested collections (PyYAML's composer recurses: a deeper
    file would end in a ``RecursionError``) and keeps the line of every alias."""

    max_depth: int
    depth: int
    alias_lines: dict[tuple[int, Any], int]

    def _bound(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.depth = 0
        self.alias_lines = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        events: Any = self
        if events.check_event(yaml.AliasEvent):
            line = events.peek_event().start_mark.line + 1
            self.alias_lines[(id(parent), index if isinstance(index, int) else id(index))] = line
            return super().compose_node(parent, index)  # type: ignore[misc,no-any-return]
        if not events.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            return super().compose_node(parent, index)  # type: ignore[misc,no-any-return]
        self.depth += 1
        try:
            if self.depth > self.max_depth:
                raise TooDeep(events.peek_event().start_mark)
            return super().compose_node(parent, index)  # type: ignore[misc,no-any-return]
        finally:
            self.depth -= 1


class PyLoader(_Bounded, yaml.SafeLoader):
    """PyYAML's safe loader (no Python tags: nothing is ever constructed from code), bounded."""

    def __init__(self, text: str, max_depth: int) -> None:
        yaml.SafeLoader.__init__(self, text)
        self._bound(max_depth)


Loader = Any
"""A loader of either kind: ``get_single_node``, ``construct_document``, ``dispose``, ``alias_lines``."""

if _CParser is not None:

    class _CLoader(_Bounded, Composer, _CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        """libyaml's parser with PyYAML's composer, safe constructor and resolver, bounded."""

        def __init__(self, text: str, max_depth: int) -> None:
            _CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._bound(max_depth)


def new_loader(text: str, max_depth: int, fast: bool | None = None) -> Loader:
    """A loader for ``text``: the C one when chosen (``fast``, default :func:`use_c`'s choice),
    available, and the text has none of ``_DIVERGES`` nor a character PyYAML's reader refuses;
    else the pure-Python one."""
    if fast is None:
        fast = _state["use_c"]
    if (fast and _CParser is not None and not _DIVERGES.search(text)
            and not yaml.reader.Reader.NON_PRINTABLE.search(text)):
        return _CLoader(text, max_depth)
    return PyLoader(text, max_depth)
