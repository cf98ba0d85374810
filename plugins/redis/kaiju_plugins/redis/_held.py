"""A lock held by ``RedisLocks.hold()``: a :class:`kaiju_tools.locks.Lease` over Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaiju_tools.locks import Lease

if TYPE_CHECKING:
    from .locks import RedisLocks

__all__ = ["HeldLock"]


class HeldLock(Lease):
    """A held lock: ``key``, owner ``token``, fencing number ``fence``.

    It is renewed every ``ttl / 3`` seconds. :attr:`lost` is set -- and a WARNING naming the
    key is logged -- as soon as ``ttl - margin`` seconds passed since the last renewal Redis
    confirmed (measured from before it was sent), whether Redis answers or not, or when a
    renewal finds the lock no longer ours. A lost lock is never taken back.
    """

    def __init__(self, locks: RedisLocks, key: str, token: str, ttl: float, *, confirmed_at: float) -> None:
        Lease.__init__(self, locks, key, token, ttl, confirmed_at=confirmed_at, logger=locks.logger)
