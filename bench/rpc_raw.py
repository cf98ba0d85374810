"""The limit: a raw aiohttp JSON-RPC handler (same methods, same codec), nothing else.

``python bench/rpc_raw.py PORT [--uvloop] [--codec ujson|orjson]``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).parent))
from rpc_methods import add, ping

METHODS = {"bench.ping": ping, "bench.add": add}
PARSE_ERROR = b'{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}'


def make_app(codec: str) -> web.Application:
    if codec == "orjson":
        import orjson

        loads, dumps = orjson.loads, orjson.dumps
    else:
        import ujson

        loads = ujson.loads

        def dumps(obj):
            return ujson.dumps(obj).encode()

    async def one(req):
        func = METHODS.get(req.get("method"))
        if func is None:
            return {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"},
                    "id": req.get("id")}
        params = req.get("params")
        result = func(*params) if type(params) is list else func(**params) if type(params) is dict else func()
        if asyncio.iscoroutine(result):
            result = await result
        return {"jsonrpc": "2.0", "result": result, "id": req.get("id")}

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            data = loads(body)
        except ValueError:
            return web.Response(body=PARSE_ERROR, content_type="application/json")
        if type(data) is list:
            out = [await one(item) for item in data]
        else:
            out = await one(data)
        return web.Response(body=dumps(out), content_type="application/json")

    app = web.Application()
    app.router.add_post("/public/rpc", handle)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--codec", default="ujson")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(make_app(args.codec), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
