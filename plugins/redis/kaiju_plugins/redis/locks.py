"""``RedisLocks``: distributed locks over a :class:`RedisService`; the app's lock provider.

A lock is one key: a Lua script runs ``SET key token NX PX ttl`` and, when it took the key,
``INCR`` of the prefix's fencing counter, atomically; the random token proves ownership and
the counter's new value is the acquisition's fencing number. Lua scripts renew
(compare-and-``PEXPIRE``) and release (compare-and-``DEL``) a lock only for its owner. If
the holder dies, the TTL frees the key. It implements
:class:`kaiju_tools.locks.LockProvider`, and the plugin's ``kaiju_lock_provider`` hook
returns it, so other plugins (the scheduler) use it without knowing Redis.
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from kaiju_tools.locks import MARGIN_FIXED, MARGIN_RATIO, Lease, LockToken, lease_margin
from kaiju_tools.services import ContextableService

from ._errors import LockLost, LockNotAcquired
from ._held import HeldLock
from ._settings import check_name, check_number, check_redis
from .service import RedisService

__all__ = ["RedisLocks"]

# KEYS: lock, fencing counter; ARGV: token, ttl ms. 0 when held by another owner, else the
# fence. A missing counter starts at the server's clock in microseconds, so fences keep
# growing even after the counter is lost (a restart without persistence).
_ACQUIRE = """
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 0
end
if redis.call('exists', KEYS[2]) == 0 then
  local now = redis.call('time')
  redis.call('set', KEYS[2], now[1] .. string.format('%06d', tonumber(now[2])))
