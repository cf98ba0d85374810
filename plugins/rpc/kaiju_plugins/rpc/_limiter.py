"""The concurrency bound: at most ``limit`` calls in flight, ``queue`` more waiting.

It never wedges: every slot taken is given back in a ``finally`` (handed straight to the
oldest live waiter, or freed); a waiter cancelled after it was handed a slot passes the
slot on; a waiter whose deadline passes leaves the queue with :class:`RequestTimeout`.
"""

from __future__ import annotations

import asyncio
from collections import deque

from ._errors import RequestTimeout, ServerBusy

__all__ = ["CallLimiter"]


class CallLimiter:
    """A semaphore with a bounded FIFO queue, and counters cheap enough for every call.

    Hot path (no waiting)::

        if limiter.active < limiter.limit:
            limiter.active += 1
            try: ...
            finally: limiter.release()
    """

    __slots__ = ("limit", "queue", "active", "waiting", "rejected", "_waiters")

    def __init__(self, limit: int, queue: int) -> None:
        self.limit = limit
        self.queue = queue
        self.active = 0
        self.waiting = 0
        self.rejected = 0  # calls answered Server busy (counted by busy())
        self._waiters: deque[asyncio.Future[None]] = deque()

    def __repr__(self) -> str:
        return f"<CallLimiter {self.active}/{self.limit} in flight, {self.waiting}/{self.queue} waiting>"

    def release(self) -> None:
        """Give a slot back: hand it to the oldest waiter still waiting, or free it."""
        waiters = self._waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
        self.active -= 1

    def busy(self) -> ServerBusy:
        """The ``Server busy`` error of a call refused (the queue is full), counted in ``rejected``."""
        self.rejected += 1
        return ServerBusy(data={"in_flight": self.active, "limit": self.limit, "queue": self.queue,
                                "hint": "retry later, or raise max_parallel / max_queue"})

    async def acquire(self, loop_deadline: float) -> None:
        """Take a slot, waiting in the queue until ``loop_deadline`` (``loop.time()`` clock).

        :raises ServerBusy: the queue is full
        :raises RequestTimeout: the deadline passed while waiting
        """
        if self.active < self.limit:
            self.active += 1
            return
        if self.waiting >= self.queue:
            raise self.busy()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiters.append(fut)
        self.waiting += 1
        try:
            async with asyncio.timeout_at(loop_deadline):
                await fut
        except TimeoutError:
            if fut.done() and not fut.cancelled():  # got the slot just as the deadline passed
                self.release()
            raise RequestTimeout(data={"problem": "the deadline passed while waiting for a free slot",
                                       "limit": self.limit}) from None
        except BaseException:
            if fut.done() and not fut.cancelled():
                self.release()
            else:
                fut.cancel()
            raise
        finally:
            self.waiting -= 1
