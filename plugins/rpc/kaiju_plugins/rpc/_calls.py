"""The call engine of :class:`JSONRPCServer`: request objects and batches in, responses out.

Per call: validate the request object, find the route, check the caller's scope and the
params (prepared at start-up), call, and run the coroutine's first step inline (see
``_eager``). Only a call that suspends costs a task (in a batch), a deadline timer and a
slot of the concurrency bound.
"""

from __future__ import annotations

import asyncio
import math
import time
import types
from collections.abc import Generator
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from kaiju_tools import context

from . import _eager
from ._errors import (
    InternalError, MethodNotFound, PermissionDenied, RequestTimeout, RequestTooLarge, RPCError, ServerBusy,
)
from ._interface import PermissionKeys

if TYPE_CHECKING:
    from ._limiter import CallLimiter
    from ._routes import Route

__all__ = ["ANYONE", "GUEST", "METHOD_NOT_FOUND", "NOTHING", "NO_PARAMS", "CallEngine", "Suspended"]

GUEST = _GUEST = int(PermissionKeys.GUEST)
ANYONE = _ANYONE = -(2**63)  # the scope that passes every check (permissions off)
NO_PARAMS = _NO_PARAMS = ()  # the params of a call without params
_scope_var = context.scope
NOTHING = _NOTHING = object()  # a member absent from the request object
_PENDING = object()  # a call of _run not answered yet
_DONE = object()  # next()'s default: the generator returned
_FAST_IDS = frozenset((int, str))  # the common id types (any other is looked at closer)
_ID_TYPES = (str, int, type(None))
METHOD_NOT_FOUND = _METHOD_NOT_FOUND = MethodNotFound().to_object()  # shared, never mutated


class Suspended:
    """A call not finished in its first step; :meth:`CallEngine._finish` completes it.

    Three kinds: ``runner`` -- ``coro`` is the :meth:`CallEngine._run` generator, detached
    on the call it suspended in (``yielded``), holding a slot of the concurrency bound; it
    returns the whole response. ``has_slot`` only -- ``coro`` is the method's coroutine,
    started and suspended on ``yielded``; it returns the result. Neither -- ``coro`` is the
    method's coroutine, not started: it waits for a slot.
    """

    __slots__ = ("coro", "yielded", "id", "notify", "method", "has_slot", "runner")

    def __init__(self, coro: Any, yielded: Any, id_: Any, notify: bool, method: Any, has_slot: bool,
                 runner: bool) -> None:
        self.coro, self.yielded, self.id, self.notify = coro, yielded, id_, notify
        self.method, self.has_slot, self.runner = method, has_slot, runner