end
return redis.call('incr', KEYS[2])
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class RedisLocks(ContextableService):
    """Locks shared by every process (and machine) using the same Redis server.

    ::

        - cls: RedisService
        - cls: RedisLocks           # uses the RedisService (or `redis: <its name>`)
          settings:
            prefix: "myapp:lock:"

    :param redis: the :class:`RedisService` to use (its name; default: the only one)
    :param prefix: prepended to every lock key (share it between the processes of one app,
        make it differ between apps that share a server)
    :param retry_interval: first pause, in seconds, between attempts of a waiting
        :meth:`acquire` (it grows 1.5 times per attempt, up to ``max_retry_interval``;
        each pause is randomised by +-50 % so that waiters do not retry in step)
    :param max_retry_interval: longest pause between attempts
    :param margin_ratio: share of the TTL a holder keeps as a safety margin: a held lock
        (:meth:`hold`, the scheduler's cluster-wide runs) counts as lost once
        ``ttl - margin`` seconds passed since the last renewal Redis confirmed, where
        ``margin = ttl * margin_ratio + margin_fixed`` (it may take at most half the TTL)
    :param margin_fixed: seconds added to the margin (timer lag, the work's reaction time)
    """

    service_name = "locks"

    def __init__(
        self,
        app: Any = None,
        logger: Any = None,
        redis: RedisService | None = None,
        prefix: str = "kaiju:lock:",
        retry_interval: float = 0.01,
        max_retry_interval: float = 0.25,
        margin_ratio: float = MARGIN_RATIO,
        margin_fixed: float = MARGIN_FIXED,
    ) -> None:
        ContextableService.__init__(self, app=app, logger=logger)
        self.redis: RedisService = check_redis(self, redis)
        self.prefix = check_name(self, "prefix", prefix)
        self.retry_interval = float(check_number(self, "retry_interval", retry_interval, minimum=0,
                                                 above=True))
        self.max_retry_interval = float(check_number(self, "max_retry_interval", max_retry_interval,
                                                     minimum=self.retry_interval))
        self.margin_ratio = float(check_number(self, "margin_ratio", margin_ratio, minimum=0))
        if self.margin_ratio >= 0.5:
            from ._settings import bad_setting

            raise bad_setting(self, "margin_ratio", "a share of the TTL below 0.5", margin_ratio,
                              "the margin may take at most half the TTL; the default is 0.1")
        self.margin_fixed = float(check_number(self, "margin_fixed", margin_fixed, minimum=0))
        self._scripts: tuple[Any, ...] | None = None  # (client, acquire, renew, release)

    async def init(self) -> None:
        """Nothing to open: the pool belongs to the Redis service. (A Redis service that
        failed to start with ``required: false`` makes every call raise a clear error.)"""

    async def close(self) -> None:
        """Forget the registered scripts (the pool belongs to the Redis service)."""
        self._scripts = None

    # ---------------------------------------------------------------- LockProvider

    async def acquire(self, key: str, *, ttl: float, timeout: float | None = None) -> LockToken | None:
        """Take the lock ``key`` for ``ttl`` seconds; return its owner token -- a
        :class:`~kaiju_tools.locks.LockToken`, whose ``fence`` is greater than every fence
        given out before under this prefix -- or ``None`` when it is held by someone else and
        ``timeout`` seconds passed (``None``: one try).

        :raises RedisUnavailableError: the server could not be asked (never ``None`` then)
        """
        taken = await self._acquire(key, ttl, timeout)
        return None if taken is None else taken[0]

    async def _acquire(self, key: str, ttl: float, timeout: float | None) -> tuple[LockToken, float] | None:
        """:meth:`acquire`, plus the loop time from before the request that took the lock."""
        ms = _ms(ttl, key)
        value = secrets.token_hex(16)
        keys = [self.prefix + key, self.prefix]
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + max(0.0, timeout)
        pause = self.retry_interval
        while True:
            sent = loop.time()
            with self.redis.errors(f"acquire lock {key!r} (SET NX PX)"):
                fence = await self._script(1)(keys=keys, args=[value, ms])
            if fence:
                return LockToken(value, int(fence)), sent
            if deadline is None:
                return None
            left = deadline - loop.time()
            if left <= 0:
                return None
            await asyncio.sleep(min(left, pause * random.uniform(0.5, 1.5)))  # jitter, not security
            pause = min(pause * 1.5, self.max_retry_interval)

    async def renew(self, key: str, token: str, *, ttl: float) -> bool:
        """Reset the TTL of a held lock to ``ttl`` seconds; ``False`` if ``token`` no
        longer owns it (it expired, or another process holds it now)."""
        ms = _ms(ttl, key)
        with self.redis.errors(f"renew lock {key!r}"):
            return bool(await self._script(2)(keys=[self.prefix + key], args=[token, ms]))

    async def release(self, key: str, token: str) -> bool:
        """Release a held lock; ``False`` if ``token`` no longer owns it (nothing is deleted)."""
        with self.redis.errors(f"release lock {key!r}"):
            return bool(await self._script(3)(keys=[self.prefix + key], args=[token]))

    # ---------------------------------------------------------------- convenience

    def lease_margin(self, ttl: float) -> float:
        """The safety margin of a lease of ``ttl`` seconds: ``ttl * margin_ratio + margin_fixed``."""
        return lease_margin(ttl, self.margin_ratio, self.margin_fixed)

    @asynccontextmanager
    async def hold(self, key: str, *, ttl: float, timeout: float | None = None,
                   cancel_on_loss: bool = False) -> AsyncIterator[HeldLock]:
        """Hold ``key`` for the ``async with`` block, renewing it every ``ttl / 3`` seconds::

            async with locks.hold("report", ttl=10, timeout=30) as held:
                await storage.write(data, fence=held.fence)   # held.lost: set once lost

        The lock counts as lost as soon as ``ttl - margin`` seconds passed since the last
        renewal Redis confirmed (see ``margin_ratio``), even while Redis does not answer:
        :attr:`HeldLock.lost` is set and a WARNING names the key. With ``cancel_on_loss``
        the block is also cancelled then, and the ``async with`` raises :class:`LockLost`.

        :raises LockNotAcquired: not taken within ``timeout``
        :raises LockLost: ``cancel_on_loss`` and the lease was lost while the block ran
        :raises ValueError: ``ttl`` too short for the safety margin
        """
        _ms(ttl, key)  # a bad ttl or key first, then a ttl too short for the margin
        Lease.check_margin(key, ttl, self.lease_margin(ttl))
        taken = await self._acquire(key, ttl, timeout)
        if taken is None:
            waited = "one attempt" if timeout is None else f"{timeout:g} s"
            raise LockNotAcquired(f"lock {key!r} (prefix {self.prefix!r}) is held by another owner; "
                                  f"gave up after {waited}. Pass a longer timeout= or retry later")
        held = HeldLock(self, key, taken[0], ttl, confirmed_at=taken[1])
        if cancel_on_loss:
            held.cancel_on_loss()
        held.start()
        try:
            yield held
        except asyncio.CancelledError:
            if held.absorb_cancel():
                raise LockLost(f"lock {key!r} (prefix {self.prefix!r}) was lost while held: {held.reason}; "
                               "the block was cancelled (cancel_on_loss=True)") from None
            raise
        finally:
            await held.stop()

    def _script(self, index: int) -> Any:
        """The acquire (1), renew (2) or release (3) script, registered on the current client
        (the client runs ``EVALSHA`` and loads the script again after a server restart)."""
        client = self.redis.client
        if self._scripts is None or self._scripts[0] is not client:
            self._scripts = (client, *(client.register_script(s) for s in (_ACQUIRE, _RENEW, _RELEASE)))
        return self._scripts[index]


def _ms(ttl: float, key: str) -> int:
    if not isinstance(key, str) or not key:
        raise ValueError(f"lock key must be a non-empty string, got {key!r}")
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not math.isfinite(ttl) or ttl <= 0:
        raise ValueError(f"lock {key!r}: ttl must be a number of seconds > 0, got {ttl!r}")
    return max(1, math.ceil(ttl * 1000))
