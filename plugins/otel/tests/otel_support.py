"""Helpers of the otel plugin's tests: an app with a few plain aiohttp routes, served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from kaiju_tools import context, get_logger
from kaiju_tools.app import init_app
from kaiju_tools.testing import RunningApp, start_app

__all__ = ["TRACEPARENT", "serve", "settings_with"]

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
"""The W3C specification's example ``traceparent``."""


async def _hello(request: web.Request) -> web.Response:
    get_logger("otel-test").info("inside the handler")
    return web.json_response({"extra": context.get_extra()})


async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError("broken on purpose")


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(0.01)
    return web.json_response({"extra": context.get_extra()})


def _init(settings: Any) -> web.Application:
    app = init_app(settings)
    app.router.add_get("/hello", _hello)
    app.router.add_get("/boom", _boom)
    app.router.add_get("/slow/{tag}", _slow)
    return app


def settings_with(otel: Any = None, *, packages: tuple[str, ...] = ("otel",),
                  name: str = "otel-test") -> dict[str, Any]:
    """Settings of a test app: ``etc.otel`` = ``otel`` (default: the in-memory exporter)."""
    return {"packages": list(packages), "main": {"name": name, "version": "1.2.3", "env": "test"},
            "etc": {"otel": {"exporter": "memory"} if otel is None else otel}}


@contextlib.asynccontextmanager
async def serve(settings: dict[str, Any]) -> AsyncIterator[RunningApp]:
    """Serve the test app (routes ``/hello``, ``/boom``, ``/slow/{tag}``)."""
    async with start_app(settings, init_app=_init) as running:
        yield running
