"""The plugin's wrappers (``kaiju_wrap_request`` / ``kaiju_wrap_call`` / ``kaiju_wrap_task``) and sink."""

from __future__ import annotations

import time
from bisect import bisect_left
from typing import Any

from aiohttp import web

from ._lean import LeanCounter, LeanHistogram
from ._metrics import UNKNOWN, Metrics

__all__ = ["call_wrapper", "outcome_sink", "request_wrapper", "task_wrapper"]

_INTERNAL = "-32603"  # what the RPC server answers for an exception that is not an RPC error
_DENIED = "-32002"

_Pair = tuple[Any, Any]  # a call's counter and histogram children (lean, or the client's)


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

    The labelled children are cached (bounded: registered methods, and per outcome), so a call
    costs a dict lookup and the updates, not ``labels()``'s checks. A call that answered a result
    finds them by the method name as called, once the server has it registered (it is then its own
    label, and the server's ``ascribe`` is not asked again: a method once registered keeps its
    label). In one process the metrics are lean (:mod:`._lean`) and a result's updates are made
    inline (a bisect and three adds); in multiprocess mode they are the client's ``inc`` /
    ``observe``.
    """
    calls, duration = metrics.rpc_calls, metrics.rpc_duration
    lean = isinstance(calls, LeanCounter) and isinstance(duration, LeanHistogram)
    bounds = duration.bounds if isinstance(duration, LeanHistogram) else ()
    label, clock = metrics.method_label, time.perf_counter
    results: dict[str, _Pair] = {}  # by the method as called: registered methods only
    errors: dict[tuple[str, str], _Pair] = {}  # by (label, outcome)

    def result_pair(method: str) -> _Pair:
        name = label(method)
        pair = (calls.labels(name, "result"), duration.labels(name))
        if name == method:
            results[method] = pair
        return pair

    def failed(method: str, exc: BaseException, seconds: float) -> None:
        key = (label(method), _code(exc))
        pair = errors.get(key)
        if pair is None:
            pair = errors[key] = (calls.labels(*key), duration.labels(key[0]))
        pair[0].inc()
        pair[1].observe(seconds)

    def wrap(call: Any) -> Any:
        async def counted(method: str, params: Any) -> Any:
            start = clock()
            try:
                result = await call(method, params)
            except BaseException as exc:
                failed(method, exc, clock() - start)
                raise
            seconds = clock() - start
            pair = results.get(method)
            if pair is None:
                pair = result_pair(method)
            counter, histogram = pair
            if lean:  # LeanCounterChild / LeanHistogramChild, updated in place
                counter.value += 1.0
                histogram.buckets[bisect_left(bounds, seconds)] += 1  # a duration is never NaN
                histogram.sum += seconds
            else:
                counter.inc()
                histogram.observe(seconds)
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
    """Count HTTP requests by route pattern and status (children cached per route and status code:
    the label's ``str(status)`` is made once). Lean counters (one process) are updated inline."""
    requests = metrics.http_requests
    lean = isinstance(requests, LeanCounter)
    children: dict[tuple[str, int], Any] = {}

    def child(key: tuple[str, int]) -> Any:
        made = children[key] = requests.labels(key[0], str(key[1]))
        return made

    def count(request: web.Request, status: int) -> None:
        key = (_route(request), status)
        counter = children.get(key)
        if counter is None:
            counter = child(key)
        if lean:
            counter.value += 1.0
        else:
            counter.inc()

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
