"""Request context kept in :mod:`contextvars`.

The context of the request being served (correlation id, deadline, caller scope, session,
and any extra keys bound by request hooks) lives here, in the kernel, one variable per
well-known key. The rpc plugin sets it, the logging plugin reads it; neither imports the
other. Because it is a :class:`contextvars.ContextVar`, it survives ``await``, is copied
into tasks made with :func:`asyncio.create_task` and into :func:`asyncio.to_thread`.
A tracing plugin (``kaiju-plugin-otel``) binds ``trace_id`` and ``span_id`` as extra keys while
a span is current, so log records carry them without the logging plugin knowing of tracing.

Example::

    from kaiju_tools import context

    tokens = context.bind(correlation_id="abc", user_id=7)
    try:
        ...  # every log record written here carries cid=abc and user_id=7
    finally:
        context.reset(tokens)
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token
from typing import Any

__all__ = [
    "Tokens",
    "bind",
    "call_id",
    "clear",
    "correlation_id",
    "deadline",
    "get_context",
    "get_correlation_id",
    "get_deadline",
    "get_extra",
    "get_scope",
    "get_session_id",
    "remaining_time",
    "reset",
    "scope",
    "session_id",
]

correlation_id: ContextVar[str | None] = ContextVar("kaiju.correlation_id", default=None)
"""Correlation id of the request being served (``Correlation-Id`` header)."""

deadline: ContextVar[float | None] = ContextVar("kaiju.deadline", default=None)
"""Unix time after which the current request is abandoned."""

scope: ContextVar[int | None] = ContextVar("kaiju.scope", default=None)
"""Permission scope of the caller (see the rpc plugin's ``PermissionKeys``)."""

session_id: ContextVar[str | None] = ContextVar("kaiju.session_id", default=None)
"""Session id of the caller, when a request hook authenticated one."""

call_id: ContextVar[Any] = ContextVar("kaiju.call_id", default=None)
"""JSON-RPC ``id`` of the call whose ``kaiju_wrap_call`` chain is being entered (``None``
for a notification). Set by the rpc engine only while it calls the outermost call
wrapper, so a wrapper reads it synchronously, before its first ``await``. Not part of
:func:`get_context` (log records do not carry it)."""

_extra: ContextVar[dict[str, Any] | None] = ContextVar("kaiju.extra", default=None)

_KNOWN: dict[str, ContextVar[Any]] = {
    "correlation_id": correlation_id,
    "deadline": deadline,
    "scope": scope,
    "session_id": session_id,
}

Tokens = list[tuple[ContextVar[Any], Token[Any]]]


def bind(**values: Any) -> Tokens:
    """Bind values to the current context and return tokens for :func:`reset`.

    Well-known keys (``correlation_id``, ``deadline``, ``scope``, ``session_id``) set their
    own variable; any other key is added to the extra mapping (copied, never mutated).
    """
    tokens: Tokens = []
    extra: dict[str, Any] | None = None
    for key, value in values.items():
        var = _KNOWN.get(key)
        if var is not None:
            tokens.append((var, var.set(value)))
        else:
            if extra is None:
                extra = dict(_extra.get() or {})
            extra[key] = value
    if extra is not None:
        tokens.append((_extra, _extra.set(extra)))
    return tokens


def reset(tokens: Tokens) -> None:
    """Undo a :func:`bind`, restoring the values seen before it."""
    for var, token in reversed(tokens):
        var.reset(token)


def clear() -> None:
    """Set every context key of the current context back to ``None``."""
    for var in _KNOWN.values():
        var.set(None)
    _extra.set(None)


def get_context() -> dict[str, Any]:
    """Return the bound context as a new dict holding only the keys that are set."""
    out: dict[str, Any] = {}
    for key, var in _KNOWN.items():
        value = var.get()
        if value is not None:
            out[key] = value
    extra = _extra.get()
    if extra:
        out.update(extra)
    return out


def get_correlation_id() -> str | None:
    """Correlation id of the current request, or ``None``."""
    return correlation_id.get()


def get_deadline() -> float | None:
    """Deadline (unix time) of the current request, or ``None``."""
    return deadline.get()


def get_extra() -> dict[str, Any] | None:
    """The extra keys bound to the current context (never mutate it), or ``None``."""
    return _extra.get()


def get_scope() -> int | None:
    """Permission scope of the current caller, or ``None``."""
    return scope.get()


def get_session_id() -> str | None:
    """Session id of the current caller, or ``None``."""
    return session_id.get()


def remaining_time() -> float | None:
    """Seconds left before the current request's deadline, or ``None`` without one."""
    value = deadline.get()
    if value is None:
        return None
    return max(0.0, value - time.time())
