"""The readiness probe of a real app server follows the Redis server: down -> 503, back -> 200."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web
from kaiju_tools import init_app
from redis_support import GUARD, RedisServer, run, settings


def test_readiness_probe_follows_redis(own_server: RedisServer) -> None:
    async def main() -> list[int]:
        config = settings(own_server.url)
        config["services"][0]["settings"].update(connect_timeout=0.5, socket_timeout=1, retries=0)
        runner = web.AppRunner(init_app(config))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        seen: list[int] = []
        try:
            async with aiohttp.ClientSession() as http:
                async def ready() -> tuple[int, dict[str, Any]]:
                    async with http.get(f"http://127.0.0.1:{port}/health/ready") as response:
                        return response.status, await response.json()

                async def until_status(status: int) -> dict[str, Any]:
                    loop = asyncio.get_running_loop()
                    deadline = loop.time() + GUARD
                    while True:
                        code, body = await ready()
                        if code == status:
                            seen.append(code)
                            return body
                        assert loop.time() < deadline, f"probe never answered {status}: {body}"
                        await asyncio.sleep(0.05)

                body = await until_status(200)
                assert body["checks"]["redis:redis"]["status"] == "ok"
                own_server.stop()
                body = await until_status(503)
                failed = body["checks"]["redis:redis"]
                assert failed["status"] == "fail" and failed["required"] is True
                assert f"redis://127.0.0.1:{own_server.port}/0" in failed["error"]
                assert any("required check 'redis:redis' failed" in r for r in body["reasons"])
                own_server.start()
                body = await until_status(200)
                assert body["checks"]["redis:redis"]["status"] == "ok"
        finally:
            await runner.cleanup()
        return seen

    assert run(main()) == [200, 503, 200]
