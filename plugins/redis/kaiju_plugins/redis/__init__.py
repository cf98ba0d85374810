"""kaiju-plugin-redis: a Redis connection pool, distributed locks and a cache for kaiju-kernel.

A first-party, opt-in plugin: active only when ``packages:`` lists ``redis`` (or
``kaiju-plugin-redis``). See ``docs/plugins/redis.md``.
"""

from ._errors import LockLost, LockNotAcquired, RedisPluginError, RedisUnavailableError
from ._held import HeldLock
from .cache import RedisCache
from .locks import RedisLocks
from .schedules import RedisSchedules
from .service import RedisService

__all__ = [
    "HeldLock",
    "LockLost",
    "LockNotAcquired",
    "RedisCache",
    "RedisLocks",
    "RedisPluginError",
    "RedisSchedules",
    "RedisService",
    "RedisUnavailableError",
]
