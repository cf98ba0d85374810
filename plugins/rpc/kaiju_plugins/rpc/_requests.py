"""Requests in, answers out: :meth:`RequestEngine.complete`, :meth:`RequestEngine.handle`.

:class:`~._calls.CallEngine` runs each call until it finishes or suspends; here a call
not answered yet (a :class:`~._pending.Call`: running, detached or queued) gets its deadline
timer and keeps (or waits for) its slot of the concurrency bound, and a batch's pending
calls (:class:`~._pending.PendingBatch`) finish concurrently, each in its own task, answered
in request order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from . import _eager
from ._calls import CallEngine, invalid_request, valid_id
from ._errors import RequestTimeout, RequestTooLarge, ServerShuttingDown
from ._flight import Flights
from ._pending import Call, Detached, PendingBatch, Queued

__all__ = ["RequestEngine"]


class RequestEngine(CallEngine, Flights):
    """Mixin: the request-level API of :class:`JSONRPCServer` on top of :class:`CallEngine`.

    :class:`~._flight.Flights` tracks requests whose calls suspended (disconnects, shutdown).
    """

    def complete(self, pending: Any, deadline: float, request: Any = None) -> Awaitable[Any]:
        """Await the answer of what :meth:`~._calls.CallEngine.answer` left pending.

        :param pending: the :class:`~._pending.Pending` that ``answer`` returned
        :param deadline: unix time after which its calls are cancelled
        :param request: the transport's request (aiohttp's), watched for a lost connection:
            its calls are then cancelled (``cancel_on_disconnect``); ``None``: not watched
        :return: an awaitable of the answer (as ``answer`` gives it); the calls are tracked
            (disconnects, the shutdown cut) until it is done
        """
        if type(pending) is PendingBatch:
            return self._watch_batch(request, pending.out, deadline)
        return self._watch_one(request, pending, deadline)

    async def _finish(self, call: Call, deadline: float) -> Any:
        """Complete a pending call before ``deadline`` (unix time); never raises."""
        limiter = self.limiter
        queued = type(call) is Queued
        has_slot = started = not queued
        loop_deadline = asyncio.get_running_loop().time() + (deadline - time.time())
        timeout = asyncio.timeout_at(loop_deadline)
        try:
            if queued:
                await limiter.acquire(loop_deadline)
                has_slot = started = call.started = True  # type: ignore[attr-defined]
                marker, value = _eager.start(call.coro)
                if marker is not _eager.DONE:
                    async with timeout:
                        value = await _eager.resume(call.coro, marker)
            else:
                async with timeout:
                    value = await _eager.resume(call.coro, call.yielded)  # type: ignore[attr-defined]
                if type(call) is Detached:  # a detached _run generator returns the whole response
                    has_slot = False
                    limiter.release()
                    return value
            out: Any = {"jsonrpc": "2.0", "result": value, "id": call.id}
        except TimeoutError as exc:
            err = RequestTimeout(data={"method": call.method,
                                       "problem": "the call passed its deadline and was "
                                       "cancelled", "max_request_time": self.max_request_time}) \
                if timeout.expired() else exc
            out = {"jsonrpc": "2.0", "error": self._error(err, call.method), "id": call.id}
        except Exception as exc:  # noqa: BLE001 -- a method's exception is its error answer
            out = {"jsonrpc": "2.0", "error": self._error(exc, call.method), "id": call.id}
        except asyncio.CancelledError:
            if not self._cutting:  # the caller went away (or the server stops the hard way)
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            cut = ServerShuttingDown(data={"method": call.method,
                                           "problem": "the server is stopping; the call was "
                                           "still running at the end of the grace period "
                                           "(run.shutdown_timeout)"})
            out = {"jsonrpc": "2.0", "error": cut.to_object(), "id": call.id}
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
            out = self._begin_batch(data, self._caller_scope(), deadline <= now)
            return await self._end_batch(out.out, deadline) if type(out) is PendingBatch else out
        if deadline <= now:
            return self._expired(data)
        out = self._one(data, self._caller_scope())
        if isinstance(out, Call):
            return await self._finish(out, deadline)
        return out

    def _expired(self, req: Any) -> Any:
        if type(req) is not dict or req.get("jsonrpc") != "2.0" or type(req.get("method")) is not str:
            return invalid_request(req)
        if "id" not in req:
            return None
        err = RequestTimeout(data={"method": req["method"], "problem": "the request's deadline had passed "
                                   "before the call could start"})
        return {"jsonrpc": "2.0", "error": err.to_object(), "id": req["id"] if valid_id(req["id"]) else None}

    def _begin_batch(self, items: list[Any], scope: int, expired: bool) -> Any:
        """Start a batch (``scope``: the caller's; ``expired``: its deadline has passed): its answer,
        or a :class:`~._pending.PendingBatch` when some calls are pending (:meth:`_end_batch` finishes it)."""
        if not items:
            return invalid_request(None, "an empty batch: a batch holds one request object or more")
        if len(items) > self.max_batch_size:
            return self._too_large(items)
        if expired:
            out = [self._expired(item) for item in items]
        else:
            out, special = self._begin(items, scope)
            return self._settle(out) if special else out
        return self._settle(out)

    def _settle(self, out: list[Any]) -> Any:
        """A started batch with a notification or a pending call: :class:`~._pending.PendingBatch`
        when a call is pending, else its answers without the ``None`` of notifications."""
        for o in out:
            if isinstance(o, Call):
                return PendingBatch(out)
        if None in out:
            return [o for o in out if o is not None] or None
        return out

    async def _end_batch(self, out: list[Any], deadline: float, flight: Any = None) -> Any:
        """Finish the pending calls of a batch :meth:`_begin_batch` started: its list of answers, or
        ``None``."""
        await self._gather(out, deadline, flight)
        if None in out:
            return [o for o in out if o is not None] or None
        return out

    def _too_large(self, items: list[Any]) -> list[dict[str, Any]]:
        """A batch above ``max_batch_size``: one error per item, its id echoed (null when it has none)."""
        error = RequestTooLarge(data={"problem": f"a batch may hold at most {self.max_batch_size} calls, "
                                                 f"got {len(items)}", "max_batch_size": self.max_batch_size,
                                      "hint": "split the batch"}).to_object()
        return [{"jsonrpc": "2.0", "error": error,
                 "id": item.get("id") if type(item) is dict and valid_id(item.get("id")) else None}
                for item in items]

    async def _gather(self, out: list[Any], deadline: float, flight: Any = None) -> None:
        """Finish the suspended calls of a batch concurrently, each in its own task, in place.

        ``flight`` (``_flight.Flight``): the request's tracker, told the tasks. Cancelled (the
        caller went away): queued calls are dropped, running ones cancelled, except started
        ``must_finish`` calls, which are left to finish.
        """
        loop = asyncio.get_running_loop()
        waits = [(i, loop.create_task(self._finish(o, deadline))) for i, o in enumerate(out)
                 if isinstance(o, Call)]
        if flight is not None:
            flight.waits = waits
        try:
            await asyncio.wait([task for _, task in waits])
        except BaseException:
            for i, task in waits:
                if self.finishes_anyway(out[i]) and not task.done():
                    self._keep_orphan(task)
                else:
                    task.cancel()
            raise
        for i, task in waits:
            if task.cancelled():  # cut before its first step (the server stops)
                call = out[i]
                call.coro.close()
                out[i] = {"jsonrpc": "2.0",
                          "error": ServerShuttingDown(data={"method": call.method}).to_object(),
                          "id": call.id}
            else:
                out[i] = task.result()
