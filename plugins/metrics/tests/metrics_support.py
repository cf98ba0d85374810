"""Helpers of the metrics plugin's tests: an app with RPC methods and a plain route, served on 127.0.0.1,
and its scrape parsed by ``prometheus_client``'s own parser."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from kaiju_plugins.rpc import PermissionKeys, PublicInterface, RPCError
from kaiju_tools import SERVICE_CLASS_REGISTRY, Service
from kaiju_tools.app import init_app
from kaiju_tools.http import JSONRPCView
from kaiju_tools.testing import RunningApp, start_app
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["call", "samples", "scrape", "serve", "settings_with", "value"]


class MetricsProbe(Service, PublicInterface):
    """RPC methods: instant, failing, slow."""

    @property
    def routes(self) -> dict[str, Any]:
        return {"ping": self.ping, "fail": self.fail, "fail_rpc": self.fail_rpc, "sleep": self.sleep,
                "tick": self.tick, "broken_tick": self.broken_tick}

    @property
    def permissions(self) -> dict[str, int]:
        return {"*": PermissionKeys.GUEST}

    def ping(self) -> str:
        return "pong"

    def fail(self) -> None:
        raise ValueError("broken on purpose")

    def fail_rpc(self) -> None:
        raise RPCError("refused", code=-32099)

    async def tick(self) -> None:
        """A scheduled task that succeeds."""

    async def broken_tick(self) -> None:
        """A scheduled task that fails."""
        raise RuntimeError("broken on purpose")

    async def sleep(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "slept"


SERVICE_CLASS_REGISTRY.register(MetricsProbe)


async def _hello(request: web.Request) -> web.Response:
    return web.json_response({"hello": request.match_info.get("name", "")})


def _init(settings: Any) -> web.Application:
    app = init_app(settings)
    app.router.add_route("*", "/public/rpc", JSONRPCView)
    app.router.add_get("/hello/{name}", _hello)
    return app


def settings_with(metrics: Any = None, *, rpc: dict[str, Any] | None = None,
                  packages: tuple[str, ...] = ("metrics",)) -> dict[str, Any]:
    """Settings of a test app: ``etc.metrics`` = ``metrics``, the rpc server's settings ``rpc``."""
    return {"packages": list(packages), "main": {"name": "metrics-test", "loglevel": "INFO"},
            "services": [{"cls": "JSONRPCServer", "name": "rpc", "settings": rpc or {}},
                         {"cls": "MetricsProbe", "name": "probe"}],
            "etc": {"metrics": metrics or {}}}


@contextlib.asynccontextmanager
async def serve(settings: dict[str, Any]) -> AsyncIterator[RunningApp]:
    """Serve the test app (``/public/rpc``, ``/hello/{name}``)."""
    async with start_app(settings, init_app=_init) as running:
        yield running


def call(method: str, params: Any = None, id_: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        body["params"] = params
    return body


async def scrape(running: RunningApp, url: str | None = None) -> str:
    async with running.session.get(url or running.url + "/metrics") as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("text/plain")
        return await resp.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape: ``{(name, sorted labels): value}`` (parsed by prometheus_client)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(parsed: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return parsed.get((name, tuple(sorted(labels.items()))), 0.0)
