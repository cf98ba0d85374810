"""The method table built at start-up, the server's settings, the codecs, eager start."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from kaiju_plugins.rpc import JSONRPCServer, PermissionKeys, PublicInterface
from kaiju_plugins.rpc._eager import DONE, resume, start
from kaiju_plugins.rpc._routes import build_routes
from kaiju_tools import SERVICE_CLASS_REGISTRY, ConfigError, ContextableService, Service


class RpcFlaky(ContextableService, PublicInterface):
    """An optional service whose start fails: its methods must not be served."""

    @property
    def routes(self):
        return {"hello": self.hello}

    @property
    def permissions(self):
        return {"*": PermissionKeys.GUEST}

    async def init(self):
        raise RuntimeError("no database today")

    def hello(self):
        return "hi"


class RpcDuck(Service):
    """Not a PublicInterface, but it has a ``routes`` mapping."""

    rpc_namespace = "duck"

    @property
    def routes(self):
        return {"quack": lambda: "quack"}

    @property
    def permissions(self):
        return {"quack": "guest"}


SERVICE_CLASS_REGISTRY.register(RpcFlaky)
SERVICE_CLASS_REGISTRY.register(RpcDuck)


def test_methods_of_an_optional_service_that_failed_to_start_are_not_served(serve_app):
    services = [{"cls": "RpcFlaky", "name": "flaky", "required": False}, {"cls": "RpcDuck", "name": "d"}]

    async def go():
        async with serve_app(services=services) as served:
            return await served.call("flaky.hello"), await served.call("duck.quack")

    flaky, duck = asyncio.run(go())
    assert flaky["error"]["code"] == -32601
    assert duck["result"] == "quack"


def test_two_services_serving_one_method_name_is_a_config_error_naming_both():
    class A(Service, PublicInterface):
        rpc_namespace = "same"
        routes: ClassVar[dict[str, Any]] = {"x": print}

    a, b = A(), A()
    a.service_name, b.service_name = "a", "b"
    with pytest.raises(ConfigError, match=r"'same\.x' is served already by service 'a'"):
        build_routes([a, b])


def test_a_route_that_is_not_callable_or_a_bad_scope_is_a_config_error():
    class Bad(Service, PublicInterface):
        routes: ClassVar[dict[str, Any]] = {"x": 42, "y": print}
        permissions: ClassVar[dict[str, Any]] = {"y": "superuser"}

    with pytest.raises(ConfigError) as info:
        build_routes([Bad()])
    text = str(info.value)
    assert "expected a callable, got 42" in text and "got 'superuser'" in text


@pytest.mark.parametrize(("key", "value"), [("max_parallel", 0), ("default_request_time", -1),
                                            ("max_batch_size", "10"), ("codec", "yaml"), ("max_queue", -1)])
def test_bad_server_settings_are_config_errors_naming_the_setting(key, value):
    with pytest.raises(ConfigError, match=f"rpc.settings.{key}"):
        JSONRPCServer(**{key: value})


@pytest.mark.parametrize("codec", ["json", "orjson", "ujson"])
def test_every_codec_serves_the_same_answers(serve_app, codec):
    if codec == "orjson":
        pytest.importorskip("orjson")
    batch = [{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1},
             {"jsonrpc": "2.0", "method": "calc.echo", "params": ["ключ", 2**40, 1.5, None], "id": "x"}]

    async def go():
        async with serve_app({"codec": codec}) as served:
            return await served.post(batch), await served.post_raw(b"{oops")

    out, (_, parse_error, _) = asyncio.run(go())
    assert out == [{"jsonrpc": "2.0", "result": 19, "id": 1},
                   {"jsonrpc": "2.0", "result": ["ключ", 2**40, 1.5, None], "id": "x"}]
    assert parse_error["error"]["code"] == -32700


def test_eager_start_returns_results_of_coroutines_that_never_suspend_and_resumes_others():
    async def quick():
        return 1

    async def slow():
        await asyncio.sleep(0.01)
        return 2

    async def main():
        assert start(quick()) == (DONE, 1)
        coro = slow()
        yielded, _ = start(coro)
        assert yielded is not DONE
        return await resume(coro, yielded)

    assert asyncio.run(main()) == 2


def test_cancelling_a_resumed_coroutine_reaches_the_coroutine():
    seen = []

    async def forever():
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def main():
        coro = forever()
        yielded, _ = start(coro)
        task = asyncio.ensure_future(resume(coro, yielded))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert seen == ["cancelled"]


def _post_to_views(config: dict, views: dict, body: bytes) -> dict:
    """Serve ``views`` (path -> view class) in an app built from ``config`` on 127.0.0.1; post
    ``body`` to each path: path -> (status, X-Tagged header, decoded answer)."""
    import aiohttp
    from aiohttp import web
    from kaiju_tools import init_app

    async def go():
        app = init_app(config)
        for path, view in views.items():
            app.router.add_route("*", f"/{path}", view)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        out = {}
        try:
            async with aiohttp.ClientSession() as session:
                for path in views:
                    async with session.post(f"http://127.0.0.1:{port}/{path}", data=body,
                                            headers={"Content-Type": "application/json"}) as resp:
                        out[path] = resp.status, resp.headers.get("X-Tagged"), await resp.json()
        finally:
            await runner.cleanup()
        return out

    return asyncio.run(go())


def test_the_view_without_a_server_answers_503_with_a_hint():
    from kaiju_tools.http import JSONRPCView

    out = _post_to_views({"main": {"name": "norpc"}, "services": []}, {"rpc": JSONRPCView}, b"{}")
    status, _, answer = out["rpc"]
    assert status == 503
    assert "JSONRPCServer" in answer["error"]["data"]["hint"]


def test_a_subclass_of_the_view_is_a_regular_view_that_can_wrap_the_answer():
    from kaiju_tools.http import JSONRPCView

    class TaggedView(JSONRPCView):
        def __await__(self):
            response = yield from super().__await__()  # the plain view's answer
            response.headers["X-Tagged"] = type(self).__name__
            return response

    body = b'{"jsonrpc": "2.0", "method": "rpc.api", "id": 7}'
    out = _post_to_views({"main": {"name": "sub"}, "services": [{"cls": "JSONRPCServer"}]},
                         {"rpc": TaggedView, "plain": JSONRPCView}, body)
    assert out["rpc"][:2] == (200, "TaggedView")
    assert out["plain"][:2] == (200, None)
    assert out["rpc"][2]["id"] == out["plain"][2]["id"] == 7
    assert out["rpc"][2]["result"] == out["plain"][2]["result"]
