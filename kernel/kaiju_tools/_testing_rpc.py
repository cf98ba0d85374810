"""The RPC test client (part of :mod:`kaiju_tools.testing`)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import ClientSession, web

from .exceptions import KaijuError

__all__ = ["RPCCallError", "RPCTestClient", "find_rpc_path"]


class RPCCallError(KaijuError):
    """A JSON-RPC call answered with an error object: ``code``, ``message``, ``data``."""

    def __init__(self, method: str, error: Mapping[str, Any]) -> None:
        self.method = method
        self.code: int | None = error.get("code")
        self.rpc_message: str = str(error.get("message", ""))
        self.data: Any = error.get("data")
        detail = f"; data: {self.data!r}" if self.data is not None else ""
        super().__init__(f"RPC call {method!r} failed with error {self.code} {self.rpc_message!r}{detail}")


def find_rpc_path(app: web.Application) -> str:
    """The path of the first route served by ``JSONRPCView`` (or a subclass)."""
    from .http import JSONRPCView

    seen = []
    for route in app.router.routes():
        handler = route.handler
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or "?"
        seen.append(path)
        if handler is JSONRPCView or (isinstance(handler, type) and issubclass(handler, JSONRPCView)):
            return str(path)
    raise KaijuError(
        f"no route of the app serves JSONRPCView (routes: {', '.join(sorted(set(seen))) or 'none'}). "
        "Add one in your init_app (app.router.add_route('*', '/public/rpc', JSONRPCView)), or pass "
        "rpc_path='/public/rpc' to start_app() / kaiju_app()")


class RPCTestClient:
    """POSTs JSON-RPC 2.0 requests to one URL; :meth:`call` returns results, raises on errors.

    :param session: an open :class:`aiohttp.ClientSession`
    :param url: the full URL of the RPC route
    """

    __test__ = False

    def __init__(self, session: ClientSession, url: str) -> None:
        self.session = session
        self.url = url
        self._ids = itertools.count(1)

    async def request(self, body: Any, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        """POST ``body`` (JSON-encoded unless ``bytes``): ``(HTTP status, decoded body or None)``."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        async with self.session.post(self.url, data=data, headers=all_headers) as response:
            raw = await response.read()
            return response.status, (json.loads(raw) if raw else None)

    async def call(self, method: str, params: Any = None, /, *, headers: Mapping[str, str] | None = None,
                   **kwargs: Any) -> Any:
        """Call ``method`` with ``params`` (a list or a mapping) or keyword arguments.

        Returns the ``result``; raises :class:`RPCCallError` when the answer is an error object.
        """
        if params is not None and kwargs:
            raise TypeError("call(): pass params as one list/mapping or as keyword arguments, not both")
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        if params is not None or kwargs:
            body["params"] = params if params is not None else kwargs
        status, answer = await self.request(body, headers)
        if not isinstance(answer, dict):
            raise RPCCallError(method, {"code": None, "message": f"HTTP {status} with body {answer!r}"})
        if "error" in answer:
            raise RPCCallError(method, answer["error"])
        return answer.get("result")

    async def notify(self, method: str, params: Any = None, /, **kwargs: Any) -> int:
        """Send a notification (no id, no answer expected); return the HTTP status."""
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None or kwargs:
            body["params"] = params if params is not None else kwargs
        status, _ = await self.request(body)
        return status
