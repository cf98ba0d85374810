"""One app's tracing: its tracer provider, tracer, exporter and which spans it makes.

Each app has its own :class:`~opentelemetry.sdk.trace.TracerProvider` (its resource names
the app), never the process-wide global one: several apps in one process (tests, a gateway)
each report as themselves, and the global provider is left to the user.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from aiohttp import web
from kaiju_tools.settings import ProjectSettings
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from ._settings import OtelSettings

__all__ = ["TRACING_KEY", "Tracing", "get_tracing"]

_SCOPE = "kaiju_plugins.otel"


def _exporter(settings: OtelSettings) -> SpanExporter | None:
    if settings.exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=settings.endpoint, headers=settings.headers or None,
                                timeout=settings.timeout)
    if settings.exporter == "console":
        return ConsoleSpanExporter(out=sys.stdout)  # the stdout of now (a test may capture it)
    if settings.exporter == "memory":
        return InMemorySpanExporter()
    return None


class Tracing:
    """The tracing of one app (made by the plugin when the app is built).

    :param settings: the plugin's settings (``etc.otel``)
    :param project: the app's settings; its ``main`` section gives ``service.name``, ``service.version`` and
        ``deployment.environment.name`` of the resource
    """

    def __init__(self, settings: OtelSettings, project: ProjectSettings) -> None:
        main = project.main
        attributes: dict[str, Any] = {"service.name": main.name, "service.version": main.version,
                                      "deployment.environment.name": main.env,
                                      "telemetry.sdk.language": "python"}
        attributes.update(settings.resource)
        self.settings = settings
        self.spans = settings.spans
        """Which spans are made (``http``, ``rpc``, ``tasks``, ``client``)."""
        self.provider = TracerProvider(resource=Resource.create(attributes),
                                       sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)))
        self.exporter = _exporter(settings)
        """The span exporter (``None`` for ``exporter: none``); an ``InMemorySpanExporter`` for
        ``memory`` (``get_finished_spans()``)."""
        if self.exporter is not None:
            batch = settings.exporter == "otlp"  # the network: off the event loop, in batches
            processor = BatchSpanProcessor(self.exporter) if batch else SimpleSpanProcessor(self.exporter)
            self.provider.add_span_processor(processor)
        self.tracer: trace.Tracer = self.provider.get_tracer(_SCOPE)

    def flush(self, timeout_ms: int = 30000) -> bool:
        """Export every span ended so far (blocks: call it from a thread in a running loop)."""
        return self.provider.force_flush(timeout_ms)

    async def shutdown(self) -> None:
        """Export what is left and stop the exporter (in a thread: an export blocks)."""
        await asyncio.to_thread(self.provider.shutdown)


TRACING_KEY: web.AppKey[Tracing] = web.AppKey("kaiju_plugins.otel.tracing", Tracing)
"""App key of the app's :class:`Tracing` (set when the app is built)."""


def get_tracing(app: web.Application) -> Tracing | None:
    """The app's :class:`Tracing`, or ``None`` when the plugin is not active for it."""
    return app.get(TRACING_KEY)
