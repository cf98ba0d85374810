"""The kernel's logger: the standard logger's syntax plus keyword extras.

``logger.info("Log in completed.", user_id=7)`` writes a record whose ``data`` attribute is
``{"user_id": 7}``. Request context (correlation id...) is not handled here: the logging
plugin captures it from :mod:`kaiju_tools.context` when a record is handled.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._linewriter import LineWriter, make_line_writer
from ._logrecord import make_record, same_as_stdlib

__all__ = ["Logger", "get_logger"]

_STD_KEYS = frozenset({"exc_info", "stack_info", "stacklevel", "extra"})
_FAST = same_as_stdlib()


class Logger:
    """Wraps a :class:`logging.Logger` (or a :class:`logging.LoggerAdapter`); unknown keyword
    arguments become ``record.data``.

    ``isEnabledFor(level)`` -- whether a record of ``level`` would be handled -- is the wrapped
    logger's own bound method (no call of ours in between: hot paths ask it per request).
    """

    __slots__ = ("logger", "name", "isEnabledFor")

    isEnabledFor: Callable[[int], bool]  # noqa: N815 -- the stdlib's name

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        self.logger: Any = logger
        self.name = logger.name
        self.isEnabledFor = logger.isEnabledFor

    def __repr__(self) -> str:
        return f"<kaiju Logger {self.name!r} ({logging.getLevelName(self.logger.getEffectiveLevel())})>"

    def _log(self, level: int, msg: object, args: tuple[Any, ...], kws: dict[str, Any]) -> None:
        if _FAST and _STD_KEYS.isdisjoint(kws):  # the common call: the same record, made faster
            record = make_record(self.logger, level, msg, args, sys._getframe(2), kws or None)
            if record is not None:
                logger = self.logger
                if logger.disabled or logger.filters:
                    logger.handle(record)
                else:  # Logger.handle, without a filter to call
                    logger.callHandlers(record)
                return
        exc_info = kws.pop("exc_info", None)
        stack_info = kws.pop("stack_info", False)
        stacklevel = kws.pop("stacklevel", 1)
        extra: Mapping[str, Any] | None = kws.pop("extra", None)
        if kws:
            extra = {**extra, "data": kws} if extra else {"data": kws}
        if isinstance(self.logger, logging.LoggerAdapter):
            self._log_adapter(level, msg, args, exc_info, extra, stack_info, stacklevel)
            return
        self.logger._log(  # noqa: SLF001 -- the documented extension point of Logger
            level, msg, args, exc_info=exc_info, extra=extra, stack_info=stack_info,
            stacklevel=stacklevel + 2,
        )

    def _log_adapter(self, level: int, msg: object, args: tuple[Any, ...], exc_info: Any,
                     extra: Mapping[str, Any] | None, stack_info: bool, stacklevel: int) -> None:
        """Through the adapter's ``process``; our extras are merged into the adapter's own."""
        adapter = self.logger
        msg, kwargs = adapter.process(msg, {"exc_info": exc_info, "extra": extra, "stack_info": stack_info,
                                            "stacklevel": stacklevel + 3})
        if extra:
            kwargs["extra"] = {**(kwargs.get("extra") or {}), **extra}
        adapter.logger.log(level, msg, *args, **kwargs)

    def debug(self, msg: object, *args: Any, **kws: Any) -> None:
        """Log at DEBUG; keyword arguments other than the standard ones become extras."""
        if self.logger.isEnabledFor(logging.DEBUG):
            self._log(logging.DEBUG, msg, args, kws)

    def info(self, msg: object, *args: Any, **kws: Any) -> None:
        """Log at INFO; keyword arguments other than the standard ones become extras."""
        if self.logger.isEnabledFor(logging.INFO):
            self._log(logging.INFO, msg, args, kws)

    def warning(self, msg: object, *args: Any, **kws: Any) -> None:
        """Log at WARNING; keyword arguments other than the standard ones become extras."""
        if self.logger.isEnabledFor(logging.WARNING):
            self._log(logging.WARNING, msg, args, kws)

    warn = warning

    def error(self, msg: object, *args: Any, **kws: Any) -> None:
        """Log at ERROR; keyword arguments other than the standard ones become extras."""
        if self.logger.isEnabledFor(logging.ERROR):
            self._log(logging.ERROR, msg, args, kws)

    def exception(self, msg: object, *args: Any, **kws: Any) -> None:
        """Log at ERROR with the current exception's traceback."""
        kws.setdefault("exc_info", True)
        if self.logger.isEnabledFor(logging.ERROR):
            self._log(logging.ERROR, msg, args, kws)

    def critical(self, msg: object, *args: Any, **kws: Any) -> None:
        """Log at CRITICAL; keyword arguments other than the standard ones become extras."""
        if self.logger.isEnabledFor(logging.CRITICAL):
            self._log(logging.CRITICAL, msg, args, kws)

    def log(self, level: int, msg: object, *args: Any, **kws: Any) -> None:
        """Log at ``level``; keyword arguments other than the standard ones become extras."""
        if self.logger.isEnabledFor(level):
            self._log(level, msg, args, kws)

    def line_writer(self, message: str, keys: Sequence[str]) -> LineWriter:
        """A writer of records of one shape: ``write(level, values)`` logs ``message`` with
        ``dict(zip(keys, values))`` as its extras, through a logging plugin's fast path when it
        has one (see :mod:`kaiju_tools.logsetup`). The caller checks :meth:`isEnabledFor` first;
        the records' caller (file, line, function) is the code that made the writer.
        """
        frame = sys._getframe(1)
        caller = (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)
        return make_line_writer(self.log, self.logger, message, tuple(keys), caller)

    def setLevel(self, level: int | str) -> None:  # noqa: N802 -- the stdlib's name
        """Set the level of the wrapped logger."""
        self.logger.setLevel(level)

    @property
    def level(self) -> int:
        """The wrapped logger's own level."""
        level: int = self.logger.level
        return level

    def getEffectiveLevel(self) -> int:  # noqa: N802 -- the stdlib's name
        """The level that applies to the wrapped logger."""
        level: int = self.logger.getEffectiveLevel()
        return level

    def getChild(self, suffix: str) -> Logger:  # noqa: N802 -- the stdlib's name
        """A kaiju logger for ``<name>.<suffix>``."""
        return Logger(self.logger.getChild(suffix))


def get_logger(name: str, level: int | str | None = None) -> Logger:
    """Return the kaiju logger for ``name``, setting its level when one is given."""
    logger = logging.getLogger(name)
    if level is not None:
        logger.setLevel(level.upper() if isinstance(level, str) else level)
    return Logger(logger)
