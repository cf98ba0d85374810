"""A faster way to the same :class:`logging.LogRecord` the stdlib makes (the kernel logger's hot path).

``logging.Logger._log`` walks the stack for the caller (``findCaller``: every frame's file
name normalised and compared), then ``LogRecord.__init__`` splits the file name into
``filename`` and ``module`` and reads the thread, process and task names, one attribute
at a time. For a call of the kernel's :class:`~kaiju_tools.Logger` the caller's frame is
known (two frames up), file names repeat, and the attributes can be set at once: this
module builds a record with the same class, the same attributes and the same values
(:func:`same_as_stdlib` checks the attribute names against the running Python's own
record at import), in about half the time.

The module mirrors ``Logger.makeRecord`` and reads the same private state of :mod:`logging`
(the record factory, ``_srcfile``, ``_startTime``, the level names): that is its point, so
those reads are marked one by one rather than moved to a compat module.

It steps aside (returns ``None``, and the stdlib path runs) whenever a program changed what
a record is: a custom record factory (``logging.setLogRecordFactory``) or a logger class
of its own (``logging.setLoggerClass``: it may override ``makeRecord`` or ``findCaller``).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Mapping
from types import FrameType
from typing import Any

__all__ = ["make_record", "same_as_stdlib"]

_LogRecord = logging.LogRecord
_new = object.__new__
_time = time.time
_get_ident = threading.get_ident
_current_thread = threading.current_thread
_threads: dict[int, threading.Thread] = getattr(threading, "_active", {})
"""``threading``'s own ``ident -> Thread`` map, which ``current_thread()`` reads (one call less)."""
_modules = sys.modules
_level_names: dict[Any, str] = logging._levelToName  # noqa: SLF001
_PLAIN = (logging.Logger, logging.RootLogger)
_TASKS = hasattr(logging, "logAsyncioTasks")  # Python 3.12+: records carry ``taskName``
_files: dict[str, tuple[str, str]] = {}
"""``pathname -> (filename, module)``, as ``LogRecord.__init__`` derives them."""
_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def _file_parts(pathname: str) -> tuple[str, str]:
    filename = os.path.basename(pathname)
    parts = (filename, os.path.splitext(filename)[0])
    if len(_files) < 4096:
        _files[pathname] = parts
    return parts


def _process_name() -> str | None:
    mp = _modules.get("multiprocessing")
    if mp is not None:
        try:
            return mp.current_process().name  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001 -- as the stdlib: multiprocessing half imported
            pass
    return "MainProcess"


def _task_name() -> str | None:
    if not logging.logAsyncioTasks:  # type: ignore[attr-defined]
        return None
    asyncio = _modules.get("asyncio")
    if asyncio is not None:
        try:
            return asyncio.current_task().get_name()  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001 -- no running loop or no task: as the stdlib
            pass
    return None


def make_record(
    logger: logging.Logger, level: int, msg: object, args: Any, frame: FrameType | None,
    data: dict[str, Any] | None,
) -> logging.LogRecord | None:
    """The record ``logger._log`` would make for a call from ``frame`` (``None``: use the stdlib).

    ``data`` becomes ``record.data`` (the kernel logger's keyword extras).
    """
    factory = logging._logRecordFactory  # type: ignore[attr-defined]  # noqa: SLF001
    if factory is not _LogRecord or type(logger) not in _PLAIN:
        return None
    ct = _time()
    if args and len(args) == 1 and isinstance(args[0], Mapping) and args[0]:
        args = args[0]
    if logging._srcfile and frame is not None:  # noqa: SLF001
        code = frame.f_code
        pathname = code.co_filename
        lineno = frame.f_lineno
        func = code.co_name
        try:
            filename, module = _files[pathname]
        except KeyError:
            filename, module = _file_parts(pathname)
    else:
        pathname, lineno, func = "(unknown file)", 0, "(unknown function)"
        filename, module = pathname, "(unknown file)"
    if logging.logThreads:
        ident = _get_ident()
        thread: int | None = ident
        known = _threads.get(ident)
        thread_name: str | None = (known if known is not None else _current_thread()).name
    else:
        thread = thread_name = None
    # attribute by attribute, in LogRecord.__init__'s order: the records share their keys
    # (a split dict, a quarter of the cost of a dict literal of the same 20 items)
    record = _new(_LogRecord)
    record.name = logger.name
    record.msg = msg
    record.args = args
    record.levelname = _level_names.get(level) or logging.getLevelName(level)
    record.levelno = level
    record.pathname = pathname
    record.filename = filename
    record.module = module
    record.exc_info = None
    record.exc_text = None
    record.stack_info = None
    record.lineno = lineno
    record.funcName = func
    record.created = ct
    record.msecs = ct % 1.0 * 1000 // 1  # = int((ct - int(ct)) * 1000) + 0.0, without two ints
    record.relativeCreated = (ct - logging._startTime) * 1000  # type: ignore[attr-defined]  # noqa: SLF001
    record.thread = thread
    record.threadName = thread_name
    record.processName = _process_name() if logging.logMultiprocessing else None
    record.process = _pid[0] if logging.logProcesses else None
    if _TASKS:
        record.taskName = _task_name()
    if data is not None:
        record.data = data
    return record


def same_as_stdlib() -> bool:
    """Whether :func:`make_record` sets exactly the attributes this Python's ``LogRecord`` has."""
    try:
        ours = make_record(logging.getLogger("kaiju.logrecord"), logging.INFO, "m", (), sys._getframe(), None)
        theirs = _LogRecord("kaiju.logrecord", logging.INFO, __file__, 1, "m", (), None)
        return ours is not None and list(ours.__dict__) == list(theirs.__dict__)
    except Exception:  # noqa: BLE001 -- any surprise: the stdlib path
        return False
