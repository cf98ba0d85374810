"""``JSONRPCServer``: JSON-RPC 2.0 requests in, responses out (no HTTP here; see ``_view``)."""

from __future__ import annotations

import asyncio
import math
from types import CoroutineType
from typing import Any

from aiohttp import web
from kaiju_tools import ConfigError, ConfigProblem, ContextableService, context, get_services

from . import _eager
from ._codec import get_codec
from ._errors import (
    InternalError, MethodNotFound, PermissionDenied, RequestTimeout, RequestTooLarge, RPCError, ServerBusy,
)
from ._interface import PermissionKeys, PublicInterface
from ._limiter import CallLimiter
from ._routes import Route, build_routes

__all__ = ["SERVER_KEY", "JSONRPCServer"]

_GUEST = int(PermissionKeys.GUEST)
_NOTHING = object()
_ID_TYPES = (str, int, type(None))


class _Suspended:
    """A call whose coroutine suspended in its first step; :meth:`JSONRPCServer._finish` completes it."""

    __slots__ = ("coro", "yielded", "id", "notify", "method", "has_slot")

    def __init__(self, coro: Any, yielded: Any, id_: Any, notify: bool, method: Any, has_slot: bool) -> None:
        self.coro, self.yielded, self.id, self.notify = coro, yielded, id_, notify
        self.method, self.has_slot = method, has_slot


