"""The view's 200 answer: a ``web.Response`` of JSON bytes, built without keyword parsing.

``web.Response(body=..., content_type=...)`` is a general constructor: keyword arguments
through two ``__init__`` levels, a status setter and a ``body`` property -- about 3 % of a
whole small JSON-RPC request (callgrind, ``bench/rpc_callgrind.py``). :func:`json_response`
makes the same object in a few attribute stores.

It stays the same object: at import, one response is built both ways and their state
(``vars()``, headers included) is compared. On any difference -- another aiohttp version
that sets other attributes -- :func:`json_response` is the plain constructor, and
:data:`LEAN` is false (a test asserts it is true on the aiohttp we pin).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import hdrs, web
from multidict import CIMultiDict

__all__ = ["LEAN", "json_response"]

_JSON = "application/json"
_TEMPLATE = CIMultiDict({hdrs.CONTENT_TYPE: _JSON})


def _plain(body: bytes) -> web.Response:
    return web.Response(body=body, content_type=_JSON)


_REFERENCE = _plain(b"{}")


class _JSONResponse(web.Response):
    """A ``web.Response`` whose state is set directly (see the module's docstring)."""

    def __init__(self, body: bytes) -> None:  # noqa: D107 -- no super().__init__: that is the point
        self._state: dict[Any, Any] = {}
        self._headers = CIMultiDict(_TEMPLATE)
        self._status = 200
        self._reason = "OK"
        self._body = body
        self._compressed_body = None
        self._zlib_executor_size = _REFERENCE._zlib_executor_size  # noqa: SLF001
        self._zlib_executor = None


def _state(response: web.Response) -> dict[str, Any]:
    return {key: list(value.items()) if key == "_headers" else value for key, value in vars(response).items()}


def _same() -> bool:
    try:
        return _state(_JSONResponse(b"{}")) == _state(_REFERENCE)
    except Exception:  # noqa: BLE001 # pragma: no cover -- another aiohttp layout
        return False


LEAN: bool = _same()
"""True when :func:`json_response` builds its responses directly (the state matched)."""

json_response: Callable[[bytes], web.Response] = _JSONResponse if LEAN else _plain
"""``json_response(body)``: a 200 ``application/json`` response carrying ``body``."""
