"""``JSONRPCView``: the HTTP transport of :class:`JSONRPCServer` (an aiohttp class view).

Per request: read the body (size-checked), decode it, work out the deadline from the
``Timeout`` (seconds) / ``Deadline`` (unix time) headers bounded by ``max_request_time``,
bind ``correlation_id`` and ``deadline`` in :mod:`kaiju_tools.context`, let the server
answer, encode. Responses are HTTP 200 (errors included, as JSON-RPC over HTTP does);
204 when there is nothing to answer (notifications); 413 when the body is too large;
405 for a method other than POST. Never 500.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from typing import Any

from aiohttp import hdrs, web
from aiohttp.abc import AbstractView
from kaiju_tools import context, get_services

from ._errors import InternalError, InvalidHeader, ParseError, RequestTooLarge, RPCError
from ._server import SERVER_KEY, JSONRPCServer

__all__ = ["JSONRPCView"]

_JSON = "application/json"
_PARSE_ERROR = b'{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}'
_cid_var = context.correlation_id
_deadline_var = context.deadline


def _error_response(err: RPCError, status: int = 200, extra: dict[str, str] | None = None) -> web.Response:
    import json

    body = json.dumps({"jsonrpc": "2.0", "error": err.to_object(), "id": None}).encode()
    return web.Response(body=body, status=status, content_type=_JSON, headers=extra)


def _find_server(app: web.Application) -> JSONRPCServer:
    server = app.get(SERVER_KEY)
    if server is None:
        server = get_services(app).discover(None, cls=JSONRPCServer)
    return server


def _header_number(headers: Any, name: str, what: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if number != number or number in (float("inf"), float("-inf")):
        raise InvalidHeader(data={"header": name, "problem": f"expected {what}, got {value!r}"})
    return number


def _timeout(server: JSONRPCServer, headers: Any, now: float) -> float:
    """Seconds the request may take, from its headers, bounded by ``max_request_time``."""
    timeout = _header_number(headers, "Timeout", "a number of seconds")
    deadline = _header_number(headers, "Deadline", "a unix time (seconds)")
    if deadline is not None:
        timeout = deadline - now if timeout is None else min(timeout, deadline - now)
    if timeout is None:
        return server.default_request_time
    return min(timeout, server.max_request_time)


async def _read(request: web.Request, limit: int) -> bytes | web.Response:
    length = request.content_length
    if length is None or length <= limit:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            body = None
        if body is not None and len(body) <= limit:
            return body
    return _error_response(RequestTooLarge(data={
        "problem": f"the body may hold at most {limit} bytes", "max_body_size": limit,
        "hint": "split the batch, or raise max_body_size (and the app's client_max_size above 1 MiB)"}), 413)


async def handle_request(request: web.Request) -> web.StreamResponse:
    """Answer one HTTP request carrying a JSON-RPC request or batch."""
    server = request.app.get(SERVER_KEY) or _find_server(request.app)
    if request.method != "POST":
        return _error_response(RPCError("Method Not Allowed", data={
            "problem": f"JSON-RPC is served over POST, got {request.method}"}), 405, {hdrs.ALLOW: "POST"})
    body = await _read(request, server.max_body_size)
    if type(body) is not bytes:
        return body
    headers = request.headers
    cid = headers.get("Correlation-Id")
    now = time.time()
    try:
        timeout = _timeout(server, headers, now)
    except InvalidHeader as exc:
        return _error_response(exc, 400)
    try:
        data = server.loads(body)
    except (ValueError, RecursionError):
        return web.Response(body=_PARSE_ERROR, content_type=_JSON)
    deadline_token = _deadline_var.set(now + timeout)
    cid_token = _cid_var.set(cid) if cid is not None else None
    try:
        out = await server.handle(data, asyncio.get_running_loop().time() + timeout)
    finally:
        _deadline_var.reset(deadline_token)
        if cid_token is not None:
            _cid_var.reset(cid_token)
    if out is None:
        response = web.Response(status=204)
    else:
        response = web.Response(body=_encode(server, out), content_type=_JSON)
    if cid is not None:
        response.headers["Correlation-Id"] = cid
    return response


def _encode(server: JSONRPCServer, out: Any) -> bytes:
    dumps = server.dumps
    try:
        return dumps(out)
    except (TypeError, ValueError, OverflowError, RecursionError):
        pass
    items = out if type(out) is list else [out]
    parts = []
    for item in items:
        try:
            parts.append(dumps(item))
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            err = InternalError(data={"problem": "the result cannot be encoded as JSON",
                                      "type": type(exc).__name__, "message": str(exc)[:200]})
            parts.append(dumps({"jsonrpc": "2.0", "error": err.to_object(), "id": item.get("id")}))
    return b"[" + b",".join(parts) + b"]" if type(out) is list else parts[0]


class JSONRPCView(AbstractView):
    """aiohttp handler of JSON-RPC requests: ``app.router.add_route('*', '/public/rpc', JSONRPCView)``.

    It serves the app's :class:`JSONRPCServer` (the first one configured).
    """

    def __await__(self) -> Generator[Any, None, web.StreamResponse]:
        return handle_request(self.request).__await__()
