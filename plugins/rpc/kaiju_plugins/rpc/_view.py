"""``JSONRPCView``: the HTTP transport of :class:`JSONRPCServer` (an aiohttp class view).

Per request: check the content type (JSON only, unless ``require_json_content_type`` is
off), read the body (size-checked), decode it, work out the deadline from the ``Timeout``
(seconds) / ``Deadline`` (unix time) headers bounded by ``max_request_time``, bind
``correlation_id`` (the client's ``Correlation-Id`` when it is safe to log, else a generated
one: a per-process random prefix and a counter) and ``deadline`` in :mod:`kaiju_tools.context`,
let the server answer (its public ``answer`` / ``complete`` / ``handle`` only), encode. Responses
are HTTP 200 (errors included, as JSON-RPC over HTTP
does); ``notification_status`` (200 with an empty body, or 204) when there is nothing to answer
(notifications); 413 when the body is too large; 415 for a body not sent as JSON; 405 for a
method other than POST. Never 500. A request whose calls suspend is tracked (``_flight``): its
calls are cancelled when the caller disconnects, and answered when the server stops.
The server is the app's (``SERVER_KEY`` in the app's state); aiohttp internals are read
through ``_aiohttp_compat`` only.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections.abc import Generator
from typing import Any

from aiohttp import hdrs, web
from aiohttp.abc import AbstractView
from kaiju_tools import ServiceNotFound, context, get_services
from multidict import istr

from ._aiohttp_compat import json_response, read_body, request_parts
from ._calls import ANYONE as _ANYONE
from ._calls import GUEST as _GUEST
from ._errors import InternalError, InvalidHeader, InvalidRequest, RequestTooLarge, RPCError
from ._pending import Pending
from ._server import SERVER_KEY, JSONRPCServer

__all__ = ["JSONRPCView"]

_JSON = "application/json"
# istr keys skip the case-folding of every lookup (what aiohttp's own hdrs constants do)
_H_TIMEOUT = istr("Timeout")
_H_DEADLINE = istr("Deadline")
_H_CORRELATION_ID = istr("Correlation-Id")
_H_CONTENT_TYPE = hdrs.CONTENT_TYPE
_JSON_TYPES = frozenset(("application/json", "application/json-rpc", "application/jsonrequest"))
# a correlation id is logged in every record of its request: tokens only (no spaces, quotes,
# separators or control characters), 128 characters at most; anything else is replaced
_cid_ok = re.compile(r"[A-Za-z0-9._:/+=@;~-]{1,128}").fullmatch
_cid_counter = itertools.count(1)  # next(): a builtin call (its bound __next__ is a slow slot wrapper)
# per process (forked workers draw their own); os.urandom is what secrets.token_hex reads, without
# importing secrets (and hmac) at start-up
_CID_PREFIX = f"{os.urandom(5).hex()}-"


def _new_cid_prefix() -> None:
    global _CID_PREFIX  # one module-level string, read per request
    _CID_PREFIX = f"{os.urandom(5).hex()}-"


os.register_at_fork(after_in_child=_new_cid_prefix)
_PARSE_ERROR = b'{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}'
_cid_var = context.correlation_id
_scope_var = context.scope
_time = time.time
_deadline_var = context.deadline
_request_parts = request_parts  # module attributes: a test swaps in the public fallbacks
_json_response = json_response
_read_body = read_body


def _error_response(err: RPCError, status: int = 200, extra: dict[str, str] | None = None) -> web.Response:
    body = json.dumps({"jsonrpc": "2.0", "error": err.to_object(), "id": None}).encode()
    return web.Response(body=body, status=status, content_type=_JSON, headers=extra)


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
    timeout = _header_number(headers, _H_TIMEOUT, "a number of seconds")
    deadline = _header_number(headers, _H_DEADLINE, "a unix time (seconds)")
    if deadline is not None:
        timeout = deadline - now if timeout is None else min(timeout, deadline - now)
    if timeout is None:
        return server.default_request_time
    return min(timeout, server.max_request_time)


def _unsupported(content_type: str | None) -> web.Response:
    got = f"got {content_type!r}" if content_type is not None else "no Content-Type header was sent"
    return _error_response(InvalidRequest(data={
        "problem": f"a JSON-RPC body must be sent as Content-Type: application/json, {got}",
        "hint": "send the header `Content-Type: application/json` "
                "(curl: -H 'Content-Type: application/json'); "
                "for legacy clients set the rpc server's require_json_content_type: false"}), 415)


def _is_json(content_type: str | None) -> bool:
    """``application/json`` (any parameters, any case), or the JSON-RPC types some clients send."""
    return content_type is not None and content_type.partition(";")[0].strip().lower() in _JSON_TYPES


def _replace_cid(server: JSONRPCServer, unsafe: str) -> str:
    """A generated correlation id for a request whose ``Correlation-Id`` is unsafe to log (reported,
    rate-limited)."""
    cid = f"{_CID_PREFIX}{next(_cid_counter)}"
    server.warn_unsafe_cid(unsafe, cid)
    return cid


def _too_large(limit: int) -> web.Response:
    return _error_response(RequestTooLarge(data={
        "problem": f"the body may hold at most {limit} bytes", "max_body_size": limit,
        "hint": "split the batch, or raise max_body_size (and the app's client_max_size above 1 MiB)"}), 413)


def _discover(app: web.Application) -> JSONRPCServer | web.Response:
    """The server of an app that has none under ``SERVER_KEY`` (made without the app), or the
    503 answer when it has none at all; looked up per request (an unusual setup)."""
    try:
        server: JSONRPCServer = get_services(app).discover(None, cls=JSONRPCServer)
        return server
    except ServiceNotFound as exc:
        return _error_response(RPCError(data={
            "problem": f"no JSON-RPC server: {exc}",
            "hint": "add `- cls: JSONRPCServer` to `services:` in the config"}), 503)


def handle_request(request: web.Request) -> Any:
    """Answer one HTTP request carrying a JSON-RPC request or batch (a coroutine)."""
    return _serve(JSONRPCView, request)


async def _serve(view: type, request: web.Request) -> web.StreamResponse:
    """``JSONRPCView.__new__``: the handling coroutine of ``request`` (see :class:`JSONRPCView`)."""
    if view is not JSONRPCView:  # a subclass: a regular view object (its own __await__ runs)
        instance: Any = AbstractView.__new__(view)
        instance.__init__(request)
        return await instance  # type: ignore[no-any-return]
    state, http_method, headers = _request_parts(request)  # no property calls (see _aiohttp_compat)
    server = state.get(SERVER_KEY)  # the app's server, bound when it was made with the app
    if server is None:
        found = _discover(request.app)
        if type(found) is web.Response:
            return found
        server = found
    if http_method != "POST":
        return _error_response(RPCError("Method Not Allowed", data={
            "problem": f"JSON-RPC is served over POST, got {http_method}"}), 405, {hdrs.ALLOW: "POST"})
    content_type = headers.get(_H_CONTENT_TYPE)
    if content_type != _JSON and server.require_json_content_type and not _is_json(content_type):
        return _unsupported(content_type)
    body = _read_body(request)  # a body that has wholly arrived: no coroutine (see _aiohttp_compat)
    if body is None:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _too_large(server.max_body_size)
    if len(body) > server.max_body_size:
        return _too_large(server.max_body_size)
    cid = headers.get(_H_CORRELATION_ID)
    if cid is None:
        cid = _CID_PREFIX + str(next(_cid_counter))
    elif _cid_ok(cid) is None:
        cid = _replace_cid(server, cid)
    now = _time()
    if headers.get(_H_TIMEOUT) is None and headers.get(_H_DEADLINE) is None:
        deadline = now + server.default_request_time
    else:
        try:
            deadline = now + _timeout(server, headers, now)
        except InvalidHeader as exc:
            return _error_response(exc, 400)
    loads = server.loads  # LOAD_ATTR: a method call on an instance attribute is never specialised
    try:
        data = loads(body)
    except (ValueError, RecursionError):
        return web.Response(body=_PARSE_ERROR, content_type=_JSON)
    if server.enable_permissions:
        scope = _scope_var.get()
        if scope is None:
            scope = _GUEST
    else:
        scope = _ANYONE
    deadline_token = _deadline_var.set(deadline)
    cid_token = _cid_var.set(cid)
    try:
        if deadline > now:
            out = server.answer(data, scope)  # the engine's one entry (answered, or Pending)
            if isinstance(out, Pending):
                out = await server.complete(out, deadline, request)  # the request is watched for disconnects
        else:
            out = await server.handle(data, deadline)  # the deadline has passed: every call says so
        outcomes = server.outcomes
        if outcomes is not None:  # the outcome log or a sink (``_outcomelog``); None: nothing to do
            outcomes(data, out, now, cid, scope)
    finally:
        _deadline_var.reset(deadline_token)
        _cid_var.reset(cid_token)
    if out is None:
        response = web.Response(status=server.notification_status)
    else:
        dumps = server.dumps
        try:
            encoded = dumps(out)
        except (TypeError, ValueError, OverflowError, RecursionError):
            encoded = _encode_safely(server, out)
        return _json_response(encoded, cid)  # the Correlation-Id header set as it is made
    response.headers[_H_CORRELATION_ID] = cid
    return response


def _encode_safely(server: JSONRPCServer, out: Any) -> bytes:
    """Encode item by item; an item JSON cannot carry becomes an internal error."""
    dumps = server.dumps
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

    It serves the app's :class:`JSONRPCServer` (the first one configured). aiohttp calls a
    class view as ``await JSONRPCView(request)``; constructing one returns the request's
    handling coroutine directly (no view object is kept per request).
    """

    # aiohttp calls a class view as ``await JSONRPCView(request)``: ``__new__`` is the handling
    # coroutine function itself (a static method gets the class first), so constructing one
    # returns the request's coroutine, with no Python frame run per request to make it
    __new__ = staticmethod(_serve)  # type: ignore[assignment]

    #: the view logs its requests' outcomes itself (the kernel wraps other routes' handlers)
    kaiju_outcome = "self"

    def __await__(self) -> Generator[Any, None, web.StreamResponse]:
        return handle_request(self.request).__await__()  # type: ignore[no-any-return]
