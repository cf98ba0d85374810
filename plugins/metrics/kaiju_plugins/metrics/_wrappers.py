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
    """Count and time each RPC call by (registered) method and outcome."""
    calls, duration, label = metrics.rpc_calls, metrics.rpc_duration, metrics.method_label
    clock = time.perf_counter

    def wrap(call: Any) -> Any:
        async def counted(method: str, params: Any) -> Any:
            name = label(method)
            start = clock()
            try:
                result = await call(method, params)
            except BaseException as exc:
                calls.labels(name, _code(exc)).inc()
                duration.labels(name).observe(clock() - start)
                raise
            calls.labels(name, "result").inc()
            duration.labels(name).observe(clock() - start)
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
    """Count HTTP requests by route pattern and status."""
    requests = metrics.http_requests

    def wrap(handler: Any) -> Any:
        async def counted(request: web.Request) -> web.StreamResponse:
            try:
                response: web.StreamResponse = await handler(request)
            except web.HTTPException as exc:
                requests.labels(_route(request), str(exc.status)).inc()
                raise
            except BaseException:
                requests.labels(_route(request), "500").inc()
                raise
            requests.labels(_route(request), str(response.status)).inc()
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
    """After each RPC request: the load gauges and busy rejections, current (also in multiprocess mode)."""

    def sink(outcome: Any) -> None:
        metrics.refresh()

    return sink
