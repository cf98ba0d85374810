"""The logging plugin's line-writer provider (the kernel's ``set_line_writer_provider``).

For a line writer's logger it walks the handlers the stdlib would call (the logger, then its
parents while ``propagate``). The fast path is taken when every one of them is a
:class:`QueueHandler` of this service's queue whose targets are our stream handlers
(``StreamHandler``, ``TextHandler``, ``JSONHandler`` without an overridden ``handle``), with
no filter on any of those loggers or queue handlers. Then a record is a :class:`FixedRecord`
put on the queue (no ``LogRecord``, no caller lookup); the writer thread's formatter renders it.

Checked again for every record (the fast writer returns ``False`` and the stdlib path runs):
the loggers' handler lists, filters, ``disabled`` and ``propagate`` as they were. A record
factory of the program's own (``logging.setLogRecordFactory``) turns the fast path off; one
set after the writer was made is noticed when the logging service configures again.
"""

from __future__ import annotations

import logging
import os
import time
from contextvars import copy_context
from typing import Any

from kaiju_tools.logsetup import FastWriter

from ._fixedrecord import FixedRecord, Shape
from ._queue import LogQueue, QueueHandler
from .handlers import StreamHandler

__all__ = ["make_provider"]

_LogRecord = logging.LogRecord
_factory = logging.getLogRecordFactory
_now = time.time
_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def _chain(logger: logging.Logger, log_queue: LogQueue) -> tuple[list[Any], list[QueueHandler]] | None:
    """``[(logger, handlers, propagate)]`` the stdlib would visit, and the queue handlers; or ``None``."""
    chain: list[Any] = []
    handlers: list[QueueHandler] = []
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters or current.disabled:
            return None
        for handler in current.handlers:
            if type(handler) is not QueueHandler or handler.log_queue is not log_queue or handler.filters:
                return None
            if not all(isinstance(t, StreamHandler) and type(t).handle is StreamHandler.handle
                       for t in handler.targets):
                return None
            handlers.append(handler)
        chain.append((current, list(current.handlers), current.propagate))
        if not current.propagate:
            break
        current = current.parent
    return (chain, handlers) if handlers else None


def _fan_out(chain: list[Any], handlers: list[QueueHandler], shape: Shape, put: Any) -> FastWriter:
    """The fast writer for records that reach more than one queue handler."""

    def fast(level: int, values: tuple[Any, ...]) -> bool:
        for log, seen, propagate in chain:
            if log.handlers != seen or log.filters or log.disabled or log.propagate is not propagate:
                return False
        if any(handler.filters for handler in handlers):
            return False
        record = FixedRecord((shape, level, values, _now(), copy_context(), _pid[0]))
        for handler in handlers:
            if level >= handler.level:
                put((handler.targets, record))
        return True

    return fast


def make_provider(log_queue: LogQueue) -> Any:
    """The provider of fast writers for loggers whose records go only to ``log_queue``."""
    qsize, queue_put = log_queue.inline_parts()
    maxsize = log_queue.maxsize
    put = log_queue.put

    def provider(logger: logging.Logger, message: str, keys: tuple[str, ...],
                 caller: tuple[str, int, str]) -> FastWriter | None:
        found = _chain(logger, log_queue) if _factory() is _LogRecord else None
        if found is None:
            return None
        chain, handlers = found
        shape = Shape(logger.name, message, keys, caller)
        pid = _pid
        if len(handlers) > 1:
            return _fan_out(chain, handlers, shape, put)
        handler = handlers[0]
        targets = handler.targets

        def fast(level: int, values: tuple[Any, ...]) -> bool:
            for log, seen, propagate in chain:
                if log.handlers != seen or log.filters or log.disabled or log.propagate is not propagate:
                    return False
            if handler.filters:
                return False
            if level >= handler.level:
                if qsize() < maxsize:  # LogQueue.put, inlined
                    queue_put((targets, FixedRecord((shape, level, values, _now(), copy_context(), pid[0]))))
                else:
                    put((targets, FixedRecord((shape, level, values, _now(), copy_context(), pid[0]))))
            return True

        return fast

    return provider
