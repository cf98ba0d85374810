"""Leases over any lock provider: renewal, the ``ttl - margin`` rule, fencing tokens.

:class:`Lease` is what a holder runs while it holds a lock: it renews every ``ttl / 3``
seconds and declares the lock lost -- sets :attr:`Lease.lost`, logs a warning naming the
key, runs the callbacks and cancels the task it was told to -- as soon as ``ttl - margin``
seconds have passed since the last renewal the backend confirmed (measured on the loop's
monotonic clock from before that request was sent), whether the backend answers or not.
A backend that is unreachable is therefore never "try again later" past that point: the
key may have expired there, and another process may hold it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Self

from ._logger import get_logger

__all__ = ["MARGIN_FIXED", "MARGIN_RATIO", "Lease", "LockToken", "lease_margin"]

MARGIN_RATIO = 0.1
"""Default share of the TTL kept as a safety margin (clock-rate drift, renewal latency)."""

MARGIN_FIXED = 0.1
"""Default seconds added to the margin (timer and event-loop lag, the work's reaction time)."""


class LockToken(str):
    """An owner token (the ``str`` a provider checks) that carries a fencing number.

    ``fence`` is strictly greater than the fence of every earlier acquisition of the same
    key: pass it to the resource the lock protects, and let the resource refuse a request
    whose fence is lower than the highest it has seen (a former holder, paused or cut off
    past its lease, cannot overwrite the next holder's work).
    """

    fence: int

    def __new__(cls, value: str, fence: int) -> Self:
        self = super().__new__(cls, value)
        self.fence = fence
        return self

    def __repr__(self) -> str:
        return f"LockToken({str(self)!r}, fence={self.fence})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (LockToken, (str(self), self.fence))


def lease_margin(ttl: float, ratio: float = MARGIN_RATIO, fixed: float = MARGIN_FIXED) -> float:
    """The safety margin of a lease of ``ttl`` seconds: ``ttl * ratio + fixed``."""
    return ttl * ratio + fixed


class Lease:
    """A lock held from a provider: renewed in the background, lost by the lease rule.

    :param provider: a :class:`kaiju_tools.locks.LockProvider`
    :param key: the lock's key
    :param token: the owner token ``acquire`` returned (its ``fence`` when a :class:`LockToken`)
    :param ttl: the lock's time to live, in seconds
    :param confirmed_at: loop time from before the acquisition request was sent
    :param margin: seconds of safety kept before the TTL (default: the provider's
        ``lease_margin(ttl)``, else :func:`lease_margin`); at most ``ttl / 2``
    :param logger: where warnings go (a kaiju logger: keyword extras)
    :raises ValueError: the margin leaves less than half the TTL
    """

    def __init__(self, provider: Any, key: str, token: str, ttl: float, *, confirmed_at: float,
                 margin: float | None = None, logger: Any = None) -> None:
        margin = self.margin_of(provider, key, ttl) if margin is None else self.check_margin(key, ttl, margin)
        if logger is None:
            logger = get_logger("kaiju.locks")
        self.key = key
        self.token = token
        self.ttl = ttl
        self.margin = margin
        #: the fencing number of this acquisition (``None`` when the provider gives none)
        self.fence: int | None = getattr(token, "fence", None)
        #: set once the lease is lost (for good: a lost lease is never taken back)
        self.lost = asyncio.Event()
        #: why it was lost (``None`` while held)
        self.reason: str | None = None
        #: loop time from before the last acquisition / renewal the backend confirmed
        self.confirmed_at = confirmed_at
        self.logger = logger
        self._provider = provider
        self._callbacks: list[Callable[[Lease], Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._cancel: asyncio.Task[Any] | None = None
        self._cancelling = 0
        self._cancelled = False

    @staticmethod
    def margin_of(provider: Any, key: str, ttl: float) -> float:
        """The margin of a lease of ``ttl`` seconds on ``key`` from ``provider`` (its
        ``lease_margin(ttl)``, else :func:`lease_margin`), checked by :meth:`check_margin`."""
        own = getattr(provider, "lease_margin", None)
        return Lease.check_margin(key, ttl, own(ttl) if callable(own) else lease_margin(ttl))

    @staticmethod
    def check_margin(key: str, ttl: float, margin: float) -> float:
        """Return ``margin``; raise ``ValueError`` when it is negative or takes more than
        half of ``ttl`` (the lease would end before its first renewal could help)."""
        if not 0 <= margin <= ttl / 2:
            raise ValueError(f"lock {key!r}: ttl={ttl:g} s is too short for its safety margin of "
                             f"{margin:g} s "
                             "(the margin may take at most half the TTL); use a ttl of at least "
                             f"{2 * margin:g} s, or lower the lock provider's margin settings")
        return margin

    @property
    def deadline(self) -> float:
        """Loop time at which the lease ends unless a renewal is confirmed before."""
        return self.confirmed_at + self.ttl - self.margin

    def on_lost(self, callback: Callable[[Lease], Any]) -> None:
        """Call ``callback(lease)`` when the lease is lost (at once if it already is)."""
        if self.lost.is_set():
            callback(self)
        else:
            self._callbacks.append(callback)

    def cancel_on_loss(self, task: asyncio.Task[Any] | None = None) -> None:
        """Cancel ``task`` (default: the current one) when the lease is lost; it sees
        ``CancelledError``: :meth:`absorb_cancel` tells whether that came from here."""
        self._cancel = task or asyncio.current_task()
        assert self._cancel is not None, "cancel_on_loss() outside a task"
        self._cancelling = self._cancel.cancelling()

    def absorb_cancel(self) -> bool:
        """In an ``except CancelledError`` of the task given to :meth:`cancel_on_loss`:
        ``True`` (and the cancellation is withdrawn) when it came from the loss of this
        lease alone; ``False`` when the task is being cancelled for another reason too
        (then re-raise)."""
        if not self._cancelled or self._cancel is None:
            return False
        self._cancelled = False
        return self._cancel.uncancel() <= self._cancelling

    def start(self) -> None:
        """Arm the deadline and start renewing every ``ttl / 3`` seconds."""
        loop = asyncio.get_running_loop()
        self._arm(loop)
        if not self.lost.is_set():
            self._renewer = loop.create_task(self._renew(), name=f"lock-renew:{self.key}")

    async def stop(self, release: bool = True) -> bool:
        """Stop renewing and (by default) release the lock; ``True`` if the backend
        confirmed the release. A lost lease is released too (the provider deletes the key
        only if it still holds our token), bounded by the time left before the TTL
        surely ended; a failure is logged, the TTL frees the key."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        self._cancel = None
        if not release:
            return False
        left = self.confirmed_at + self.ttl - asyncio.get_running_loop().time()
        if left <= 0:
            return False  # expired: nothing of ours is left to delete
        try:
            async with asyncio.timeout(left):
                return bool(await self._provider.release(self.key, self.token))
        except Exception as exc:  # noqa: BLE001 -- the TTL frees it
            cause = ("no answer before the TTL ended" if isinstance(exc, TimeoutError)
                     else f"{type(exc).__name__}: {exc}")
            self.logger.warning("could not release a lock; its TTL will free it", key=self.key, ttl=self.ttl,
                                error=cause)
            return False

    # ---------------------------------------------------------------- internals

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if loop.time() >= self.deadline:
            self._lose(f"no renewal confirmed within ttl - margin = {self.ttl - self.margin:g} s")
            return
        self._timer = loop.call_at(self.deadline, self._expire)

    def _expire(self) -> None:
        self._timer = None
        self._lose(f"no renewal confirmed within ttl - margin = {self.ttl - self.margin:g} s "
                   "(the backend did not answer in time)")

    def _lose(self, reason: str) -> None:
        if self.lost.is_set():
            return
        loop = asyncio.get_running_loop()
        self.reason = reason
        self.lost.set()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._renewer is not None and self._renewer is not asyncio.current_task():
            self._renewer.cancel()
        self.logger.warning("lock lease lost: its holder must stop using the lock", key=self.key,
                            reason=reason, ttl=self.ttl, margin=round(self.margin, 3), fence=self.fence,
                            since_confirmed=round(loop.time() - self.confirmed_at, 3),
                            hint="check the network to the lock backend, or use a longer ttl")
        if self._cancel is not None and not self._cancel.done():
            self._cancelled = True
            self._cancel.cancel(f"lock lease {self.key!r} lost")
        for callback in self._callbacks:
            try:
                callback(self)
            except Exception as exc:  # one callback must not stop the others
                self.logger.error("lock lease: an on_lost callback failed", key=self.key,
                                  error=f"{type(exc).__name__}: {exc}", exc_info=exc)
        self._callbacks.clear()

    async def _renew(self) -> None:
        loop = asyncio.get_running_loop()
        period = self.ttl / 3
        retry = min(period / 3, 1.0)
        next_at = self.confirmed_at + period
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            sent = loop.time()
            try:
                ours = await self._provider.renew(self.key, self.token, ttl=self.ttl)
            except Exception as exc:  # noqa: BLE001 -- retried until the lease ends
                self.logger.warning("could not renew a lock; retrying until its lease ends", key=self.key,
                                    lease_left=round(self.deadline - loop.time(), 3),
                                    error=f"{type(exc).__name__}: {exc}")
                next_at = loop.time() + retry
                continue
            if self.lost.is_set():
                return
            if not ours:
                self._lose("the backend says the lock is not ours any more "
                           "(it expired or another owner took it)")
                return
            self.confirmed_at = max(self.confirmed_at, sent)
            self._arm(loop)
            next_at = sent + period
