"""The call engine of :class:`JSONRPCServer`: request objects and batches in, answers out.

Per call: validate the request object, find the route, check the caller's scope, call
``route.invoke(params)`` (the params checked, prepared at start-up: ``_invoke``), and run the
coroutine's first step inline. :meth:`CallEngine.answer` is the one entry of transports. A
call not answered in its first step comes out as a :class:`~._pending.Pending` (``Running``,
``Detached``, ``Queued``; a batch with such calls: ``PendingBatch``); ``_requests``
completes it (a deadline timer, a slot of the concurrency bound, a task when in a batch).
"""

from __future__ import annotations

import asyncio
import math
import types
from collections.abc import Callable, Generator
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from kaiju_tools import context

from . import _eager
from ._errors import InternalError, MethodNotFound, PermissionDenied, RPCError
from ._interface import PermissionKeys
from ._invoke import NO_PARAMS, NOTHING
from ._pending import Detached, Queued, Running

if TYPE_CHECKING:
    from ._errorlog import ErrorLog
    from ._limiter import CallLimiter
    from ._routes import Route

__all__ = ["ANYONE", "GUEST", "NOTHING", "NO_PARAMS", "CallEngine", "invalid_request", "valid_id"]

GUEST = _GUEST = int(PermissionKeys.GUEST)
ANYONE = _ANYONE = -(2**63)  # the scope that passes every check (permissions off)
_scope_var = context.scope
_call_id_var = context.call_id
_NOTHING = NOTHING  # a member absent from the request object
_PENDING = object()  # a call of _run not answered yet
_DONE = object()  # next()'s default: the generator returned
_FAST_IDS = frozenset((int, str))  # the common id types (any other is looked at closer)
_ID_TYPES = (str, int, type(None))
_PARAMS_TYPES = frozenset((list, dict))


def invalid_request(req: Any, problem: str | None = None) -> dict[str, Any]:
    """The -32600 answer to ``req`` (its id when readable, else null); ``data.problem`` says what is wrong."""
    id_ = req.get("id") if type(req) is dict else None
    if not valid_id(id_):
        id_ = None
    data = {"problem": problem or _problem(req),
            "hint": "a request is {\"jsonrpc\": \"2.0\", \"method\": str, \"params\"?: array | object, "
                    "\"id\"?: str | number | null}"}
    return {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request", "data": data},
            "id": id_}


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _problem(req: Any) -> str:
    """What makes ``req`` an invalid request object (checked in the order the server checks)."""
    if type(req) is not dict:
        return f"a request must be an object, got {_kind(req)}"
    if req.get("jsonrpc") != "2.0":
        got = repr(req["jsonrpc"])[:40] if "jsonrpc" in req else "nothing"
        return f'"jsonrpc" must be "2.0", got {got}'
    if "id" in req and not valid_id(req["id"]):
        return f'"id" must be a string, a number or null, got {_kind(req["id"])}'
    if type(req.get("method")) is not str:
        return f'"method" must be a string, got {_kind(req["method"]) if "method" in req else "nothing"}'
    return f'"params" must be an array or an object, got {_kind(req.get("params"))}'


def _denied(route: Route) -> PermissionDenied:
    return PermissionDenied(data={"method": route.method, "required": route.describe()["scope"],
                                  "problem": "the caller's scope may not call this method"})


def valid_id(id_: Any) -> bool:
    """An id the specification allows: string, number (finite) or null."""
    t = type(id_)
    return t in _ID_TYPES or (t is float and math.isfinite(id_))


