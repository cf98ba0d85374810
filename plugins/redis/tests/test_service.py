"""RedisService: settings, start-up errors, required: false, health checks, outage and recovery."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import pytest
from kaiju_plugins.redis import RedisCache, RedisService, RedisUnavailableError
from kaiju_tools import ConfigError, init_app
from kaiju_tools.app import get_services
from kaiju_tools.exceptions import ServiceStartError
from kaiju_tools.plugins import collect
from redis_support import RedisServer, free_port, run, settings, started_app, until


@pytest.mark.parametrize(
    ("service_settings", "expected"),
    [
        ({"port": "6379"},
         r"services\[0\]\.settings\.port: setting 'port' of RedisService 'redis': "
         r"expected int, got str: '6379'"),
        ({"port": 70000}, r"`port` must be a port number 1\.\.65535, got 70000"),
        ({"url": "http://127.0.0.1:6379"}, r"`url` must be a redis://, rediss:// or unix:// URL"),
        ({"url": "redis://127.0.0.1:notaport/0"},
         r"(?s)`url` must be a valid Redis URL.*Port could not be cast"),
        ({"max_connections": 0}, r"`max_connections` must be an integer >= 1, got 0"),
        ({"socket_timeout": 0}, r"`socket_timeout` must be a number > 0, got 0"),
        ({"db": -1}, r"`db` must be an integer >= 0, got -1"),
        ({"host": ""}, r"`host` must be a non-empty string"),
    ],
)
def test_bad_settings_name_the_key_and_value(service_settings: dict[str, Any], expected: str) -> None:
    config = {"main": {"name": "t"}, "packages": ["redis"],
              "services": [{"cls": "RedisService", "settings": service_settings}]}
    with pytest.raises(ConfigError, match=expected) as info:
        init_app(config)
    assert "RedisService 'redis'" in str(info.value)


def test_unknown_setting_and_wrong_service_name_are_config_errors() -> None:
    with pytest.raises(ConfigError,
                       match=r"(?s)services\[0\]\.settings\.prot: unknown setting 'prot'"
                             r".*did you mean: port"):
        init_app({"main": {"name": "t"}, "packages": ["redis"],
                  "services": [{"cls": "RedisService", "settings": {"prot": 1}}]})
    with pytest.raises(ConfigError,
                       match=r"services\[1\]\.settings\.redis: no RedisService service named 'nope'"):
        init_app({"main": {"name": "t"}, "packages": ["redis"],
                  "services": [{"cls": "RedisService"},
                               {"cls": "RedisLocks", "settings": {"redis": "nope"}}]})


def test_address_never_shows_credentials() -> None:
    service = RedisService(url="rediss://user:secret@cache.example:6380/2")
    assert service.address == "rediss://cache.example:6380/2"
    assert RedisService(url="unix:///run/redis.sock?db=1").address == "unix:///run/redis.sock?db=1"


def test_lock_cache_and_schedule_services_need_a_redis_service() -> None:
    for cls in ("RedisLocks", "RedisCache", "RedisSchedules"):
        config = {"main": {"name": "t"}, "packages": ["redis"], "services": [{"cls": cls}]}
        with pytest.raises(ConfigError, match="`redis` must be the name of a RedisService") as info:
            init_app(config)
        assert "add `- cls: RedisService`" in str(info.value)


def test_unreachable_server_stops_the_app_with_address_cause_and_check() -> None:
    port = free_port()  # nothing listens there

    async def main() -> None:
        config = {"main": {"name": "t"}, "packages": ["redis"],
                  "services": [{"cls": "RedisService", "settings": {"port": port, "connect_timeout": 1,
                                                                     "retries": 0}}]}
        with pytest.raises(ServiceStartError) as info:
            await started_app(config)
        text = str(info.value)
        assert "service 'redis' failed to start" in text
        assert f"redis://127.0.0.1:{port}/0" in text
        assert "connect (PING at start-up) failed" in text
        assert "check that redis-server is running and reachable" in text
        assert "services[0].settings.host" in text

    run(main())


def test_required_false_lets_the_app_go_on(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()

    async def main() -> None:
        config = {"main": {"name": "t"}, "packages": ["redis"],
                  "services": [{"cls": "RedisService", "required": False,
                                "settings": {"port": port, "connect_timeout": 1, "retries": 0}},
                               {"cls": "RedisCache", "required": False}]}
        runner = await started_app(config)
        try:
            app = runner.app
            assert get_services(app).get("redis") is None  # not discoverable
            cache = get_services(app).get("cache")
            assert isinstance(cache, RedisCache)
            with pytest.raises(RedisUnavailableError, match=r"'redis' .* is not connected"):
                await cache.get("x")
        finally:
            await runner.cleanup()

    with caplog.at_level(logging.WARNING):
        run(main())
    assert any("optional service 'redis' failed to start" in r.getMessage() for r in caplog.records)


def test_health_checks_follow_the_services(redis_server: RedisServer) -> None:
    async def main() -> None:
        config = settings(redis_server.url)
        config["services"].append({"cls": "RedisService", "name": "other", "required": False,
                                   "settings": {"url": redis_server.url, "socket_timeout": 0.5}})
        runner = await started_app(config)
        try:
            checks = [c for found in collect(runner.app, "kaiju_register_health_checks") for c in found]
            mine = sorted((c.name, c.required, c.timeout) for c in checks if c.name.startswith("redis:"))
            assert mine == [("redis:other", False, 0.5), ("redis:redis", True, 5.0)]
            assert all([await c.check() for c in checks if c.name.startswith("redis:")])
        finally:
            await runner.cleanup()
        with pytest.raises(RedisUnavailableError, match="not connected"):
            get_services(runner.app).get("redis").client  # noqa: B018 -- closed

    run(main())


def test_server_going_away_and_coming_back(own_server: RedisServer) -> None:
    """Errors while the server is down name the address; everything works again after."""
    prefix = f"outage-{uuid.uuid4().hex[:8]}:"

    async def main() -> dict[str, int]:
        config = settings(own_server.url, {"cls": "RedisCache", "settings": {"prefix": prefix}},
                          {"cls": "RedisLocks", "settings": {"prefix": prefix}})
        config["services"][0]["settings"].update(connect_timeout=0.5, socket_timeout=1, retries=1)
        runner = await started_app(config)
        counts = {"errors": 0, "health_failures": 0}
        try:
            services = get_services(runner.app)
            cache, locks = services.get("cache"), services.get("locks")
            (check,) = [c for found in collect(runner.app, "kaiju_register_health_checks") for c in found
                        if c.name == "redis:redis"]
            await cache.set("k", 1)
            assert await cache.get("k") == 1 and await check.check()
            own_server.stop()
            for operation in (cache.get("k"), cache.set("k", 2), locks.acquire("l", ttl=1), check.check()):
                with pytest.raises(RedisUnavailableError) as info:
                    await operation
                counts["errors"] += 1
                assert f"at redis://127.0.0.1:{own_server.port}/0" in str(info.value)
                assert "check that redis-server is running" in str(info.value)
            own_server.start()  # same port, empty (no persistence)

            async def healthy() -> bool:
                try:
                    return bool(await check.check())
                except RedisUnavailableError:
                    counts["health_failures"] += 1
                    return False

            deadline = asyncio.get_running_loop().time() + 20
            while not await healthy():
                assert asyncio.get_running_loop().time() < deadline, "never recovered"
                await asyncio.sleep(0.05)
            assert await cache.get("k") is None  # the restarted server is empty
            await cache.set("k", 3)
            assert await cache.get("k") == 3
            token = await locks.acquire("l", ttl=5)
            assert token and await locks.release("l", token)  # scripts loaded again
        finally:
            await runner.cleanup()
        return counts

    counts = run(main())
    assert counts["errors"] == 4
    print(f"outage: 4 operations failed with a clear error; health check failed {counts['health_failures']} "
          "time(s) after restart before recovering")


def test_cache_get_set_delete_ttl(redis_server: RedisServer) -> None:
    prefix = f"cache-{uuid.uuid4().hex[:8]}:"

    async def main() -> None:
        cache_entry = {"cls": "RedisCache", "settings": {"prefix": prefix, "default_ttl": 60}}
        runner = await started_app(settings(redis_server.url, cache_entry))
        try:
            cache = get_services(runner.app).get("cache")
            await cache.set("a", {"n": 1, "s": "é"})
            assert await cache.get("a") == {"n": 1, "s": "é"}
            assert 50 < (await cache.ttl("a") or 0) <= 60
            await cache.set("forever", [1], ttl=None)
            assert await cache.ttl("forever") is None and await cache.get("forever") == [1]
            await cache.set("short", True, ttl=0.05)
            await until(lambda: redis_server.sync().exists(prefix + "short") == 0, "expiry")
            assert await cache.get("short", "gone") == "gone"
            assert await cache.delete("a") and not await cache.delete("a")
            with pytest.raises(TypeError, match="cannot be stored as JSON"):
                await cache.set("bad", object())
            with pytest.raises(ValueError, match="ttl for 'x' must be seconds > 0"):
                await cache.set("x", 1, ttl=0)
        finally:
            await runner.cleanup()

    run(main())


def test_service_built_outside_an_app(redis_server: RedisServer) -> None:
    async def main() -> None:
        async with RedisService(host="127.0.0.1", port=redis_server.port, db=1) as service:
            assert service.address == f"redis://127.0.0.1:{redis_server.port}/1"
            assert await service.ping()

    run(main())
