"""Line writers: a fast path for records of one fixed shape (the request outcome line).

A module that logs the same message with the same keyword keys for every request asks its
:class:`~kaiju_tools.Logger` once for a writer (``logger.line_writer("rpc done", KEYS)``) and
per request hands it the level and the values (a tuple, in the order of the keys). The
record is the one ``logger.log(level, message, **dict(zip(keys, values)))`` would write.

A logging plugin may register a *provider* (:func:`set_line_writer_provider`): given the
stdlib logger, the message, the keys and the caller, it returns a *fast writer* that turns
the values into a line without the generic :class:`logging.LogRecord` path, or ``None``
when the current configuration does not allow it. The fast writer returns ``False`` (and
the writer takes the stdlib path) whenever it cannot honour the configuration at that
moment. Without a provider, every line takes the stdlib path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["FastWriter", "LineWriter", "LineWriterProvider", "line_writer_provider", "make_line_writer",
           "set_line_writer_provider"]

LineWriter = Callable[[int, tuple[Any, ...]], None]
"""``write(level, values)``: one record at ``level`` (the caller checked ``isEnabledFor``)."""

FastWriter = Callable[[int, tuple[Any, ...]], bool]
"""``write(level, values) -> written``; ``False``: use the stdlib path for this record."""

Caller = tuple[str, int, str]
"""``(pathname, lineno, function)`` of the code that made the writer (the records' caller)."""

LineWriterProvider = Callable[[logging.Logger, str, tuple[str, ...], Caller], FastWriter | None]
"""``provider(logger, message, keys, caller)``: a fast writer, or ``None`` (the stdlib path)."""

_provider: list[Any] = [None, 0]
"""``[provider, generation]``: the generation changes whenever the provider is set."""


def line_writer_provider() -> LineWriterProvider | None:
    """The registered provider (``None``: line writers take the stdlib path)."""
    provider: LineWriterProvider | None = _provider[0]
    return provider


def set_line_writer_provider(provider: LineWriterProvider | None) -> None:
    """Register the fast path of line writers (``None``: every line takes the stdlib path).

    Writers made earlier ask the new provider on their next record, so a provider is set
    again (even the same one) whenever the logging configuration it relied on changes.
    """
    _provider[0] = provider
    _provider[1] += 1


def make_line_writer(log: Callable[..., None], logger: Any, message: str, keys: tuple[str, ...],
                     caller: Caller) -> LineWriter:
    """The writer of ``message`` with ``keys``; ``log(level, message, **extras)`` is the stdlib path.

    :param logger: the wrapped :class:`logging.Logger` (anything else: always the stdlib path)
    """
    state = _provider
    generation = -1
    fast: FastWriter | None = None

    def write(level: int, values: tuple[Any, ...]) -> None:
        nonlocal generation, fast
        if generation != state[1]:
            generation = state[1]
            provider = state[0]
            fast = None
            if provider is not None and isinstance(logger, logging.Logger):
                try:
                    fast = provider(logger, message, keys, caller)
                except Exception:  # noqa: BLE001 -- a broken provider never loses the line
                    fast = None
        if fast is not None and fast(level, values):
            return
        log(level, message, stacklevel=2, **dict(zip(keys, values, strict=True)))  # the caller: write's

    return write
