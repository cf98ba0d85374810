"""``RedisSchedules``: the app's schedule store (:class:`kaiju_tools.schedules.ScheduleStore`).

Per namespace (the scheduler's ``cluster_prefix``) two hashes under ``prefix``:
``<prefix><namespace>specs`` maps a schedule's name to its spec as JSON text, and
``<prefix><namespace>claims`` to the number of its last claimed due time. A claim is a Lua
compare-and-set (the new number must be greater), so two processes never claim one due
time, and a process that restarts finds the claims of the others. The plugin's
``kaiju_schedule_store`` hook returns this service, so the scheduler uses it without knowing
Redis. Use a Redis with persistence (AOF or RDB) if schedules must survive a Redis restart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kaiju_tools.services import ContextableService

from ._settings import check_name, check_redis
from .service import RedisService

__all__ = ["RedisSchedules"]

# KEYS: claims hash; ARGV: name, due. 1 when due is greater than the recorded claim (recorded).
_CLAIM = """
local last = redis.call('hget', KEYS[1], ARGV[1])
if last and tonumber(last) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class RedisSchedules(ContextableService):
    """Schedules added at run time, kept in Redis for every process of the app.

    ::

        - cls: RedisService
        - cls: RedisSchedules       # uses the RedisService (or `redis: <its name>`)
          settings:
            prefix: "myapp:schedules:"

    :param redis: the :class:`RedisService` to use (its name; default: the only one)
    :param prefix: prepended to every key (share it between the processes of one app)
    """

    service_name = "schedules"

    def __init__(self, app: Any = None, logger: Any = None, redis: RedisService | None = None,
                 prefix: str = "kaiju:schedules:") -> None:
        ContextableService.__init__(self, app=app, logger=logger)
        self.redis: RedisService = check_redis(self, redis)
        self.prefix = check_name(self, "prefix", prefix)
        self._claim: tuple[Any, Any] | None = None  # (client, script)

    async def save(self, namespace: str, name: str, spec: Mapping[str, Any]) -> None:
        """Create or replace the spec of ``name`` (stored as JSON text).

        :raises RedisUnavailableError: the server could not be asked
        """
        text = json.dumps(dict(spec), sort_keys=True)
        with self.redis.errors(f"save schedule {name!r} (HSET)"):
            await self.redis.client.hset(self._key(namespace, "specs"), name, text)

    async def delete(self, namespace: str, name: str) -> bool:
        """Forget ``name`` and its claim; ``False`` when it was not stored."""
        with self.redis.errors(f"delete schedule {name!r} (HDEL)"):
            async with self.redis.client.pipeline(transaction=True) as pipe:
                pipe.hdel(self._key(namespace, "specs"), name)
                pipe.hdel(self._key(namespace, "claims"), name)
                removed, _ = await pipe.execute()
        return bool(removed)

    async def load(self, namespace: str) -> dict[str, dict[str, Any]]:
        """Every stored spec of ``namespace`` by name (a spec that is not JSON is left out)."""
        with self.redis.errors("load schedules (HGETALL)"):
            raw = await self.redis.client.hgetall(self._key(namespace, "specs"))
        specs: dict[str, dict[str, Any]] = {}
        for name, text in raw.items():
            key = name.decode() if isinstance(name, bytes) else str(name)
            try:
                spec = json.loads(text)
            except ValueError:
                self.logger.error("stored schedule is not JSON: left out", schedule=key, namespace=namespace)
                continue
            if isinstance(spec, dict):
                specs[key] = spec
        return specs

    async def claim(self, namespace: str, name: str, due: int) -> bool:
        """Record ``due`` as the last claimed due time of ``name`` if greater (atomic)."""
        client = self.redis.client
        if self._claim is None or self._claim[0] is not client:
            self._claim = (client, client.register_script(_CLAIM))
        with self.redis.errors(f"claim due time {due} of schedule {name!r}"):
            return bool(await self._claim[1](keys=[self._key(namespace, "claims")], args=[name, int(due)]))

    async def claimed(self, namespace: str) -> dict[str, int]:
        """The last claimed due time of each schedule that has one."""
        with self.redis.errors("read schedule claims (HGETALL)"):
            raw = await self.redis.client.hgetall(self._key(namespace, "claims"))
        return {(k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in raw.items()}

    def _key(self, namespace: str, what: str) -> str:
        return f"{self.prefix}{namespace}{what}"