class CallEngine:
    """Mixin holding the per-call logic; :class:`JSONRPCServer` sets the attributes below.

    Transports call :meth:`answer` (and ``complete`` / ``handle``, ``_requests``); nothing else.
    """

    routes_table: dict[str, Route]
    limiter: CallLimiter
    enable_permissions: bool
    request_logs: bool
    response_logs: bool
    max_request_time: float
    max_batch_size: int
    default_request_time: float
    logger: Any
    error_log: ErrorLog
    _chain: Any = None
    _not_found_cache: dict[tuple[str, int], dict[str, Any]]
    _api_method: str = "rpc.api"
    _begin_batch: Callable[[list[Any], int, bool], Any]  # (items, scope, expired): ``_requests``
    _settle: Callable[[list[Any]], Any]  # a started batch's answer or PendingBatch: ``_requests``

    def _route(self, method: str, params: Any) -> Any:
        """Find, authorise and call a route: its result, or its coroutine when async."""
        route = self.routes_table.get(method)
        if route is None:
            raise MethodNotFound(data=self._not_found(method, self._caller_scope())["data"])
        if self.enable_permissions:
            scope = _scope_var.get()
            if (_GUEST if scope is None else scope) > route.scope:
                raise _denied(route)
        return route.invoke(params)

    async def _call_inner(self, method: str, params: Any) -> Any:
        """The innermost layer of the ``kaiju_wrap_call`` chain."""
        result = self._route(method, _NOTHING if params is None else params)
        if asyncio.iscoroutine(result):
            result = await result
        return result

    def _caller_scope(self) -> int:
        """The caller's scope (guests when unset); the lowest int when permissions are off."""
        if not self.enable_permissions:
            return _ANYONE
        scope = _scope_var.get()
        return _GUEST if scope is None else scope

    def answer(self, obj: Any, scope: int) -> Any:
        """Answer a decoded request (an object or a batch) as far as it goes without waiting.

        :param obj: the decoded body
        :param scope: the caller's scope (:data:`ANYONE` when permissions are off)
        :return: the response object, the list of a batch's responses, ``None`` (nothing to
            answer), or a :class:`~._pending.Pending`: pass it to ``complete`` to get the answer

        The deadline is not checked here: a transport whose deadline has passed calls ``handle``.
        The common case -- one call with an int or str id, params absent / a list / an object, a
        method the caller may call (with call hooks: any method, the chain's innermost layer
        finds and authorises it), a free slot, no per-call logs -- is answered in this one flat
        function; anything else goes through :meth:`_run`, which answers every case.
        """
        if type(obj) is not dict:
            if type(obj) is list:
                if obj and len(obj) <= self.max_batch_size:  # the common batch inline: one call less
                    out, special = self._begin(obj, scope)
                    return self._settle(out) if special else out
                return self._begin_batch(obj, scope, False)  # empty or too large: refused
            return self._one(obj, scope)
        method = obj.get("method")
        id_ = obj.get("id", _NOTHING)
        params = obj.get("params", _NOTHING)
        if (type(id_) not in _FAST_IDS or type(method) is not str or obj.get("jsonrpc") != "2.0"
                or (params is not _NOTHING and type(params) not in _PARAMS_TYPES)
                or self.request_logs or self.response_logs):
            return self._one(obj, scope)
        limiter = self.limiter
        chain = self._chain
        try:
            if chain is None:
                route = self.routes_table.get(method)
                if route is None:
                    return {"jsonrpc": "2.0", "error": self._not_found(method, scope), "id": id_}
                if scope > route.scope or limiter.active >= limiter.limit:
                    return self._one(obj, scope)
                invoke = route.invoke  # called through a local: a method call on a slot is never specialised
                value = invoke(params)
            else:  # the call hooks' chain finds, authorises and calls the route (_call_inner)
                if limiter.active >= limiter.limit:
                    return self._one(obj, scope)
                id_token = _call_id_var.set(id_)  # read by call wrappers as they are called
                try:
                    value = chain(method, None if params is _NOTHING else params)
                finally:
                    _call_id_var.reset(id_token)
            if type(value) is CoroutineType:
                box: list[Any] = []
                runner = _eager.drive(value, box)
                yielded = next(runner, _eager.DONE)  # eager: the first step inline, no StopIteration
                if yielded is _eager.DONE:
                    value = box[0]
                else:
                    box.append(None)  # tells the runner to return the result (it suspended)
                    limiter.active += 1
                    return Running(runner, yielded, id_, False, method)
        except Exception as exc:  # noqa: BLE001 -- a method's exception is its error answer
            return {"jsonrpc": "2.0", "error": self._error(exc, method), "id": id_}
        return {"jsonrpc": "2.0", "result": value, "id": id_}

    def _one(self, req: Any, scope: int) -> Any:
        """:meth:`_begin` for a single request object: its response, ``None`` or a :class:`Detached`."""
        out = [_PENDING, False]
        runner = self._run((req,), 0, out, scope)
        yielded = next(runner, _DONE)  # a generator returning None raises no StopIteration here
        if yielded is _DONE:
            return out[0]
        self.limiter.active += 1  # nothing ran since the bound was checked in _run
        call = out[0] = Detached(runner, yielded, req.get("id"), "id" not in req, req["method"])
        return call

    def _begin(self, items: list[Any], scope: int) -> tuple[list[Any], bool]:
        """Run each request object of a batch until it finishes or suspends.

        :return: per item, the response object, ``None`` (a notification), or a :class:`~._pending.Call`;
            and whether any item is one of the last two (else the list is the whole answer)

        The calls run in :meth:`_run`, one generator for all of them that awaits each call
        with ``yield from`` (no exception per call, unlike ``send``). When a call suspends, its
        future surfaces here: that generator is detached (it finishes that one call, in the
        task :meth:`_finish` runs it in, and stops) and a new generator takes the next calls.
        """
        n = len(items)
        out: list[Any] = [_PENDING] * n
        out.append(False)  # out[n]: set by _run when an item answers None or waits for a slot
        start = 0
        special = False
        while start < n:
            runner = self._run(items, start, out, scope)
            yielded = next(runner, _DONE)  # a generator returning None raises no StopIteration here
            if yielded is _DONE:
                break
            self.limiter.active += 1  # nothing ran since the bound was checked in _run
            k = out.index(_PENDING, start)  # the call that suspended
            req = items[k]
            out[k] = Detached(runner, yielded, req.get("id"), "id" not in req, req["method"])
            special = True
            start = k + 1
        return out, out.pop() or special

    @types.coroutine
    def _run(self, items: Any, start: int, out: list[Any], scope: int) -> Generator[Any, Any, Any]:
        """Answer ``items[start:]`` into ``out`` (the hot path: keep it flat).

        ``out[k]`` is ``_PENDING`` until call ``k`` is answered; ``out[len(items)]`` is set
        true when an answer is ``None`` or a :class:`Queued` call. A coroutine method runs
        inline (``yield from``) until it suspends, if ever; once :meth:`_begin` has put a
        :class:`Detached` in its place, the generator is detached: it returns that call's
        response and stops. A call that cannot start because the concurrency bound is reached
        is answered by a :class:`Queued` call (it waits for a slot).
        """
        routes = self.routes_table
        chain = self._chain
        request_logs, response_logs = self.request_logs, self.response_logs
        limiter = self.limiter
        # changes only when a call suspends: that detaches this generator
        free = limiter.active < limiter.limit
        pending, nothing, fast_ids = _PENDING, _NOTHING, _FAST_IDS
        n = len(items)
        for k in range(start, n):
            req = items[k]
            if type(req) is not dict or req.get("jsonrpc") != "2.0":
                out[k] = invalid_request(req)
                continue
            method = req.get("method")
            id_ = req.get("id", nothing)
            params = req.get("params", nothing)
            notify = False
            if type(id_) not in fast_ids:
                if id_ is nothing:
                    id_ = None
                    notify = True
                elif not valid_id(id_):
                    out[k] = invalid_request(req)
                    continue
            params_type = type(params)
            if type(method) is not str or (params_type is not list and params_type is not dict
                                           and params is not nothing):
                out[k] = invalid_request(req)
                continue
            if request_logs:
                self.logger.info("rpc accepted", request={"method": method, "id": id_})
            try:
                if chain is None:
                    route = routes.get(method)
                    if route is None:  # never suspended: stored here, no exception raised
                        if notify:
                            out[k] = None
                            out[n] = True
                            continue
                        response: dict[str, Any] | None = {
                            "jsonrpc": "2.0", "error": self._not_found(method, scope), "id": id_}
                        if response_logs:
                            self.logger.info("rpc response", response=response)
                        out[k] = response
                        continue
                    if scope > route.scope:
                        raise _denied(route)
                    # called through a local: a method call on a slot is never specialised
                    invoke = route.invoke
                    value = invoke(params)
                else:
                    id_token = _call_id_var.set(id_)  # read by call wrappers as they are called
                    try:
                        value = chain(method, None if params is nothing else params)
                    finally:
                        _call_id_var.reset(id_token)
                if type(value) is CoroutineType:
                    if not free:
                        if limiter.waiting >= limiter.queue:
                            value.close()
                            raise limiter.busy()
                        out[k] = Queued(value, id_, notify, method)
                        out[n] = True
                        continue
                    # eager: runs inline until the call suspends, if ever (a types.coroutine generator)
                    value = yield from value  # type: ignore[misc]
                response = None if notify else {"jsonrpc": "2.0", "result": value, "id": id_}
            except Exception as exc:  # noqa: BLE001 -- a method's exception is its error answer
                response = None if notify else {"jsonrpc": "2.0", "error": self._error(exc, method),
                                                "id": id_}
            if response_logs and response is not None:
                self.logger.info("rpc response", response=response)
            if out[k] is not pending:  # detached by _begin
                return response
            if response is None:
                out[n] = True
            out[k] = response
        return None

    def _not_found(self, method: str, scope: int) -> dict[str, Any]:
        """The -32601 error object for ``method``: close names among those the caller may call.

        Cached per (method, scope) (shared, never mutated; the cache is bounded and emptied
        when the method table is rebuilt), so a repeated unknown method costs one lookup.
        """
        cache = self._not_found_cache
        key = (method, scope)
        error = cache.get(key)
        if error is None:
            import difflib  # only to word the error

            names = [name for name, route in self.routes_table.items() if scope <= route.scope]
            similar = difflib.get_close_matches(method, names, n=3, cutoff=0.6) if len(method) <= 200 else []
            error = {"code": -32601, "message": "Method not found", "data": {
                "method": method[:200], "similar": similar,
                "hint": f"call {self._api_method} for the methods you may call, with their params"}}
            if len(cache) >= 1024:
                cache.clear()
            cache[key] = error
        return error

    def _error(self, exc: BaseException, method: Any) -> dict[str, Any]:
        if isinstance(exc, RPCError):
            return exc.to_object()
        if isinstance(exc, PermissionError):
            return PermissionDenied(str(exc) or None, data={"method": method}).to_object()
        self.error_log.report(exc, method)
        return InternalError(data={"method": method, "type": type(exc).__name__,
                                   "message": str(exc)}).to_object()
