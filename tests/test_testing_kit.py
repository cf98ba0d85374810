"""kaiju_tools.testing: apps started in-process, the RPC test client, captured logs, fakes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kaiju_tools import ContextableService, Service, context
from kaiju_tools.hookspecs import hookimpl
from kaiju_tools.testing import (
    BlockingApp,
    LogCapture,
    RPCCallError,
    capture_logs,
    kaiju_app,  # noqa: F401 -- the kit's fixtures, used by name (apps use `-p kaiju_tools.testing`)
    kaiju_logs,  # noqa: F401
    load_settings,
    make_settings,
    start_app,
)
from kernel_support import child_env


class KitClock(Service):
    """Tells the time (a fake replaces it in tests)."""

    def now(self) -> str:
        return "real"


class KitGreeter(ContextableService):
    """Greets over RPC; logs with extras; uses KitClock given to its constructor."""

    def __init__(self, app: Any, clock: KitClock, word: str = "Hello", logger: Any = None) -> None:
        super().__init__(app=app, logger=logger)
        self.clock = clock
        self.word = word
        self.started = False

    async def init(self) -> None:
        self.started = True

    @property
    def routes(self) -> dict[str, Any]:
        return {"greet": self.greet, "when": self.when, "fail": self.fail}

    async def greet(self, name: str = "world") -> str:
        tokens = context.bind(user="u1")
        try:
            self.logger.info("Greeting.", name=name)
        finally:
            context.reset(tokens)
        return f"{self.word}, {name}!"

    def when(self) -> str:
        return self.clock.now()

    def fail(self) -> None:
        raise ValueError("bad")


class KitPlugin:
    """An in-code plugin registering the services above."""

    @staticmethod
    @hookimpl
    def kaiju_register_services() -> list[type[Service]]:
        return [KitClock, KitGreeter]


class FakeClock:
    """Not even a Service: any object may stand in for one."""

    def now(self) -> str:
        return "fake"


SETTINGS = {
    "main": {"name": "kit"},
    "services": [
        {"cls": "JSONRPCServer", "name": "rpc", "settings": {"enable_permissions": False}},
        {"cls": "KitClock", "name": "clock"},
        {"cls": "KitGreeter", "name": "greeter", "settings": {"word": "Hi"}},
    ],
}
PLUGINS = {"kit": KitPlugin}


def test_start_app_serves_rpc_calls_and_returns_results() -> None:
    async def main() -> None:
        async with start_app(SETTINGS, plugins=PLUGINS, rpc_path="/rpc") as running:
            assert running.url.startswith("http://127.0.0.1:") and running.port > 0
            assert await running.rpc.call("greeter.greet", name="you") == "Hi, you!"
            assert await running.rpc.call("greeter.greet", ["me"]) == "Hi, me!"
            assert running.services.get("greeter").started
    asyncio.run(main())


def test_rpc_client_raises_on_error_objects() -> None:
    async def main() -> None:
        async with start_app(SETTINGS, plugins=PLUGINS, rpc_path="/rpc") as running:
            with pytest.raises(RPCCallError) as info:
                await running.rpc.call("greeter.nope")
            assert info.value.code == -32601
            assert "greeter.nope" in str(info.value)
            with pytest.raises(RPCCallError) as info:
                await running.rpc.call("greeter.fail")
            assert info.value.code == -32603  # internal error: the method raised
            assert isinstance(info.value.data, (dict, type(None)))
            assert await running.rpc.notify("greeter.greet") == 200  # the rpc plugin's notification_status
    asyncio.run(main())


def test_override_services_puts_the_fake_in_place_of_the_real_one() -> None:
    async def main() -> None:
        fake = FakeClock()
        async with start_app(make_settings(SETTINGS, PLUGINS), rpc_path="/rpc",
                             override_services={"clock": fake}) as running:
            assert running.services.get("clock") is fake
            assert running.services.discover(None, cls=KitClock) is fake
            assert running.services.get("greeter").clock is fake  # the constructor's argument too
            assert await running.rpc.call("greeter.when") == "fake"
    asyncio.run(main())


def test_override_of_an_unknown_service_names_the_configured_ones() -> None:
    async def main() -> None:
        async with start_app(SETTINGS, plugins=PLUGINS, override_services={"clok": FakeClock()}):
            pass
    with pytest.raises(Exception, match=r"no service named 'clok'.*clock"):
        asyncio.run(main())


def test_rpc_client_without_an_rpc_route_says_how_to_add_one() -> None:
    async def main() -> None:
        async with start_app(SETTINGS, plugins=PLUGINS) as running:
            running.rpc  # noqa: B018
    with pytest.raises(Exception, match=r"no route of the app serves JSONRPCView.*rpc_path="):
        asyncio.run(main())


def test_capture_logs_keeps_extras_and_request_context() -> None:
    async def main() -> None:
        async with start_app(SETTINGS, plugins=PLUGINS, rpc_path="/rpc") as running:
            with capture_logs("kit") as logs:
                await running.rpc.call("greeter.greet", name="ann", headers={"Correlation-Id": "c-42"})
        record = logs.find("Greeting.")
        assert record.name == "kit.greeter"
        assert record.data == {"name": "ann"}
        assert record.context["correlation_id"] == "c-42"
        assert record.context["user"] == "u1"
        with pytest.raises(AssertionError, match="no log record with message 'nothing'"):
            logs.find("nothing")
    asyncio.run(main())


def test_kaiju_app_fixture_serves_a_sync_test(kaiju_app: Any, kaiju_logs: LogCapture) -> None:  # noqa: F811 -- the fixtures
    app = kaiju_app(SETTINGS, plugins=PLUGINS, rpc_path="/rpc")
    assert isinstance(app, BlockingApp)
    assert app.call("greeter.greet", name="sync") == "Hi, sync!"
    status, body = app.request([{"jsonrpc": "2.0", "method": "greeter.greet", "id": 1},
                                {"jsonrpc": "2.0", "method": "greeter.when", "id": 2}])
    assert status == 200 and [b["result"] for b in body] == ["Hi, world!", "real"]
    with pytest.raises(urllib.error.HTTPError) as info:  # plain HTTP works from the test thread
        urllib.request.urlopen(app.url + "/rpc")
    info.value.close()
    assert info.value.code == 405  # JSON-RPC is served over POST
    assert [r.data for r in kaiju_logs.filter_records("Greeting.")] == [{"name": "sync"}, {"name": "world"}]


def test_load_settings_reads_files_like_the_cli(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text('main:\n  name: "[main_name]"\n  env: "[main_env]"\nservices: []\n')
    (tmp_path / "env.json").write_text('{"main_name": "files", "main_env": "dev"}')
    settings = load_settings([tmp_path / "config.yml"], [tmp_path / "env.json"], env={"main_env": "test"})
    assert (settings.main.name, settings.main.env) == ("files", "test")


def test_the_kit_is_opt_in_and_kaiju_tools_never_imports_pytest() -> None:
    code = "import sys, kaiju_tools, kaiju_tools.testing; print('pytest' in sys.modules)"
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True,
                            env=child_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
