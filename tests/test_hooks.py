"""One test per kernel hook: each proves the kernel calls it where the docs say.

A meta-test (tests/test_docs.py) fails when a hookspec has no ``test_hook_<name>`` here
(or in a plugin's tests) or no section in docs/hooks.md.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import pytest
from aiohttp import web
from kaiju_tools import (
    COMMANDS,
    Command,
    ConfigError,
    ConfigProblem,
    ConfigSource,
    ContextableService,
    PluginError,
    context,
    get_services,
    hookimpl,
    init_app,
)
from kaiju_tools._runtime import settings_from_mapping
from kaiju_tools._server import build_parser
from kaiju_tools.config import ConfigLoader
from kaiju_tools.hookspecs import compose
from kaiju_tools.plugins import DISABLE_ENV, Plugins, collect


def make_plugins(*plugins: object) -> Plugins:
    """Kernel + config_yaml + the given in-code plugins (other first-party plugins off)."""
    manager = Plugins(environ={DISABLE_ENV: "rpc,scheduler,logging"})
    manager.load_first_party()
    for index, plugin in enumerate(plugins):
        manager.register(plugin, name=f"test{index}")
    return manager


async def serve(app: web.Application, path: str,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """Start ``app`` on 127.0.0.1, GET ``path``, stop; return status, headers, body."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session, \
                session.get(f"http://127.0.0.1:{port}{path}", headers=headers) as response:
            return response.status, dict(response.headers), await response.text()
    finally:
        await runner.cleanup()


class Recorder:
    """A plugin that records every lifecycle hook call, mixing sync and async impls."""

    def __init__(self) -> None:
        self.events: list[str] = []

    @hookimpl
    async def kaiju_app_created(self, app: web.Application) -> None:
        self.events.append("app_created")

    @hookimpl
    def kaiju_service_started(self, service: Any) -> None:
        self.events.append(f"service_started:{service.service_name}")

    @hookimpl
    async def kaiju_service_stopped(self, service: Any) -> None:
        self.events.append(f"service_stopped:{service.service_name}")

    @hookimpl
    async def kaiju_app_started(self, app: web.Application) -> None:
        self.events.append("app_started")

    @hookimpl
    def kaiju_app_stopping(self, app: web.Application) -> None:
        self.events.append("app_stopping")

    @hookimpl
    async def kaiju_app_stopped(self, app: web.Application) -> None:
        self.events.append("app_stopped")


class Svc(ContextableService):
    """A service that records init/close into the shared event list."""

    events: ClassVar[list[str]] = []

    async def init(self) -> None:
        self.events.append(f"init:{self.service_name}")

    async def close(self) -> None:
        self.events.append(f"close:{self.service_name}")


def lifecycle_events() -> list[str]:
    recorder = Recorder()
    Svc.events = recorder.events

    class Registers:
        @hookimpl
        def kaiju_register_services(self) -> list[type]:
            return [Svc]

    plugins = make_plugins(recorder, Registers())
    settings = settings_from_mapping(
        {"main": {"name": "h"}, "services": [{"cls": "Svc", "name": "one"}, {"cls": "Svc", "name": "two"}]},
        plugins,
    )
    app = init_app(settings)
    asyncio.run(serve(app, "/"))
    return recorder.events


EXPECTED = [
    "app_created", "init:one", "service_started:one", "init:two", "service_started:two", "app_started",
    "app_stopping", "close:two", "service_stopped:two", "close:one", "service_stopped:one", "app_stopped",
]


def test_hook_kaiju_app_created() -> None:
    assert lifecycle_events()[0] == "app_created"


def test_hook_kaiju_service_started() -> None:
    events = lifecycle_events()
    assert [e for e in events if e.startswith(("init", "service_started"))] == EXPECTED[1:5]


def test_hook_kaiju_service_stopped() -> None:
    events = lifecycle_events()
    assert [e for e in events if e.startswith(("close", "service_stopped"))] == EXPECTED[7:11]


def test_hook_kaiju_app_started() -> None:
    events = lifecycle_events()
    assert events.index("app_started") == 5


def test_hook_kaiju_app_stopping() -> None:
    events = lifecycle_events()
    assert events.index("app_stopping") < events.index("close:two")


def test_hook_kaiju_app_stopped() -> None:
    assert lifecycle_events() == EXPECTED


