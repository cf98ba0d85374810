"""``RedisLocks``: distributed locks over a :class:`RedisService`; the app's lock provider.

A lock is one key: ``SET key token NX PX ttl`` takes it; the random token proves ownership;
Lua scripts renew (compare-and-``PEXPIRE``) and release (compare-and-``DEL``) it only for
its owner. If the holder dies, the TTL frees the key. It implements
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

from kaiju_tools.services import ContextableService

from ._errors import LockNotAcquired
from ._held import HeldLock
from ._settings import check_name, check_number
from .service import RedisService

__all__ = ["RedisLocks"]

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
    ) -> None:
        ContextableService.__init__(self, app=app, logger=logger)
        if not isinstance(redis, RedisService):
            from ._settings import bad_setting

            raise bad_setting(self, "redis", "the name of a RedisService", redis,
                              "add `- cls: RedisService` to `services:` before this service")
        self.redis = redis
        self.prefix = check_name(self, "prefix", prefix)
        self.retry_interval = float(check_number(self, "retry_interval", retry_interval, minimum=0, above=True))
        self.max_retry_interval = float(check_number(self, "max_retry_interval", max_retry_interval,
                                                     minimum=self.retry_interval))
        self._scripts: tuple[Any, Any, Any] | None = None  # (client, renew, release)

    async def init(self) -> None:
        """Nothing to open: the pool belongs to the Redis service. (A Redis service that
        failed to start with ``required: false`` makes every call raise a clear error.)"""

    async def close(self) -> None:
        """Forget the registered scripts (the pool belongs to the Redis service)."""
        self._scripts = None

    # ---------------------------------------------------------------- LockProvider

    async def acquire(self, key: str, *, ttl: float, timeout: float | None = None) -> str | None:
        """Take the lock ``key`` for ``ttl`` seconds; return its owner token, or ``None``
        when it is held by someone else and ``timeout`` seconds passed (``None``: one try).

        :raises RedisUnavailableError: the server could not be asked (never ``None`` then)
        """
        ms = _ms(ttl, key)
        token = secrets.token_hex(16)
        name = self.prefix + key
        client = self.redis.client
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + max(0.0, timeout)
        pause = self.retry_interval
        while True:
            with self.redis.errors(f"acquire lock {key!r} (SET NX PX)"):
                if await client.set(name, token, nx=True, px=ms):
                    return token
            if deadline is None:
                return None
            left = deadline - loop.time()
            if left <= 0:
                return None
            await asyncio.sleep(min(left, pause * random.uniform(0.5, 1.5)))  # noqa: S311 -- not security
            pause = min(pause * 1.5, self.max_retry_interval)

    async def renew(self, key: str, token: str, *, ttl: float) -> bool:
        """Reset the TTL of a held lock to ``ttl`` seconds; ``False`` if ``token`` no
        longer owns it (it expired, or another process holds it now)."""
        ms = _ms(ttl, key)
        with self.redis.errors(f"renew lock {key!r}"):
            return bool(await self._script(1)(keys=[self.prefix + key], args=[token, ms]))

    async def release(self, key: str, token: str) -> bool:
        """Release a held lock; ``False`` if ``token`` no longer owns it (nothing is deleted)."""
        with self.redis.errors(f"release lock {key!r}"):
            return bool(await self._script(2)(keys=[self.prefix + key], args=[token]))

    # ---------------------------------------------------------------- convenience

    @asynccontextmanager
    async def hold(self, key: str, *, ttl: float, timeout: float | None = None) -> AsyncIterator[HeldLock]:
        """Hold ``key`` for the ``async with`` block, renewing it every ``ttl / 3`` seconds::

            async with locks.hold("report", ttl=10, timeout=30) as held:
                ...          # held.lost is set if the lock was lost meanwhile

        :raises LockNotAcquired: not taken within ``timeout``
        """
        token = await self.acquire(key, ttl=ttl, timeout=timeout)
        if token is None:
            waited = "one attempt" if timeout is None else f"{timeout:g} s"
            raise LockNotAcquired(f"lock {key!r} (prefix {self.prefix!r}) is held by another owner; "
                                  f"gave up after {waited}. Pass a longer timeout= or retry later")
        held = HeldLock(self, key, token, ttl)
        held.start()
        try:
            yield held
        finally:
            await held.stop()

    def _script(self, index: int) -> Any:
        """The renew (1) or release (2) script, registered on the current client (the
        client runs ``EVALSHA`` and loads the script again after a server restart)."""
        client = self.redis.client
        if self._scripts is None or self._scripts[0] is not client:
            self._scripts = (client, client.register_script(_RENEW), client.register_script(_RELEASE))
        return self._scripts[index]


def _ms(ttl: float, key: str) -> int:
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not math.isfinite(ttl) or ttl <= 0:
        raise ValueError(f"lock {key!r}: ttl must be a number of seconds > 0, got {ttl!r}")
    return max(1, math.ceil(ttl * 1000))
