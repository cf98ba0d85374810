"""``LoggingService``: configures stdlib logging from the project settings.

::

    services:
      - cls: LoggingService
        settings:
          loggers:
            - name: "[main_name]"
              handlers: True
          handlers:
            - cls: JSONHandler
              name: default

Handlers write from a listener thread behind a bounded queue (see :mod:`._queue`), so
a slow stream never stalls the event loop. While configured, the service also takes the
place of the kernel's default stderr handler on the root logger, so records of other
libraries (aiohttp, asyncio) are written once, in the configured format. Logging is
configured when the app is created
(before any service starts, through the ``kaiju_app_created`` hook) or in :meth:`init`
when used on its own; :meth:`close` drains the queue and switches the loggers to writing
directly, and the ``kaiju_app_stopped`` hook removes the handlers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any

from kaiju_tools.exceptions import ConfigError, ConfigProblem
from kaiju_tools.logsetup import DEFAULT_HANDLER_NAME, line_writer_provider, set_line_writer_provider
from kaiju_tools.services import ContextableService

from ._config import HandlerSettings, LoggerSettings, check_settings
from ._fixed import make_provider
from ._queue import LINGER, LogQueue, QueueHandler
from .formatters import DataFormatter, TextFormatter
from .handlers import JSONHandler, StreamHandler, TextHandler

__all__ = ["BUILTIN_CLASSES", "LoggingService"]

BUILTIN_CLASSES: Mapping[str, type] = {
    "DataFormatter": DataFormatter,
    "FileHandler": logging.FileHandler,
    "Formatter": logging.Formatter,
    "JSONHandler": JSONHandler,
    "NullHandler": logging.NullHandler,
    "StreamHandler": StreamHandler,
    "TextFormatter": TextFormatter,
    "TextHandler": TextHandler,
}
"""Handler and formatter classes ``LoggingService`` knows without any plugin."""

_MAIN_NAME = "[main_name]"
_KEY_PART = re.compile(r"[^.\[\]]+")


class LoggingService(ContextableService):
    """Configures loggers and handlers from settings and writes records off the event loop.

    :param loggers: logger settings (``name``, ``handlers: true | [names]``, ``level``,
        ``propagate``), see :class:`~kaiju_plugins.logging._config.LoggerSettings`
    :param handlers: handler settings (``cls``, ``name``, ``level``, ``settings``,
        ``formatter``, ``formatter_settings``)
    :param queue_size: records the queue holds before dropping (and counting) new ones
    :param queue_linger: seconds the writer thread waits after the first record of a batch, so
        a burst is written and flushed at once (default 0.005; ``0``: a write per wake-up)
    :param use_queue: ``false`` writes in the logging thread (for debugging)
    :param record_caller: find the caller's file, line and function for every record (the
        stdlib's stack walk); ``false`` saves about a fifth of a call's cost -- our
        formatters do not print them (sets ``logging._srcfile``, the logging HOWTO's
        documented switch, restored at stop)
    :param record_process: record thread, process and asyncio task names (``false`` sets
        ``logging.logThreads`` / ``logProcesses`` / ``logMultiprocessing`` / ``logAsyncioTasks``,
        restored at stop)
    """

    service_name = "logging"
    always_start = True  # a command that declares its services still logs in the configured format

    def __init__(
        self,
        app: Any = None,
        loggers: list[dict[str, Any]] | None = None,
        handlers: list[dict[str, Any]] | None = None,
        queue_size: int = 10_000,
        queue_linger: float = LINGER,
        use_queue: bool = True,
        record_caller: bool = True,
        record_process: bool = True,
        logger: Any = None,
    ) -> None:
        super().__init__(app=app, logger=logger)
        key, locate = _locator(app, self.service_name)
        where = f"{key}.settings"
        classes = _handler_classes(app)
        if loggers is None:
            loggers = [{"name": _MAIN_NAME, "handlers": True}]
        if handlers is None:
            handlers = [{"cls": "TextHandler", "name": "default"}]
        self._loggers, self._handler_settings, problems = check_settings(
            loggers, handlers, classes, where, locate)
        if not isinstance(queue_size, int) or isinstance(queue_size, bool) or queue_size < 1:
            problems.append(ConfigProblem(f"{where}.queue_size{locate('queue_size')}",
                                          f"expected a positive number of records, got {queue_size!r}"))
        if (not isinstance(queue_linger, (int, float)) or isinstance(queue_linger, bool)
                or not 0 <= queue_linger <= 1):
            problems.append(ConfigProblem(f"{where}.queue_linger{locate('queue_linger')}",
                                          f"expected seconds between 0 and 1, got {queue_linger!r}"))
        if problems:
            raise ConfigError(problems)
        self.handlers: dict[str, logging.Handler] = {}
        for entry in self._handler_settings:
            if entry.enabled:
                self.handlers[entry.name] = _build_handler(entry, classes)
        self._queue = LogQueue(queue_size, linger=queue_linger) if use_queue else None
        self._installed: list[tuple[logging.Logger, list[logging.Handler], int, bool]] = []
        self._switches: dict[str, Any] = {}
        if not record_caller:
            self._switches["_srcfile"] = None
        if not record_process:
            self._switches.update(logThreads=False, logProcesses=False, logMultiprocessing=False)
            if hasattr(logging, "logAsyncioTasks"):  # Python 3.12+
                self._switches["logAsyncioTasks"] = False
        self._saved_switches: dict[str, Any] = {}
        self._defaults: list[logging.Handler] = []
        self._configured = False
        self._provider: Any = None

    @property
    def dropped(self) -> int:
        """Records dropped because the queue was full (each drop is also reported in the log)."""
        return self._queue.dropped if self._queue else 0

    @property
    def configured(self) -> bool:
        """Whether the loggers are set up (between :meth:`configure` and :meth:`unconfigure`)."""
        return self._configured

    def configure(self) -> None:
        """Attach handlers and set levels of the configured loggers; start the listener."""
        if self._configured:
            return
        self._configured = True
        for name, value in self._switches.items():
            self._saved_switches[name] = getattr(logging, name)
            setattr(logging, name, value)
        root = logging.root
        if self.handlers:  # the kernel's default handler steps aside: one line per record, one format
            self._defaults = [h for h in root.handlers if h.get_name() == DEFAULT_HANDLER_NAME]
            for handler in self._defaults:
                root.removeHandler(handler)
        for entry in self._loggers:
            if entry.enabled:
                self._install(self._get_logger(entry), self._targets(entry), entry)
        if self._defaults and not root.handlers:  # foreign records, in our format instead of the kernel's
            self._install(root, self._root_targets(), None)
        if self._queue:
            self._queue.start()
            self._provider = make_provider(self._queue)
            set_line_writer_provider(self._provider)  # line writers' fast path

    def _install(self, log: logging.Logger, targets: list[logging.Handler],
                 entry: LoggerSettings | None) -> None:
        added: list[logging.Handler] = []
        if targets:
            added = [self._queue.handler(targets)] if self._queue else targets
        self._installed.append((log, added, log.level, log.propagate))
        if entry is not None and entry.level is not None:
            log.setLevel(entry.level)
        if entry is not None and log is not logging.root:
            log.propagate = entry.propagate
        for handler in added:
            log.addHandler(handler)

    def _targets(self, entry: LoggerSettings) -> list[logging.Handler]:
        names = list(self.handlers) if entry.handlers is True else (entry.handlers or [])
        return [self.handlers[n] for n in names]

    def _root_targets(self) -> list[logging.Handler]:
        """The app logger's handlers (else every handler) write what reaches the root."""
        names = (_MAIN_NAME, self._app_name())
        for entry in self._loggers:
            if entry.enabled and entry.name in names:
                return self._targets(entry)
        return list(self.handlers.values())

    async def init(self) -> None:
        """Configure logging when the ``kaiju_app_created`` hook has not done it already."""
        self.configure()

    async def close(self) -> None:
        """Write every queued record, then let the loggers write directly until the app stops."""
        self.write_directly()
        if self.dropped:
            self.logger.warning("log records were dropped while the queue was full", dropped=self.dropped)

    def write_directly(self) -> None:
        """Drain the queue, stop the listener and attach the handlers to the loggers directly."""
        queue = self._queue
        if queue is None or not queue.running:
            return
        if self._provider is not None:  # line writers take the stdlib path from here on
            if line_writer_provider() is self._provider:  # not another service's, configured since
                set_line_writer_provider(None)
            self._provider = None
        queue.stop()
        for i, (log, added, level, propagate) in enumerate(self._installed):
            direct: list[logging.Handler] = []
            for handler in added:
                log.removeHandler(handler)
                direct.extend(handler.targets if isinstance(handler, QueueHandler) else [handler])
            for handler in direct:
                log.addHandler(handler)
            self._installed[i] = (log, direct, level, propagate)
        queue.drain()

    def unconfigure(self) -> None:
        """Flush, detach the handlers and restore the loggers' levels (idempotent)."""
        self.write_directly()
        if not self._configured:
            return
        self._configured = False
        installed, self._installed = self._installed, []
        for log, added, level, propagate in reversed(installed):
            for handler in added:
                log.removeHandler(handler)
            log.setLevel(level)
            log.propagate = propagate
        for name, value in self._saved_switches.items():
            setattr(logging, name, value)
        self._saved_switches.clear()
        defaults, self._defaults = self._defaults, []
        for handler in defaults:
            logging.root.addHandler(handler)
        for handler in self.handlers.values():
            with suppress(Exception):  # one handler failing to close never hides the others
                handler.flush()
                handler.close()

    def _get_logger(self, entry: LoggerSettings) -> logging.Logger:
        name = entry.name
        if name in ("", "root"):
            return logging.root
        if _MAIN_NAME in name:
            name = name.replace(_MAIN_NAME, self._app_name())
        return logging.getLogger(name)

    def _app_name(self) -> str:
        if self.app is not None:
            try:
                from kaiju_tools import get_settings

                return get_settings(self.app).main.name
            except (ImportError, KeyError, AttributeError):
                pass
        own = getattr(self.logger, "name", "") or ""
        suffix = f".{self.service_name}"
        return own[: -len(suffix)] if own.endswith(suffix) else (own.rpartition(".")[0] or own or "app")


