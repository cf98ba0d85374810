"""The handlers alone, in one process: our JSONRPCView vs the raw handler (no sockets, no wrk).

``/tmp/dev/bin/python bench/rpc_inprocess.py``  (~1 min: building mocked requests is slow)

Each handler is awaited on ready-made aiohttp requests (mocked transport, real body
reader, real ``web.Response``), the two alternating, 6 rounds of 500 requests; the
best round of each is printed (µs per request). On a noisy machine this isolates what
the framework adds per request far better than end-to-end CPU figures do; add the HTTP
stack's own cost (≈ 40 µs per request here) to read it as a ratio of a whole request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from unittest import mock

from aiohttp import streams, web
from aiohttp.test_utils import make_mocked_request

sys.path.insert(0, str(Path(__file__).parent))
import rpc_raw
import rpc_service
from kaiju_plugins.rpc import JSONRPCServer
from kaiju_plugins.rpc._view import handle_request
from rpc_bench import SCENARIOS


async def main() -> None:
    loop = asyncio.get_running_loop()
    raw_app = rpc_raw.make_app("ujson")
    raw_handler = next(iter(raw_app.router.routes())).handler
    app = web.Application()
    server = JSONRPCServer(app=app, enable_permissions=False)
    bench = rpc_service.Bench(app=None)
    bench.service_name = "bench"
    server.prepare([bench, server])
    protocol = mock.Mock(_reading_paused=False)

    def request(owner: web.Application, body: bytes) -> web.Request:
        payload = streams.StreamReader(protocol, 2**16, loop=loop)
        payload.feed_data(body)
        payload.feed_eof()
        return make_mocked_request("POST", "/public/rpc", app=owner, payload=payload, headers={
            "Content-Type": "application/json", "Content-Length": str(len(body))})

    print("| scenario | raw handler µs | our view µs | difference µs |\n| --- | ---: | ---: | ---: |")
    for name, data in SCENARIOS.items():
        body = json.dumps(data).encode()
        best = {"raw": float("inf"), "ours": float("inf")}
        for _ in range(6):
            for kind, owner, handler in (("raw", raw_app, raw_handler), ("ours", app, handle_request)):
                requests = [request(owner, body) for _ in range(500)]
                start = time.perf_counter()
                for req in requests:
                    await handler(req)
                best[kind] = min(best[kind], (time.perf_counter() - start) / len(requests) * 1e6)
        print(f"| {name} | {best['raw']:.1f} | {best['ours']:.1f} | {best['ours'] - best['raw']:+.1f} |")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    asyncio.run(main())
