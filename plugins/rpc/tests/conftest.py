"""Shared helpers: test services, and a real app served on 127.0.0.1 (port 0)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from types import ModuleType
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from kaiju_plugins.rpc import PermissionKeys, PublicInterface, RPCError
from kaiju_tools import SERVICE_CLASS_REGISTRY, Service, init_app
from kaiju_tools._runtime import settings_from_mapping
from kaiju_tools.http import JSONRPCView
from kaiju_tools.plugins import Plugins

T = TypeVar("T")


class RpcSpecMethods(Service, PublicInterface):
    """The methods the JSON-RPC 2.0 specification's examples call, under their bare names."""

    rpc_namespace = ""

    def __init__(self, app: Any = None, logger: Any = None) -> None:
        super().__init__(app=app, logger=logger)
        self.notified: list[Any] = []

    @property
    def routes(self) -> dict[str, Any]:
        return {"subtract": self.subtract, "update": self.update, "sum": self.sum,
                "notify_hello": self.notify_hello, "get_data": self.get_data, "notify_sum": self.notify_sum}

    @property
    def permissions(self) -> dict[str, int]:
        return {"*": PermissionKeys.GUEST}

    def subtract(self, minuend: int, subtrahend: int) -> int:
        return minuend - subtrahend

    def update(self, *values: int) -> None:
        self.notified.append(("update", values))

    async def sum(self, *values: int) -> int:
        return sum(values)

    def notify_hello(self, value: int) -> None:
        self.notified.append(("notify_hello", value))

    def get_data(self) -> list[Any]:
        return ["hello", 5]

    async def notify_sum(self, *values: int) -> None:
        self.notified.append(("notify_sum", sum(values)))


