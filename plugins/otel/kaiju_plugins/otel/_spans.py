"""The four wrappers that make spans: HTTP requests, RPC calls, scheduler runs, client calls.

Each is built once per app by the plugin's request-handling hooks; per request or call they
start a span, make it current (and bind ``trace_id`` / ``span_id`` to the kernel's request
context, so the logging plugin writes them on every record) and end it.

Inside a trace that is not sampled (the current span's context is valid and its ``sampled``
flag off), the call and client wrappers make no span: the sampler is always ``ParentBased``
(:mod:`._tracing`), which drops a child of an unsampled parent, so the span would be a
non-recording one that nobody sees. The client still sends the current ``traceparent`` (flag
off), so the next service drops the trace too. An unsampled request thus costs one
non-recording span (its HTTP span, which decides), not one per call.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web
from kaiju_tools import context as kcontext
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from yarl import URL

from ._incontext import run_in
from ._propagation import extract, inject
from ._tracing import Tracing

__all__ = ["call_wrapper", "client_wrapper", "parent_wrapper", "request_wrapper", "task_wrapper"]

_SERVER, _CLIENT, _INTERNAL = SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL
_ERROR = StatusCode.ERROR
_METHOD_LIMIT = 200  # longest method name recorded (an attacker chooses it)
_UNKNOWN_METHOD = "jsonrpc unknown method"  # span name of a call to no route: few names, not the caller's
_NOT_FOUND = -32601
_INTERNAL_ERROR = -32603
_PERMISSION_DENIED = -32002
_call_id = kcontext.call_id
_set_span = trace.set_span_in_context
_current_span = trace.get_current_span


def _dropped() -> bool:
    """The current trace is not sampled: a child span would be dropped (the sampler is ``ParentBased``)."""
    sc = _current_span().get_span_context()
    return sc.is_valid and not sc.trace_flags.sampled


def _bind(span: trace.Span) -> kcontext.Tokens | None:
    """Bind the span's ids to the request context (only a recorded span: a dropped one has no trace)."""
    if not span.is_recording():
        return None
    sc = span.get_span_context()
    return kcontext.bind(trace_id=trace.format_trace_id(sc.trace_id),
                         span_id=trace.format_span_id(sc.span_id))


def _enter(span: trace.Span, call_id: Any) -> None:
    """Make ``span`` current in the context this runs in (a private copy: never reset)."""
    otel_context.attach(_set_span(span))
    _bind(span)
    _call_id.set(call_id)


def _rpc_error(span: trace.Span, exc: BaseException) -> None:
    code = getattr(exc, "error_code", None)
    if type(code) is not int:
        code = _PERMISSION_DENIED if isinstance(exc, PermissionError) else _INTERNAL_ERROR
    message = str(exc)[:_METHOD_LIMIT] or type(exc).__name__
    span.set_attribute("rpc.jsonrpc.error_code", code)
    span.set_attribute("rpc.jsonrpc.error_message", message)
    span.set_attribute("error.type", str(code) if code != _INTERNAL_ERROR else type(exc).__qualname__)
    span.set_status(Status(_ERROR, message))
    if code == _NOT_FOUND:
        span.update_name(_UNKNOWN_METHOD)
    elif code == _INTERNAL_ERROR:
        span.record_exception(exc)


# ---- HTTP requests (kaiju_wrap_request) -------------------------------------------------


def _route(request: web.Request) -> str | None:
    try:
        resource = request.match_info.route.resource
    except AttributeError:
        return None
    return resource.canonical if resource is not None else None


def _recommended_http(request: web.Request, attributes: dict[str, Any]) -> None:
    """The recommended (not required) HTTP server attributes."""
    host = request.host  # the Host header: "name", "name:port", "[v6]:port"
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and not host.endswith("]"):
        attributes["server.address"] = name.strip("[]")
        attributes["server.port"] = int(port)
    else:
        attributes["server.address"] = host.strip("[]")
    version = request.version
    attributes["network.protocol.version"] = f"{version.major}.{version.minor}"
    remote = request.remote
    if remote:
        attributes["client.address"] = remote
    agent = request.headers.get("User-Agent")
    if agent:
        attributes["user_agent.original"] = agent[:256]


def request_wrapper(tracing: Tracing) -> Callable[[Any], Any]:
    """``kaiju_wrap_request``: a SERVER span per HTTP request, its parent from ``traceparent``."""
    tracer = tracing.tracer
    recommended = tracing.settings.attributes == "recommended"

    def wrapper(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
        async def traced(request: web.Request) -> web.StreamResponse:
            parent = extract(request.headers)
            method = request.method
            route = _route(request)
            attributes: dict[str, Any] = {"http.request.method": method, "url.path": request.path,
                                          "url.scheme": request.scheme}
            if route is not None:
                attributes["http.route"] = route
            if recommended:
                _recommended_http(request, attributes)
            span = tracer.start_span(f"{method} {route}" if route else method, context=parent, kind=_SERVER,
                                     attributes=attributes)
            token = otel_context.attach(_set_span(span, parent))
            tokens = _bind(span)
            status: int | None = None
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            except asyncio.CancelledError:
                span.set_status(Status(_ERROR, "cancelled: the client went away or the server stopped"))
                raise
            except Exception as exc:
                status = 500
                span.record_exception(exc)
                attributes["error.type"] = type(exc).__qualname__
                span.set_attribute("error.type", attributes["error.type"])
                raise
            finally:
                if tokens is not None:
                    kcontext.reset(tokens)
                otel_context.detach(token)
                if status is not None:
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(_ERROR))
                        if "error.type" not in attributes:
                            span.set_attribute("error.type", str(status))
                span.end()

        return traced

    return wrapper