def test_hook_kaiju_add_cli_options() -> None:
    class Options:
        @hookimpl
        def kaiju_add_cli_options(self, parser: argparse.ArgumentParser) -> None:
            parser.add_argument("--color", default="none")

    parser = build_parser(make_plugins(Options()), "prog")
    assert parser.parse_args(["--color", "red"]).color == "red"


def test_hook_kaiju_load_config_source(tmp_path: Path) -> None:
    class KeyValue:
        @hookimpl
        def kaiju_load_config_source(self, path: Path, kind: str) -> ConfigSource | None:
            if path.suffix != ".kv":
                return None
            pairs = dict(line.split("=", 1) for line in path.read_text().splitlines())
            return ConfigSource({"main": pairs}, {("main", "name"): f"{path}:1"}, path)

    source = tmp_path / "settings.kv"
    source.write_text("name=from-kv")
    loaded = ConfigLoader(make_plugins(KeyValue()).pm.hook, base_config_paths=[source]).load()
    assert loaded.data == {"main": {"name": "from-kv"}}
    assert loaded.origin(("main", "name")) == f"{source}:1"


def test_hook_kaiju_load_config_source_unknown_suffix_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "settings.toml"
    source.write_text("x = 1")
    with pytest.raises(ConfigError,
                       match=r"no installed plugin reads config files named like 'settings.toml'"):
        ConfigLoader(make_plugins().pm.hook, base_config_paths=[source]).load()


def test_hook_kaiju_config_defaults() -> None:
    class Defaults:
        @hookimpl
        def kaiju_config_defaults(self) -> dict[str, Any]:
            return {"main": {"version": "9.9", "loglevel": "DEBUG"}}

    settings = settings_from_mapping({"main": {"version": "1.0"}}, make_plugins(Defaults()))
    assert (settings.main.version, settings.main.loglevel) == ("1.0", "DEBUG")


def test_hook_kaiju_process_settings() -> None:
    class Checks:
        @hookimpl
        def kaiju_process_settings(self, settings: dict[str, Any]) -> list[ConfigProblem]:
            settings.setdefault("etc", {})["checked"] = True
            if settings["main"].get("env") == "prod":
                return [ConfigProblem("main.env", "prod is not allowed here", "use -e main_env=dev")]
            return []

    plugins = make_plugins(Checks())
    assert settings_from_mapping({"main": {"env": "dev"}}, plugins).etc == {"checked": True}
    with pytest.raises(ConfigError, match=r"main\.env: prod is not allowed here"):
        settings_from_mapping({"main": {"env": "prod"}}, plugins)


def test_hook_kaiju_register_services() -> None:
    class Extra(ContextableService):
        pass

    class Registers:
        @hookimpl
        def kaiju_register_services(self) -> list[type]:
            return [Extra]

    app = init_app(settings_from_mapping({"services": [{"cls": "Extra"}]}, make_plugins(Registers())))
    assert isinstance(get_services(app).get("Extra"), Extra)


def test_hook_kaiju_register_commands() -> None:
    class Shout(Command):
        """Shout."""

        name = "shout-test"

    class Registers:
        @hookimpl
        def kaiju_register_commands(self) -> list[type]:
            return [Shout]

    plugins = make_plugins(Registers())
    assert plugins.commands["shout-test"] is Shout  # the plugin set's own layer (#19.4)
    assert "shout-test" not in COMMANDS  # not the process-wide default
    assert plugins.infos["test0"].registered == ["shout-test"]


def test_hook_kaiju_register_routes() -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi from a plugin route")

    class Routes:
        @hookimpl
        def kaiju_register_routes(self, app: web.Application) -> list[tuple[str, str, Any]]:
            return [("GET", "/plugin", hello)]

    app = init_app(settings_from_mapping({}, make_plugins(Routes())))
    assert asyncio.run(serve(app, "/plugin"))[::2] == (200, "hi from a plugin route")


