"""Locks across a network partition: a real TCP proxy (its own process) between a holder and
redis-server is paused (SIGSTOP) or drops every connection; the holder must know it lost
its lease before anyone else can take the key."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kaiju_plugins.redis import LockLost, RedisLocks, RedisService
from redis_support import GUARD, RedisServer, run
from tcp_proxy import Proxy


@pytest.fixture
def proxy(redis_server: RedisServer) -> Iterator[Proxy]:
    proxy = Proxy(redis_server.port)
    try:
        yield proxy
    finally:
        proxy.stop()


async def open_locks(url: str, prefix: str) -> RedisLocks:
    locks = RedisLocks(redis=RedisService(url=url, max_connections=4), prefix=prefix)
    await locks.redis.init()
    await locks.init()
    return locks


async def close_locks(*all_locks: RedisLocks) -> None:
    for locks in all_locks:
        await locks.close()
        await locks.redis.close()


@pytest.mark.parametrize("cut", ["pause", "drop"])
def test_a_partitioned_holder_knows_it_lost_the_lock_before_another_takes_it(
    redis_server: RedisServer, proxy: Proxy, cut: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue's case: ``hold('hk', ttl=...)`` behind a proxy that stops forwarding; another
    client takes the key once its TTL ends. ``held.lost`` must be set before that."""
    prefix = f"part-{uuid.uuid4().hex[:8]}:"
    seen: dict[str, Any] = {}

    async def main() -> None:
        holder = await open_locks(proxy.url, prefix)
        other = await open_locks(redis_server.url, prefix)
        try:
            async with holder.hold("hk", ttl=1.0) as held:
                await asyncio.sleep(0.4)  # one renewal went through
                proxy.pause() if cut == "pause" else proxy.drop()
                seen["cut"] = time.monotonic()
                token = await other.acquire("hk", ttl=5, timeout=GUARD)
                seen["taken"] = time.monotonic()
                seen["lost_when_taken"] = held.lost.is_set()
                assert token is not None
                proxy.resume() if cut == "pause" else proxy.accept()
                await asyncio.wait_for(held.lost.wait(), GUARD)
                seen["fences"] = (held.fence, token.fence)
            assert redis_server.sync().get(prefix + "hk") == token.encode()  # the old holder deleted nothing
            assert await other.release("hk", token)
        finally:
            if proxy.paused:
                proxy.resume()
            await close_locks(holder, other)

    with caplog.at_level(logging.WARNING):
        run(main())
    assert seen["lost_when_taken"], "another client took the key while the holder still believed it held it"
    lost = [r for r in caplog.records if "lease" in r.getMessage() and r.levelno == logging.WARNING]
    assert lost and "hk" in str(getattr(lost[0], "data", lost[0].__dict__)), [
        r.getMessage() for r in caplog.records]
    old_fence, new_fence = seen["fences"]
    assert new_fence > old_fence
    print(f"partition ({cut}): another client took the key {seen['taken'] - seen['cut']:.2f} s after the cut "
          "(TTL 1 s); the holder had marked it lost before")


def test_cancel_on_loss_cancels_the_block_and_raises_lock_lost(redis_server: RedisServer,
                                                               proxy: Proxy) -> None:
    prefix = f"cancel-{uuid.uuid4().hex[:8]}:"
    seen: dict[str, Any] = {}

    async def main() -> None:
        holder = await open_locks(proxy.url, prefix)
        try:
            with pytest.raises(LockLost,
                               match=r"lock 'job' .* was lost while held: no renewal confirmed") as info:
                async with holder.hold("job", ttl=1.0, cancel_on_loss=True) as held:
                    proxy.pause()
                    try:
                        await asyncio.sleep(GUARD)  # the work: cancelled when the lease ends
                    except asyncio.CancelledError:
                        seen["lost_when_cancelled"] = held.lost.is_set()
                        raise
            seen["error"] = str(info.value)
            proxy.resume()

            async def outside() -> None:  # cancelled from outside: CancelledError, not LockLost
                async with holder.hold("job", ttl=1.0, timeout=GUARD, cancel_on_loss=True):
                    seen["entered"] = True
                    await asyncio.sleep(GUARD)

            task = asyncio.create_task(outside())
            while "entered" not in seen:  # noqa: ASYNC110 -- polls another task's note
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
        finally:
            if proxy.paused:
                proxy.resume()
            await close_locks(holder)

    run(main())
    assert seen["lost_when_cancelled"]
