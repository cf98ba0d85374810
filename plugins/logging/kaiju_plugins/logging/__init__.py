"""Structured logging for kaiju-kernel: request context, YAML configuration, off the event loop.

Distribution ``kaiju-plugin-logging``. ``from kaiju_tools import LoggingService, JSONHandler,
TextHandler`` resolves to the names below.
"""

from ._config import HandlerSettings, LoggerSettings
from ._queue import LogQueue, QueueHandler
from .formatters import DataFormatter, TextFormatter
from .handlers import JSONHandler, StreamHandler, TextHandler
from .service import LoggingService

__all__ = [
    "DataFormatter",
    "HandlerSettings",
    "JSONHandler",
    "LogQueue",
    "LoggerSettings",
    "LoggingService",
    "QueueHandler",
    "StreamHandler",
    "TextFormatter",
    "TextHandler",
]
