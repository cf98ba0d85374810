"""The metrics of one app (:class:`Metrics`): made once, updated by the plugin's hooks, scraped by
:meth:`Metrics.exposition` (``prometheus_client`` writes the text format).

In one process the labelled counters and histograms (RPC calls and durations, HTTP requests,
scheduler runs, log records) are lean (:mod:`._lean`: plain values, no locks, exposed through the
client's custom-collector API); the gauges and the busy counter are the client's own.

Under ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn with several workers) every metric is the client's own
and every value is written to that directory by its multiprocess mode, and a scrape of any worker
reads and sums the files of all of them.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from ._lean import LeanCounter, LeanHistogram
from ._settings import MetricsSettings

__all__ = ["METRICS_KEY", "SERVICE_STATES", "UNKNOWN", "Metrics", "get_metrics", "multiprocess_dir"]

UNKNOWN = "unknown"
"""The one label of every method or route the app has not registered."""

SERVICE_STATES = ("created", "starting", "running", "degraded", "failed", "stopping", "stopped")
"""Values of the ``state`` label of ``<prefix>_service_state``."""


def multiprocess_dir() -> str | None:
    """The multiprocess directory (``PROMETHEUS_MULTIPROC_DIR``), or ``None``: one process."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _LogCounter(logging.Handler):
    """Counts the records of the app's logger by level."""

    def __init__(self, counter: Counter | LeanCounter) -> None:
        super().__init__(logging.DEBUG)
        self.counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        self.counter.labels(record.levelname).inc()


class Metrics:
    """The app's metrics (``get_metrics(app)``); named ``<prefix>_...`` (``docs/plugins/metrics.md``)."""

    def __init__(self, settings: MetricsSettings) -> None:
        self.settings = settings
        self.multiprocess = multiprocess_dir() is not None
        self.registry = CollectorRegistry(auto_describe=True)
        reg, ns = self.registry, settings.prefix
        counter, histogram = self._counter, self._histogram
        self.rpc_calls = counter("rpc_calls", "RPC calls finished by method and outcome",
                                 ["method", "outcome"])
        self.rpc_duration = histogram("rpc_call_duration_seconds", "RPC call duration, by method", ["method"])
        self.rpc_in_flight = Gauge("rpc_calls_in_flight", "RPC calls running", namespace=ns, registry=reg,
                                   multiprocess_mode="livesum")
        self.rpc_queued = Gauge("rpc_calls_queued", "RPC calls waiting for a slot", namespace=ns,
                                registry=reg,
                                multiprocess_mode="livesum")
        self.rpc_rejected = Counter("rpc_busy_rejections", "RPC calls refused: Server busy (queue full)",
                                    namespace=ns, registry=reg)
        self.http_requests = counter("http_requests", "HTTP requests answered, by route and status",
                                     ["route", "status"])
        self.task_runs = counter("scheduler_runs", "Scheduled task attempts, by task", ["task"])
        self.task_failures = counter("scheduler_failures", "Scheduled task attempts that raised, by task",
                                     ["task"])
        self.task_skipped = counter("scheduler_skipped", "Due times skipped (past misfire_grace), by task",
                                    ["task"])
        self.task_lateness = histogram("scheduler_lateness_seconds", "Seconds a run started after its due",
                                       ["task"])
        self.service_state = Gauge("service_state", "1 for the state a service is in", ["service", "state"],
                                   namespace=ns, registry=reg, multiprocess_mode="livemax")
        self.log_records = counter("log_records", "Log records of the app's logger, by level", ["level"])
        if settings.process and not self.multiprocess:
            ProcessCollector(namespace=ns, registry=reg)
        self.log_handler = _LogCounter(self.log_records)
        self._rejected_seen = 0
        self._skipped_seen: dict[str, int] = {}
        self.server: Any = None  # the app's RPC server (duck-typed: ``ascribe``, ``load_stats``)

    def _counter(self, name: str, documentation: str, labelnames: list[str]) -> Counter | LeanCounter:
        """A labelled counter: lean in one process, the client's own in multiprocess mode."""
        ns, reg = self.settings.prefix, self.registry
        if self.multiprocess:  # its values must be the client's mmap files, summed over the workers
            return Counter(name, documentation, labelnames, namespace=ns, registry=reg)
        return LeanCounter(name, documentation, labelnames, namespace=ns, registry=reg)

    def _histogram(self, name: str, documentation: str, labelnames: list[str]) -> Histogram | LeanHistogram:
        """A labelled histogram of the configured buckets: lean in one process, else the client's own."""
        ns, reg, buckets = self.settings.prefix, self.registry, self.settings.buckets
        if self.multiprocess:
            return Histogram(name, documentation, labelnames, namespace=ns, registry=reg, buckets=buckets)
        return LeanHistogram(name, documentation, labelnames, namespace=ns, registry=reg, buckets=buckets)

    def method_label(self, method: str) -> str:
        """``method`` when the RPC server has it registered, else :data:`UNKNOWN`."""
        server = self.server
        if server is None:
            return UNKNOWN
        label: str = server.ascribe(method)
        return label

    def refresh(self, app: web.Application | None = None) -> None:
        """Copy the RPC server's load figures (and, with ``app``, the service states) into the gauges."""
        server = self.server
        if server is not None:
            stats = server.load_stats()
            self.rpc_in_flight.set(stats["in_flight"])
            self.rpc_queued.set(stats["queued"])
            rejected = stats["rejected"]
            if rejected > self._rejected_seen:
                self.rpc_rejected.inc(rejected - self._rejected_seen)
                self._rejected_seen = rejected
        if app is not None:
            from kaiju_tools import get_services

            try:
                services = list(get_services(app))
            except KeyError:
                services = []
            for service in services:
                self.set_state(service)

    def set_state(self, service: Any) -> None:
        """Mark ``service`` as being in its current state (1), every other state 0."""
        name = service.service_name
        state = str(getattr(service.state, "value", service.state)).lower()
        for each in SERVICE_STATES:
            self.service_state.labels(name, each).set(1 if each == state else 0)

    def count_skipped(self, task: Any) -> None:
        """Add the task's skipped due times since last seen."""
        skipped = getattr(task, "skipped", 0)
        seen = self._skipped_seen.get(task.name, 0)
        if skipped > seen:
            self.task_skipped.labels(task.name).inc(skipped - seen)
            self._skipped_seen[task.name] = skipped

    def exposition(self) -> bytes:
        """The scrape: every metric in the Prometheus text format (multiprocess mode: summed over workers)."""
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)

    async def handle(self, request: web.Request) -> web.Response:
        """``GET <path>``: the scrape."""
        self.refresh(request.app.get(_APP_KEY) or request.app)
        return web.Response(body=self.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})


METRICS_KEY = web.AppKey("kaiju_plugins.metrics", Metrics)
"""App key of the app's :class:`Metrics` (set when the app is built)."""
# the app, in the state of a separate scrape port's own app
_APP_KEY = web.AppKey("kaiju_plugins.metrics.app", web.Application)


def get_metrics(app: web.Application) -> Metrics | None:
    """The app's :class:`Metrics`, or ``None`` when the plugin is not active in it."""
    return app.get(METRICS_KEY)