class RpcCalc(Service, PublicInterface):
    """Methods for protocol tests: instant, slow, failing, typed, scoped."""

    def __init__(self, app: Any = None, logger: Any = None) -> None:
        super().__init__(app=app, logger=logger)
        self.running = 0
        self.max_running = 0
        self.log: list[str] = []

    @property
    def routes(self) -> dict[str, Any]:
        return {"add": self.add, "ping": self.ping, "sleep": self.sleep, "fail": self.fail,
                "fail_rpc": self.fail_rpc, "echo": self.echo, "typed": self.typed,
                "user_only": self.user_only,
                "system_only": self.system_only, "context": self.context, "bad_result": self.bad_result,
                "log": self.log_message}

    @property
    def permissions(self) -> dict[str, int]:
        return {"*": PermissionKeys.GUEST, "user_only": PermissionKeys.USER,
                "system_*": PermissionKeys.SYSTEM}

    async def add(self, a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    def ping(self) -> str:
        return "pong"

    async def sleep(self, seconds: float, tag: Any = None) -> Any:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            await asyncio.sleep(seconds)
        finally:
            self.running -= 1
        self.log.append(str(tag))
        return tag

    async def fail(self) -> None:
        raise ValueError("broken on purpose")

    def fail_rpc(self) -> None:
        raise RPCError("custom failure", data={"why": "testing"}, code=-32050)

    def echo(self, *args: Any, **kws: Any) -> Any:
        return kws if kws else list(args)

    def typed(self, i: int, f: float, s: str, b: bool, items: list[int], mapping: dict[str, Any],
              maybe: int | None = None) -> str:
        return "ok"

    def user_only(self) -> str:
        return "user"

    def system_only(self) -> str:
        return "system"

    async def context(self) -> dict[str, Any]:
        from kaiju_tools import context

        await asyncio.sleep(0)
        return {"cid": context.get_correlation_id(), "remaining": context.remaining_time(),
                "scope": context.get_scope()}

    def bad_result(self) -> Any:
        return {"not": object()}

    async def log_message(self, text: str) -> None:
        await asyncio.sleep(0)
        self.logger.info(text, marker="rpc-test")


for _cls in (RpcSpecMethods, RpcCalc):
    SERVICE_CLASS_REGISTRY.register(_cls)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine in a new event loop (the tests are sync functions)."""
    return asyncio.run(coro)


class Served:
    """A running app: its URL, a client session and helpers to post JSON-RPC bodies."""

    def __init__(self, app: web.Application, url: str, session: aiohttp.ClientSession) -> None:
        self.app, self.url, self.session = app, url, session

    def service(self, name: str) -> Any:
        from kaiju_tools import get_services

        return get_services(self.app).get(name)

    async def post_raw(self, body: bytes | str, headers: dict[str, str] | None = None,
                       method: str = "POST") -> tuple[int, Any, Any]:
        """Post a body (``Content-Type: application/json`` unless ``headers`` set one).

        :return: ``(status, decoded body or None, response headers)``
        """
        data = body.encode() if isinstance(body, str) else body
        headers = dict(headers or {})
        if not any(key.lower() == "content-type" for key in headers):
            headers["Content-Type"] = "application/json"
        async with self.session.request(method, self.url, data=data, headers=headers) as resp:
            raw = await resp.read()
            return resp.status, (json.loads(raw) if raw else None), resp.headers

    async def post(self, body: Any, headers: dict[str, str] | None = None) -> Any:
        """Post a JSON body; return the decoded response (``None``: nothing answered), asserting status
        200/204."""
        status, out, _ = await self.post_raw(json.dumps(body), headers)
        assert status in (200, 204), (status, out)
        assert status == 200 or out is None
        return out

    async def call(self, method: str, params: Any = None, headers: dict[str, str] | None = None) -> Any:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": 1}
        if params is not None:
            body["params"] = params
        return await self.post(body, headers)


@contextlib.asynccontextmanager
async def serve(rpc_settings: dict[str, Any] | None = None, services: list[dict[str, Any]] | None = None,
                hooks: list[ModuleType] = (), connector_limit: int = 100, **app_kws: Any
                ) -> AsyncIterator[Served]:
    """Build an app with ``init_app`` (rpc server + test services), serve it, yield a :class:`Served`."""
    config = {
        "main": {"name": "rpctest", "loglevel": "INFO"},
        "services": [{"cls": "JSONRPCServer", "name": "rpc", "settings": rpc_settings or {}},
                     *(services if services is not None else [{"cls": "RpcCalc", "name": "calc"},
                                                              {"cls": "RpcSpecMethods", "name": "spec"}])],
    }
    if hooks:
        plugins = Plugins()
        plugins.load_first_party()
        for module in hooks:
            plugins.pm.register(module, name=module.__name__)
        settings = settings_from_mapping(config, plugins)
    else:
        settings = settings_from_mapping(config)
    app = init_app(settings, **app_kws)
    app.router.add_route("*", "/public/rpc", JSONRPCView)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        connector = aiohttp.TCPConnector(limit=connector_limit)
        async with aiohttp.ClientSession(connector=connector) as session:
            yield Served(app, f"http://127.0.0.1:{port}/public/rpc", session)
    finally:
        await runner.cleanup()


@pytest.fixture(scope="session")
def serve_app() -> Callable[..., Any]:
    """``async with serve_app(rpc_settings, services, hooks) as served: ...``"""
    return serve


class ThreadedServer:
    """One app served in a thread for the hypothesis examples (start-up is paid once)."""

    def __init__(self, serve_app: Any, rpc_settings: dict[str, Any] | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.served: Any = None
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete,
                                       args=(self._main(serve_app, rpc_settings),),
                                       daemon=True)
        self.thread.start()
        assert self.ready.wait(30)

    async def _main(self, serve_app: Any, rpc_settings: dict[str, Any] | None) -> None:
        self._stop = asyncio.Event()
        async with serve_app(rpc_settings) as served:
            self.served = served
            self.ready.set()
            await self._stop.wait()

    def post(self, body: str, headers: dict[str, str]) -> Any:
        return asyncio.run_coroutine_threadsafe(self.served.post_raw(body, headers), self.loop).result(30)

    def close(self) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)
        self.loop.close()


@pytest.fixture(scope="module")
def server() -> Any:
    """One app (the default test services) served in a thread for the whole module."""
    srv = ThreadedServer(serve)
    yield srv
    srv.close()
