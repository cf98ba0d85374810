"""A lock held by ``RedisLocks.hold()``: renewed in the background until released."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from ._errors import RedisUnavailableError

if TYPE_CHECKING:
    from .locks import RedisLocks

__all__ = ["HeldLock"]


class HeldLock:
    """A held lock: ``key``, owner ``token``; :attr:`lost` is set when a renewal finds the
    lock no longer ours (it expired while Redis was unreachable, for instance)."""

    def __init__(self, locks: RedisLocks, key: str, token: str, ttl: float) -> None:
        self.key = key
        self.token = token
        self.ttl = ttl
        self.lost = asyncio.Event()
        self._locks = locks
        self._renewer: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start renewing every ``ttl / 3`` seconds."""
        self._renewer = asyncio.get_running_loop().create_task(self._renew(), name=f"lock-renew:{self.key}")

    async def stop(self) -> bool:
        """Stop renewing and release the lock; ``True`` if it was still ours."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        if self.lost.is_set():
            return False
        try:
            return await self._locks.release(self.key, self.token)
        except RedisUnavailableError as exc:  # the TTL frees it
            self._locks.logger.warning("could not release a lock; its TTL will free it",
                                       key=self.key, ttl=self.ttl, error=str(exc))
            return False

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                ours = await self._locks.renew(self.key, self.token, ttl=self.ttl)
            except RedisUnavailableError as exc:
                self._locks.logger.warning("could not renew a held lock; will retry", key=self.key,
                                           error=str(exc))
                continue
            if not ours:
                self.lost.set()
                self._locks.logger.error("a held lock was lost (expired or taken by another owner)",
                                         key=self.key, ttl=self.ttl,
                                         hint="use a longer ttl, or check the Redis server's health")
                return
