"""The request-handling hooks ``kaiju_wrap_task`` (scheduler runs) and ``kaiju_wrap_client_call``
(requests a ``JSONRPCClient`` sends), with in-code plugins on real apps on 127.0.0.1.

They need the scheduler and the rpc plugin, so they live with the whole-suite tests.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from kaiju_plugins.rpc import JSONRPCClient, PermissionKeys, PublicInterface
from kaiju_tools import SERVICE_CLASS_REGISTRY, Service
from kaiju_tools.hookspecs import hookimpl
from kaiju_tools.testing import start_app


class HookTicker(Service, PublicInterface):
    """A task that fails on its second run; ``hooks.echo`` answers its params."""

    service_name = "hooks"

    def __init__(self, app: Any = None, logger: Any = None) -> None:
        super().__init__(app=app, logger=logger)
        self.runs = 0

    @property
    def routes(self) -> dict[str, Any]:
        return {"echo": self.echo}

    @property
    def permissions(self) -> dict[str, int]:
        return {"*": PermissionKeys.GUEST}

    def echo(self, value: Any) -> Any:
        return value

    async def tick(self) -> str:
        self.runs += 1
        if self.runs == 2:
            raise RuntimeError("second run fails")
        return "ticked"


SERVICE_CLASS_REGISTRY.register(HookTicker)


def test_hook_kaiju_wrap_task() -> None:
    seen: list[Any] = []
    collected: list[str] = []

    class Wraps:
        @hookimpl
        def kaiju_wrap_task(self, app: web.Application) -> Any:
            collected.append("collect")

            def wrapper(run: Any) -> Any:
                async def wrapped(task: Any) -> Any:
                    try:
                        result = await run(task)
                    except RuntimeError as exc:
                        seen.append((task.name, "failed", str(exc)))
                        raise
                    seen.append((task.name, "ok", result))
                    return result
                return wrapped
            return wrapper

    settings = {"main": {"name": "taskhooks"},
                "services": [{"cls": "HookTicker"},
                             {"cls": "Scheduler", "settings": {"tasks": [
                                 {"method": "hooks.tick", "interval": 0.03, "name": "ticker"}]}}]}

    async def go() -> int:
        async with start_app(settings, plugins={"wraps": Wraps()}) as running:
            ticker = running.services.get("hooks")
            for _ in range(300):
                if len(seen) >= 3:
                    break
                await asyncio.sleep(0.01)
            return ticker.runs

    runs = asyncio.run(go())
    assert collected == ["collect"]  # once, when the scheduler starts
    assert runs >= 3 and seen[:3] == [("ticker", "ok", "ticked"), ("ticker", "failed", "second run fails"),
                                      ("ticker", "ok", "ticked")]


def test_hook_kaiju_wrap_client_call() -> None:
    sent: list[tuple[str, Any, dict[str, str]]] = []
    received: list[str | None] = []

    class Caller:
        @hookimpl
        def kaiju_wrap_client_call(self, app: web.Application) -> Any:
            def wrapper(send: Any) -> Any:
                async def wrapped(url: str, body: Any, headers: dict[str, str]) -> Any:
                    if type(body) is dict and body.get("params") == ["refuse"]:
                        raise PermissionError("refused by the hook")
                    headers["X-Added"] = "by-hook"
                    sent.append((url, body, dict(headers)))
                    out = await send(url, body, headers)
                    return {**out, "result": ["wrapped", out["result"]]} if type(out) is dict else out
                return wrapped
            return wrapper

    class Callee:
        @hookimpl
        def kaiju_wrap_request(self, app: web.Application) -> Any:
            def wrapper(handler: Any) -> Any:
                async def wrapped(request: web.Request) -> web.StreamResponse:
                    received.append(request.headers.get("X-Added"))
                    return await handler(request)
                return wrapped
            return wrapper

    async def go() -> tuple[Any, Any, str]:
        callee_settings = {"main": {"name": "callee"},
                           "services": [{"cls": "JSONRPCServer"}, {"cls": "HookTicker"}]}
        async with start_app(callee_settings, plugins={"callee": Callee()}, rpc_path="/rpc") as callee:
            caller_settings = {"main": {"name": "caller"}, "services": [
                {"cls": "JSONRPCClient", "name": "next", "settings": {"url": callee.url + "/rpc"}}]}
            async with start_app(caller_settings, plugins={"caller": Caller()}) as caller:
                client = caller.services.get("next")
                single = await client.call("hooks.echo", [5])
                batch = await client.batch([("hooks.echo", [1]), ("hooks.echo", [2])])
                with pytest.raises(PermissionError, match="refused by the hook"):
                    await client.call("hooks.echo", ["refuse"])
            async with JSONRPCClient(url=callee.url + "/rpc") as plain:  # no app: no wrappers
                bare = await plain.call("hooks.echo", [7])
                await plain.close()
            return single, batch, bare, callee.url

    single, batch, bare, url = asyncio.run(go())
    assert single == ["wrapped", 5] and batch == [1, 2] and bare == 7
    assert [s[0] for s in sent] == [url + "/rpc"] * 2
    assert sent[0][1] == {"jsonrpc": "2.0", "method": "hooks.echo", "params": [5], "id": 1}
    assert "Timeout" in sent[0][2] and isinstance(sent[1][1], list)
    assert received == ["by-hook", "by-hook", None]