def _locator(app: Any, name: str) -> tuple[str, Callable[[str], str]]:
    """The service's config key (``services[2]``) and a ``" (file:line)"`` finder for its settings."""
    fallback = f"services[{name}]"
    try:
        from kaiju_tools import get_services, get_settings

        entry = get_services(app).entry(name)
        settings = get_settings(app)
        index = next(i for i, s in enumerate(settings.services) if s is entry or s == entry)
        origins = settings.origins
    except Exception:  # noqa: BLE001 -- no app, or an app the kernel did not build
        return fallback, lambda key: ""

    def locate(key: str) -> str:
        parts = (int(p) if p.isdigit() else p for p in _KEY_PART.findall(key))
        path: tuple[Any, ...] = ("services", index, "settings", *parts)
        while len(path) > 2:
            if path in origins:
                return f" ({origins[path].split(';')[0]})"
            path = path[:-1]
        return ""

    return entry.key or f"services[{index}]", locate


def _handler_classes(app: Any) -> dict[str, type]:
    """Built-in classes plus the ones plugins return from ``kaiju_register_log_handlers``."""
    classes = dict(BUILTIN_CLASSES)
    if app is None:
        return classes
    try:
        from kaiju_tools.plugins import collect
    except ImportError:  # a kernel without plugin support: built-ins only
        return classes
    try:
        results = collect(app, "kaiju_register_log_handlers")
    except (KeyError, TypeError):  # an app the kernel did not build: built-ins only
        return classes
    for result in results:
        if not isinstance(result, Mapping):
            raise ConfigError(ConfigProblem(
                "kaiju_register_log_handlers",
                f"expected a mapping of class names to handler or formatter classes, got {result!r}"))
        for name, cls in result.items():
            if not (isinstance(cls, type) and issubclass(cls, (logging.Handler, logging.Formatter))):
                raise ConfigError(ConfigProblem(
                    f"kaiju_register_log_handlers[{name!r}]",
                    f"expected a logging.Handler or logging.Formatter subclass, got {cls!r}"))
            classes[str(name)] = cls
    return classes


def _build_handler(entry: HandlerSettings, classes: Mapping[str, type]) -> logging.Handler:
    try:
        handler: logging.Handler = classes[entry.cls](**entry.settings)
        if entry.formatter:
            handler.setFormatter(classes[entry.formatter](**entry.formatter_settings))
        elif entry.formatter_settings:  # the handler's own formatter class (checked in _config)
            handler.setFormatter(type(handler).formatter_class(**entry.formatter_settings))  # type: ignore[attr-defined]
    except Exception as exc:
        raise ConfigError(ConfigProblem(
            f"{entry.key}.settings{entry.location}", f"cannot create {entry.cls} handler {entry.name!r}: "
            f"{type(exc).__name__}: {exc}", "check the handler's settings")) from exc
    handler.set_name(entry.name)
    handler.setLevel(entry.level)
    return handler