def _invalid(req: Any) -> dict[str, Any]:
    id_ = req.get("id") if type(req) is dict else None
    if not _valid_id(id_):
        id_ = None
    return {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": id_}


def _denied(route: Route) -> PermissionDenied:
    return PermissionDenied(data={"method": route.method, "required": route.describe()["scope"],
                                  "problem": "the caller's scope may not call this method"})


def _valid_id(id_: Any) -> bool:
    t = type(id_)
    return t in _ID_TYPES or (t is float and math.isfinite(id_))


def _busy(limiter: CallLimiter) -> ServerBusy:
    return ServerBusy(data={"in_flight": limiter.active, "limit": limiter.limit, "queue": limiter.queue,
                            "hint": "retry later, or raise max_parallel / max_queue"})


class CallEngine:
    """Mixin holding the per-call logic; :class:`JSONRPCServer` sets the attributes below."""

    routes_table: dict[str, Route]
    limiter: CallLimiter
    enable_permissions: bool
    request_logs: bool
    response_logs: bool
    max_request_time: float
    max_batch_size: int
    default_request_time: float
    logger: Any
    _chain: Any = None

    def _route(self, method: str, params: Any) -> Any:
        """Find, authorise and call a route: its result, or its coroutine when async."""
        route = self.routes_table.get(method)
        if route is None:
            raise MethodNotFound()
        if self.enable_permissions:
            scope = _scope_var.get()
            if (_GUEST if scope is None else scope) > route.scope:
                raise _denied(route)
        if params is _NOTHING:
            return route.func() if route.bare else route.call_list(_NO_PARAMS)
        if type(params) is list:
            return route.call_list(params)
        route.checker.check_dict(params)
        return route.func(**params)

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

    def _one(self, req: Any, scope: int) -> Any:
        """:meth:`_begin` for a single request object: its response, ``None`` or :class:`Suspended`."""
        out = [_PENDING, False]
        runner = self._run((req,), 0, out, scope)
        yielded = next(runner, _DONE)  # a generator returning None raises no StopIteration here
        if yielded is _DONE:
            return out[0]
        self.limiter.active += 1  # nothing ran since the bound was checked in _run
        call = out[0] = Suspended(runner, yielded, req.get("id"), "id" not in req, req["method"], True, True)
        return call

    def _begin(self, items: list[Any], scope: int) -> tuple[list[Any], bool]:
        """Run each request object of a batch until it finishes or suspends.

        :return: per item, the response object, ``None`` (a notification), or :class:`Suspended`;
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
            out[k] = Suspended(runner, yielded, req.get("id"), "id" not in req, req["method"], True, True)
            special = True
            start = k + 1
        return out, out.pop() or special

    @types.coroutine
    def _run(self, items: Any, start: int, out: list[Any], scope: int) -> Generator[Any, Any, Any]:
        """Answer ``items[start:]`` into ``out`` (the hot path: keep it flat).

        ``out[k]`` is ``_PENDING`` until call ``k`` is answered; ``out[len(items)]`` is set
        true when an answer is ``None`` or a :class:`Suspended` waiting for a slot. A
        coroutine method runs inline (``yield from``) until it suspends, if ever; once
        :meth:`_begin` has put a :class:`Suspended` in its place, the generator is detached:
        it returns that call's response and stops. A call that cannot start because the
        concurrency bound is reached is answered by a :class:`Suspended` that waits for a slot.
        """
        routes = self.routes_table
        chain = self._chain
        request_logs, response_logs = self.request_logs, self.response_logs
        limiter = self.limiter
        free = limiter.active < limiter.limit  # changes only when a call suspends: that detaches this generator
        pending, nothing, fast_ids = _PENDING, _NOTHING, _FAST_IDS
        n = len(items)
        for k in range(start, n):
            req = items[k]
            if type(req) is not dict or req.get("jsonrpc") != "2.0":
                out[k] = _invalid(req)
                continue
            method = req.get("method")
            id_ = req.get("id", nothing)
            params = req.get("params", nothing)
            notify = False
            if type(id_) not in fast_ids:
                if id_ is nothing:
                    id_ = None
                    notify = True
                elif not _valid_id(id_):
                    out[k] = _invalid(None)
                    continue
            params_type = type(params)
            if type(method) is not str or (params_type is not list and params_type is not dict
                                           and params is not nothing):
                out[k] = _invalid(req)
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
                        response = {"jsonrpc": "2.0", "error": _METHOD_NOT_FOUND, "id": id_}
                        if response_logs:
                            self.logger.info("rpc response", response=response)
                        out[k] = response
                        continue
                    if scope > route.scope:
                        raise _denied(route)
                    # attributes called through locals: a method call on a slot is never specialised
                    if params_type is list:
                        call = route.call_list  # checks the params, then calls
                        value = call(params)
                    elif params is nothing:
                        if route.bare:
                            func = route.func
                            value = func()
                        else:
                            call = route.call_list
                            value = call(_NO_PARAMS)
                    else:
                        route.checker.check_dict(params)
                        func = route.func
                        value = func(**params)
                else:
                    value = chain(method, None if params is nothing else params)
                if type(value) is CoroutineType:
                    if not free:
                        if limiter.waiting >= limiter.queue:
                            value.close()
                            raise _busy(limiter)
                        out[k] = Suspended(value, None, id_, notify, method, False, False)
                        out[n] = True
                        continue
                    value = yield from value  # eager: runs inline until the call suspends, if ever
                if notify:
                    response = None
                else:
                    response = {"jsonrpc": "2.0", "result": value, "id": id_}
            except Exception as exc:
                response = None if notify else {"jsonrpc": "2.0", "error": self._error(exc, method), "id": id_}
            if response_logs and response is not None:
                self.logger.info("rpc response", response=response)
            if out[k] is not pending:  # detached by _begin
                return response
            if response is None:
                out[n] = True
            out[k] = response
        return None

    async def _finish(self, call: Suspended, deadline: float) -> Any:
        """Complete a suspended (or waiting) call before ``deadline`` (unix time); never raises."""
        limiter = self.limiter
        has_slot = started = call.has_slot
        loop_deadline = asyncio.get_running_loop().time() + (deadline - time.time())
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
                if call.runner:  # a detached _run generator returns the whole response
                    has_slot = False
                    limiter.release()
                    return value
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
        if call.notify:
            return None
        if self.response_logs:
            self.logger.info("rpc response", response=out)
        return out

    def _error(self, exc: BaseException, method: Any) -> dict[str, Any]:
        if isinstance(exc, RPCError):
            return exc.to_object()
        if isinstance(exc, PermissionError):
            return PermissionDenied(str(exc) or None, data={"method": method}).to_object()
        self.logger.error("rpc method raised", method=method, exc_info=exc)
        return InternalError(data={"method": method, "type": type(exc).__name__, "message": str(exc)}).to_object()

    # ---- requests -------------------------------------------------------------------

    async def handle(self, data: Any, deadline: float | None = None) -> Any:
        """Answer a decoded JSON-RPC request (an object or a batch).

        :param data: the decoded body
        :param deadline: unix time after which calls are cancelled (default:
            ``default_request_time`` from now)
        :return: the response object, the list of responses of a batch, or ``None`` when
            nothing is to be answered (notifications)
        """
        now = time.time()
        if deadline is None:
            deadline = now + self.default_request_time
        if type(data) is list:
            return await self._batch(data, deadline, now)
        if deadline <= now:
            return self._expired(data)
        out = self._one(data, self._caller_scope())
        if type(out) is Suspended:
            return await self._finish(out, deadline)
        return out

    def _expired(self, req: Any) -> Any:
        if type(req) is not dict or req.get("jsonrpc") != "2.0" or type(req.get("method")) is not str:
            return _invalid(req)
        if "id" not in req:
            return None
        err = RequestTimeout(data={"method": req["method"], "problem": "the request's deadline had passed "
                                   "before the call could start"})
        return {"jsonrpc": "2.0", "error": err.to_object(), "id": req["id"] if _valid_id(req["id"]) else None}

    async def _batch(self, items: list[Any], deadline: float, now: float) -> Any:
        if not items:
            return _invalid(None)
        if len(items) > self.max_batch_size:
            err = RequestTooLarge(data={"problem": f"a batch may hold at most {self.max_batch_size} calls, "
                                                   f"got {len(items)}", "max_batch_size": self.max_batch_size,
                                        "hint": "split the batch"})
            return {"jsonrpc": "2.0", "error": err.to_object(), "id": None}
        if deadline <= now:
            out = [self._expired(item) for item in items]
        else:
            out, special = self._begin(items, self._caller_scope())
            if not special:
                return out
            if Suspended in map(type, out):
                await self._gather(out, deadline)
        if None in out:
            return [o for o in out if o is not None] or None
        return out

    async def _gather(self, out: list[Any], deadline: float) -> None:
        """Finish the suspended calls of a batch concurrently, each in its own task, in place."""
        loop = asyncio.get_running_loop()
        waits = [(i, loop.create_task(self._finish(o, deadline))) for i, o in enumerate(out)
                 if type(o) is Suspended]
        try:
            await asyncio.wait([task for _, task in waits])
        except BaseException:
            for _, task in waits:
                task.cancel()
            raise
        for i, task in waits:
            out[i] = task.result()


