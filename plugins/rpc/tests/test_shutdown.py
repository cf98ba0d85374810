"""SIGTERM with calls in flight: those still running at the end of the grace period get -32006."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

APP = textwrap.dedent("""
    import asyncio, logging, sys

    from aiohttp import web
    from kaiju_tools import SERVICE_CLASS_REGISTRY, Service, init_app
    from kaiju_tools._runtime import settings_from_mapping
    from kaiju_tools.http import JSONRPCView
    from kaiju_plugins.rpc import PermissionKeys, PublicInterface

    class Slow(Service, PublicInterface):
        @property
        def routes(self):
            return {"sleep": self.sleep}

        @property
        def permissions(self):
            return {"*": PermissionKeys.GUEST}

        async def sleep(self, seconds: float, tag: str) -> str:
            await asyncio.sleep(seconds)
            return tag

    SERVICE_CLASS_REGISTRY.register(Slow)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    settings = settings_from_mapping({
        "main": {"name": "stopper", "loglevel": "INFO"},
        "run": {"host": "127.0.0.1", "port": int(sys.argv[1]), "shutdown_timeout": 2},
        "services": [{"cls": "JSONRPCServer", "name": "rpc"}, {"cls": "Slow", "name": "slow"}],
    })
    app = init_app(settings)
    app.router.add_route("*", "/public/rpc", JSONRPCView)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), shutdown_timeout=settings.run.shutdown_timeout,
                print=lambda *a: print("serving", flush=True))
""")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def post(port: int, body: Any) -> Any:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = json.dumps(body).encode()
    writer.write(b"POST /public/rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
    raw = await asyncio.wait_for(reader.read(), 60)
    writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    return json.loads(payload) if payload else head


def test_calls_cut_by_shutdown_are_answered_counted_and_logged_once(tmp_path: Path):
    script = tmp_path / "stopper.py"
    script.write_text(APP)
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("KAIJU_DISABLE_PLUGINS", None)
    proc = subprocess.Popen([sys.executable, str(script), str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
                time.sleep(0.05)

        async def go() -> Any:
            calls = [asyncio.ensure_future(post(port, {"jsonrpc": "2.0", "method": "slow.sleep",
                                                       "params": [60, f"s{i}"], "id": i})) for i in range(3)]
            batch = asyncio.ensure_future(post(port, [
                {"jsonrpc": "2.0", "method": "slow.sleep", "params": [0.2, "quick"], "id": "q"},
                {"jsonrpc": "2.0", "method": "slow.sleep", "params": [60, "slow"], "id": "s"}]))
            await asyncio.sleep(1)
            proc.send_signal(signal.SIGTERM)
            return await asyncio.gather(*calls, batch)

        *singles, batch = asyncio.run(go())
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    for i, out in enumerate(singles):
        assert out["id"] == i and out["error"]["code"] == -32006, out
        assert out["error"]["message"] == "Server shutting down"
    assert batch == [{"jsonrpc": "2.0", "result": "quick", "id": "q"},
                     {"jsonrpc": "2.0", "error": batch[1]["error"], "id": "s"}]
    assert batch[1]["error"]["code"] == -32006
    warnings = [line for line in err.splitlines() if "shutting down" in line and line.startswith("WARNING")]
    assert len(warnings) == 1, err
    assert "4 calls" in warnings[0], warnings


def test_without_the_stopping_hook_aiohttps_own_cut_gets_the_same_answer():
    """A runner whose grace period ends before the server's timer (here: aiohttp's, 1 s, where
    ``run.shutdown_timeout`` says 60) cuts the request itself; the call is answered all the same."""
    from aiohttp import web
    from kaiju_tools import init_app
    from kaiju_tools._runtime import settings_from_mapping
    from kaiju_tools.http import JSONRPCView
    from kaiju_tools.testing import capture_logs

    async def go() -> Any:
        settings = settings_from_mapping({
            "main": {"name": "cutter", "loglevel": "INFO"}, "run": {"shutdown_timeout": 60},
            "services": [{"cls": "JSONRPCServer", "name": "rpc"}, {"cls": "RpcCalc", "name": "calc"}]})
        app = init_app(settings)
        app.router.add_route("*", "/public/rpc", JSONRPCView)
        runner = web.AppRunner(app, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        answer = asyncio.ensure_future(post(port,
                                            {"jsonrpc": "2.0", "method": "calc.sleep", "params": [60, "x"],
                                                   "id": 7}))
        await asyncio.sleep(0.5)
        await runner.cleanup()
        return await answer

    with capture_logs("") as logs:
        out = asyncio.run(go())
    assert out["id"] == 7 and out["error"]["code"] == -32006
    (warning,) = [r for r in logs.records if "shutting down" in r.getMessage()]
    assert warning.levelname == "WARNING" and warning.data["calls"] == 1
