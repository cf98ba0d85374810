"""``RedisCache``: get / set / delete with a time to live, over a :class:`RedisService`."""

from __future__ import annotations

import json
import math
from typing import Any

from kaiju_tools.services import ContextableService

from ._settings import check_name, check_number, check_redis
from .service import RedisService

__all__ = ["RedisCache"]

_MISSING: Any = object()


class RedisCache(ContextableService):
    """A small JSON cache: values are stored as JSON text under ``prefix + key``.

    ::

        - cls: RedisCache
          settings:
            prefix: "myapp:cache:"
            default_ttl: 300

    :param redis: the :class:`RedisService` to use (its name; default: the only one)
    :param prefix: prepended to every key
    :param default_ttl: seconds a value lives when :meth:`set` gets no ``ttl``
        (``null``: forever)
    """

    service_name = "cache"

    def __init__(
        self,
        app: Any = None,
        logger: Any = None,
        redis: RedisService | None = None,
        prefix: str = "kaiju:cache:",
        default_ttl: float | None = 300.0,
    ) -> None:
        ContextableService.__init__(self, app=app, logger=logger)
        self.redis: RedisService = check_redis(self, redis)
        self.prefix = check_name(self, "prefix", prefix)
        self.default_ttl = check_number(self, "default_ttl", default_ttl, minimum=0, above=True, none_ok=True)

    async def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default`` when there is none (or it expired).

        :raises RedisUnavailableError: the server could not be asked
        """
        with self.redis.errors(f"cache GET {key!r}"):
            raw = await self.redis.client.get(self.prefix + key)
        return default if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any, ttl: float | None = _MISSING) -> None:
        """Store ``value`` (anything JSON can encode) under ``key`` for ``ttl`` seconds
        (default ``default_ttl``; ``None``: no expiry).

        :raises TypeError: ``value`` cannot be encoded as JSON
        :raises RedisUnavailableError: the server could not be asked
        """
        seconds = self.default_ttl if ttl is _MISSING else ttl
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                    or not math.isfinite(seconds) or seconds <= 0):
            raise ValueError(f"cache {self.service_name!r}: ttl for {key!r} must be seconds > 0 or None, "
                             f"got {seconds!r}")
        try:
            data = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"cache {self.service_name!r}: the value for {key!r} cannot be stored as "
                            f"JSON ({exc}); store plain data (dict, list, str, numbers, bool, None)"
                            ) from None
        px = None if seconds is None else max(1, math.ceil(seconds * 1000))
        with self.redis.errors(f"cache SET {key!r}"):
            await self.redis.client.set(self.prefix + key, data, px=px)

    async def delete(self, key: str) -> bool:
        """Remove ``key``; ``True`` if it existed.

        :raises RedisUnavailableError: the server could not be asked
        """
        with self.redis.errors(f"cache DEL {key!r}"):
            return bool(await self.redis.client.delete(self.prefix + key))

    async def ttl(self, key: str) -> float | None:
        """Seconds ``key`` has left (``None``: no expiry or no such key)."""
        with self.redis.errors(f"cache PTTL {key!r}"):
            ms = await self.redis.client.pttl(self.prefix + key)
        return None if ms < 0 else ms / 1000
