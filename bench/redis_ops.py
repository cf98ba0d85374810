"""Redis plugin overhead: RedisLocks / RedisCache beside the bare redis.asyncio client.

Starts its own redis-server on a free port (``--save '' --appendonly no``). For each case,
5 rounds of N sequential operations; prints the median microseconds per operation and
the ratio to the bare client doing the same commands in the same run.

    /tmp/dev/bin/python bench/redis_ops.py [N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

import redis
import redis.asyncio as aioredis
from kaiju_plugins.redis import RedisCache, RedisLocks, RedisService

RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def timed(n: int, op: Callable[[int], Awaitable[object]]) -> float:
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for i in range(n):
            await op(i)
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(rounds)


async def main(port: int, n: int) -> None:
    url = f"redis://127.0.0.1:{port}/0"
    plain = aioredis.Redis.from_url(url)  # the client's default (non-blocking) pool
    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=20, timeout=5)
    bare = aioredis.Redis.from_pool(pool)
    release = bare.register_script(RELEASE)
    service = RedisService(url=url)
    await service.init()
    locks = RedisLocks(redis=service, prefix="bench:lock:")
    cache = RedisCache(redis=service, prefix="bench:cache:")
    await bare.set("bench:raw:v", json.dumps({"a": 1}))
    await cache.set("v", {"a": 1}, ttl=None)

    async def raw_lock(i: int) -> None:
        token = f"t{i}"
        assert await bare.set("bench:raw:lock", token, nx=True, px=10_000)
        assert await release(keys=["bench:raw:lock"], args=[token])

    async def our_lock(i: int) -> None:
        token = await locks.acquire("l", ttl=10)
        assert token and await locks.release("l", token)

    async def raw_get(i: int) -> None:
        json.loads(await bare.get("bench:raw:v"))

    async def plain_get(i: int) -> None:
        json.loads(await plain.get("bench:raw:v"))

    async def our_get(i: int) -> None:
        await cache.get("v")

    rows = [("lock acquire + release", await timed(n, raw_lock), await timed(n, our_lock)),
            ("cache get (JSON)", await timed(n, raw_get), await timed(n, our_get)),
            ("  (default pool) get", await timed(n, raw_get), await timed(n, plain_get))]
    print(f"{'case':26} {'bare client us/op':>18} {'plugin us/op':>13} {'ratio':>6}")
    for name, raw, ours in rows:
        print(f"{name:26} {raw:18.1f} {ours:13.1f} {ours / raw:6.2f}")
    print("bare client: redis.asyncio over a BlockingConnectionPool, as the plugin uses; the last row "
          "compares the client's default non-blocking pool (its column 'plugin') with it")
    await plain.aclose()
    await bare.aclose()
    await service.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=2000, help="operations per round (default 2000)")
    n = parser.parse_args().n
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL)
        try:
            for _ in range(500):
                try:
                    redis.Redis(port=port).ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.01)
            asyncio.run(main(port, n))
        finally:
            proc.terminate()
            proc.wait()
