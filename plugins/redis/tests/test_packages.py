"""Activation by ``packages:``: listed, the plugin gives its services; not listed, it is inert.

Each case runs in a fresh interpreter (the distribution is installed there), so nothing a
previous test registered can leak in.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from redis_support import GUARD, RedisServer, child_env

PROBE = '''
import asyncio, json, sys
from aiohttp import web
from kaiju_tools import ConfigError, init_app
from kaiju_tools.app import get_services
from kaiju_tools.locks import get_lock_provider
from kaiju_tools.plugins import collect

packages, url = json.loads(sys.argv[1]), sys.argv[2]
out = {}
services = [{"cls": "RedisService", "settings": {"url": url}}, {"cls": "RedisLocks"}, {"cls": "RedisCache"}]
app = init_app({"main": {"name": "t"}, "packages": packages, "services": []})
out["provider"] = type(get_lock_provider(app)).__name__
out["checks"] = [c.name for found in collect(app, "kaiju_register_health_checks") for c in found]
# a working app never imports an unlisted plugin (a failing one's error may, to name it)
out["imported"] = "kaiju_plugins.redis" in sys.modules or "kaiju_plugins.redis.plugin" in sys.modules
try:
    init_app({"main": {"name": "t"}, "packages": packages, "services": services})
except ConfigError as exc:
    out["config_error"] = str(exc)
if "config_error" not in out:
    async def main():
        app = init_app({"main": {"name": "t"}, "packages": packages, "services": services})
        provider = get_lock_provider(app)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            token = await provider.acquire("probe", ttl=5)
            out["locked"] = bool(token) and await provider.release("probe", token)
            out["services"] = sorted(type(s).__name__ for s in get_services(app))
        finally:
            await runner.cleanup()
    asyncio.run(main())
print(json.dumps(out))
'''


def probe(packages: list[str], url: str) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(PROBE), json.dumps(packages), url],
                            capture_output=True, text=True, timeout=GUARD, env=child_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ["redis", "kaiju-plugin-redis"])
def test_listed_plugin_gives_its_services(redis_server: RedisServer, name: str) -> None:
    out = probe([name], redis_server.url)
    assert out == {"provider": "NoneType", "checks": [], "locked": True, "imported": True,
                   "services": ["RedisCache", "RedisLocks", "RedisService"]}


def test_unlisted_plugin_is_inert_and_never_imported(redis_server: RedisServer) -> None:
    out = probe([], redis_server.url)
    assert out["imported"] is False
    assert out["provider"] == "NoneType" and out["checks"] == []
    assert "unknown service class 'RedisService'" in str(out["config_error"])
    assert "add `redis` to `packages:`" in str(out["config_error"])  # names the plugin that provides it
    assert "locked" not in out