def _invalid(req: Any) -> dict[str, Any]:
    id_ = req.get("id") if type(req) is dict else None
    if not _valid_id(id_):
        id_ = None
    return {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": id_}


def _valid_id(id_: Any) -> bool:
    t = type(id_)
    return t in _ID_TYPES or (t is float and math.isfinite(id_))


class JSONRPCServer(ContextableService, PublicInterface):
    """Serves the routes of every :class:`PublicInterface` service of the app over JSON-RPC 2.0.

    Mount :class:`kaiju_tools.http.JSONRPCView` on a route to expose it over HTTP.

    :param default_request_time: seconds a request may take when it sends no ``Timeout`` /
        ``Deadline`` header
    :param max_request_time: upper bound (seconds) of what a request may ask for
    :param enable_permissions: check each route's scope against the caller's
        (``kaiju_tools.context.scope``, set by a request hook; guests when unset)
    :param request_logs: log every call accepted (INFO, ``rpc accepted``)
    :param response_logs: log every response (INFO, ``rpc response``)
    :param max_parallel: calls in flight at most; more calls wait in the queue
    :param max_queue: calls waiting at most; more are answered ``Server busy`` at once
    :param max_body_size: largest request body, bytes (also bounded by the aiohttp app's
        ``client_max_size``, 1 MiB by default: set ``app: {client_max_size: N}`` to go above)
    :param max_batch_size: most calls in one batch
    :param codec: JSON codec: ``ujson`` (default), ``orjson`` (if installed) or ``json``
    """

    service_name = "rpc"
    rpc_namespace = None

    def __init__(
        self, app: web.Application | None = None, logger: Any = None, *,
        default_request_time: float = 90, max_request_time: float = 600, enable_permissions: bool = True,
        request_logs: bool = False, response_logs: bool = False, max_parallel: int = 256,
        max_queue: int = 1024, max_body_size: int = 1024 * 1024, max_batch_size: int = 100,
        codec: str = "ujson",
    ) -> None:
        super().__init__(app=app, logger=logger)
        problems = []
        for key, value in (("default_request_time", default_request_time), ("max_request_time", max_request_time)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                problems.append(ConfigProblem(f"{self.service_name}.settings.{key}",
                                              f"expected a positive number of seconds, got {value!r}"))
        for key, value in (("max_parallel", max_parallel), ("max_body_size", max_body_size),
                           ("max_batch_size", max_batch_size), ("max_queue", max_queue)):
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if key == "max_queue" else 1):
                problems.append(ConfigProblem(f"{self.service_name}.settings.{key}",
                                              f"expected a positive integer, got {value!r}"))
        try:
            self.loads, self.dumps = get_codec(codec)
        except ValueError as exc:
            problems.append(ConfigProblem(f"{self.service_name}.settings.codec", str(exc)))
        if problems:
            raise ConfigError(problems)
        self.default_request_time = float(default_request_time)
        self.max_request_time = float(max_request_time)
        if self.default_request_time > self.max_request_time:
            self.default_request_time = self.max_request_time
        self.enable_permissions = bool(enable_permissions)
        self.request_logs = bool(request_logs)
        self.response_logs = bool(response_logs)
        self.max_body_size = max_body_size
        self.max_batch_size = max_batch_size
        self.codec = codec
        self.limiter = CallLimiter(max_parallel, max_queue)
        self.routes_table: dict[str, Route] = {}
        self._chain: Any = None
        if app is not None and not app.frozen and SERVER_KEY not in app:
            app[SERVER_KEY] = self

    # ---- PublicInterface ------------------------------------------------------------

    @property
    def routes(self) -> dict[str, Any]:
        """The server's own methods: ``<name>.api``."""
        return {"api": self.api}

    @property
    def permissions(self) -> dict[str, int]:
        """Everyone may list what they may call."""
        return {"api": PermissionKeys.GUEST}

    async def api(self) -> list[dict[str, Any]]:
        """List the methods the caller may call, with their parameters and types."""
        scope = context.scope.get()
        scope = _GUEST if scope is None else scope
        return [route.describe() for method, route in sorted(self.routes_table.items())
                if not self.enable_permissions or scope <= route.scope]

    # ---- lifecycle ------------------------------------------------------------------

    async def init(self) -> None:
        """Prepare the method table and the call-hook chain (once; nothing per request)."""
        self.prepare()
        wrappers: list[Any] = []
        if self.app is not None:
            from kaiju_tools.hookspecs import compose
            from kaiju_tools.plugins import collect

            try:
                wrappers = collect(self.app, "kaiju_wrap_call")
            except KeyError:  # an app not built by init_app: no plugins
                wrappers = []
            self._chain = compose(wrappers, self._call_inner) if wrappers else None
        self.logger.debug("rpc server ready", methods=len(self.routes_table), call_hooks=len(wrappers))

    def prepare(self, services: Any = None) -> None:
        """(Re)build the method table from ``services`` (default: the app's services).

        Called by :meth:`init`, and again when the app has started (optional services that
        failed to start are no longer discoverable, so their methods go).
        """
        if services is None:
            services = list(get_services(self.app)) if self.app is not None else [self]
        self.routes_table = build_routes(services)

    # ---- calls ----------------------------------------------------------------------

    def _route(self, method: str, params: Any) -> Any:
        """Find, authorise and call a route: its result, or its coroutine when async."""
        route = self.routes_table.get(method)
        if route is None:
            raise MethodNotFound()
        if self.enable_permissions:
            scope = context.scope.get()
            if (_GUEST if scope is None else scope) > route.scope:
                raise PermissionDenied(data={"method": method, "required": route.describe()["scope"],
                                             "problem": "the caller's scope may not call this method"})
        if params is _NOTHING:
            route.checker.check_list([])
            return route.func()
        if type(params) is list:
            route.checker.check_list(params)
            return route.func(*params)
        route.checker.check_dict(params)
        return route.func(**params)

    async def _call_inner(self, method: str, params: Any) -> Any:
        """The innermost layer of the ``kaiju_wrap_call`` chain."""
        result = self._route(method, _NOTHING if params is None else params)
        if asyncio.iscoroutine(result):
            result = await result
        return result

    def _begin(self, req: Any) -> Any:
        """Run a request object until it finishes or suspends.

        :return: the response object, ``None`` (a notification), or :class:`_Suspended`
        """
        if type(req) is not dict or req.get("jsonrpc") != "2.0":
            return _invalid(req)
        method = req.get("method")
        if type(method) is not str:
            return _invalid(req)
        notify = "id" not in req
        id_ = req.get("id")
        if not notify and not _valid_id(id_):
            return _invalid(None)
        params = req.get("params", _NOTHING)
        if params is not _NOTHING and type(params) is not list and type(params) is not dict:
            return _invalid(req)
        if self.request_logs:
            self.logger.info("rpc accepted", request={"method": method, "id": id_})
        limiter = self.limiter
        has_slot = False
        try:
            chain = self._chain
            if chain is None:
                value = self._route(method, params)
                if type(value) is not CoroutineType:
                    return None if notify else self._answer({"jsonrpc": "2.0", "result": value, "id": id_})
                coro = value
            else:
                coro = chain(method, None if params is _NOTHING else params)
            if limiter.active >= limiter.limit:
                if limiter.waiting >= limiter.queue:
                    coro.close()
                    raise ServerBusy(data={"in_flight": limiter.active, "limit": limiter.limit,
                                           "queue": limiter.queue,
                                           "hint": "retry later, or raise max_parallel / max_queue"})
                return _Suspended(coro, None, id_, notify, method, False)
            limiter.active += 1
            has_slot = True
            marker, value = _eager.start(coro)
            if marker is not _eager.DONE:
                has_slot = False  # handed over to _finish
                return _Suspended(coro, marker, id_, notify, method, True)
            return None if notify else self._answer({"jsonrpc": "2.0", "result": value, "id": id_})
        except Exception as exc:
            return None if notify else self._answer({"jsonrpc": "2.0", "error": self._error(exc, method),
                                                     "id": id_})
        finally:
            if has_slot:
                limiter.release()

    async def _finish(self, call: _Suspended, loop_deadline: float) -> Any:
        """Complete a suspended (or waiting) call within its deadline; never raises."""
        limiter = self.limiter
        has_slot = started = call.has_slot
        timeout = asyncio.timeout_at(loop_deadline)
        try:
            if not has_slot:
                await limiter.acquire(loop_deadline)
                has_slot = started = True
                marker, value = _eager.start(call.coro)
                if marker is not _eager.DONE:
                    async with timeout:
                        value = await _eager.resume(call.coro, marker)
            else:
                async with timeout:
                    value = await _eager.resume(call.coro, call.yielded)
            out: Any = {"jsonrpc": "2.0", "result": value, "id": call.id}
        except TimeoutError as exc:
            err = RequestTimeout(data={"method": call.method, "problem": "the call passed its deadline and was "
                                       "cancelled", "max_request_time": self.max_request_time}) \
                if timeout.expired() else exc
            out = {"jsonrpc": "2.0", "error": self._error(err, call.method), "id": call.id}
        except Exception as exc:
            out = {"jsonrpc": "2.0", "error": self._error(exc, call.method), "id": call.id}
        finally:
            if has_slot:
                limiter.release()
            if not started:
                call.coro.close()  # never started (busy, or timed out while queued)
        return None if call.notify else self._answer(out)

    def _error(self, exc: BaseException, method: Any) -> dict[str, Any]:
        if isinstance(exc, RPCError):
            return exc.to_object()
        if isinstance(exc, PermissionError):
            return PermissionDenied(str(exc) or None, data={"method": method}).to_object()
        self.logger.error("rpc method raised", method=method, exc_info=exc)
        return InternalError(data={"method": method, "type": type(exc).__name__, "message": str(exc)}).to_object()

    def _answer(self, out: dict[str, Any]) -> dict[str, Any]:
        if self.response_logs:
            self.logger.info("rpc response", response=out)
        return out

    # ---- requests -------------------------------------------------------------------

    async def handle(self, data: Any, loop_deadline: float | None = None) -> Any:
        """Answer a decoded JSON-RPC request (an object or a batch).

        :param data: the decoded body
        :param loop_deadline: ``loop.time()`` after which calls are cancelled (default:
            ``default_request_time`` from now)
        :return: the response object, the list of responses of a batch, or ``None`` when
            nothing is to be answered (notifications)
        """
        loop = asyncio.get_running_loop()
        if loop_deadline is None:
            loop_deadline = loop.time() + self.default_request_time
        if type(data) is list:
            return await self._batch(data, loop_deadline)
        if loop_deadline <= loop.time():
            return self._expired(data)
        out = self._begin(data)
        if type(out) is _Suspended:
            return await self._finish(out, loop_deadline)
        return out

    def _expired(self, req: Any) -> Any:
        if type(req) is not dict or req.get("jsonrpc") != "2.0" or type(req.get("method")) is not str:
            return _invalid(req)
        if "id" not in req:
            return None
        err = RequestTimeout(data={"method": req["method"], "problem": "the request's deadline had passed "
                                   "before the call could start"})
        return {"jsonrpc": "2.0", "error": err.to_object(), "id": req["id"] if _valid_id(req["id"]) else None}

    async def _batch(self, items: list[Any], loop_deadline: float) -> Any:
        if not items:
            return _invalid(None)
        if len(items) > self.max_batch_size:
            err = RequestTooLarge(data={"problem": f"a batch may hold at most {self.max_batch_size} calls, "
                                                   f"got {len(items)}", "max_batch_size": self.max_batch_size,
                                        "hint": "split the batch"})
            return {"jsonrpc": "2.0", "error": err.to_object(), "id": None}
        loop = asyncio.get_running_loop()
        if loop_deadline <= loop.time():
            out = [self._expired(item) for item in items]
        else:
            out = [self._begin(item) for item in items]
            waits = [(i, self._finish(o, loop_deadline)) for i, o in enumerate(out) if type(o) is _Suspended]
            if waits:
                tasks = [loop.create_task(coro) for _, coro in waits]
                try:
                    await asyncio.wait(tasks)
                except BaseException:
                    for task in tasks:
                        task.cancel()
                    raise
                for (i, _), task in zip(waits, tasks):
                    out[i] = task.result()
        answers = [o for o in out if o is not None]
        return answers or None


SERVER_KEY = web.AppKey("kaiju_plugins.rpc.server", JSONRPCServer)
"""App key of the app's (first) :class:`JSONRPCServer`, set when it is built."""
