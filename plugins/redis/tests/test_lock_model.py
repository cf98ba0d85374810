"""Property test: any sequence of acquire / renew / release by several owners matches a model."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kaiju_plugins.redis import RedisLocks, RedisService
from redis_support import RedisServer, run

OPS = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["acquire", "renew", "release"])), max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(min_size=1, max_size=16), ops=OPS)
def test_locks_behave_like_the_model(redis_server: RedisServer, key: str, ops: list[tuple[int, str]]) -> None:
    async def main() -> None:
        redis = RedisService(url=redis_server.url, max_connections=2)
        locks = RedisLocks(redis=redis, prefix=f"model-{uuid.uuid4().hex[:8]}:")
        await redis.init()
        try:
            holder: int | None = None  # the model: who holds the lock (TTL long enough never to expire)
            tokens: dict[int, Any] = {}
            for owner, op in ops:
                if op == "acquire":
                    token = await locks.acquire(key, ttl=60)
                    assert (token is not None) == (holder is None)
                    if token is not None:
                        holder, tokens[owner] = owner, token
                    continue
                token = tokens.get(owner, "never-issued")
                done = await (locks.renew(key, token, ttl=60) if op == "renew" else locks.release(key, token))
                assert done == (holder == owner)
                if done and op == "release":
                    holder = None
                    del tokens[owner]
            await asyncio.sleep(0)
        finally:
            await redis.close()

    run(main())
