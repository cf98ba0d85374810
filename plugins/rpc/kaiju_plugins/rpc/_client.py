"""``JSONRPCClient``: call another kaiju app's JSON-RPC endpoint (single calls and batches).

It forwards the current request's correlation id (``Correlation-Id``) and what is left of
its deadline (``Timeout``, never more than the client's own ``timeout``), and turns error
objects back into exceptions (:class:`RPCError` subclasses by code). A client that is a
service of an app sends through the app's ``kaiju_wrap_client_call`` hooks (a tracing
plugin opens a span there and adds ``traceparent``), composed once in :meth:`init`.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from kaiju_tools import ConfigError, ConfigProblem, ContextableService, context

from ._codec import get_codec
from ._errors import RequestTimeout, RPCError, error_from_object

__all__ = ["JSONRPCClient"]

Call = tuple[str, Any] | Mapping[str, Any] | str


class JSONRPCClient(ContextableService):
    """A client of a JSON-RPC 2.0 endpoint over HTTP.

    :param url: the endpoint, e.g. ``http://other-app:8080/public/rpc``
    :param timeout: seconds a call may take at most (less when the current request's
        deadline is nearer)
    :param headers: extra HTTP headers sent with every request (an auth token...)
    :param codec: JSON codec (``ujson``, ``orjson`` or ``json``)

    Example::

        client = self.discover_service(None, cls=JSONRPCClient)
        total = await client.call("calc.add", [1, 2])
        results = await client.batch([("calc.add", [1, 2]), ("calc.ping", None)])
    """

    service_name = "rpc_client"

    def __init__(
        self, app: web.Application | None = None, logger: Any = None, *, url: str, timeout: float = 60,
        headers: Mapping[str, str] | None = None, codec: str = "ujson",
    ) -> None:
        super().__init__(app=app, logger=logger)
        problems = []
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            problems.append(ConfigProblem(f"{self.service_name}.settings.url",
                                          f"expected an http(s) URL of a JSON-RPC endpoint, got {url!r}"))
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            problems.append(ConfigProblem(f"{self.service_name}.settings.timeout",
                                          f"expected a positive number of seconds, got {timeout!r}"))
        try:
            self._loads, self._dumps = get_codec(codec)
        except ValueError as exc:
            problems.append(ConfigProblem(f"{self.service_name}.settings.codec", str(exc)))
        if problems:
            raise ConfigError(problems)
        self.url = url
        self.timeout = float(timeout)
        self.headers = dict(headers or {})
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._chain: Callable[[str, Any, dict[str, str]], Awaitable[Any]] = self._send

    async def init(self) -> None:
        """Open the HTTP connection pool; wrap sending in the app's ``kaiju_wrap_client_call`` hooks."""
        self._session = aiohttp.ClientSession(headers={"Content-Type": "application/json", **self.headers})
        self._chain = self._send
        if self.app is not None:
            from kaiju_tools.hookspecs import compose
            from kaiju_tools.plugins import collect

            try:
                wrappers = collect(self.app, "kaiju_wrap_client_call")
            except KeyError:  # an app not built by init_app: no plugins
                wrappers = []
            if wrappers:
                self._chain = compose(wrappers, self._send)

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> JSONRPCClient:
        await self.init()
        return self

    # ---- calls ----------------------------------------------------------------------

    async def call(self, method: str, params: Any = None, *, timeout: float | None = None,
                   notify: bool = False) -> Any:
        """Call ``method`` and return its result.

        :param params: a list (positional), a dict (named) or ``None`` (no params)
        :param timeout: seconds for this call (bounded by the client's ``timeout`` and the
            current request's remaining time)
        :param notify: send a notification (no id): nothing is answered, ``None`` returned
        :raises RPCError: the error object answered, as the exception of its code
        """
        request = self._request(method, params, notify)
        out = await self._post(request, timeout)
        if notify:
            return None
        if not isinstance(out, dict):
            raise RPCError("malformed response", data={"problem": "expected a response object", "got": out})
        if "error" in out:
            raise error_from_object(out["error"])
        return out.get("result")

    async def batch(self, calls: Iterable[Call], *, timeout: float | None = None,
                    return_exceptions: bool = True) -> list[Any]:
        """Send several calls as one batch; return their results in the order given.

        :param calls: ``(method, params)`` pairs, method names, or request mappings
            (``{"method": ..., "params": ..., "notify": True}``)
        :param return_exceptions: put each failed call's :class:`RPCError` in its place
            (default) instead of raising the first one
        :return: one item per call (``None`` for notifications)
        """
        requests = []
        for call in calls:
            if isinstance(call, str):
                requests.append(self._request(call, None, False))
            elif isinstance(call, Mapping):
                requests.append(self._request(call["method"], call.get("params"), bool(call.get("notify"))))
            else:
                method, params = call
                requests.append(self._request(method, params, False))
        if not requests:
            return []
        out = await self._post(requests, timeout)
        if isinstance(out, dict) and "error" in out:  # the whole batch was refused
            raise error_from_object(out["error"])
        by_id = {item.get("id"): item for item in out or () if isinstance(item, dict)}
        results: list[Any] = []
        for request in requests:
            if "id" not in request:
                results.append(None)
                continue
            item = by_id.get(request["id"])
            if item is None:
                value: Any = RPCError("malformed response", data={"problem": "no response for this call",
                                                                    "id": request["id"]})
            elif "error" in item:
                value = error_from_object(item["error"])
            else:
                value = item.get("result")
            if isinstance(value, RPCError) and not return_exceptions:
                raise value
            results.append(value)
        return results

    # ---- transport ------------------------------------------------------------------

    def _request(self, method: str, params: Any, notify: bool) -> dict[str, Any]:
        request: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            if not isinstance(params, (list, tuple, dict)):
                raise TypeError(f"{method}: params must be a list, a tuple, a dict or None, "
                                f"got {type(params).__name__}")
            request["params"] = list(params) if isinstance(params, tuple) else params
        if not notify:
            request["id"] = next(self._ids)
        return request

    async def _post(self, body: Any, timeout: float | None) -> Any:
        if self._session is None:
            raise RuntimeError(f"{self.service_name}: the client is not started; call `await client.init()` "
                               "or configure it as a service of the app")
        seconds = min(timeout or self.timeout, self.timeout)
        remaining = context.remaining_time()
        if remaining is not None:
            seconds = min(seconds, remaining)
        if seconds <= 0:
            raise RequestTimeout(data={"problem": "no time left before the current request's deadline"})
        headers = {"Timeout": f"{seconds:.3f}"}
        cid = context.get_correlation_id()
        if cid is not None:
            headers["Correlation-Id"] = cid
        return await self._chain(self.url, body, headers)

    async def _send(self, url: str, body: Any, headers: dict[str, str]) -> Any:
        """The innermost layer of the ``kaiju_wrap_client_call`` chain: post ``body``, decode the answer."""
        assert self._session is not None
        seconds = float(headers["Timeout"])
        try:
            async with self._session.post(url, data=self._dumps(body), headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=seconds + 1)) as resp:
                raw = await resp.read()
                status = resp.status
        except TimeoutError:
            raise RequestTimeout(data={"url": url, "timeout": seconds}) from None
        if status == 204 or not raw:
            return None
        try:
            return self._loads(raw)
        except ValueError:
            raise RPCError("malformed response", data={"url": url, "status": status,
                                                       "body": raw[:200].decode(errors="replace")}) from None
