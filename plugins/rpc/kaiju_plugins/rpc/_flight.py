"""Requests whose calls suspended: dropped when their caller goes away, answered when the server stops.

Only a request with a call that suspended (or waits for a slot) is tracked -- a :class:`Flight`
made when the view starts awaiting it; requests answered in their first step cost nothing here.

- **The caller goes away** (its connection closes): aiohttp reports it to the request's body
  stream; the flight then cancels the request's calls -- queued calls leave the queue, running
  calls get ``CancelledError`` -- so their slots are free again at once. A call of a route
  marked :func:`~._routes.must_finish` that is already running is left to finish (its answer
  has nowhere to go). ``cancel_on_disconnect: false`` turns this off.
- **The server stops**: :meth:`Flights.stopping` (the ``kaiju_app_stopping`` hook) arms a timer
  shortly before the shutdown grace period ends; then every call still running or queued is
  answered ``-32006 Server shutting down`` (:class:`~._errors.ServerShuttingDown`) while its
  connection is still open, the calls are counted, and one WARNING gives the count. When aiohttp
  itself cuts requests at the end of the grace period (no hook ran: another runner), the same
  happens for the requests it cuts (their count is logged when the server closes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ._aiohttp_compat import unwatch_eof, watch_eof
from ._pending import Call, Queued

__all__ = ["Flight", "Flights"]


class Flight:
    """One HTTP request with calls in flight: its handler task, its call or its batch's call tasks."""

    __slots__ = ("server", "task", "call", "waits", "_signal", "_payload")

    def __init__(self, server: Flights, call: Call | None) -> None:
        self.server = server
        self.task = asyncio.current_task()
        self.call = call
        self.waits: list[tuple[int, asyncio.Task[Any]]] | None = None  # set by _gather (batches)
        self._signal: asyncio.Future[None] | None = None
        self._payload: Any = None

    def watch(self, request: Any) -> None:
        """Be told when the request's connection is lost (or aiohttp cuts the request at shutdown).

        aiohttp reports both by setting an exception on the request's body stream; once the
        body is read, the stream's EOF waiter is free, and this flight's future takes its place.
        """
        if request is None:  # a transport without a connection to watch
            return
        signal = asyncio.get_running_loop().create_future()
        payload = watch_eof(request, signal)  # None: not watchable (see _aiohttp_compat)
        if payload is None:
            signal.cancel()
            return
        signal.add_done_callback(self._signalled)
        self._signal, self._payload = signal, payload

    def unwatch(self) -> None:
        """Give the body stream its EOF waiter back (the request is answered)."""
        signal = self._signal
        if signal is not None:
            unwatch_eof(self._payload, signal)
            signal.cancel()

    def _signalled(self, signal: asyncio.Future[None]) -> None:
        if signal.cancelled():
            return
        exc = signal.exception()
        if exc is None:
            return
        if isinstance(exc, asyncio.CancelledError):  # aiohttp's end of the grace period
            self.server.cut_flights((self,))
        elif self.server.cancel_on_disconnect:
            self.abandon()

    def abandon(self) -> None:
        """The caller went away: cancel the calls (a started ``must_finish`` call is left to finish)."""
        call = self.call
        if call is not None and self.server.finishes_anyway(call):
            return
        if self.task is not None:
            self.task.cancel()  # a batch's _gather keeps its started must_finish calls

    def cut(self) -> int:
        """Cancel the calls so that each answers ``Server shutting down``; how many were cut."""
        if self.waits is not None:
            count = 0
            for _, task in self.waits:
                if not task.done():
                    task.cancel()
                    count += 1
            return count
        if self.call is not None and self.task is not None and not self.task.done():
            self.task.cancel()
            return 1
        return 0


class Flights:
    """Mixin of :class:`JSONRPCServer`: the flights, the shutdown cut and its log."""

    routes_table: dict[str, Any]
    cancel_on_disconnect: bool
    logger: Any
    _finish: Callable[[Call, float], Awaitable[Any]]  # RequestEngine's
    _end_batch: Callable[[list[Any], float, Any], Awaitable[Any]]  # RequestEngine's
    _cutting = False  # set when the server stops: a cancelled call is answered, not dropped

    def _init_flights(self) -> None:
        self._flights: set[Flight] = set()
        self._orphans: set[asyncio.Task[Any]] = set()  # must_finish calls whose caller went away
        self._cutting = False
        self._cut_pending = 0
        self._cut_timer: asyncio.TimerHandle | None = None
        self.calls_cut = 0
        """Calls answered ``Server shutting down`` so far."""

    async def _watch_one(self, request: Any, call: Call, deadline: float) -> Any:
        """``self._finish(call, deadline)``, the request tracked as a :class:`Flight`."""
        flight = Flight(self, call)
        flights = self._flights
        flights.add(flight)
        flight.watch(request)
        try:
            return await self._finish(call, deadline)
        finally:
            flights.discard(flight)
            flight.unwatch()

    async def _watch_batch(self, request: Any, out: list[Any], deadline: float) -> Any:
        """Finish a batch's suspended calls (``self._end_batch``), tracked as a :class:`Flight`."""
        flight = Flight(self, None)
        flights = self._flights
        flights.add(flight)
        flight.watch(request)
        try:
            return await self._end_batch(out, deadline, flight)
        finally:
            flights.discard(flight)
            flight.unwatch()

    def finishes_anyway(self, call: Call) -> bool:
        """Whether ``call`` is left to finish when its caller goes away (a started ``must_finish`` call)."""
        route = self.routes_table.get(call.method)
        return route is not None and route.must_finish and (type(call) is not Queued or call.started)

    def stopping(self, grace: float) -> None:
        """The app begins to stop; requests have ``grace`` seconds (``run.shutdown_timeout``) to finish.

        Shortly before the end (a quarter of it, at most 1 s), the calls still running are cut
        and answered ``Server shutting down``.
        """
        if self._cut_timer is None:
            margin = min(1.0, grace / 4)
            loop = asyncio.get_running_loop()
            self._cut_timer = loop.call_later(max(grace - margin, 0.0), self._cut_all)

    def _cut_all(self) -> None:
        """The timer of :meth:`stopping`: cut every flight at once, log the count."""
        self.cut_flights(list(self._flights))
        self._log_cut()

    def cut_flights(self, flights: Any) -> None:
        """Cut ``flights``; the count is logged by :meth:`_log_cut` (at once, or when the server closes)."""
        self._cutting = True
        self._cut_pending += sum(flight.cut() for flight in flights)

    def _log_cut(self) -> None:
        """One WARNING for the calls cut since the last one (aiohttp cuts request by request)."""
        count, self._cut_pending = self._cut_pending, 0
        if count:
            self.calls_cut += count
            self.logger.warning(f"rpc: shutting down: {count} calls still running at the end of the "
                                "grace period "
                                "(run.shutdown_timeout) were answered -32006 Server shutting down",
                                calls=count)

    def _keep_orphan(self, task: asyncio.Task[Any]) -> None:
        self._orphans.add(task)
        task.add_done_callback(self._orphans.discard)
