"""Lock semantics against a real server: contention, ownership, TTL, renewal, holder death."""

from __future__ import annotations

import asyncio
import itertools
import re
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from typing import Any

import pytest
from kaiju_plugins.redis import LockNotAcquired, RedisLocks, RedisService
from kaiju_tools.exceptions import ConfigError
from kaiju_tools.locks import LockToken
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
                with pytest.raises(LockNotAcquired, match=r"'job'.*held by another owner"):
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
            with pytest.raises(ValueError, match="lock 'k': ttl must be a number of seconds > 0"):
                async with locks.hold("k", ttl=ttl):
                    pass
            with pytest.raises(ValueError, match="lock key must be a non-empty string, got ''"):
                await locks.acquire("", ttl=1)
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


def test_release_deletes_the_key_only_while_it_holds_our_token(redis_server: RedisServer) -> None:
    """A former owner's release (its TTL ended, another owner took the key) deletes nothing,
    through ``release`` and through the end of a ``hold`` block alike."""
    prefix = f"release-{uuid.uuid4().hex[:8]}:"

    async def main() -> None:
        first, second = make_locks(redis_server, prefix), make_locks(redis_server, prefix)
        await open_locks(first), await open_locks(second)
        sync = redis_server.sync()
        try:
            old = await first.acquire("k", ttl=0.05)
            assert old is not None
            new = await second.acquire("k", ttl=30, timeout=GUARD)
            assert new is not None
            assert not await first.release("k", old)
            assert sync.get(prefix + "k") == new.encode()
            assert await second.release("k", new)
            async with first.hold("h", ttl=0.5) as held:
                sync.set(prefix + "h", "someone-else", px=30_000)  # as if it expired and was taken
                await asyncio.wait_for(held.lost.wait(), GUARD)  # the next renewal finds it
            assert sync.get(prefix + "h") == b"someone-else"  # the block's end deleted nothing
        finally:
            await close_locks(first, second)

    run(main())


def test_fencing_tokens_grow_with_every_acquisition(redis_server: RedisServer) -> None:
    prefix = f"fence-{uuid.uuid4().hex[:8]}:"

    async def main() -> list[int]:
        clients = [await open_locks(make_locks(redis_server, prefix)) for _ in range(2)]
        fences = []
        try:
            for round_ in range(10):
                locks = clients[round_ % 2]
                token = await locks.acquire("k", ttl=10)
                assert isinstance(token, LockToken) and isinstance(token, str)
                assert redis_server.sync().get(prefix + "k") == token.encode()  # the owner token as before
                fences.append(token.fence)
                assert await locks.acquire("k", ttl=10) is None  # held: no fence given out
                assert await locks.release("k", token)
            other = await clients[0].acquire("other", ttl=10)  # the counter is per prefix
            assert other is not None and other.fence > fences[-1]
            async with clients[1].hold("k", ttl=1) as held:
                assert held.fence is not None and held.fence > other.fence
        finally:
            await close_locks(*clients)
        return fences

    fences = run(main())
    assert all(b > a for a, b in itertools.pairwise(fences)), fences


def test_fences_keep_growing_after_a_restart_without_persistence(own_server: RedisServer) -> None:
    """The counter is lost with the server's data; it starts again at the server's clock in
    microseconds, above every fence given out before."""
    prefix = "restart:"

    async def acquire() -> int:
        locks = await open_locks(make_locks(own_server, prefix))
        try:
            token = await locks.acquire("k", ttl=10)
            assert token is not None
            assert await locks.release("k", token)
            return token.fence
        finally:
            await close_locks(locks)

    before = [run(acquire()) for _ in range(3)]
    own_server.stop()
    own_server.start()
    after = run(acquire())
    assert before == sorted(before) and after > before[-1], (before, after)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"margin_ratio": 0.5}, "`margin_ratio` must be a share of the TTL below 0.5, got 0.5"),
        ({"margin_ratio": -0.1}, "`margin_ratio` must be a number >= 0, got -0.1"),
        ({"margin_fixed": "1"}, "`margin_fixed` must be a number >= 0, got '1'"),
    ],
)
def test_bad_margin_settings_are_refused(redis_server: RedisServer, settings: dict[str, Any],
                                         expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        make_locks(redis_server, "bad:", **settings)


def test_a_ttl_too_short_for_the_margin_is_refused_before_taking_the_lock(redis_server: RedisServer) -> None:
    prefix = f"short-{uuid.uuid4().hex[:8]}:"

    async def main() -> None:
        locks = await open_locks(make_locks(redis_server, prefix))
        try:
            assert locks.lease_margin(2.0) == pytest.approx(0.3)  # 0.1 * ttl + 0.1 s
            with pytest.raises(ValueError,
                               match=r"lock 'k': ttl=0.2 s is too short for its safety margin of 0.12 s"):
                async with locks.hold("k", ttl=0.2):
                    pass
            assert redis_server.sync().exists(prefix + "k") == 0
        finally:
            await close_locks(locks)

    run(main())
