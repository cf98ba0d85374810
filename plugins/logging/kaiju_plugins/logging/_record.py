"""Reading a :class:`logging.LogRecord` safely, whoever made it.

Records may come from our kernel logger (``record.data`` holds keyword extras), from the
stdlib (``extra={...}`` becomes record attributes), or from any library. Every function
here accepts all of them and never raises; the common case (a record of ours, no extra
attributes, no exception) takes the short path.
"""

from __future__ import annotations

import contextvars
import logging
import os
from collections.abc import Mapping
from typing import Any

from kaiju_tools import context as _context

from ._encode import safe_repr

__all__ = [
    "CID_VAR",
    "CONTEXT_ATTR",
    "DEADLINE_VAR",
    "EXTRA_VAR",
    "FAST_CONTEXT",
    "PLAIN_SIZE",
    "SID_VAR",
    "RequestContext",
    "capture_context",
    "current_pid",
    "exception_text",
    "plain_fields",
    "record_context",
    "record_data",
    "record_message",
]

CONTEXT_ATTR = "_kaiju_ctx"
"""Record attribute holding the :class:`contextvars.Context` captured when it was logged."""

_BASE = frozenset(logging.makeLogRecord({}).__dict__)
_STANDARD = _BASE | {"message", "asctime", "data", "taskName", CONTEXT_ATTR}
_BASE_LEN = len(_BASE)
CID_VAR = _context.correlation_id
SID_VAR = _context.session_id
DEADLINE_VAR = _context.deadline
# the kernel keeps extra context keys in one variable; read it directly when it is there
EXTRA_VAR: contextvars.ContextVar[Any] | None = getattr(_context, "_extra", None)
FAST_CONTEXT = EXTRA_VAR is not None
"""Whether context values can be read straight from a captured context (else via ``get_context``)."""
PLAIN_SIZE = _BASE_LEN + 1
"""Attributes of a plain record of ours with its captured context, not counting ``data``."""
_WELL_KNOWN = ("correlation_id", "session_id", "deadline", "scope")

_PID = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))


def current_pid(record: logging.LogRecord) -> int:
    """The pid of the process that made ``record`` (``record.process``, else this process's)."""
    pid = record.__dict__.get("process")
    return pid if type(pid) is int else _PID[0]


RequestContext = tuple[Any, Any, Any, Mapping[str, Any] | None]
"""``(correlation id, session id, deadline, extra keys)`` of a record."""


def capture_context(record: logging.LogRecord) -> None:
    """Attach the caller's context to ``record`` (call in the thread that logs it).

    :func:`contextvars.copy_context` is O(1); the values are read later, in whichever
    thread formats the record. Set as an attribute: reading ``record.__dict__`` here would make
    the record's dict (CPython keeps a new object's attributes inline until the dict is asked
    for), one more GC-tracked object per record until it is formatted.
    """
    if getattr(record, CONTEXT_ATTR, None) is None:
        setattr(record, CONTEXT_ATTR, contextvars.copy_context())


def _read(ctx: Any) -> RequestContext:
    if EXTRA_VAR is not None:
        return ctx.get(CID_VAR), ctx.get(SID_VAR), ctx.get(DEADLINE_VAR), ctx.get(EXTRA_VAR)
    values = ctx.run(_context.get_context)
    extra = {k: v for k, v in values.items() if k not in _WELL_KNOWN}
    return values.get("correlation_id"), values.get("session_id"), values.get("deadline"), extra


def record_context(record: logging.LogRecord) -> RequestContext:
    """The request context of ``record``: captured when it was logged, else the current one."""
    try:
        ctx = record.__dict__.get(CONTEXT_ATTR)
        return _read(ctx if ctx is not None else contextvars.copy_context())
    except Exception:  # noqa: BLE001 -- a broken context never breaks a log line
        return None, None, None, None


def plain_fields(record: logging.LogRecord) -> tuple[str, Any, Any, Any, dict[str, Any]] | None:
    """``(message, cid, sid, deadline, data)`` for the common record, else ``None``.

    Common: a ``str`` message without arguments, no extra context keys, no ``extra=``
    attributes, ``data`` a dict or absent. Anything else takes the general path.
    """
    attrs = record.__dict__
    msg = attrs["msg"]
    if type(msg) is not str or attrs["args"]:
        return None
    data = attrs.get("data")
    ctx = attrs.get(CONTEXT_ATTR)
    expected = _BASE_LEN + (data is not None) + (ctx is not None)
    # another formatter may have set ``message`` / ``asctime``; anything else is an extra
    if len(attrs) > expected and len(attrs) > expected + ("message" in attrs) + ("asctime" in attrs):
        return None
    if data is None:
        data = {}
    elif type(data) is not dict:
        return None
    if EXTRA_VAR is None:
        return None
    if ctx is None:  # written directly, in the thread that logs: the context is the current one
        ctx = contextvars.copy_context()
    if ctx.get(EXTRA_VAR):
        return None
    return msg, ctx.get(CID_VAR), ctx.get(SID_VAR), ctx.get(DEADLINE_VAR), data


def record_message(record: logging.LogRecord) -> tuple[str, str | None]:
    """Return ``(message, error)``; ``error`` describes a failed ``msg % args``."""
    msg = record.msg
    if type(msg) is str and not record.args:
        return msg, None
    try:
        msg = record.getMessage()
        return (msg if type(msg) is str else str(msg)), None
    except Exception as exc:  # noqa: BLE001 -- the record is still written, error noted
        error = f"{type(exc).__name__}: {exc}; args={safe_repr(record.args)}"
    try:
        return str(record.msg), error
    except Exception:  # noqa: BLE001
        return safe_repr(record.msg), error


def record_data(record: logging.LogRecord, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """Extras of ``record``: context extras, then foreign ``extra=`` attributes, then ``data``."""
    attrs = record.__dict__
    data = attrs.get("data")
    out: dict[str, Any] = dict(extra) if extra else {}
    if len(attrs) > _BASE_LEN + (data is not None) + (CONTEXT_ATTR in attrs):
        for key in attrs.keys() - _STANDARD:
            if not key.startswith("_"):
                out[key] = attrs[key]
    if data is not None:
        if type(data) is dict:
            out.update(data)
        elif isinstance(data, Mapping):
            try:
                out.update(data)
            except Exception:  # noqa: BLE001
                out["data"] = safe_repr(data)
        else:
            out["data"] = data
    return out


def exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    """Traceback text of ``record`` (cached in ``record.exc_text``), with its stack info."""
    exc_info, stack_info = record.exc_info, record.stack_info
    if not (exc_info or record.exc_text or stack_info):
        return None
    parts = []
    try:
        if exc_info and not record.exc_text and (type(exc_info) is not tuple or exc_info[0] is not None):
            record.exc_text = formatter.formatException(exc_info)
        if record.exc_text:
            parts.append(record.exc_text)
    except Exception as exc:  # noqa: BLE001
        parts.append(f"<traceback unavailable: {type(exc).__name__}: {safe_repr(exc_info)}>")
    if stack_info:
        try:
            parts.append(formatter.formatStack(stack_info))
        except Exception:  # noqa: BLE001
            parts.append(safe_repr(stack_info))
    return "\n".join(parts) if parts else None
