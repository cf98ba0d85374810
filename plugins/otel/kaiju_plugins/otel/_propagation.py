"""W3C Trace Context in and out: ``traceparent`` / ``tracestate`` headers.

Incoming headers are untrusted: a header that is too long, not ASCII, repeated, or not in
the W3C grammar is ignored (the request starts a new trace), silently -- a caller sending
junk cannot fill the logs. ``tracestate`` is checked member by member before the SDK sees it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["MAX_HEADER", "extract", "inject"]

MAX_HEADER = 512
"""Longest ``traceparent`` / ``tracestate`` accepted (the W3C limit of ``tracestate``)."""

_PROPAGATOR = TraceContextTextMapPropagator()
_KEY = r"(?:[a-z0-9][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})"
_VALUE = r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]"
_MEMBER = re.compile(rf"[ \t]*{_KEY}={_VALUE}[ \t]*")
_MAX_MEMBERS = 32


def _valid_state(value: str) -> bool:
    members = value.split(",")
    if len(members) > _MAX_MEMBERS:
        return False
    return all(not m.strip(" \t") or _MEMBER.fullmatch(m) for m in members)


def _one(headers: Any, name: str) -> str | None:
    """The header's only value when it is a short ASCII string, else ``None``."""
    getall = getattr(headers, "getall", None)
    values = getall(name, ()) if getall is not None else ([headers[name]] if name in headers else [])
    if len(values) != 1:
        return None
    value = values[0]
    if type(value) is not str or len(value) > MAX_HEADER or not value.isascii():
        return None
    return value


def extract(headers: Mapping[str, str] | Any) -> Context | None:
    """The remote parent carried by ``headers``, or ``None`` (absent or not valid: ignored).

    :param headers: the request's headers (aiohttp's case-insensitive multidict, or a mapping
        with lower-case names)
    """
    if "traceparent" not in headers:
        return None
    parent = _one(headers, "traceparent")
    if parent is None:
        return None
    carrier = {"traceparent": parent}
    state = _one(headers, "tracestate")
    if state is not None and _valid_state(state):
        carrier["tracestate"] = state
    try:
        ctx = _PROPAGATOR.extract(carrier)
    except Exception:  # noqa: BLE001 -- an untrusted header the SDK refuses starts a new trace
        return None
    if not trace.get_current_span(ctx).get_span_context().is_valid:
        return None
    return ctx


def inject(headers: dict[str, str], span: trace.Span) -> None:
    """Add ``span``'s ``traceparent`` (and ``tracestate``) to outgoing ``headers``."""
    _PROPAGATOR.inject(headers, context=trace.set_span_in_context(span))
