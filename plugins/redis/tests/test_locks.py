"""Lock semantics against a real server: contention, ownership, TTL, renewal, holder death."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from typing import Any

import pytest
from kaiju_plugins.redis import LockNotAcquired, RedisLocks, RedisService
from redis_support import GUARD, RedisServer, child_env, run


def make_locks(server: RedisServer, prefix: str, **settings: Any) -> RedisLocks:
    redis = RedisService(url=server.url, max_connections=4)
    locks = RedisLocks(redis=redis, prefix=prefix, **settings)
    return locks


async def open_locks(locks: RedisLocks) -> RedisLocks:
    await locks.redis.init()
    await locks.init()
    return locks


async def close_locks(*all_locks: RedisLocks) -> None:
    for locks in all_locks:
        await locks.close()
        await locks.redis.close()


def test_contention_one_holder_at_a_time(redis_server: RedisServer) -> None:
    """3 clients (3 pools, like 3 processes) x 10 tasks x 5 rounds on one key."""
    prefix = f"contend-{uuid.uuid4().hex[:8]}:"
    counts = {"inside": 0, "max_inside": 0, "held": 0, "gave_up": 0}

    async def worker(locks: RedisLocks) -> None:
        for _ in range(5):
            token = await locks.acquire("shared", ttl=10, timeout=GUARD)
            if token is None:
                counts["gave_up"] += 1
                continue
            counts["inside"] += 1
            counts["max_inside"] = max(counts["max_inside"], counts["inside"])
            counts["held"] += 1
            await asyncio.sleep(0)  # let the others try meanwhile
            await asyncio.sleep(0.001)
            counts["inside"] -= 1
            assert await locks.release("shared", token)

    async def main() -> None:
        clients = [await open_locks(make_locks(redis_server, prefix)) for _ in range(3)]
        try:
            await asyncio.gather(*(worker(c) for c in clients for _ in range(10)))
        finally:
            await close_locks(*clients)

    run(main())
    assert counts == {"inside": 0, "max_inside": 1, "held": 150, "gave_up": 0}


def test_only_the_owner_renews_or_releases(redis_server: RedisServer) -> None:
    prefix = f"owner-{uuid.uuid4().hex[:8]}:"

    async def main() -> None:
        locks = await open_locks(make_locks(redis_server, prefix))
        try:
            token = await locks.acquire("k", ttl=10)
            assert token is not None
            assert await locks.acquire("k", ttl=10) is None  # timeout=None: one try
            assert await locks.acquire("k", ttl=10, timeout=0.05) is None  # waited, gave up
            assert not await locks.renew("k", "stranger", ttl=10)
            assert not await locks.release("k", "stranger")
            assert redis_server.sync().get(prefix + "k") == token.encode()  # untouched
            assert await locks.renew("k", token, ttl=20)
            assert 10_000 < redis_server.sync().pttl(prefix + "k") <= 20_000
            assert await locks.release("k", token)
            assert not await locks.release("k", token)  # once only
            assert redis_server.sync().exists(prefix + "k") == 0
        finally:
            await close_locks(locks)

    run(main())


def test_expired_lock_is_not_ours_any_more(redis_server: RedisServer) -> None:
    prefix = f"expire-{uuid.uuid4().hex[:8]}:"

    async def main() -> None:
        first, second = make_locks(redis_server, prefix), make_locks(redis_server, prefix)
        await open_locks(first), await open_locks(second)
        try:
            old = await first.acquire("k", ttl=0.05)
            assert old is not None
            new = await second.acquire("k", ttl=10, timeout=GUARD)  # after the TTL
            assert new is not None and new != old
            assert not await first.renew("k", old, ttl=10)
            assert not await first.release("k", old)  # must not free the new owner's lock
            assert redis_server.sync().get(prefix + "k") == new.encode()
        finally:
            await close_locks(first, second)

    run(main())


def test_hold_renews_while_held_and_releases(redis_server: RedisServer) -> None:
    prefix = f"hold-{uuid.uuid4().hex[:8]}:"

    async def main() -> None:
        locks = await open_locks(make_locks(redis_server, prefix))
        other = await open_locks(make_locks(redis_server, prefix))
        try:
            async with locks.hold("job", ttl=0.3) as held:
                await asyncio.sleep(1.0)  # > 3 TTLs: alive only if renewed
                assert redis_server.sync().get(prefix + "job") == held.token.encode()
                assert not held.lost.is_set()
                with pytest.raises(LockNotAcquired, match="'job'.*held by another owner"):
                    async with other.hold("job", ttl=1, timeout=0.05):
                        pass
            assert redis_server.sync().exists(prefix + "job") == 0
        finally:
            await close_locks(locks, other)

    run(main())


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), "5", True])
def test_bad_ttl_is_refused(redis_server: RedisServer, ttl: Any) -> None:
    async def main() -> None:
        locks = await open_locks(make_locks(redis_server, "bad-ttl:"))
        try:
            with pytest.raises(ValueError, match="lock 'k': ttl must be a number of seconds > 0"):
                await locks.acquire("k", ttl=ttl)
        finally:
            await close_locks(locks)

    run(main())


HOLDER = '''
import asyncio, sys
from kaiju_plugins.redis import RedisLocks, RedisService

async def main():
    redis = RedisService(url=sys.argv[1])
    locks = RedisLocks(redis=redis, prefix=sys.argv[2])
    await redis.init()
    await locks.init()
    token = await locks.acquire("job", ttl=float(sys.argv[3]))
    print("held" if token else "not held", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
'''


def test_holder_death_frees_the_lock_after_its_ttl(redis_server: RedisServer) -> None:
    """A process takes a lock (TTL 1 s) and is killed (SIGKILL): no release ever runs."""
    prefix = f"death-{uuid.uuid4().hex[:8]}:"
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(HOLDER), redis_server.url, prefix, "1.0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held", proc.stderr.read() if proc.stderr else ""
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=GUARD)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    assert proc.returncode == -signal.SIGKILL

    async def main() -> tuple[Any, Any, float]:
        locks = await open_locks(make_locks(redis_server, prefix))
        try:
            at_once = await locks.acquire("job", ttl=5)  # still held by the dead process
            start = time.monotonic()
            later = await locks.acquire("job", ttl=5, timeout=GUARD)
            return at_once, later, time.monotonic() - start
        finally:
            await close_locks(locks)

    at_once, later, waited = run(main())
    assert at_once is None and later is not None
    print(f"holder death: lock free again after {waited:.3f} s (TTL 1 s)")
