"""Captured log records for tests (part of :mod:`kaiju_tools.testing`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import context

__all__ = ["LogCapture", "capture_logs"]


class LogCapture(logging.Handler):
    """A handler that keeps every record it handles.

    Each kept record has ``record.data`` (the keyword extras of the kernel logger, ``{}``
    when there were none) and ``record.context`` (:func:`kaiju_tools.context.get_context`
    at the moment the record was written: correlation id, deadline, bound extras).
    """

    def __init__(self, level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep ``record`` with its ``data`` and ``context``."""
        if not hasattr(record, "data"):
            record.data = {}
        record.context = context.get_context()
        with self._lock_records:
            self.records.append(record)

    def messages(self) -> list[str]:
        """The message of each record, in order."""
        return [r.getMessage() for r in list(self.records)]

    def filter_records(self, message: str | None = None, name: str | None = None,
                       level: int | str | None = None) -> list[logging.LogRecord]:
        """Records whose message equals ``message``, whose logger is ``name`` or below it,
        and whose level is at least ``level`` (each criterion optional)."""
        if isinstance(level, str):
            level = logging.getLevelName(level.upper())
        out = []
        for record in list(self.records):
            if message is not None and record.getMessage() != message:
                continue
            if name is not None and record.name != name and not record.name.startswith(name + "."):
                continue
            if level is not None and record.levelno < level:  # type: ignore[operator]
                continue
            out.append(record)
        return out

    def find(self, message: str, name: str | None = None) -> logging.LogRecord:
        """The first record with this message; ``AssertionError`` listing what was logged if none."""
        found = self.filter_records(message, name)
        if not found:
            where = f" from logger {name!r}" if name else ""
            raise AssertionError(f"no log record with message {message!r}{where}; "
                                 f"logged: {self.messages()!r}")
        return found[0]

    def data(self) -> list[dict[str, Any]]:
        """``record.data`` of each record, in order."""
        return [r.data for r in list(self.records)]  # type: ignore[attr-defined]

    def clear(self) -> None:
        """Forget the records kept so far."""
        with self._lock_records:
            self.records.clear()


@contextmanager
def capture_logs(name: str = "", level: int | str | None = logging.DEBUG) -> Iterator[LogCapture]:
    """Capture what logger ``name`` (``""``: every logger) handles inside the block.

    The logger's level is set to ``level`` for the block and restored after it (``None``
    leaves it alone). Records written by other threads (an app served by ``kaiju_app``) are
    captured too. The logging plugin stops the app's logger from propagating to the root
    by default: capture the app's logger by its name (``main.name``), or use
    ``RunningApp.logs``, which does.
    """
    logger = logging.getLogger(name)
    handler = LogCapture()
    old_level = logger.level
    if level is not None:
        logger.setLevel(level)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
