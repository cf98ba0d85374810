"""Helpers for tests of apps that log: capture records and formatted lines in memory.

::

    from kaiju_plugins.logging.testing import capture_logs

    with capture_logs("app") as logs:
        service.logger.info("Log in completed.", user_id=7)
    assert logs.records[0].data == {"user_id": 7}
    assert logs.json()[0]["data"] == {"user_id": 7}
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .formatters import DataFormatter

__all__ = ["ListHandler", "capture_logs"]


class ListHandler(logging.Handler):
    """Keeps every record, its formatted line and the name of the thread that wrote it.

    :param formatter: formats :attr:`lines` (default: :class:`DataFormatter`, JSON lines)
    """

    def __init__(self, formatter: logging.Formatter | None = None) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self.threads: list[str] = []
        self.setFormatter(formatter or DataFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        """Format and keep ``record``."""
        self.lines.append(self.format(record))
        self.records.append(record)
        self.threads.append(threading.current_thread().name)

    def json(self) -> list[dict[str, Any]]:
        """:attr:`lines` decoded (the formatter must write JSON)."""
        return [json.loads(line) for line in self.lines]

    def messages(self) -> list[str]:
        """The message of each record."""
        return [r.getMessage() for r in self.records]


@contextmanager
def capture_logs(name: str = "", level: int | str = logging.DEBUG,
                 formatter: logging.Formatter | None = None) -> Iterator[ListHandler]:
    """Capture what logger ``name`` (``""``: the root) handles, written in the calling thread."""
    logger = logging.getLogger(name)
    handler = ListHandler(formatter)
    old_level = logger.level
    logger.setLevel(level)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
