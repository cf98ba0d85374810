"""The view's 200 answer: a ``web.Response`` of JSON bytes, built without keyword parsing.

``web.Response(body=..., content_type=...)`` is a general constructor: keyword arguments
through two ``__init__`` levels, a status setter and a ``body`` property -- about 3 % of a
whole small JSON-RPC request (callgrind, ``bench/rpc_callgrind.py``). :func:`json_response`
makes the same object in a few attribute stores.

It lives in :mod:`._aiohttp_compat` with the plugin's other uses of aiohttp internals: at
import, one response is built both ways and their state (``vars()``, headers included) is
compared. On any difference -- another aiohttp version that sets other attributes --
:func:`json_response` is the plain constructor, and :data:`LEAN` is false (a test asserts it
is true on the aiohttp we pin).
"""

from __future__ import annotations

from ._aiohttp_compat import LEAN, _JSONResponse, _state, json_response  # noqa: F401 -- the two builds, compared by tests

__all__ = ["LEAN", "json_response"]
