"""Template values in settings (``"[key]"``, ``"[key:default]"``) and the literal parser.

A template that is the whole string yields the typed value (``"[run_port]"`` with
``run_port = 9999`` gives the int ``9999``); inside a longer string it is replaced by the
value's text (``"http://[run_host]:[run_port]"``). The default is parsed as a literal:
``"[main_env:'dev']"`` gives ``"dev"``, ``"[debug:false]"`` gives ``False``.

Environment and ``-e`` values are parsed by :func:`parse_literal`: never ``eval``.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .caches import dataclass

__all__ = ["MISSING", "TEMPLATE_RE", "Template", "find_templates", "parse_literal", "render"]

TEMPLATE_RE = re.compile(r"\[([A-Za-z_][A-Za-z0-9_.\-]*)(?::([^\]]*))?\]")
"""Matches ``[key]`` and ``[key:default]``; keys start with a letter or underscore."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Returned by a lookup for a key that has no value."""


@dataclass(frozen=True)
class Template:
    """One template found in a string."""

    key: str
    default: Any  # MISSING when the template has no default
    start: int
    end: int


def parse_literal(text: str) -> Any:
    """Parse ``text`` as a literal; anything that is not one stays the string itself.

    Accepted: JSON (``true``, ``null``, ``1.5``, ``"quoted"``, ``[1, 2]``, ``{"a": 1}``)
    and Python literals of settings data (``True``, ``None``, ``'quoted'``, ``(1, 2)`` as a
    list). Sets, bytes, complex numbers and ``...`` are not settings data: such text stays
    a string. Nothing is evaluated: ``__import__('os')`` stays a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_literal expects a str, got {type(text).__name__}: {text!r}")
    stripped = text.strip()
    if not stripped:
        return text
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        pass
    try:
        return _plain(ast.literal_eval(stripped))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """Settings data only: tuples become lists; sets, bytes, complex and ``...`` are refused."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, _SCALARS) for k in value):
            raise ValueError("mapping keys must be scalars")
        return {k: _plain(v) for k, v in value.items()}
    raise ValueError(f"not settings data: {type(value).__name__}")


def find_templates(text: str) -> list[Template]:
    """Return the templates in ``text`` in order."""
    found = []
    for match in TEMPLATE_RE.finditer(text):
        raw_default = match.group(2)
        default = MISSING if raw_default is None else parse_literal(raw_default)
        found.append(Template(match.group(1), default, match.start(), match.end()))
    return found


def render(text: str, lookup: Callable[[str], Any]) -> tuple[Any, list[str]]:
    """Resolve the templates of ``text`` with ``lookup(key)`` (which returns :data:`MISSING`).

    :return: the value (typed when the template is the whole string) and the keys that
        had neither a value nor a default
    """
    templates = find_templates(text)
    if not templates:
        return text, []
    missing: list[str] = []
    values = []
    for tpl in templates:
        value = lookup(tpl.key)
        if value is MISSING:
            value = tpl.default
        if value is MISSING:
            missing.append(tpl.key)
        values.append(value)
    if missing:
        return text, missing
    first = templates[0]
    if len(templates) == 1 and first.start == 0 and first.end == len(text):
        return values[0], []
    parts = []
    pos = 0
    for tpl, value in zip(templates, values, strict=True):
        parts.append(text[pos : tpl.start])
        parts.append(_as_text(value))
        pos = tpl.end
    parts.append(text[pos:])
    return "".join(parts), []


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, Mapping, list)):
        return json.dumps(value)
    return str(value)
