"""Records of one fixed shape (a line writer's), queued without a :class:`logging.LogRecord`.

A :class:`Shape` is made once per line writer: the logger name, the message, the extra keys
and the text template of the extras. A :class:`FixedRecord` (a tuple) carries what varies: the level,
the values, the time, the caller's :mod:`contextvars` context and the process id. Our
formatters render it directly (``TextFormatter`` / ``DataFormatter``: the same line as the
record :meth:`FixedRecord.to_record` makes); anything else gets that record.
"""

from __future__ import annotations

import logging
from contextvars import Context
from operator import itemgetter
from typing import Any

from ._record import CONTEXT_ATTR

__all__ = ["FixedRecord", "Shape"]

_level_names: dict[int, str] = {}


def _level_name(level: int) -> str:
    name = logging.getLevelName(level)
    if len(_level_names) < 64:
        _level_names[level] = name
    return name


class Shape:
    """What the records of one line writer share.

    :param name: logger name
    :param msg: the message
    :param keys: the extras' keys, in the order of the values
    :param caller: ``(pathname, lineno, function)`` of the records
    """

    __slots__ = ("caller", "keys", "msg", "name", "name_msg", "text")

    def __init__(self, name: str, msg: str, keys: tuple[str, ...], caller: tuple[str, int, str]) -> None:
        self.name = name
        self.msg = msg
        self.keys = keys
        self.caller = caller
        head = f"{name} | {msg}"
        plain = head.isprintable() and head.count("|") == 1 and all(type(k) is str for k in keys)
        self.name_msg: str | None = head if plain else None
        """``"name | msg"`` of a text line, ``None`` when they need escaping (the general path)."""
        self.text = "{" + ", ".join(f"{k!r}: %r" for k in keys) + "}"
        """``repr(dict(zip(keys, values)))`` as a ``%`` template."""


class FixedRecord(tuple):  # type: ignore[type-arg]
    """One record of a :class:`Shape`: ``(shape, levelno, values, created, ctx, process)``.

    A tuple (made in C, no ``__init__`` to run: this is the caller's hot path); ``levelno``,
    ``levelname``, ``name`` and ``msg`` read as a ``LogRecord``'s do.
    """

    __slots__ = ()

    args = None
    exc_info = exc_text = stack_info = None

    shape: Shape = property(itemgetter(0))  # type: ignore[assignment]
    levelno: int = property(itemgetter(1))  # type: ignore[assignment]
    values: tuple[Any, ...] = property(itemgetter(2))  # type: ignore[assignment]
    created: float = property(itemgetter(3))  # type: ignore[assignment]
    ctx: Context = property(itemgetter(4))  # type: ignore[assignment]
    process: int = property(itemgetter(5))  # type: ignore[assignment]

    @property
    def levelname(self) -> str:
        """The level's name."""
        level: int = self[1]
        return _level_names.get(level) or _level_name(level)

    @property
    def msg(self) -> str:
        """The message."""
        return self[0].msg  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        """The logger name."""
        return self[0].name  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<FixedRecord {self.name} {self.levelname} {self.msg!r}>"

    def to_record(self) -> logging.LogRecord:
        """The :class:`logging.LogRecord` the kernel logger would have made (thread: the caller's
        is not kept; the process id is)."""
        shape, level, values, created, ctx, process = self
        path, line, func = shape.caller
        record = logging.LogRecord(shape.name, level, path, line, shape.msg, None, None, func)
        record.created = created
        record.msecs = created % 1.0 * 1000 // 1
        record.process = process
        record.data = dict(zip(shape.keys, values, strict=False))
        record.__dict__[CONTEXT_ATTR] = ctx
        return record
