"""The plugin's wrappers (``kaiju_wrap_request`` / ``kaiju_wrap_call`` / ``kaiju_wrap_task``) and sink."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from ._metrics import UNKNOWN, Metrics

__all__ = ["call_wrapper", "outcome_sink", "request_wrapper", "task_wrapper"]

_INTERNAL = "-32603"  # what the RPC server answers for an exception that is not an RPC error
_DENIED = "-32002"


def _code(exc: BaseException) -> str:
    """The JSON-RPC error code the call is answered with (an RPC error's ``error_code`` / ``code``)."""
    code = getattr(exc, "error_code", None)
    if code is None:
        code = getattr(exc, "code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        return str(code)
    return _DENIED if isinstance(exc, PermissionError) else _INTERNAL


def call_wrapper(metrics: Metrics) -> Any:
    """Count and time each RPC call by (registered) method and outcome.

    The labelled children are cached per label values (bounded: registered methods only), so a
    call costs two dict lookups, not ``labels()``'s checks and lock.
    """
    calls, duration, label = metrics.rpc_calls, metrics.rpc_duration, metrics.method_label
    counters: dict[tuple[str, str], Any] = {}
    histograms: dict[str, Any] = {}
    clock = time.perf_counter

    def done(name: str, outcome: str, seconds: float) -> None:
        counter = counters.get((name, outcome))
        if counter is None:
            counter = counters[name, outcome] = calls.labels(name, outcome)
        counter.inc()
        histogram = histograms.get(name)
        if histogram is None:
            histogram = histograms[name] = duration.labels(name)
        histogram.observe(seconds)

    def wrap(call: Any) -> Any:
        async def counted(method: str, params: Any) -> Any:
            start = clock()
            try:
                result = await call(method, params)
            except BaseException as exc:
                done(label(method), _code(exc), clock() - start)
                raise
            done(label(method), "result", clock() - start)
            return result

        return counted

    return wrap


def _route(request: web.Request) -> str:
    """The matched route's pattern (``/items/{id}``), never the raw path; :data:`UNKNOWN`: no match."""
    info = request.match_info
    route = getattr(info, "route", None)
    resource = getattr(route, "resource", None)
    if resource is None or getattr(info, "http_exception", None) is not None:
        return UNKNOWN
    canonical: str = resource.canonical
    return canonical


def request_wrapper(metrics: Metrics) -> Any:
    """Count HTTP requests by route pattern and status (children cached per label values)."""
    requests = metrics.http_requests
    children: dict[tuple[str, str], Any] = {}

    def count(request: web.Request, status: int) -> None:
        key = (_route(request), str(status))
        child = children.get(key)
        if child is None:
            child = children[key] = requests.labels(*key)
        child.inc()

    def wrap(handler: Any) -> Any:
        async def counted(request: web.Request) -> web.StreamResponse:
            try:
                response: web.StreamResponse = await handler(request)
            except web.HTTPException as exc:
                count(request, exc.status)
                raise
            except BaseException:
                count(request, 500)
                raise
            count(request, response.status)
            return response

        return counted

    return wrap


def task_wrapper(metrics: Metrics) -> Any:
    """Count scheduled task attempts and failures; observe each run's lateness; count skipped due times."""
    runs, failures, lateness = metrics.task_runs, metrics.task_failures, metrics.task_lateness

    def wrap(run: Any) -> Any:
        async def counted(task: Any) -> Any:
            name = task.name
            runs.labels(name).inc()
            late = getattr(task, "last_lateness", None)
            if late is not None:
                lateness.labels(name).observe(late)
            metrics.count_skipped(task)
            try:
                return await run(task)
            except BaseException:
                failures.labels(name).inc()
                raise

        return counted

    return wrap


def outcome_sink(metrics: Metrics) -> Any:
    """In multiprocess mode, after each RPC request: the worker's load gauges and busy rejections
    (a scrape is served by one worker, which cannot read the others' servers); ``None`` otherwise."""

    def sink(outcome: Any) -> None:
        metrics.refresh()

    # one process: the scrape reads the figures itself; several: each worker writes its own
    return sink if metrics.multiprocess else None
