"""First contact: an app with the Redis services, a lock, a cache value."""

from __future__ import annotations

from aiohttp import web
from kaiju_tools import init_app
from kaiju_tools.app import get_services
from kaiju_tools.locks import LockProvider, get_lock_provider
from redis_support import RedisServer, run, settings


def test_app_with_redis_services(redis_server: RedisServer) -> None:
    async def main() -> None:
        app = init_app(settings(redis_server.url,
                                {"cls": "RedisLocks", "settings": {"prefix": "smoke:lock:"}},
                                {"cls": "RedisCache", "settings": {"prefix": "smoke:cache:"}}))
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            provider = get_lock_provider(app)
            assert isinstance(provider, LockProvider)
            token = await provider.acquire("a", ttl=5)
            assert token and await provider.acquire("a", ttl=5) is None
            assert await provider.renew("a", token, ttl=5)
            assert not await provider.release("a", "stranger")
            assert await provider.release("a", token)
            cache = get_services(app).get("cache")
            await cache.set("k", {"x": [1, 2]}, ttl=5)
            assert await cache.get("k") == {"x": [1, 2]}
            assert await cache.delete("k") and await cache.get("k", "none") == "none"
        finally:
            await runner.cleanup()

    run(main())
