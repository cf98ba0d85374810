"""The kernel's logging set-up: the default stderr handler, and aiohttp's client-error records.

Without a logging plugin, ``run_server`` and the gunicorn factory log to stderr through one
root handler named :data:`DEFAULT_HANDLER_NAME`. A logging plugin that configures handlers
takes its place while it is configured (it finds it by that name), so no record is written
twice or in two formats.

aiohttp logs a request the client got wrong (a 100 KB header, a malformed request line) as
``Error handling request`` at ERROR with a traceback. :func:`quiet_client_errors` turns
those records into one WARNING line without the traceback: the server did nothing wrong.

Line writers (``Logger.line_writer``) log records of one fixed shape, such as the request
outcome line; a logging plugin registers their fast path with :func:`set_line_writer_provider`
(the contract: :data:`LineWriterProvider`, :data:`FastWriter`).
"""

from __future__ import annotations

import logging
import sys

from ._linewriter import (
    FastWriter,
    LineWriter,
    LineWriterProvider,
    line_writer_provider,
    set_line_writer_provider,
)

__all__ = ["DEFAULT_FORMAT", "DEFAULT_HANDLER_NAME", "ClientErrorFilter", "FastWriter", "LineWriter",
           "LineWriterProvider", "default_logging", "line_writer_provider", "quiet_client_errors",
           "set_line_writer_provider"]

DEFAULT_HANDLER_NAME = "kaiju.default"
"""Name of the root handler :func:`default_logging` installs."""

DEFAULT_FORMAT = "%(asctime)s | %(levelname)5s | %(name)s | %(message)s"
"""Format of the default handler."""

CLIENT_ERROR_LOGGERS = ("aiohttp.server",)
"""Loggers whose client-error records :class:`ClientErrorFilter` rewrites."""

_MAX_REASON = 300


def default_logging(level: str | int) -> None:
    """Log to stderr at ``level`` through a root handler, unless the root has handlers already."""
    quiet_client_errors()
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(DEFAULT_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(DEFAULT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


class ClientErrorFilter(logging.Filter):
    """Rewrites an aiohttp record about a client's bad request (a 4xx ``HttpProcessingError``).

    The record becomes a WARNING whose message ends with the error's class and reason
    (``Error handling request from 127.0.0.1: LineTooLong: Got more than 8190 bytes...``),
    without the traceback. Every other record passes unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a client-error record in place; keep every record."""
        exc_info = record.exc_info
        if record.levelno < logging.ERROR or type(exc_info) is not tuple or len(exc_info) < 2:
            return True
        from aiohttp.http_exceptions import HttpProcessingError

        exc = exc_info[1]
        code = getattr(exc, "code", None)
        if not isinstance(exc, HttpProcessingError) or not isinstance(code, int) or not 400 <= code < 500:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 -- keep the raw message
            message = str(record.msg)
        reason = " ".join(str(exc.message).split())[:_MAX_REASON]
        record.msg, record.args = f"{message}: {type(exc).__name__}: {reason}", None
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info, record.exc_text = None, None
        return True


def quiet_client_errors() -> None:
    """Install :class:`ClientErrorFilter` on aiohttp's server logger (once)."""
    for name in CLIENT_ERROR_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ClientErrorFilter) for f in logger.filters):
            logger.addFilter(ClientErrorFilter())
