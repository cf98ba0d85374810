"""Every read or write of aiohttp internals the rpc plugin does, in one place, with a fallback.

The view is on the hot path: aiohttp's public accessors are properties (a Python call each),
and ``web.Response(body=..., content_type=...)`` parses keywords through two ``__init__``
levels. On the aiohttp versions we test (:data:`TESTED`), and only when a probe at import finds
the layout we expect, the functions below read and build the same objects directly:

- :func:`request_parts`: ``(app state, HTTP method, headers)`` of a request -- the app's state
  mapping answers ``get(key)`` like the app itself;
- :func:`json_response`: a 200 ``application/json`` response with its ``Correlation-Id``
  header (state set in a few stores, compared at import with one built by the constructor);
- :func:`read_body`: the body of a request that has wholly arrived in one chunk (a small
  request's usual shape), taken from the body stream as ``StreamReader.readany`` takes it,
  without ``request.read()``'s coroutines and the flow-control call it makes after every read
  (``resume_reading``, a parser feed and a transport call: work only when reading was paused);
- :func:`watch_eof` / :func:`unwatch_eof`: be told when the request's connection is lost
  (a future in the body stream's EOF-waiter slot, free once the body is read).

Otherwise (another aiohttp, or a probe that fails) each is its public equivalent and
:data:`FAST` is false: requests are served the same, a little slower, and disconnects are
not detected. :func:`select` makes either set; tests run the view with both.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import hdrs, web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.streams import StreamReader
from multidict import CIMultiDict, istr

__all__ = ["FAST", "LEAN", "TESTED", "json_response", "read_body", "request_parts", "select", "unwatch_eof",
           "watch_eof"]

TESTED = ((3, 9), (3, 15))
"""aiohttp versions ``[low, high)`` (major, minor) whose internals the fast functions read."""

_JSON = "application/json"
_TEMPLATE = CIMultiDict({hdrs.CONTENT_TYPE: _JSON})
_CID = istr("Correlation-Id")


def _plain(body: bytes, cid: str) -> web.Response:
    response = web.Response(body=body, content_type=_JSON)
    response.headers[_CID] = cid
    return response


_REFERENCE = _plain(b"{}", "1")


class _JSONResponse(web.Response):
    """A ``web.Response`` whose state is set directly (see the module's docstring)."""

    def __init__(self, body: bytes, cid: str) -> None:  # no super().__init__: that is the point
        self._state: dict[Any, Any] = {}
        self._headers = headers = CIMultiDict(_TEMPLATE)
        headers[_CID] = cid
        self._status = 200
        self._reason = "OK"
        self._body = body
        self._compressed_body = None
        self._zlib_executor_size = _REFERENCE._zlib_executor_size
        self._zlib_executor = None


def _state(response: web.Response) -> dict[str, Any]:
    return {key: list(value.items()) if key == "_headers" else value for key, value in vars(response).items()}


def _same_response() -> bool:
    try:
        return _state(_JSONResponse(b"{}", "1")) == _state(_REFERENCE)
    except Exception:  # noqa: BLE001 # pragma: no cover -- another aiohttp layout
        return False


# attrgetters: the three reads in C, no Python frame per request
_fast_parts: Callable[[web.Request], tuple[Any, str, Any]] = attrgetter(
    "_match_info._current_app._state", "_method", "_headers")
_public_parts: Callable[[web.Request], tuple[Any, str, Any]] = attrgetter("app", "method", "headers")


def _fast_watch(request: web.Request, signal: Any) -> Any:
    payload = request._payload
    if type(payload) is not StreamReader or payload._eof_waiter is not None \
            or payload._exception is not None:
        return None
    payload._eof_waiter = signal
    return payload


def _fast_unwatch(payload: Any, signal: Any) -> None:
    if payload._eof_waiter is signal:
        payload._eof_waiter = None


def _fast_read(request: web.Request) -> bytes | None:
    payload = request._payload
    if type(payload) is not StreamReader or not payload._eof or request._read_bytes is not None:
        return None
    buffer = payload._buffer
    if len(buffer) != 1 or payload._buffer_offset or payload._http_chunk_splits is not None \
            or payload._exception is not None:
        return None
    body = buffer[0]
    limit = request._client_max_size
    if type(body) is not bytes or (limit and len(body) > limit):  # the public read raises the 413
        return None
    buffer.clear()  # what StreamReader._read_nowait_chunk does with a whole first chunk
    size = len(body)
    payload._size -= size
    payload._cursor += size
    request._read_bytes = body  # request.read() / json() / text() answer it from now on
    protocol = payload._protocol
    if protocol._reading_paused and payload._size < payload._low_water:
        protocol.resume_reading()  # what the stream does after a read; a no-op unless paused
    return body


def _no_read(request: web.Request) -> bytes | None:
    return None


def _no_watch(request: web.Request, signal: Any) -> Any:
    return None


def _no_unwatch(payload: Any, signal: Any) -> None:
    return None


def _version(text: str) -> tuple[int, int] | None:
    try:
        major, minor = text.split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return None


def _probe() -> bool:
    """The attributes the fast functions read exist where expected (a request is not needed)."""
    try:
        from aiohttp.web_urldispatcher import UrlMappingMatchInfo

        return ("_current_app" in UrlMappingMatchInfo.__slots__
                or hasattr(UrlMappingMatchInfo, "_current_app")
                or "_current_app" in UrlMappingMatchInfo.__init__.__code__.co_names) \
            and "_state" in web.Application.__init__.__code__.co_names \
            and {"_method", "_headers", "_client_max_size", "_payload"} <= set(
                web.BaseRequest.__init__.__code__.co_names) \
            and getattr(web.BaseRequest, "_read_bytes", False) is None \
            and {"_eof_waiter", "_buffer", "_buffer_offset", "_size", "_cursor", "_eof", "_exception",
                 "_protocol", "_low_water", "_http_chunk_splits"} <= set(
                StreamReader.__init__.__code__.co_names) \
            and "_reading_paused" in BaseProtocol.__init__.__code__.co_names
    except Exception:  # noqa: BLE001 # pragma: no cover -- another aiohttp layout
        return False


def select(version: str) -> SimpleNamespace:
    """The functions to use on aiohttp ``version``: the fast ones when it is in :data:`TESTED`
    and the layout probe passes (``fast`` true), else the public ones (``fast`` false)."""
    parsed = _version(version)
    fast = parsed is not None and TESTED[0] <= parsed < TESTED[1] and _probe()
    lean = fast and _same_response()
    return SimpleNamespace(
        fast=fast, lean=lean, request_parts=_fast_parts if fast else _public_parts,
        json_response=_JSONResponse if lean else _plain, read_body=_fast_read if fast else _no_read,
        watch_eof=_fast_watch if fast else _no_watch,
        unwatch_eof=_fast_unwatch if fast else _no_unwatch)


_chosen = select(aiohttp.__version__)

FAST: bool = _chosen.fast
"""True when the functions below read aiohttp's internals (a tested version, the probe passed)."""

LEAN: bool = _chosen.lean
"""True when :func:`json_response` builds its responses directly (the state matched)."""

request_parts: Callable[[web.Request], tuple[Any, str, Any]] = _chosen.request_parts
"""``request_parts(request)``: ``(state, method, headers)``; ``state.get(key)`` reads the app's value."""

json_response: Callable[[bytes, str], web.Response] = _chosen.json_response
"""``json_response(body, cid)``: a 200 ``application/json`` response carrying ``body`` and the
``Correlation-Id: cid`` header."""

read_body: Callable[[web.Request], bytes | None] = _chosen.read_body
"""``read_body(request)``: the request's whole body when it has arrived in one chunk (consumed as
``request.read()`` consumes it, and kept for it), else ``None``: then ``await request.read()``."""

watch_eof: Callable[[web.Request, Any], Any] = _chosen.watch_eof
"""``watch_eof(request, future)``: a handle when ``future`` gets the connection-lost exception,
else ``None``."""

unwatch_eof: Callable[[Any, Any], None] = _chosen.unwatch_eof
"""``unwatch_eof(handle, future)``: give the body stream its EOF waiter back."""
