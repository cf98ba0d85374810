"""kaiju-plugin-otel: OpenTelemetry tracing for kaiju-kernel apps.

A first-party, opt-in plugin: active only when ``packages:`` lists ``otel`` (or
``kaiju-plugin-otel``). Spans per HTTP request, RPC call, scheduler run and outgoing
``JSONRPCClient`` call; W3C ``traceparent`` / ``tracestate`` in and out; ``trace_id`` /
``span_id`` on log records through the kernel's request context. See ``docs/plugins/otel.md``.
"""

from ._propagation import extract, inject
from ._settings import ATTRIBUTE_LEVELS, EXPORTERS, SPAN_KINDS, OtelSettings, parse_settings
from ._tracing import TRACING_KEY, Tracing, get_tracing

__all__ = [
    "ATTRIBUTE_LEVELS",
    "EXPORTERS",
    "SPAN_KINDS",
    "TRACING_KEY",
    "OtelSettings",
    "Tracing",
    "extract",
    "get_tracing",
    "inject",
    "parse_settings",
]
