"""The example app switches tracing on from YAML (``-c settings/otel.yml``) and sends its spans
over OTLP/HTTP to a receiver the test runs, in a real server process.

The example needs every first-party plugin, so this lives with the whole-suite tests of the
``all`` env.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from kernel_support import free_port
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def _wait_for(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the example did not start")


def test_the_example_sends_spans_of_a_call_to_an_otlp_receiver() -> None:
    async def go() -> tuple[list[ExportTraceServiceRequest], str]:
        got: list[ExportTraceServiceRequest] = []

        async def traces(request: web.Request) -> web.Response:
            message = ExportTraceServiceRequest()
            message.ParseFromString(await request.read())
            got.append(message)
            return web.Response(body=b"", content_type="application/x-protobuf")

        receiver = web.Application()
        receiver.router.add_post("/v1/traces", traces)
        runner = web.AppRunner(receiver, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        endpoint = f"http://127.0.0.1:{runner.addresses[0][1]}/v1/traces"
        port = free_port()
        proc = subprocess.Popen(  # noqa: ASYNC220 -- started once; the test reads it in a thread
            [sys.executable, "-m", "app", "-c", "settings/otel.yml", "-e", f"run_port={port}",
             "-e", "otel_exporter=otlp", "-e", f"otel_endpoint={endpoint}"],
            cwd=EXAMPLES, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONWARNINGS": "error"})
        try:
            await asyncio.to_thread(_wait_for, port, proc)
            async with aiohttp.ClientSession() as session:
                body = {"jsonrpc": "2.0", "method": "greeter.greet", "params": {"name": "otel"}, "id": 1}
                async with session.post(f"http://127.0.0.1:{port}/public/rpc", json=body) as resp:
                    assert (await resp.json())["result"] == "Hello, otel!"
            proc.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.to_thread(proc.communicate, timeout=60)
            assert proc.returncode == 0, stderr
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
            await runner.cleanup()
        return got, stderr

    got, stderr = asyncio.run(go())
    spans = [span for message in got for rs in message.resource_spans for ss in rs.scope_spans
             for span in ss.spans]
    names = sorted(span.name for span in spans)
    assert names == ["POST /public/rpc", "greeter.greet"], (names, stderr)
    assert len({span.trace_id for span in spans}) == 1
    services = {a.value.string_value for m in got for rs in m.resource_spans for a in rs.resource.attributes
                if a.key == "service.name"}
    assert services == {"example"}