def parent_wrapper(tracing: Tracing) -> Callable[[Any], Any]:
    """``kaiju_wrap_request`` without HTTP spans: only the caller's ``traceparent`` made current,
    so the calls' spans still join the caller's trace."""

    def wrapper(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
        async def adopt(request: web.Request) -> web.StreamResponse:
            parent = extract(request.headers)
            if parent is None:
                return await handler(request)
            token = otel_context.attach(parent)
            try:
                return await handler(request)
            finally:
                otel_context.detach(token)

        return adopt

    return wrapper


# ---- RPC calls (kaiju_wrap_call) ----------------------------------------------------------


def call_wrapper(tracing: Tracing) -> Callable[[Any], Any]:
    """``kaiju_wrap_call``: a SERVER span per JSON-RPC call, a child of the request's span."""
    tracer = tracing.tracer
    copy_context = contextvars.copy_context
    recommended = tracing.settings.attributes == "recommended"

    def wrapper(call: Callable[[str, Any], Coroutine[Any, Any, Any]]) -> Any:
        async def traced(method: str, params: Any, call_id: Any) -> Any:
            attributes: dict[str, Any] = {"rpc.system": "jsonrpc", "rpc.method": method[:_METHOD_LIMIT],
                                          "rpc.jsonrpc.version": "2.0"}
            if call_id is not None and recommended:
                attributes["rpc.jsonrpc.request_id"] = str(call_id)
            span = tracer.start_span(method[:_METHOD_LIMIT], kind=_SERVER, attributes=attributes)
            try:
                ctx = copy_context()
                ctx.run(_enter, span, call_id)
                return await run_in(ctx, ctx.run(call, method, params))
            except Exception as exc:
                _rpc_error(span, exc)
                raise
            except asyncio.CancelledError:
                span.set_status(Status(_ERROR, "cancelled"))
                raise
            finally:
                span.end()

        def start(method: str, params: Any) -> Awaitable[Any]:
            if _dropped():  # an unsampled trace: no span, the call as without the plugin
                return call(method, params)
            # the call's id is readable only now (see kaiju_tools.context.call_id)
            return traced(method, params, _call_id.get())

        return start

    return wrapper


# ---- scheduler runs (kaiju_wrap_task) -----------------------------------------------------


def task_wrapper(tracing: Tracing) -> Callable[[Any], Any]:
    """``kaiju_wrap_task``: an INTERNAL span per attempt of a scheduled task's run (a new trace)."""
    tracer = tracing.tracer

    def wrapper(run: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
        async def traced(task: Any) -> Any:
            name = str(getattr(task, "name", "task"))
            span = tracer.start_span(f"task {name}", kind=_INTERNAL, attributes={"kaiju.task.name": name})
            try:
                ctx = contextvars.copy_context()
                ctx.run(_enter, span, None)
                return await run_in(ctx, ctx.run(run, task))
            except asyncio.CancelledError:
                span.set_status(Status(_ERROR, "cancelled"))
                raise
            except BaseException as exc:
                span.record_exception(exc)
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(_ERROR, str(exc)[:_METHOD_LIMIT] or type(exc).__name__))
                raise
            finally:
                span.end()

        return traced

    return wrapper


# ---- outgoing RPC calls (kaiju_wrap_client_call) ------------------------------------------


def client_wrapper(tracing: Tracing) -> Callable[[Any], Any]:
    """``kaiju_wrap_client_call``: a CLIENT span per request sent, its ``traceparent`` added."""
    tracer = tracing.tracer
    recommended = tracing.settings.attributes == "recommended"
    servers: dict[str, dict[str, Any]] = {}

    def server(url: str) -> dict[str, Any]:
        attrs = servers.get(url)
        if attrs is None:
            parsed = URL(url)
            attrs = {"server.address": parsed.host or "", "server.port": parsed.port or 0}
            if recommended:
                attrs["url.full"] = url
            if len(servers) < 64:
                servers[url] = attrs
        return attrs

    def wrapper(send: Callable[[str, Any, dict[str, str]], Awaitable[Any]]) -> Any:
        async def traced(url: str, body: Any, headers: dict[str, str]) -> Any:
            if _dropped():  # an unsampled trace: no span; the next service learns it is unsampled
                inject(headers, _current_span())
                return await send(url, body, headers)
            attributes: dict[str, Any] = {"rpc.system": "jsonrpc", "rpc.jsonrpc.version": "2.0",
                                          **server(url)}
            if type(body) is dict:
                name = str(body.get("method"))[:_METHOD_LIMIT]
                attributes["rpc.method"] = name
                if "id" in body and recommended:
                    attributes["rpc.jsonrpc.request_id"] = str(body["id"])
            else:
                name = "jsonrpc batch"
                attributes["kaiju.rpc.batch_size"] = len(body)
                attributes["kaiju.rpc.methods"] = sorted({str(item.get("method"))[:_METHOD_LIMIT]
                                                          for item in body if type(item) is dict})[:16]
            span = tracer.start_span(name, kind=_CLIENT, attributes=attributes)
            inject(headers, span)
            try:
                out = await send(url, body, headers)
            except BaseException as exc:
                _rpc_error(span, exc)
                span.end()
                raise
            if type(out) is dict and type(out.get("error")) is dict:
                error = out["error"]
                code = error.get("code")
                message = str(error.get("message"))[:_METHOD_LIMIT]
                if type(code) is int:
                    span.set_attribute("rpc.jsonrpc.error_code", code)
                    span.set_attribute("error.type", str(code))
                span.set_attribute("rpc.jsonrpc.error_message", message)
                span.set_status(Status(_ERROR, message))
            span.end()
            return out

        return traced

    return wrapper