def test_hook_kaiju_register_middlewares() -> None:
    @web.middleware
    async def tag(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        response.headers["X-Tag"] = "mw"
        return response

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    class Middlewares:
        @hookimpl
        def kaiju_register_middlewares(self, app: web.Application) -> list[Any]:
            return [tag]

        @hookimpl
        def kaiju_register_routes(self) -> list[tuple[str, str, Any]]:
            return [("GET", "/ok", ok)]

    app = init_app(settings_from_mapping({}, make_plugins(Middlewares())))
    status, headers, _ = asyncio.run(serve(app, "/ok"))
    assert (status, headers.get("X-Tag")) == (200, "mw")


def test_hook_kaiju_register_log_handlers() -> None:
    import logging

    class Handlers:
        @hookimpl
        def kaiju_register_log_handlers(self) -> dict[str, type]:
            return {"NullHandler": logging.NullHandler}

    app = init_app(settings_from_mapping({}, make_plugins(Handlers())))
    assert collect(app, "kaiju_register_log_handlers") == [{"NullHandler": logging.NullHandler}]


def test_hook_kaiju_wrap_request() -> None:
    calls: list[str] = []

    async def whoami(request: web.Request) -> web.Response:
        return web.Response(text=str(context.get_correlation_id()))

    class Wraps:
        def __init__(self, tag: str) -> None:
            self.tag = tag

        @hookimpl
        def kaiju_wrap_request(self, app: web.Application) -> Any:
            calls.append(f"collect:{self.tag}")

            def wrapper(handler: Any) -> Any:
                async def wrapped(request: web.Request) -> web.StreamResponse:
                    calls.append(f"in:{self.tag}")
                    tokens = context.bind(correlation_id=request.headers.get("Correlation-Id"))
                    try:
                        return await handler(request)
                    finally:
                        context.reset(tokens)
                return wrapped
            return wrapper

        @hookimpl
        def kaiju_register_routes(self) -> list[tuple[str, str, Any]]:
            return [("GET", "/who", whoami)] if self.tag == "a" else []

    app = init_app(settings_from_mapping({}, make_plugins(Wraps("a"), Wraps("b"))))
    status, _, body = asyncio.run(serve(app, "/who", {"Correlation-Id": "abc123"}))
    assert (status, body) == (200, "abc123")
    # collected once at start-up; pluggy calls the last registered first (outermost)
    assert calls == ["collect:b", "collect:a", "in:b", "in:a"]


def test_hook_kaiju_wrap_call() -> None:
    class Doubles:
        @hookimpl
        def kaiju_wrap_call(self, app: web.Application) -> Any:
            def wrapper(call: Any) -> Any:
                async def wrapped(method: str, params: Any) -> Any:
                    return 2 * await call(method, params)
                return wrapper_result(wrapped)
            return wrapper

    def wrapper_result(fn: Any) -> Any:
        return fn

    async def inner(method: str, params: Any) -> Any:
        return params["x"]

    app = init_app(settings_from_mapping({}, make_plugins(Doubles())))
    chain = compose(collect(app, "kaiju_wrap_call"), inner)
    assert asyncio.run(chain("m", {"x": 21})) == 42


def test_async_impl_of_a_sync_hook_is_refused_at_registration() -> None:
    class Bad:
        @hookimpl
        async def kaiju_config_defaults(self) -> None:
            return None

    with pytest.raises(PluginError,
                       match=r"hook kaiju_config_defaults must not be async "
                             r"\(`async def kaiju_config_defaults\(\)"):
        make_plugins(Bad())


def test_lifecycle_hook_error_names_the_plugin() -> None:
    class Fails:
        @hookimpl
        def kaiju_app_started(self) -> None:
            raise RuntimeError("nope")

    app = init_app(settings_from_mapping({}, make_plugins(Fails())))
    with pytest.raises(PluginError,
                       match=r"plugin 'test0': lifecycle hook kaiju_app_started raised RuntimeError: nope"):
        asyncio.run(serve(app, "/"))


def test_hook_kaiju_register_health_checks() -> None:
    from kaiju_tools.health import HealthCheck

    async def ping() -> bool:
        return True

    class Checks:
        @hookimpl
        def kaiju_register_health_checks(self, app: web.Application) -> list[HealthCheck]:
            return [HealthCheck("ping", ping, timeout=0.5, required=False)]

    app = init_app(settings_from_mapping({}, make_plugins(Checks())))
    (checks,) = collect(app, "kaiju_register_health_checks")
    assert [(c.name, c.timeout, c.required) for c in checks] == [("ping", 0.5, False)]
    assert asyncio.run(checks[0].check()) is True


class MemoryLocks:
    """A lock provider for one process (enough to test the interface)."""

    def __init__(self) -> None:
        self.held: dict[str, str] = {}

    async def acquire(self, key: str, *, ttl: float, timeout: float | None = None) -> str | None:
        if key in self.held:
            return None
        self.held[key] = token = f"t{len(self.held)}"
        return token

    async def renew(self, key: str, token: str, *, ttl: float) -> bool:
        return self.held.get(key) == token

    async def release(self, key: str, token: str) -> bool:
        return self.held.pop(key, None) == token


def test_hook_kaiju_lock_provider() -> None:
    from kaiju_tools.locks import LockProvider, get_lock_provider

    first, second = MemoryLocks(), MemoryLocks()

    class Provides:
        def __init__(self, provider: object) -> None:
            self.provider = provider

        @hookimpl
        def kaiju_lock_provider(self, app: web.Application) -> object:
            return self.provider

    app = init_app(settings_from_mapping({}, make_plugins(Provides(second), Provides(first))))
    provider = get_lock_provider(app)
    assert provider is first and isinstance(provider, LockProvider)  # firstresult: last registered
    assert get_lock_provider(app) is first  # asked once, cached

    async def use() -> tuple[object, object, bool, bool]:
        token = await provider.acquire("job", ttl=5)
        again = await provider.acquire("job", ttl=5)
        return (token, again, await provider.release("job", "not-the-owner"),
                await provider.release("job", token))

    token, again, by_stranger, _ = asyncio.run(use())
    assert (token, again, by_stranger) == ("t0", None, False)


class MemorySchedules:
    """A schedule store for one process (enough to test the interface)."""

    def __init__(self) -> None:
        self.specs: dict[str, dict[str, object]] = {}
        self.last: dict[str, int] = {}

    async def save(self, namespace: str, name: str, spec: dict[str, object]) -> None:
        self.specs[name] = dict(spec)

    async def delete(self, namespace: str, name: str) -> bool:
        self.last.pop(name, None)
        return self.specs.pop(name, None) is not None

    async def load(self, namespace: str) -> dict[str, dict[str, object]]:
        return dict(self.specs)

    async def claim(self, namespace: str, name: str, due: int) -> bool:
        if due <= self.last.get(name, -1):
            return False
        self.last[name] = due
        return True

    async def claimed(self, namespace: str) -> dict[str, int]:
        return dict(self.last)


def test_hook_kaiju_schedule_store() -> None:
    from kaiju_tools.exceptions import PluginError
    from kaiju_tools.schedules import ScheduleStore, get_schedule_store

    store = MemorySchedules()

    class Provides:
        @hookimpl
        def kaiju_schedule_store(self, app: web.Application) -> object:
            return store

    app = init_app(settings_from_mapping({}, make_plugins(Provides())))
    found = get_schedule_store(app)
    assert found is store and isinstance(found, ScheduleStore)
    assert get_schedule_store(app) is store  # asked once, cached
    assert get_schedule_store(init_app(settings_from_mapping({}, make_plugins()))) is None

    async def use() -> list[bool]:
        return [await found.claim("ns", "job", 5), await found.claim("ns", "job", 5),
                await found.claim("ns", "job", 6)]

    assert asyncio.run(use()) == [True, False, True]  # each due time once

    class Wrong:
        @hookimpl
        def kaiju_schedule_store(self) -> object:
            return object()

    with pytest.raises(PluginError, match=r"does not implement kaiju_tools\.schedules\.ScheduleStore"):
        get_schedule_store(init_app(settings_from_mapping({}, make_plugins(Wrong()))))


def test_without_a_lock_provider_there_is_none() -> None:
    from kaiju_tools.locks import get_lock_provider

    assert get_lock_provider(init_app(settings_from_mapping({}, make_plugins()))) is None


def test_a_lock_provider_that_is_not_one_is_refused() -> None:
    from kaiju_tools.locks import get_lock_provider

    class Wrong:
        @hookimpl
        def kaiju_lock_provider(self) -> object:
            return object()

    app = init_app(settings_from_mapping({}, make_plugins(Wrong())))
    with pytest.raises(PluginError, match=r"does not implement kaiju_tools\.locks\.LockProvider"):
        get_lock_provider(app)
