"""Helpers for the Redis plugin tests: a real ``redis-server`` on a free port of 127.0.0.1, started and
stopped here.

The tests are skipped (with the reason) only when the ``redis-server`` binary is absent;
``REDIS_SERVER`` may name another binary. CI installs Debian's ``redis-server``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import redis

GUARD = 30.0
"""Seconds after which a waiting helper gives up (never asserted, only to never hang)."""

BINARY = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process (no persistence) that tests can stop and start again."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert BINARY is not None
        self.proc = subprocess.Popen(
            [BINARY, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + GUARD
        while True:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"redis-server exited: {err!r}")
            try:
                with redis.Redis(port=self.port, socket_timeout=1) as client:
                    client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=GUARD)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def sync(self) -> redis.Redis:
        """A plain synchronous client (for checks from the test itself)."""
        return redis.Redis(port=self.port, socket_timeout=5)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a test coroutine on a fresh loop; fail it instead of hanging."""

    async def guarded() -> Any:
        async with asyncio.timeout(GUARD * 2):
            return await coro

    return asyncio.run(guarded())


async def until(predicate: Callable[[], Any], what: str = "condition") -> None:
    """Wait (polling the loop) until ``predicate()`` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GUARD
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.01)


def settings(url: str, *services: dict[str, Any], packages: tuple[str, ...] = ("redis",)) -> dict[str, Any]:
    """App settings listing the plugin and a RedisService at ``url`` before ``services``."""
    return {
        "main": {"name": "t"},
        "packages": list(packages),
        "services": [{"cls": "RedisService", "settings": {"url": url}}, *services],
    }


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child Python process (warnings stay errors there too)."""
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = "error"
    env.update(extra or {})
    return env


async def started_app(config: dict[str, Any]) -> Any:
    """Build and start an app (services up); return its runner (``await runner.cleanup()``)."""
    from aiohttp import web
    from kaiju_tools import init_app

    runner = web.AppRunner(init_app(config))
    await runner.setup()
    return runner
